/// fashion-diffusion: a class-conditional U-Net trained on Fashion-MNIST under one of the library's processes
/// and targets (VP-eps = DDPM, VE-score, sub-VP, rectified-flow velocity, EDM), then sampled per class with
/// classifier-free guidance and scored: Fréchet distance in the project classifier's features (with the
/// train/test and noise/test reference points), k-NN precision and recall, class consistency, and test
/// bits/dim by the PF-ODE (Hutchinson, uniform dequantization) and, for the DDPM table, the discrete ELBO.
module Research.Experiments.FashionDiffusion

open System
open System.IO
open Research.Torch
open Research.Data
open Research.Diffusion
open Research.Models
open Research.Experiments.Figures
open Research.Experiments.ImageRuns

/// The loss curve from the trainer's metrics.csv.
let lossCurve (dir: string) =
    let lines = File.ReadAllLines(Path.Combine(dir, "metrics.csv"))
    let header = lines.[0].Split ','
    let col name = Array.IndexOf(header, name)
    let rows = lines.[1..] |> Array.map (fun l -> l.Split ',')
    let value (r: string[]) i = Double.Parse(r.[i], Globalization.CultureInfo.InvariantCulture)
    rows |> Array.map (fun r -> value r (col "step")), rows |> Array.map (fun r -> value r (col "loss")), rows |> Array.map (fun r -> value r (col "images_per_s"))

/// Test bits/dim through the PF-ODE of the EMA model (SDE-07), from t0 = the time of varsigma = 1e-3 (the
/// first pixel bin is 2/255 wide) to TMax with the Gaussian prior N(0, sigma² + alpha²·0.5) (data variance ≤ 0.5
/// in [-1, 1]), Hutchinson's estimator with Rademacher probes, uniform dequantization.
let pfOdeBitsPerDim (model: ImageDiffusion) (images: Tensor) (seed: uint64) =
    use scope = torch.NewDisposeScope()
    use g = new Generator(seed)
    let p = model.Process
    let counts = ((images + 1.0) * 127.5).round()
    let x = Likelihood.Dequantize(counts, -1.0, 1.0, g).``to``(ScalarType.Float32)
    let t0 = p.TimeAtVarsigma 1e-3
    let t1 = if Double.IsFinite(p.Varsigma p.TMax) then p.TMax else p.TimeAtVarsigma 80.0
    let variance = p.Sigma(t1) ** 2.0 + p.Alpha(t1) ** 2.0 * 0.5
    let denoiser = model.Denoiser(true).Unconditional()
    let r = Likelihood.LogDensity(denoiser, p, x, t0, t1, Likelihood.GaussianPrior variance, Divergence.Hutchinson(), g, 1e-4, 1e-4)
    let bpd = Likelihood.BitsPerDim(r.LogDensity.``to``(ScalarType.Float64), 784L, -1.0, 1.0)
    bpd.mean().ToDouble(), r.Nfe

let run (ctx: Context) =
    let processName = ctx.Text("process", "vp-eps", "vp-eps")
    let objective = objective processName
    let size = trainingSize ctx "" 800
    let nSamples = ctx.Int("samples", 500, 2000)
    let sampleSteps = ctx.Int("sample_steps", 20, 25)
    let guidance = ctx.Float("guidance", 1.0, 1.0)
    let bpdImages = ctx.Int("bpd_images", 8, 32)
    let r = reference ctx
    recordReference ctx r
    ctx.Log(sprintf "training %s on %s, %d steps of %d" (string size.Network) (string objective) size.Steps size.Batch)
    let model, seconds, modelDir = sharedModel ctx processName size
    use model = model
    ctx.Record("process", processName)
    ctx.Record("objective", string objective)
    ctx.Record("parameters", int (model.Network.parameter_count ()))
    ctx.Record("train_steps", size.Steps)
    ctx.Record("train_seconds", seconds)

    let steps, losses, rates = lossCurve modelDir
    ctx.Record("final_loss", losses |> Array.skip (max 0 (losses.Length - 5)) |> Array.average)
    ctx.Record("images_per_second", rates |> Array.skip (min 1 (rates.Length - 1)) |> Array.average)

    // Samples: balanced classes, DPM-Solver++(2M) on the Karras grid, guidance w.
    use g = new Generator(uint64 ctx.Seed + 1UL)
    use labels = balancedLabels nSamples
    let sampler = Samplers.DpmSolverPlusPlus2M
    let struct (samples, nfe) = model.Sample(sampler, model.Grid sampleSteps, int64 nSamples, g, labels, guidance)
    use samples = samples
    let m = metrics r samples labels
    ctx.Record("sampler", sampler.Name)
    ctx.Record("nfe", nfe)
    ctx.Record("guidance", guidance)
    ctx.Record("samples", nSamples)
    ctx.Record("fd", m.Fd)
    ctx.Record("precision", m.Precision)
    ctx.Record("recall", m.Recall)
    ctx.Record("class_consistency", m.ClassConsistency)
    ctx.Log(sprintf "FD %.3f (train/test %.3f, noise/test %.1f), precision %.3f, recall %.3f, class consistency %.3f" m.Fd r.TrainTestFd r.NoiseTestFd m.Precision m.Recall m.ClassConsistency)

    // Test bits/dim on the first test images.
    use test = ImageDataset.FashionMnist(false, int64 bpdImages)
    let bpd, bpdNfe = pfOdeBitsPerDim model test.Images (uint64 ctx.Seed + 2UL)
    ctx.Record("bpd_pf_ode", bpd)
    ctx.Record("bpd_pf_ode_nfe", bpdNfe)
    ctx.Record("bpd_images", bpdImages)
    match model.Process with
    | :? DdpmTableProcess as table ->
        use eg = new Generator(uint64 ctx.Seed + 3UL)
        let denoiser = model.Denoiser(true).Unconditional()
        use elbo = DdpmElbo.BitsPerDim(denoiser, table, test.Images, eg)
        ctx.Record("bpd_ddpm_elbo", elbo.mean().ToDouble())
    | _ -> ()

    // Figures: loss curve and throughput; 8 samples of each class (rows).
    let perClass = 8
    use gridLabels = torch.tensor ([| for c in 0 .. 9 do for _ in 1 .. perClass -> int64 c |])
    use g2 = new Generator(uint64 ctx.Seed + 4UL)
    let struct (gridSamples, _) = model.Sample(sampler, model.Grid sampleSteps, 10L * int64 perClass, g2, gridLabels, guidance)
    use gridSamples = gridSamples
    ctx.SaveFigure(
        "samples",
        imageFigure (sprintf "Samples (%s, guidance %.1f), one class per row, T-shirt (top) to ankle boot" processName guidance) (tile gridSamples 10 perClass)
    )
    ctx.WriteCsv("loss.csv", [ "step"; "loss"; "images_per_s" ], Array.zip3 steps losses rates |> Array.map (fun (a, b, c) -> [ a; b; c ]))
    ctx.SaveFigure(
        "loss",
        Figure.grid
            (sprintf "Training %s (%s)" processName (string objective))
            2
            [ Panel.create "loss (mean over each logging window)" "step" "loss" [ Trace.line "loss" steps losses ] |> Panel.logY
              Panel.create "throughput" "step" "images / s" [ Trace.line "images/s" steps rates ] ]
    )

let experiment =
    { Name = "fashion-diffusion"
      Ids = [ "DDPM-03"; "GUIDE-03"; "SDE-07" ]
      Title = "class-conditional U-Net on Fashion-MNIST: loss, per-class samples, FD / precision / recall / class consistency, bits/dim"
      InDefault = true
      Run = run }
