// dotnet fsi proofs/Extensions.fsx   (after `dotnet build proofs`)
#load "Load.fsx"
#r "bin/Release/net10.0/Research.Torch.dll"
#load "Processes.fs" "Score.fs" "ScoreMatching.fs" "Extensions.fs"
open Research.Proofs
exit (Report.run Extensions.claims Extensions.controls [])
