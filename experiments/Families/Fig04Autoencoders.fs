/// FIG-04 (S0 L171–L223): an AE and a VAE with a 2-D latent on Fashion-MNIST, their test codes coloured by label,
/// and decoded grids of latent points that reach far from the data; a class-conditional VAE decoded per class;
/// the ELBO against the importance-weighted bound IWAE_k for k = 1, 10, 100, 1000 (VAE-01, VAE-03, DIV-02).
module Research.Experiments.Fig04Autoencoders

open System
open System.IO
open Research.Torch
open Research.Data
open Research.Models
open Research.Experiments.Figures
open Research.Experiments.ImageRuns

type Tensor = Research.Torch.Tensor

let private palette =
    [| "#1f77b4"; "#ff7f0e"; "#2ca02c"; "#d62728"; "#9467bd"; "#8c564b"; "#e377c2"; "#7f7f7f"; "#bcbd22"; "#17becf" |]

/// Trains (or resumes, from <results>/models/<key>/) one model; returns it and the training seconds of this call.
let private trainModel (ctx: Context) (tag: string) (options: VaeOptions) (steps: int) (batch: int) (data: ImageDataset) =
    let key = sprintf "%s-h%s-s%d-b%d-seed%d" tag (String.Join("x", options.HiddenWidths)) steps batch ctx.Seed
    let dir = Path.Combine(ctx.Options.ResultsRoot, "models", key)
    let seed = uint64 ctx.Seed
    let g = new Generator(seed)
    let model = new Vae(options, torch.nn.LayerOptions(generator = g))
    use batches = new BatchStream(data, batch, seed)
    use trainer = model.Trainer(batches, TrainerOptions(int64 steps, seed, dir, Progress = not ctx.Options.Quiet), g)
    let clock = Diagnostics.Stopwatch.StartNew()
    match trainer.Run() with
    | TrainingOutcome.Interrupted -> failwith "training interrupted (checkpoint saved; run again to resume)"
    | _ -> ()
    ctx.Record(tag + "_train_seconds", clock.Elapsed.TotalSeconds)
    model

/// The codes (means) of the test images [N, 2] and the test-set averages of the KL term and the BCE per pixel.
let private evaluate (model: Vae) (test: ImageDataset) (labels: Tensor option) =
    use scope = torch.NewDisposeScope()
    use _ = torch.no_grad ()
    use g = new Generator(1UL)
    let lab = Option.toObj labels
    let struct (mean, _) = model.Encode(model.Targets test.Images, lab)
    use terms = model.Elbo(test.Images, g, lab)
    mean.``to``(ScalarType.Float64).contiguous().DetachFromDisposeScope(),
    terms.Kl.mean().ToDouble(),
    terms.Reconstruction.mean().ToDouble() / float model.Options.Pixels,
    terms.Elbo.mean().ToDouble()

/// n×n latent points on [-r, r]², row-major with the top row at +r.
let private latentGrid (n: int) (r: float) =
    let v = [| for i in 0 .. n - 1 -> -r + 2.0 * r * float i / float (n - 1) |]
    torch.tensor (array2D [ for row in 0 .. n - 1 do for col in 0 .. n - 1 -> [ v.[col]; v.[n - 1 - row] ] ]) |> fun t -> t.``to``(ScalarType.Float32)

let run (ctx: Context) =
    let steps = ctx.Int("steps", 1000, 14000) // full: 30 epochs of 60,000 at batch 128
    let batch = ctx.Int("batch", 128, 128)
    let subset = ctx.Int("subset", 60000, 60000)
    let gridSize = ctx.Int("grid", 11, 15)
    let iwaeImages = ctx.Int("iwae_images", 16, 64)
    let hidden = [| ctx.Int("hidden1", 512, 512); ctx.Int("hidden2", 256, 256) |]
    use train = ImageDataset.FashionMnist(true, int64 subset)
    use test = ImageDataset.FashionMnist(false)
    use ae = trainModel ctx "ae" (VaeOptions(Latent = 2, Hidden = hidden, Variational = false)) steps batch train
    use vae = trainModel ctx "vae" (VaeOptions(Latent = 2, Hidden = hidden)) steps batch train
    use cvae = trainModel ctx "cvae" (VaeOptions(Latent = 2, Hidden = hidden, Classes = 10)) steps batch train

    let aeCodes, _, aeBce, _ = evaluate ae test None
    let vaeCodes, vaeKl, vaeBce, vaeElbo = evaluate vae test None
    let _, cvaeKl, cvaeBce, cvaeElbo = evaluate cvae test (Some test.Labels)
    let inDisc (codes: Tensor) = codes.norm(2.0, [| 1L |]).le(3.0).``to``(ScalarType.Float64).mean().ToDouble()
    let radius (codes: Tensor) = codes.norm(2.0, [| 1L |]).max().ToDouble()
    ctx.Record("vae_fraction_in_3sd_disc", inDisc vaeCodes)
    ctx.Record("ae_fraction_in_3sd_disc", inDisc aeCodes)
    ctx.Record("vae_max_code_radius", radius vaeCodes)
    ctx.Record("ae_max_code_radius", radius aeCodes)
    ctx.Record("vae_mean_kl", vaeKl)
    ctx.Record("vae_bce_per_pixel", vaeBce)
    ctx.Record("ae_bce_per_pixel", aeBce)
    ctx.Record("vae_test_elbo_nats", vaeElbo)
    ctx.Record("cvae_mean_kl", cvaeKl)
    ctx.Record("cvae_bce_per_pixel", cvaeBce)
    ctx.Record("cvae_test_elbo_nats", cvaeElbo)

    // ELBO and IWAE_k on the first test images (the same images for every k), each the mean of `repeats`
    // independent estimates, so that a Monte Carlo standard error backs the comparison between k.
    let ks = [ 1; 10; 100; 1000 ]
    let repeats = ctx.Int("iwae_repeats", 8, 8)
    let meanAndSe (values: float list) =
        let m = List.average values
        m, sqrt ((values |> List.sumBy (fun v -> (v - m) ** 2.0)) / float (values.Length - 1) / float values.Length)
    let elbo, iwae =
        use scope = torch.NewDisposeScope()
        use _ = torch.no_grad ()
        use g = new Generator(uint64 ctx.Seed + 7UL)
        let images = test.Images.narrow(0L, 0L, int64 iwaeImages)
        let elboOnce () =
            use terms = vae.Elbo(images, g)
            terms.Elbo.mean().ToDouble()
        let elbo = meanAndSe [ for _ in 1 .. repeats -> elboOnce () ]
        elbo, [ for k in ks -> k, meanAndSe [ for _ in 1 .. repeats -> vae.ImportanceWeightedBound(images, k, g).mean().ToDouble() ] ]
    ctx.Record("iwae_images_elbo", fst elbo)
    ctx.Record("iwae_images_elbo_se", snd elbo)
    for k, (v, se) in iwae do
        ctx.Record(sprintf "iwae_%d" k, v)
        ctx.Record(sprintf "iwae_%d_se" k, se)
    // Non-decreasing in k within 3 standard errors of each difference (E IWAE_k is non-decreasing, VAE-03).
    ctx.Record("iwae_non_decreasing", iwae |> List.pairwise |> List.forall (fun ((_, (a, sa)), (_, (b, sb))) -> b >= a - 3.0 * sqrt (sa * sa + sb * sb)))
    ctx.Record("iwae_gap_closed_nats", (fst (snd (List.last iwae))) - fst elbo)
    ctx.WriteCsv("bounds.csv", [ "k"; "iwae_nats"; "iwae_se"; "elbo_nats"; "elbo_se" ], [ for k, (v, se) in iwae -> [ float k; v; se; fst elbo; snd elbo ] ])

    // Codes, coloured by label.
    let labels = test.Labels.data<int64> ()
    let scatterPanel title (codes: Tensor) =
        let c = codes.data<float> ()
        let traces =
            [ for cls in 0..9 do
                  let idx = [| for i in 0 .. labels.Length - 1 do if labels.[i] = int64 cls then i |]
                  Trace.scatter FashionMnist.ClassNames.[cls] [ for i in idx -> c.[2 * i] ] [ for i in idx -> c.[2 * i + 1] ]
                  |> Trace.color palette.[cls] |> Trace.markerSize 3.0 |> Trace.opacity 0.6
                  |> Trace.legendGroup FashionMnist.ClassNames.[cls]
                  |> (if title = "AE" then Trace.hideLegend else id) ]
        let disc =
            Trace.line "prior 3-sd disc" [ for i in 0..100 -> 3.0 * cos (2.0 * Math.PI * float i / 100.0) ] [ for i in 0..100 -> 3.0 * sin (2.0 * Math.PI * float i / 100.0) ]
            |> Trace.color "black" |> Trace.dash "dash"
        Panel.create (sprintf "%s test codes (%.0f%% inside the 3-sd disc)" title (100.0 * inDisc codes)) "z1" "z2" (traces @ [ disc ]) |> Panel.equalAspect
    ctx.SaveFigure("fig04_codes", Figure.grid "FIG-04 · test-set codes of a 2-D AE and VAE on Fashion-MNIST, coloured by class" 2 [ scatterPanel "AE" aeCodes; scatterPanel "VAE" vaeCodes ] |> Figure.size 1200 560)
    ctx.WriteCsv("codes.csv", [ "label"; "ae_z1"; "ae_z2"; "vae_z1"; "vae_z2" ],
                 (let a, v = aeCodes.data<float> (), vaeCodes.data<float> ()
                  [ for i in 0 .. labels.Length - 1 -> [ float labels.[i]; a.[2 * i]; a.[2 * i + 1]; v.[2 * i]; v.[2 * i + 1] ] ]))

    // Decoded grids: the VAE on [-5, 5]² (the prior's 3-sd disc and beyond), the AE on twice its codes' extent.
    let aeReach = 2.0 * radius aeCodes
    let decoded (model: Vae) (r: float) =
        use scope = torch.NewDisposeScope()
        use _ = torch.no_grad ()
        let images = model.DecodeImages(latentGrid gridSize r)
        tile images gridSize gridSize
    let aeTile, vaeTile = decoded ae aeReach, decoded vae 5.0
    ctx.Record("ae_grid_reach", aeReach)
    ctx.SaveFigure("fig04_decoded_grid",
        Figure.images "FIG-04 · decoded latent grids: AE on twice its codes' extent, VAE on [-5, 5]² (prior 3-sd disc and beyond)" 2 -1.0 1.0
            [ sprintf "AE, [-%.0f, %.0f]²" aeReach aeReach, aeTile; "VAE, [-5, 5]²", vaeTile ] |> Figure.size 1300 700)

    // The conditional VAE: one row per class, the same latent points (z1 from -2 to 2, z2 = 0) in every row.
    let cvaeTile =
        use scope = torch.NewDisposeScope()
        use _ = torch.no_grad ()
        let cols = 8
        let z = torch.tensor (array2D [ for _ in 0..9 do for j in 0 .. cols - 1 -> [ -2.0 + 4.0 * float j / float (cols - 1); 0.0 ] ]) |> fun t -> t.``to``(ScalarType.Float32)
        let y = torch.tensor [| for c in 0..9 do for _ in 0 .. cols - 1 -> int64 c |]
        tile (cvae.DecodeImages(z, y)) 10 cols
    ctx.SaveFigure("fig04_cvae", imageFigure "FIG-04 · conditional VAE: rows are classes 0-9, columns z1 = -2..2 at z2 = 0" cvaeTile)
    aeCodes.Dispose()
    vaeCodes.Dispose()

let experiment =
    { Name = "fig04-autoencoders"
      Ids = [ "FIG-04"; "VAE-01"; "VAE-02"; "VAE-03"; "DIV-02" ]
      Title = "AE vs VAE with a 2-D latent on Fashion-MNIST: codes by class, decoded latent grids, conditional VAE, ELBO vs IWAE_k"
      InDefault = true
      Run = run }
