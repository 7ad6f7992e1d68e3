/// FIG-12: the DDPM forward strip x_t at t = 0, 100, ..., 1000 on Ho et al.'s linear table (alpha-bar_1000 =
/// 4.0358e-5: nothing of the image survives), and the reverse strip of the trained model: DDPM ancestral
/// sampling (Algorithm 2 = the library's DDPM ancestral sampler on the table's process) seen at the same steps.
module Research.Experiments.Fig12DdpmStrip

open System
open Research.Torch
open Research.Data
open Research.Diffusion
open Research.Models
open Research.Experiments.Figures
open Research.Experiments.ImageRuns

let run (ctx: Context) =
    let schedule = DdpmSchedule.Linear()
    let process = DdpmTableProcess(schedule)
    let shown = [ 0 .. 100 .. 1000 ]
    ctx.Record("alpha_bar_1000", schedule.AlphaBar 1000)
    ctx.Record("alpha_bar_1000_matches", abs (schedule.AlphaBar 1000 - 4.0358e-5) < 5e-10)

    // Forward: the first test image (an ankle boot) and one eps for every t.
    use scope = torch.NewDisposeScope()
    use test = ImageDataset.FashionMnist(false, 16L)
    let x0 = test.Images.narrow(0L, 0L, 1L)
    use g = new Generator(uint64 ctx.Seed)
    let eps = torch.randn(x0.shape, generator = g)
    let forward = [ for k in shown -> x0 * sqrt (schedule.AlphaBar k) + eps * sqrt (1.0 - schedule.AlphaBar k) ]
    let forwardStd = forward |> List.map (fun x -> x.std().ToDouble())
    ctx.Record("forward_std_at_1000", List.last forwardStd)

    // Reverse: the shared VP-eps model (the DDPM table), one sample per class, ancestral sampling segment by
    // segment: the sampler keeps no state, so stopping at t = 0.9, 0.8, ... and continuing is the same run.
    let size = trainingSize ctx "" 800
    let model, _, _ = sharedModel ctx "vp-eps" size
    use model = model
    let classes = [| 0L .. 9L |]
    use labels = torch.tensor classes
    // Guidance w = 1 and x_0 clipped to [-1, 1] at every step, as Ho et al. sample.
    let denoiser = ImageDiffusion.Clipped(model.Denoiser(true).Guided(labels, 1.0))
    let mutable x = torch.randn([| int64 classes.Length; 1L; 28L; 28L |], generator = g)
    let reverse = ResizeArray [ x.clone () ]
    for j in 1 .. 10 do
        let hi, lo = 1000 - 100 * (j - 1), 1000 - 100 * j
        let grid = [| for k in hi .. -1 .. lo -> float k / 1000.0 |]
        x <- Samplers.DdpmAncestral.Sample(denoiser, process, grid, x, g).X
        reverse.Add(x.clone ())
    let final = reverse.[reverse.Count - 1]
    ctx.Record("reverse_class_consistency", ImageMetrics.ClassConsistency((reference ctx).Classifier, final.clamp(-1.0, 1.0), labels))

    let panels =
        [ for i, k in List.indexed shown -> sprintf "forward t = %d" k, pixels (forward.[i].clamp(-1.5, 1.5)) 0 ]
        @ [ for c in 0 .. classes.Length - 1 do
                for i, k in List.indexed (List.rev shown) -> sprintf "%s, t = %d" FashionMnist.ClassNames.[int classes.[c]] k, pixels (reverse.[i].clamp(-1.5, 1.5)) c ]
    ctx.WriteCsv("forward_std.csv", [ "t"; "std" ], List.map2 (fun k s -> [ float k; s ]) shown forwardStd)
    ctx.SaveFigure("fig12_ddpm_strip", Figure.images "FIG-12 · DDPM forward (top row) and reverse strips (one per class, guidance 1), linear table, T = 1000" 11 -1.5 1.5 panels)

let experiment =
    { Name = "fig12-ddpm-strip"
      Ids = [ "FIG-12"; "DDPM-01"; "DDPM-02" ]
      Title = "DDPM forward strip at t = 0..1000 (alpha-bar_1000 = 4.0358e-5) and reverse strips of the trained model"
      InDefault = true
      Run = run }
