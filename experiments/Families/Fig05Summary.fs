/// FIG-05 (S0 L536–L542): the slides' summary table of VAE, diffusion, normalizing flow and GAN on likelihood,
/// learning stability, fidelity and generation speed, measured on Fashion-MNIST and printed beside the slides' marks.
/// - Likelihood: test bits/dim; the flow's is exact (NF-01), the VAE's an ELBO and an IWAE_k bound (VAE-01, VAE-03),
///   the diffusion model's the DDPM ELBO (DDPM-04) and the PF-ODE value (SDE-07); a GAN has none.
/// - Stability: the spread of FD over 5 seeds of tiny models of each family, and how much the main model's loss
///   curve oscillates (the standard deviation of the detrended second half of the logged loss, over its mean).
/// - Fidelity: FD, precision and recall in the project classifier's features, the same number of samples for all.
/// - Speed: network evaluations per sample and wall-clock milliseconds per sample.
/// The main models are those the other experiments train (the diffusion model of fashion-diffusion, the DCGAN of
/// dcgan-fashion), reused from results/models/ when present; the VAE (convolutional, 16-D latent, continuous-
/// Bernoulli decoder) and the image RealNVP are trained here and cached there too.
module Research.Experiments.Fig05Summary

open System
open System.Diagnostics
open System.IO
open Research.Torch
open Research.Data
open Research.Diffusion
open Research.Models
open Research.Experiments.Figures
open Research.Experiments.ImageRuns
open Research.Experiments.GanRing

type Tensor = Research.Torch.Tensor

/// One measured row.
type Row =
    { Family: string
      Model: string
      Parameters: int64
      /// Test bits/dim by method ("exact", "ELBO", ...); empty for a model with no likelihood.
      Bpd: (string * float) list
      Fd: float
      Precision: float
      Recall: float
      /// FD of the tiny models of seeds 1..n.
      SeedFds: float list
      Oscillation: float
      Nfe: int
      MsPerSample: float
      /// A second speed point (the diffusion model's 1000-step ancestral sampler), if measured.
      SlowNfe: (int * float) option }

/// The slides' marks, in S0's row order, for likelihood, learning stability, fidelity and generation speed.
let slideMarks =
    [ "VAE", [ "△"; "○"; "△"; "○" ]
      "diffusion", [ "○"; "○"; "○"; "×" ]
      "flow", [ "○"; "△"; "△"; "○" ]
      "GAN", [ "×"; "×"; "○"; "○" ] ]

/// Relative oscillation of a loss curve: fit a straight line to its second half by least squares and divide the
/// standard deviation of the residuals by the mean absolute loss there (0 for a smooth curve, whatever its trend).
let detrendedOscillation (values: float list) =
    let half = values |> List.skip (values.Length / 2) |> List.filter Double.IsFinite |> Array.ofList
    if half.Length < 3 then nan
    else
        let n = float half.Length
        let xs = Array.init half.Length float
        let mx, my = Array.average xs, Array.average half
        let slope = Array.fold2 (fun acc x y -> acc + (x - mx) * (y - my)) 0.0 xs half / (xs |> Array.sumBy (fun x -> (x - mx) ** 2.0))
        let residuals = Array.map2 (fun x y -> y - my - slope * (x - mx)) xs half
        sqrt ((residuals |> Array.sumBy (fun r -> r * r)) / (n - 2.0)) / (half |> Array.averageBy abs)

/// Mean and sample standard deviation.
let private meanSd (xs: float list) =
    let m = List.average xs
    m, (if xs.Length < 2 then nan else sqrt ((xs |> List.sumBy (fun x -> (x - m) ** 2.0)) / float (xs.Length - 1)))

/// Samples n images with `sample` and the wall-clock milliseconds per sample.
let private timed (n: int) (sample: unit -> Tensor) =
    let clock = Stopwatch.StartNew()
    let x = sample ()
    x, 1000.0 * clock.Elapsed.TotalSeconds / float n

/// FD, precision and recall of samples against the test set.
let private fidelity (r: Reference) (samples: Tensor) =
    use scope = torch.NewDisposeScope()
    let features = r.Classifier.FeaturesOf samples
    let struct (precision, recall) = ImageMetrics.PrecisionRecall(r.TestFeatures, features)
    ImageMetrics.FrechetDistance(features, r.TestFeatures), precision, recall

/// Runs a trainer into <results>/models/<key>/ (a finished run there is reused); the folder and whether it diverged.
let private trainCached (ctx: Context) (key: string) (make: string -> Trainer) =
    let dir = Path.Combine(ctx.Options.ResultsRoot, "models", key)
    use trainer = make dir
    let diverged =
        try
            trainer.Run() |> ignore
            false
        with :? TrainingDivergedException as e ->
            ctx.Log(sprintf "%s diverged: %s" key e.Message)
            true
    dir, diverged

let private lossOf (dir: string) (name: string) = column (readMetrics (Path.Combine(dir, "metrics.csv"))) name

let private parameterCount (m: torch.nn.Module) = m.parameters() |> Seq.sumBy (fun p -> p.numel)

let private vaeOptions latent width = VaeOptions(Latent = latent, ConvWidth = width, ContinuousBernoulli = true)

let private trainVae (ctx: Context) (train: ImageDataset) (latent: int) (width: int) (steps: int) (batch: int) (seed: uint64) =
    let g = new Generator(seed)
    let model = new Vae(vaeOptions latent width, torch.nn.LayerOptions(generator = g))
    use batches = new BatchStream(train, batch, seed)
    let key = sprintf "convvae-deq-z%d-w%d-s%d-b%d-seed%d" latent width steps batch seed
    let dir, diverged = trainCached ctx key (fun dir -> model.Trainer(batches, TrainerOptions(int64 steps, seed, dir, Progress = not ctx.Options.Quiet), g))
    model, dir, diverged

let private flowOptions hidden = ImageRealNvpOptions(ImageShape(1, 28, 28), Hidden = hidden)

let private trainFlow (ctx: Context) (train: ImageDataset) (hidden: int) (steps: int) (batch: int) (seed: uint64) =
    let g = new Generator(seed)
    let model = new ImageRealNvp(flowOptions hidden, torch.nn.LayerOptions(generator = g))
    use batches = new BatchStream(train, batch, seed)
    let key = sprintf "image-realnvp-h%d-s%d-b%d-seed%d" hidden steps batch seed
    let dir, diverged = trainCached ctx key (fun dir -> model.Trainer(batches, TrainerOptions(int64 steps, seed, dir, Progress = not ctx.Options.Quiet), g))
    model, dir, diverged

/// VAE samples: decoder means at z ~ N(0, I), as images are usually shown and scored.
let private vaeSamples (model: Vae) (n: int) (g: Generator) () =
    use _ = torch.no_grad ()
    model.DecodeImages(torch.randn([| int64 n; int64 model.Options.Latent |], generator = g))

/// The diffusion model's samples from its own distribution: the class-conditional model at labels drawn uniformly
/// (the classes are balanced, so this is the marginal), no guidance, DPM-Solver++(2M) on the Karras grid.
let private diffusionSamples (model: ImageDiffusion) (n: int) (steps: int) (g: Generator) () =
    use labels = balancedLabels n
    let struct (x, nfe) = model.Sample(Samplers.DpmSolverPlusPlus2M, model.Grid steps, int64 n, g, labels, 0.0)
    x, nfe

let run (ctx: Context) =
    let nSamples = ctx.Int("samples", 500, 2000)
    let sampleSteps = ctx.Int("sample_steps", 20, 20)
    let bpdImages = ctx.Int("bpd_test_images", 64, 256)
    let diffusionBpdImages = ctx.Int("diffusion_bpd_images", 2, 32)
    let iwaeK = ctx.Int("iwae_k", 100, 1000)
    let ancestralSamples = ctx.Int("ancestral_samples", 2, 16)
    let latent = ctx.Int("vae_latent", 16, 16)
    let vaeWidth = ctx.Int("vae_width", 16, 32)
    let vaeSteps = ctx.Int("vae_steps", 600, 4700)
    let flowHidden = ctx.Int("flow_hidden", 16, 64)
    let flowSteps = ctx.Int("flow_steps", 200, 4700)
    let seeds = ctx.Int("seeds", 5, 5)
    let tinySamples = ctx.Int("tiny_samples", 200, 1000)
    let tinySteps = ctx.Int("tiny_steps", 100, 800)
    let seed = uint64 ctx.Seed
    let r = reference ctx
    recordReference ctx r
    use trainSet = ImageDataset.FashionMnist(true)
    use test = ImageDataset.FashionMnist(false, int64 (max bpdImages diffusionBpdImages))
    let bpdSet (n: int) = test.Images.narrow(0L, 0L, int64 n)
    let nats2bpd (logDensity: Tensor) = Likelihood.BitsPerDim(logDensity.``to`` ScalarType.Float64, 784L, -1.0, 1.0).mean().ToDouble()

    // ---- VAE: convolutional, 16-D latent, continuous-Bernoulli decoder (a density on [0, 1], hence bits/dim) ----
    ctx.Log(sprintf "VAE: conv width %d, %d-D latent, %d steps" vaeWidth latent vaeSteps)
    let vae, vaeDir, vaeDiverged = trainVae ctx trainSet latent vaeWidth vaeSteps 64 seed
    use vae = vae
    let vaeRow =
        use _ = torch.no_grad ()
        use g = new Generator(seed + 1UL)
        // The decoder is a density on targets (x + 1)/2 ∈ [0, 1]: log p over [-1, 1] is 784 log(1/2) lower.
        use x = ImageRealNvp.Dequantize(bpdSet bpdImages, g)
        use terms = vae.Elbo(x, g)
        let halfScale = 784.0 * log 0.5
        let elbo = nats2bpd (terms.Elbo + halfScale)
        use iwae = vae.ImportanceWeightedBound(x, iwaeK, g)
        let iw = nats2bpd (iwae + halfScale)
        let samples, ms = timed nSamples (vaeSamples vae nSamples g)
        use samples = samples
        let fd, p, rc = fidelity r samples
        // The trainer's loss is −ELBO per image in nats on [0, 1]: as bits/dim before measuring its oscillation.
        let lossBpd = lossOf vaeDir "loss" |> List.map (fun l -> (l + 784.0 * log 256.0) / (784.0 * log 2.0))
        { Family = "VAE"; Model = sprintf "conv VAE, %d-D latent, continuous Bernoulli, %d steps%s" latent vaeSteps (if vaeDiverged then " (diverged)" else "")
          Parameters = parameterCount vae; Bpd = [ "ELBO", elbo; sprintf "IWAE_%d" iwaeK, iw ]
          Fd = fd; Precision = p; Recall = rc; SeedFds = []; Oscillation = detrendedOscillation lossBpd
          Nfe = 1; MsPerSample = ms; SlowNfe = None }

    // ---- Diffusion: the shared VP-ε model of fashion-diffusion ----
    let size = trainingSize ctx "diffusion_" 800
    let diffusion, _, diffusionDir = sharedModel ctx "vp-eps" size
    use diffusion = diffusion
    let diffusionRow =
        use g = new Generator(seed + 2UL)
        let clock = Stopwatch.StartNew()
        let samples, nfe = diffusionSamples diffusion nSamples sampleSteps g ()
        let ms = 1000.0 * clock.Elapsed.TotalSeconds / float nSamples
        use samples = samples
        let fd, p, rc = fidelity r samples
        let images = bpdSet diffusionBpdImages
        let pf, _ = FashionDiffusion.pfOdeBitsPerDim diffusion images (seed + 3UL)
        let elbo =
            match diffusion.Process with
            | :? DdpmTableProcess as table ->
                use eg = new Generator(seed + 4UL)
                use b = DdpmElbo.BitsPerDim(diffusion.Denoiser(true).Unconditional(), table, images, eg)
                [ "DDPM ELBO", b.mean().ToDouble() ]
            | _ -> []
        // Ho et al.'s sampler: 1000 ancestral steps, one network evaluation each, on a few samples.
        let slow =
            if ancestralSamples <= 0 then None
            else
                use labels = balancedLabels ancestralSamples
                let grid = [| for k in 1000 .. -1 .. 0 -> float k / 1000.0 |]
                let c = Stopwatch.StartNew()
                let struct (x, ancestralNfe) = diffusion.Sample(Samplers.DdpmAncestral, grid, int64 ancestralSamples, g, labels, 0.0)
                x.Dispose()
                Some(ancestralNfe, 1000.0 * c.Elapsed.TotalSeconds / float ancestralSamples)
        { Family = "diffusion"; Model = sprintf "%s, VP-ε (DDPM table), %d steps; DPM-Solver++(2M) %d steps" (string size.Network) size.Steps sampleSteps
          Parameters = diffusion.Network.parameter_count (); Bpd = elbo @ [ "PF-ODE", pf ]
          Fd = fd; Precision = p; Recall = rc; SeedFds = []; Oscillation = detrendedOscillation (lossOf diffusionDir "loss")
          Nfe = nfe; MsPerSample = ms; SlowNfe = slow }

    // ---- Flow: the image RealNVP, exact bits/dim ----
    ctx.Log(sprintf "RealNVP: hidden %d, %d steps" flowHidden flowSteps)
    let flow, flowDir, flowDiverged = trainFlow ctx trainSet flowHidden flowSteps 64 seed
    use flow = flow
    let flowRow =
        use _ = torch.no_grad ()
        use g = new Generator(seed + 5UL)
        use x = ImageRealNvp.Dequantize(bpdSet bpdImages, g)
        let exact = flow.BitsPerDim(x).mean().ToDouble()
        let samples, ms = timed nSamples (fun () -> flow.Sample(int64 nSamples, g))
        use samples = samples
        let fd, p, rc = fidelity r samples
        { Family = "flow"; Model = sprintf "image RealNVP, 2 scales, hidden %d, %d steps%s" flowHidden flowSteps (if flowDiverged then " (diverged)" else "")
          Parameters = parameterCount flow.Flow; Bpd = [ "exact", exact ]
          Fd = fd; Precision = p; Recall = rc; SeedFds = []; Oscillation = detrendedOscillation (lossOf flowDir "bpd")
          Nfe = 1; MsPerSample = ms; SlowNfe = None }

    // ---- GAN: the DCGAN of dcgan-fashion ----
    let ganSize = DcganFashion.size ctx "gan_"
    let gan, ganDir, _, ganDiverged = DcganFashion.trainShared ctx ganSize seed
    use gan = gan
    let ganRow =
        use g = new Generator(seed + 6UL)
        let samples, ms = timed nSamples (fun () -> gan.Sample(int64 nSamples, g))
        use samples = samples
        let fd, p, rc = if ganDiverged.IsSome then nan, nan, nan else fidelity r samples
        { Family = "GAN"; Model = sprintf "DCGAN width %d, %d steps%s" ganSize.Width ganSize.Steps (if ganDiverged.IsSome then " (diverged)" else "")
          Parameters = parameterCount gan.G; Bpd = []
          Fd = fd; Precision = p; Recall = rc; SeedFds = []; Oscillation = detrendedOscillation (lossOf ganDir "g_loss")
          Nfe = 1; MsPerSample = ms; SlowNfe = None }

    // ---- Stability: FD of tiny models over seeds 1..n (each trained once, cached) ----
    let tinyFd (family: string) (s: uint64) =
        use g = new Generator(s + 100UL)
        let score (x: Tensor) =
            use x = x
            let fd, _, _ = fidelity r x
            fd
        match family with
        | "VAE" ->
            let m, _, _ = trainVae ctx trainSet latent 8 tinySteps 64 s
            use m = m
            score (vaeSamples m tinySamples g ())
        | "diffusion" ->
            let tiny = { Network = UNetConfig([| 8; 16 |], 32, Groups = 2); Steps = tinySteps; Batch = 64; Subset = 60000 }
            let dir = Path.Combine(ctx.Options.ResultsRoot, "models", sprintf "vp-eps-c8-s%d-b64-seed%d" tinySteps s)
            let m, _ = train ctx dir (objective "vp-eps") tiny s
            use m = m
            score (fst (diffusionSamples m tinySamples 10 g ()))
        | "flow" ->
            let m, _, diverged = trainFlow ctx trainSet 8 tinySteps 64 s
            use m = m
            if diverged then nan else score (m.Sample(int64 tinySamples, g))
        | _ ->
            let gs = { DcganFashion.Steps = tinySteps; DcganFashion.Batch = 64; DcganFashion.Width = 8; DcganFashion.Latent = 64 }
            let m, _, _, diverged = DcganFashion.trainShared ctx gs s
            use m = m
            if diverged.IsSome then nan else score (m.Sample(int64 tinySamples, g))
    let rows =
        [ vaeRow; diffusionRow; flowRow; ganRow ]
        |> List.map (fun row ->
            ctx.Log(sprintf "stability: %d tiny %s models" seeds row.Family)
            { row with SeedFds = [ for k in 1 .. seeds -> tinyFd row.Family (seed + uint64 k) ] })

    // ---- Marks from the measurements, by stated rules, beside the slides' ----
    let bestBpd = rows |> List.collect (fun r -> r.Bpd |> List.map snd) |> List.min
    let bestFd = rows |> List.map (fun r -> r.Fd) |> List.filter Double.IsFinite |> List.min
    let fastest = rows |> List.map (fun r -> r.MsPerSample) |> List.min
    let cv (r: Row) =
        let m, sd = meanSd r.SeedFds
        if r.SeedFds |> List.exists (fun v -> not (Double.IsFinite v)) then infinity else sd / m
    let measured (r: Row) =
        let likelihood =
            match r.Bpd with
            | [] -> "×"
            | b -> if (b |> List.map snd |> List.min) <= bestBpd + 0.5 then "○" else "△"
        let stability = let c = cv r in if c <= 0.1 then "○" elif c <= 0.25 then "△" else "×"
        let fid = if r.Fd <= 1.5 * bestFd then "○" elif r.Fd <= 3.0 * bestFd then "△" else "×"
        let speed = if r.MsPerSample <= 10.0 * fastest then "○" elif r.MsPerSample <= 100.0 * fastest then "△" else "×"
        [ likelihood; stability; fid; speed ]
    let columns = [ "likelihood"; "stability"; "fidelity"; "speed" ]
    let f3 (v: float) = if Double.IsFinite v then v.ToString("0.###", Globalization.CultureInfo.InvariantCulture) else "n/a"
    let agreement =
        [ for r in rows do
              let slide = slideMarks |> List.find (fun (f, _) -> f = r.Family) |> snd
              for (c, (s, m)) in List.zip columns (List.zip slide (measured r)) -> r, c, s, m ]
    let agreeCount = agreement |> List.filter (fun (_, _, s, m) -> s = m) |> List.length
    for r in rows do
        let key = r.Family.ToLowerInvariant()
        let m, sd = meanSd r.SeedFds
        ctx.Record(key + "_parameters", int r.Parameters)
        for name, v in r.Bpd do
            ctx.Record(sprintf "%s_bpd_%s" key (name.ToLowerInvariant().Replace(' ', '_').Replace("-", "_")), v)
        ctx.Record(key + "_fd", r.Fd)
        ctx.Record(key + "_precision", r.Precision)
        ctx.Record(key + "_recall", r.Recall)
        ctx.Record(key + "_tiny_fd_mean", m)
        ctx.Record(key + "_tiny_fd_sd", sd)
        ctx.Record(key + "_tiny_fd_cv", cv r)
        ctx.Record(key + "_loss_oscillation", r.Oscillation)
        ctx.Record(key + "_nfe", r.Nfe)
        ctx.Record(key + "_ms_per_sample", r.MsPerSample)
        r.SlowNfe |> Option.iter (fun (n, ms) -> ctx.Record(key + "_ancestral_nfe", n); ctx.Record(key + "_ancestral_ms_per_sample", ms))
        ctx.Record(key + "_marks_measured", String.Join("", measured r))
        ctx.Record(key + "_marks_slides", String.Join("", slideMarks |> List.find (fun (f, _) -> f = r.Family) |> snd))
    ctx.Record("marks_agreeing", agreeCount)
    ctx.Record("marks_total", agreement.Length)

    let header =
        [ "family"; "model"; "parameters"; "likelihood (test bits/dim)"; "stability (FD over seeds: mean ± sd, CV; loss oscillation)"
          "fidelity (FD, precision, recall)"; "speed (NFE, ms/sample)"; "slides"; "measured" ]
    let cells =
        [ for r in rows ->
              let m, sd = meanSd r.SeedFds
              [ r.Family; r.Model; string r.Parameters
                (match r.Bpd with
                 | [] -> "none (no density)"
                 | b -> String.Join("; ", b |> List.map (fun (n, v) -> sprintf "%s %s" n (f3 v))))
                sprintf "%s ± %s (CV %s, %d seeds); oscillation %s" (f3 m) (f3 sd) (f3 (cv r)) r.SeedFds.Length (f3 r.Oscillation)
                sprintf "FD %s; P %s; R %s" (f3 r.Fd) (f3 r.Precision) (f3 r.Recall)
                sprintf "%d NFE, %s ms%s" r.Nfe (f3 r.MsPerSample)
                    (match r.SlowNfe with
                     | Some(n, ms) -> sprintf "; ancestral %d NFE, %s ms" n (f3 ms)
                     | None -> "")
                String.Join("", slideMarks |> List.find (fun (f, _) -> f = r.Family) |> snd)
                String.Join("", measured r) ] ]
    ctx.WriteTextCsv("summary_table.csv", header, cells)
    let verdicts =
        [ for (r, c, s, m) in agreement ->
              let evidence =
                  match c with
                  | "likelihood" -> (match r.Bpd with [] -> "no density" | b -> sprintf "best %s bits/dim (best row %s)" (f3 (b |> List.map snd |> List.min)) (f3 bestBpd))
                  | "stability" -> sprintf "FD CV over seeds %s" (f3 (cv r))
                  | "fidelity" -> sprintf "FD %s (best %s)" (f3 r.Fd) (f3 bestFd)
                  | _ -> sprintf "%s ms/sample (fastest %s), %d NFE" (f3 r.MsPerSample) (f3 fastest) r.Nfe
              [ r.Family; c; s; m; (if s = m then "agrees" else "disagrees"); evidence ] ]
    let verdictHeader = [ "family"; "column"; "slides"; "measured"; "verdict"; "measurement" ]
    ctx.WriteTextCsv("marks.csv", verdictHeader, verdicts)
    ctx.WriteCsv("seed_fds.csv", "seed" :: [ for r in rows -> r.Family ], [ for k in 0 .. seeds - 1 -> float (k + 1) :: [ for r in rows -> r.SeedFds.[k] ] ])
    let rules =
        "Measured marks: likelihood ○ if the row's best bits/dim is within 0.5 of the best row's, △ otherwise, × without a density; "
        + "stability ○ if the FD's coefficient of variation over seeds is ≤ 0.1, △ ≤ 0.25, × above or if a seed diverged; "
        + "fidelity ○ if FD ≤ 1.5× the best, △ ≤ 3×, × above; speed ○ if ms/sample ≤ 10× the fastest, △ ≤ 100×, × above."
    ctx.WriteText("rules.txt", rules + "\n")
    let fig =
        Figure.grid (sprintf "FIG-05 · the summary table measured on Fashion-MNIST: %d of %d marks agree with the slides" agreeCount agreement.Length) 1
            [ Panel.create "" "" "" [ Trace.table header (List.transpose cells) |> Trace.set "columnwidth" [| 0.7; 2.2; 0.8; 1.6; 2.0; 1.5; 1.5; 0.6; 0.7 |] ]
              |> Panel.domain 0.0 1.0 0.5 1.0
              Panel.create rules "" "" [ Trace.table verdictHeader (List.transpose verdicts) |> Trace.set "columnwidth" [| 0.8; 0.9; 0.6; 0.7; 0.8; 3.0 |] ]
              |> Panel.domain 0.0 1.0 0.0 0.45 ]
        |> Figure.size 1500 1100
    ctx.SaveFigure("fig05_summary", fig)

let experiment =
    { Name = "fig05-summary"
      Ids = [ "FIG-05"; "NF-01"; "VAE-03"; "DDPM-04"; "SDE-07" ]
      Title = "the slides' summary table measured: likelihood, stability, fidelity and speed of VAE, diffusion, RealNVP and GAN"
      InDefault = true
      Run = run }
