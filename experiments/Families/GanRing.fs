/// FIG-10's optional part: an MLP GAN (non-saturating loss, Adam beta1 = 0.5) on the ring of 8 Gaussians, the modes
/// it covers over training (mode collapse, DIV-03), its loss curves, and divergence reported, not hidden.
module Research.Experiments.GanRing

open System
open System.Globalization
open System.IO
open Research.Torch
open Research.Data
open Research.Models
open Research.Experiments.Figures

type Tensor = Research.Torch.Tensor

/// metrics.csv of a trainer run as (header, rows).
let readMetrics (path: string) =
    let lines = File.ReadAllLines path
    let header = lines.[0].Split ','
    let parse (s: string) = if s = "" then nan else Double.Parse(s, CultureInfo.InvariantCulture)
    header, [ for l in lines.[1..] -> l.Split ',' |> Array.map parse ]

let column (header: string[], rows: float[] list) (name: string) =
    match Array.tryFindIndex ((=) name) header with
    | Some i -> [ for r in rows -> r.[i] ]
    | None -> []

/// Relative oscillation of a loss curve: the standard deviation of its step-to-step changes over the second half,
/// divided by the mean absolute value there (0 for a smooth curve).
let oscillation (values: float list) =
    let half = values |> List.skip (values.Length / 2) |> List.filter Double.IsFinite
    if half.Length < 3 then nan
    else
        let diffs = half |> List.pairwise |> List.map (fun (a, b) -> b - a)
        let m = List.average diffs
        sqrt (diffs |> List.averageBy (fun d -> (d - m) ** 2.0)) / (half |> List.averageBy abs)

let run (ctx: Context) =
    let steps = ctx.Int("steps", 3000, 20000)
    let batch = ctx.Int("batch", 256, 256)
    let hidden = ctx.Int("hidden", 128, 256)
    let every = ctx.Int("eval_every", 100, 250)
    let lr = ctx.Float("lr", 1e-3, 1e-4)
    let std = ctx.Float("std", 0.05, 0.02)
    let seed = uint64 ctx.Seed
    let centres = Toy2D.RingCentres()
    let radius = 3.0 * std
    use g = new Generator(seed)
    let o = torch.nn.LayerOptions(generator = g)
    use gan = new Gan(Gan.Mlp(2, hidden, 2, o = o), Gan.Mlp(2, hidden, 1, leaky = true, o = o), 2, learningRate = lr)
    use points = Toy2D.RingOfGaussians(20000L, g, std = std)
    use data = PointData.Of points
    use batches = new BatchStream(data, batch, seed)
    let dir = Path.Combine(ctx.OutDir, "run")
    if Directory.Exists dir then Directory.Delete(dir, true) // a fresh run each time: the curve is the result
    let snapshots = Collections.Generic.List<int * float[]>()
    let snapshotSteps = set [ every; steps / 4 / every * every; steps / 2 / every * every; steps ]
    let sampleAt () =
        use eval = new Generator(99UL)
        gan.Sample(2000L, eval)
    let evaluate (c: StepContext) =
        if (c.Step + 1L) % int64 every = 0L then
            use scope = torch.NewDisposeScope()
            let s = sampleAt ()
            let cov = ModeCoverage.Of(s, centres, radius)
            c.Record("modes_covered", float cov.Covered)
            c.Record("high_quality", cov.HighQualityFraction)
            let step = int c.Step + 1
            if snapshotSteps.Contains step then
                snapshots.Add(step, s.``to``(ScalarType.Float64).contiguous().data<float> ())
    use trainer = gan.Trainer(batches, TrainerOptions(int64 steps, seed, dir, LogEvery = every, Progress = not ctx.Options.Quiet), g, Action<StepContext> evaluate)
    let diverged =
        try
            trainer.Run() |> ignore
            None
        with :? TrainingDivergedException as e -> Some e
    ctx.Record("diverged", diverged.IsSome)
    diverged |> Option.iter (fun e -> ctx.Record("diverged_at_step", int e.Step); ctx.Record("divergence", e.Message))

    let metrics = readMetrics (Path.Combine(dir, "metrics.csv"))
    let stepsLogged = column metrics "step"
    let modes = column metrics "modes_covered"
    let dLoss, gLoss = column metrics "d_loss", column metrics "g_loss"
    let final =
        use scope = torch.NewDisposeScope()
        ModeCoverage.Of(sampleAt (), centres, radius)
    ctx.Record("modes_covered_final", final.Covered)
    ctx.Record("modes_covered_max", (if modes.IsEmpty then 0 else int (List.max modes)))
    ctx.Record("high_quality_final", final.HighQualityFraction)
    ctx.Record("d_loss_final", List.last dLoss)
    ctx.Record("g_loss_final", List.last gLoss)
    ctx.Record("g_loss_oscillation", oscillation gLoss)
    // "Collapsed" is reported beside "diverged": a run can end finite yet on fewer modes than the data has.
    ctx.Record("mode_collapse", final.Covered < 8)
    ctx.WriteCsv("training.csv", [ "step"; "modes_covered"; "d_loss"; "g_loss" ], List.zip3 stepsLogged modes (List.zip dLoss gLoss) |> List.map (fun (s, m, (d, gl)) -> [ s; m; d; gl ]))

    let dataXs, dataYs =
        let p = points.narrow(0L, 0L, 2000L).``to``(ScalarType.Float64).contiguous().data<float> ()
        [ for i in 0..1999 -> p.[2 * i] ], [ for i in 0..1999 -> p.[2 * i + 1] ]
    let samplePanel (step: int, s: float[]) =
        Panel.create (sprintf "samples at step %d" step) "x1" "x2"
            [ Trace.scatter "data" dataXs dataYs |> Trace.color "#bbbbbb" |> Trace.markerSize 3.0 |> Trace.hideLegend
              Trace.scatter "GAN" [ for i in 0..1999 -> s.[2 * i] ] [ for i in 0..1999 -> s.[2 * i + 1] ] |> Trace.color "#d62728" |> Trace.markerSize 3.0 |> Trace.hideLegend ]
        |> Panel.xRange -3.0 3.0 |> Panel.yRange -3.0 3.0
    let curves =
        [ Panel.create "modes covered (of 8)" "step" "modes" [ Trace.line "modes covered" stepsLogged modes ] |> Panel.yRange 0.0 8.5
          Panel.create "losses" "step" "loss" [ Trace.line "discriminator" stepsLogged dLoss; Trace.line "generator (non-saturating)" stepsLogged gLoss ] ]
    ctx.SaveFigure("gan_ring", Figure.grid (sprintf "MLP GAN on the ring of 8 Gaussians: %d of 8 modes covered at the end%s" final.Covered (if diverged.IsSome then " (diverged)" else "")) 3 (curves @ [ for s in snapshots -> samplePanel s ]))

let experiment =
    { Name = "gan-ring"
      Ids = [ "FIG-10"; "DIV-03"; "GAN-01" ]
      Title = "MLP GAN on the ring of 8 Gaussians: modes covered over training, loss curves, divergence reported"
      InDefault = true
      Run = run }
