/// FIG-07 (S2 Fig. 1.1): the training target of a deep generative model. Samples from an
/// "unknown" p_data (G1) are fitted by a Gaussian p_phi by maximum likelihood with plain gradient
/// descent; D_KL(p_data || p_phi), computed by quadrature (DIV-01), falls during training towards
/// the best a Gaussian can do (moment matching).
module Research.Experiments.Fig07KlTraining

open System
open Research.Experiments.Numerics
open Research.Experiments.Figures

/// D_KL(p || N(mu, v)) by adaptive Gauss–Kronrod, split at p's structure (§0.3 [Q], §15.2).
let klToNormal (p: Mixture1D) (mu: float) (v: float) =
    let lo, hi = p.Support
    let lo, hi = min lo (mu - 12.0 * sqrt v), max hi (mu + 12.0 * sqrt v)
    integrate (fun x -> let lp = p.LogPdf x in exp lp * (lp - normalLogPdf mu v x)) lo hi (Array.append p.Breakpoints [| mu |])

let run (ctx: Context) =
    let n = ctx.Int("samples", 2000, 100_000)
    let steps = ctx.Int("steps", 300, 1000)
    let lr = ctx.Float("lr", 0.05, 0.05)
    let p = Mixture1D.g1
    let data = p.Sample(ctx.Rng(1), n)

    // Moment matching is the forward-KL optimum within the Gaussian family (DIV-01).
    let muStar, vStar = p.Mean, p.Variance
    let klStar = klToNormal p muStar vStar
    // H(p_data): the loss minus this constant estimates the KL (DIV-01), up to sampling error.
    let entropy =
        let lo, hi = p.Support
        integrate (fun x -> let lp = p.LogPdf x in -(exp lp) * lp) lo hi p.Breakpoints

    // Gradient descent on the empirical NLL in (mu, log sigma), started far from the data.
    let mutable mu, logSd = -2.5, log 0.3
    let rows = ResizeArray<float list>()
    let snapshots = ResizeArray<int * float * float>()
    let snapshotAt = set [ 0; 5; 15; 40; steps ]
    ctx.Progress(
        "FIG-07 gradient descent",
        steps + 1,
        fun tick ->
            for step in 0..steps do
                let v = exp (2.0 * logSd)
                let nll = -(data |> Array.averageBy (normalLogPdf mu v))
                rows.Add [ float step; mu; sqrt v; nll; klToNormal p mu v ]
                if snapshotAt.Contains step then snapshots.Add(step, mu, v)
                let gMu = -(data |> Array.averageBy (fun x -> x - mu)) / v
                let gLog = 1.0 - (data |> Array.averageBy (fun x -> (x - mu) * (x - mu))) / v
                mu <- mu - lr * gMu
                logSd <- logSd - lr * gLog
                tick ()
    )
    let kl = rows |> Seq.map (fun r -> r.[4]) |> Seq.toArray
    // Largest rise between consecutive steps; the empirical objective differs from the exact KL,
    // so near convergence the KL may move by O(1/n) either way, never by more.
    let maxRise = Seq.pairwise kl |> Seq.map (fun (a, b) -> b - a) |> Seq.max
    ctx.WriteCsv("training.csv", [ "step"; "mu"; "sigma"; "empirical_nll"; "kl_data_model" ], rows)

    ctx.Record("samples", n)
    ctx.Record("steps", steps)
    ctx.Record("kl_initial", kl.[0])
    ctx.Record("kl_final", kl.[kl.Length - 1])
    ctx.Record("kl_optimum", klStar)
    ctx.Record("entropy_data", entropy)
    ctx.Record("kl_final_excess", kl.[kl.Length - 1] - klStar)
    ctx.Record("kl_max_rise", maxRise)
    ctx.Record("kl_decreasing_fraction", (Seq.pairwise kl |> Seq.filter (fun (a, b) -> b <= a) |> Seq.length |> float) / float (kl.Length - 1))
    ctx.Record("mu_final", mu)
    ctx.Record("var_final", exp (2.0 * logSd))
    ctx.Record("mu_optimum", muStar)
    ctx.Record("var_optimum", vStar)
    ctx.Record("sample_mean", mean data)
    ctx.Record("sample_var", variance data)

    let xs = linspace -3.5 3.5 400
    let palette = [| "#fdae61"; "#f46d43"; "#d73027"; "#a50026"; "#1a9850" |]
    let densityPanel =
        Panel.create
            "p_data (G1), samples, p_φ in training"
            "x"
            "density"
            ([ Trace.histogram $"samples (n = {n})" true 60 data |> Trace.color "#c6dbef"
               Trace.line "p_data" xs (xs |> Array.map p.Pdf) |> Trace.color "black" |> Trace.width 2.5 ]
             @ [ for i, (step, m, v) in Seq.indexed snapshots ->
                     Trace.line $"p_φ, step {step}" xs (xs |> Array.map (normalPdf m v))
                     |> Trace.color palette.[min i (palette.Length - 1)]
                     |> Trace.dash (if step = steps then "solid" else "dash") ])
        |> Panel.yRange 0.0 1.45
    let stepsAxis = rows |> Seq.map (fun r -> r.[0]) |> Seq.toArray
    let klPanel =
        Panel.create
            "D_KL(p_data ‖ p_φ) falls"
            "gradient step"
            "KL (nats)"
            [ Trace.line "D_KL(p_data ‖ p_φ) (quadrature)" stepsAxis kl |> Trace.color "#d73027" |> Trace.width 2.5
              Trace.line "empirical NLL − H(p_data) (the training loss, shifted)" stepsAxis (rows |> Seq.map (fun r -> r.[3] - entropy))
              |> Trace.color "#4575b4"
              |> Trace.dash "dash"
              Trace.line "Gaussian optimum (moment matching)" [ 0.0; float steps ] [ klStar; klStar ]
              |> Trace.color "black"
              |> Trace.dash "dot" ]
        |> Panel.logY
    ctx.SaveFigure("fig07_kl_training", Figure.grid "FIG-07 · The DGM training target: fitting p_φ to p_data by MLE (DIV-01)" 2 [ densityPanel; klPanel ] |> Figure.layout "barmode" "overlay")

let experiment =
    { Name = "fig07-kl-training"
      Ids = [ "FIG-07"; "DIV-01" ]
      Title = "KL(p_data || p_phi) falls while a Gaussian is fitted by MLE"
      InDefault = true
      Run = run }
