// The one-line prelude of an experiment written as a script (see examples/experiments/ddpm2d.fsx):
//   #load "<path to the repository>/experiments/Prelude.fsx"
// It needs the Release build (`./run.sh setup`) and references the toolkit, the models and the
// experiment runner itself, so a script writes results/<name>/ (CSV, summary.json, HTML/PNG/SVG figures)
// exactly as `./run.sh experiment` does.
#r "bin/Release/net10.0/Spectre.Console.dll"
#r "bin/Release/net10.0/Research.Torch.dll"
#r "bin/Release/net10.0/Research.Diffusion.dll"
#r "bin/Release/net10.0/Research.Proofs.dll"
#r "bin/Release/net10.0/Research.Experiments.dll"
#r "../src/Research.Torch.FSharp/bin/Release/net10.0/Research.Torch.FSharp.dll"
#r "../src/Research.Data/bin/Release/net10.0/Research.Data.dll"
#r "../src/Research.Models/bin/Release/net10.0/Research.Models.dll"
