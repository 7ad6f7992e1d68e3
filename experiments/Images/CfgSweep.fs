/// cfg-sweep: classifier-free guidance (GUIDE-03) from w = 0 to 8 on the trained class-conditional VP-eps model:
/// FD, precision, recall and class consistency. Guidance trades diversity (recall) for fidelity to the class.
module Research.Experiments.CfgSweep

open System
open Research.Torch
open Research.Diffusion
open Research.Models
open Research.Experiments.Figures
open Research.Experiments.ImageRuns

let run (ctx: Context) =
    let n = ctx.Int("samples", 200, 2000)
    let steps = ctx.Int("sample_steps", 20, 25)
    let scales = if ctx.Full then [ 0.0; 0.5; 1.0; 2.0; 3.0; 4.0; 6.0; 8.0 ] else [ 0.0; 1.0; 2.0; 4.0; 8.0 ]
    let r = reference ctx
    recordReference ctx r
    let model, _, _ = sharedModel ctx "vp-eps" (trainingSize ctx "" 800)
    use model = model
    use labels = balancedLabels n
    let results =
        ctx.Progress(
            "cfg-sweep",
            scales.Length,
            fun tick ->
                [ for w in scales do
                      use g = new Generator(uint64 ctx.Seed + 11UL)
                      let struct (x, _) = model.Sample(Samplers.DpmSolverPlusPlus2M, model.Grid steps, int64 n, g, labels, w)
                      use x = x
                      let m = metrics r x labels
                      tick ()
                      w, m ]
        )
    ctx.WriteCsv("cfg_sweep.csv", [ "guidance"; "fd"; "precision"; "recall"; "class_consistency" ],
                 [ for w, m in results -> [ w; m.Fd; m.Precision; m.Recall; m.ClassConsistency ] ])
    let best = results |> List.minBy (fun (_, m) -> m.Fd)
    ctx.Record("best_guidance_by_fd", fst best)
    ctx.Record("best_fd", (snd best).Fd)
    ctx.Record("class_consistency_w0", (snd results.Head).ClassConsistency)
    ctx.Record("class_consistency_max", results |> List.map (fun (_, m) -> m.ClassConsistency) |> List.max)
    ctx.Record("recall_w0", (snd results.Head).Recall)
    ctx.Record("recall_wmax", (snd (List.last results)).Recall)
    let ws = results |> List.map fst
    ctx.SaveFigure(
        "cfg_sweep",
        Figure.grid "Classifier-free guidance on Fashion-MNIST (GUIDE-03)" 2
            [ Panel.create "Fréchet distance" "guidance w" "FD" [ Trace.line "FD" ws (results |> List.map (fun (_, m) -> m.Fd)) ]
              Panel.create "precision, recall, class consistency" "guidance w" "fraction"
                  [ Trace.line "precision" ws (results |> List.map (fun (_, m) -> m.Precision))
                    Trace.line "recall" ws (results |> List.map (fun (_, m) -> m.Recall))
                    Trace.line "class consistency" ws (results |> List.map (fun (_, m) -> m.ClassConsistency)) ]
              |> Panel.yRange 0.0 1.02 ]
    )

let experiment =
    { Name = "cfg-sweep"
      Ids = [ "GUIDE-03" ]
      Title = "guidance scale 0..8 against FD, precision, recall and class consistency"
      InDefault = true
      Run = run }
