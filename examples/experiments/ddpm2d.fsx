// A new experiment as a script: a 2-D DDPM trained on the ring of 8 Gaussians and sampled, with a figure.
//   dotnet fsi examples/experiments/ddpm2d.fsx [-p steps=N] [-p samples=N] [--full] [--no-render]
// writes results/example-ddpm-2d/ (RESEARCH_RESULTS moves the results root).
#load "../../experiments/Prelude.fsx"

open Research.Torch
open Research.Data
open Research.Models
open Research.Experiments
open Research.Experiments.Figures

let args = fsi.CommandLineArgs |> List.ofArray |> List.tail
/// The runner's own options, as in `./run.sh experiment`: -p key=value, --full, --no-render.
let rec parameters = function
    | "-p" :: kv :: rest -> (match kv.Split('=', 2) with [| k; v |] -> (k, v) :: parameters rest | _ -> failwithf "-p expects key=value, got %s" kv)
    | _ :: rest -> parameters rest
    | [] -> []

let experiment =
    { Name = "example-ddpm-2d"
      Ids = []
      Title = "A 2-D DDPM on the ring of 8 Gaussians: data and samples"
      InDefault = false
      Run =
        fun ctx ->
            let steps = ctx.Int("steps", 1500, 5000)
            use trainer = ToyDdpmTrainer.Ring(seed = uint64 ctx.Seed, batchSize = 256, width = 128)
            let losses = ctx.Progress("training", steps, fun tick -> [ for _ in 1..steps -> let l = trainer.TrainStep() in tick (); l ])
            use _ = torch.NewDisposeScope()
            let n = int64 (ctx.Int("samples", 2000, 10000))
            use g = new Generator(uint64 ctx.Seed + 1UL)
            let samples = trainer.Sample(n, g)
            let data = Toy2D.RingOfGaussians(n, g)
            // Distance from each sample to the nearest ring centre (0.05 x sqrt(pi/2) ~ 0.063 for the data).
            let centres = torch.tensor (Toy2D.RingCentres(), ScalarType.Float32)
            let nearest, _ = ((samples.unsqueeze 1L - centres.unsqueeze 0L) ** 2).sum(2L).sqrt().min 1L
            let column (t: Tensor) j = t.[*, j].To(torch.float64).data<float>()
            ctx.WriteCsv("samples.csv", [ "x"; "y" ], Seq.map2 (fun x y -> [ x; y ]) (column samples 0) (column samples 1))
            ctx.WriteCsv("loss.csv", [ "step"; "loss" ], losses |> List.mapi (fun i l -> [ float (i + 1); l ]))
            ctx.Record("steps", steps)
            ctx.Record("final_loss", List.averageBy id (List.skip (steps - min steps 100) losses))
            ctx.Record("mean_distance_to_nearest_centre", float (nearest.mean ()))
            let scatter name (t: Tensor) = Trace.scatter name (column t 0) (column t 1) |> Trace.markerSize 3.0
            Figure.grid "2-D DDPM on the ring of Gaussians" 2
                [ Panel.create "data and samples" "x" "y" [ scatter "data" data; scatter "samples" samples ] |> Panel.equalAspect
                  Panel.create "training loss" "step" "loss" [ Trace.line "loss" [ for i in 1..steps -> float i ] losses ] |> Panel.logY ]
            |> fun f -> ctx.SaveFigure("samples", f) }

let options =
    { RunOptions.defaults with
        Full = List.contains "--full" args
        Render = not (List.contains "--no-render" args)
        Params = Map(parameters args) }
let summary = Experiment.run options experiment
printfn "%s" (summary.ToJsonString())
