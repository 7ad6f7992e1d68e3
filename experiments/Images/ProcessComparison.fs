/// process-comparison: the same U-Net and training budget under VP-eps (the DDPM table), VE-score, rectified-flow
/// velocity and EDM's preconditioned F; each sampled with DPM-Solver++(2M) on the Karras grid in varsigma at the same
/// NFE, and scored by FD, precision, recall and class consistency.
module Research.Experiments.ProcessComparison

open System
open Research.Torch
open Research.Diffusion
open Research.Models
open Research.Experiments.Figures
open Research.Experiments.ImageRuns

let run (ctx: Context) =
    let processes = [ "vp-eps"; "ve-score"; "rf"; "edm" ]
    let size = trainingSizeWith ctx "" 200 48
    let n = ctx.Int("samples", 200, 2000)
    let steps = ctx.Int("sample_steps", 20, 25)
    let r = reference ctx
    recordReference ctx r
    let rows =
        [ for name in processes do
              ctx.Log(sprintf "training %s" name)
              let model, seconds, _ = sharedModel ctx name size
              use model = model
              use labels = balancedLabels n
              use g = new Generator(uint64 ctx.Seed + 13UL)
              let struct (x, nfe) = model.Sample(Samplers.DpmSolverPlusPlus2M, model.Grid steps, int64 n, g, labels)
              use x = x
              let m = metrics r x labels
              ctx.Record("fd_" + name, m.Fd)
              name, nfe, seconds, m, string model.Objective ]
    ctx.WriteTextCsv(
        "process_comparison.csv",
        [ "process"; "objective"; "nfe"; "train_seconds"; "fd"; "precision"; "recall"; "class_consistency" ],
        [ for name, nfe, s, m, o in rows -> [ name; o; string nfe; sprintf "%.1f" s; sprintf "%.4f" m.Fd; sprintf "%.4f" m.Precision; sprintf "%.4f" m.Recall; sprintf "%.4f" m.ClassConsistency ] ]
    )
    let best, _, _, _, _ = rows |> List.minBy (fun (_, _, _, m, _) -> m.Fd)
    ctx.Record("best_process_by_fd", best)
    ctx.Record("nfe", (let _, nfe, _, _, _ = rows.Head in nfe))
    let names = rows |> List.map (fun (n, _, _, _, _) -> n)
    ctx.SaveFigure(
        "process_comparison",
        Figure.grid (sprintf "Same U-Net and budget (%d steps of %d), four processes, DPM-Solver++(2M) at %d NFE" size.Steps size.Batch steps) 2
            [ Panel.create "Fréchet distance" "" "FD" [ { Trace.line "FD" [] [] with Kind = "bar"; Props = [ "x", box (List.toArray names); "y", box [| for _, _, _, m, _ in rows -> m.Fd |] ] } ]
              Panel.create "precision / recall / class consistency" "" "fraction"
                  [ for key, f in [ "precision", (fun (m: SampleMetrics) -> m.Precision); "recall", (fun m -> m.Recall); "class consistency", (fun m -> m.ClassConsistency) ] ->
                        { Kind = "bar"; Props = [ "name", box key; "x", box (List.toArray names); "y", box [| for _, _, _, m, _ in rows -> f m |] ] } ]
              |> Panel.yRange 0.0 1.02 ]
        |> Figure.layout "barmode" "group"
    )

let experiment =
    { Name = "process-comparison"
      Ids = [ "PROC-08"; "PROC-09" ]
      Title = "the same U-Net and budget under VP-eps, VE-score, rectified flow and EDM: FD at matched NFE"
      // Four trainings (about 5 minutes on 2 cores): run by name, kept out of `./run.sh main`'s 20-minute budget.
      InDefault = false
      Run = run }
