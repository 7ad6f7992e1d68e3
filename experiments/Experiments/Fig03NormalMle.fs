/// FIG-03 (S0 L45–L77): fit a normal law to 300 samples by maximum likelihood (MLE-01) and
/// generate from it. The closed-form MLE is compared with plain gradient ascent on the
/// log-likelihood, which is how a network would be fitted.
module Research.Experiments.Fig03NormalMle

open System
open Research.Experiments.Numerics
open Research.Experiments.Figures

let run (ctx: Context) =
    let n = ctx.Int("samples", 300, 300)
    let generated = ctx.Int("generated", 100, 100)
    let steps = ctx.Int("steps", 400, 2000)
    let muTrue, sdTrue = 1.3, 0.7 // MLE-01's check: N(1.3, 0.7^2)
    let data = ctx.Rng(1).Normals(n) |> Array.map (fun z -> muTrue + sdTrue * z)

    // MLE-01: mu = mean, sigma^2 = biased sample variance; L(mu, sigma) at the maximum.
    let muHat = mean data
    let varHat = variance data
    let sdHat = sqrt varHat
    let logLik mu sd = data |> Array.sumBy (normalLogPdf mu (sd * sd))
    let lMax = logLik muHat sdHat
    let lFormula = -(float n) / 2.0 * (log (2.0 * Math.PI * varHat) + 1.0)

    // Gradient ascent on the average log-likelihood in (mu, log sigma), the parameterisation that
    // keeps sigma positive. Gradient: (mean(x - mu)/s^2, mean((x - mu)^2)/s^2 - 1).
    let lr = 0.1
    let trace = ResizeArray<float list>()
    let mutable mu, logSd = 0.0, log 2.0
    for step in 0..steps do
        let s2 = exp (2.0 * logSd)
        trace.Add [ float step; mu; exp logSd; logLik mu (exp logSd) / float n ]
        let gMu = (data |> Array.averageBy (fun x -> x - mu)) / s2
        let gLog = (data |> Array.averageBy (fun x -> (x - mu) * (x - mu))) / s2 - 1.0
        mu <- mu + lr * gMu
        logSd <- logSd + lr * gLog
    let sdGd = exp logSd

    let fresh = ctx.Rng(2).Normals(generated) |> Array.map (fun z -> muHat + sdHat * z)

    ctx.WriteCsv("training_data.csv", [ "x" ], data |> Seq.map (fun x -> [ x ]))
    ctx.WriteCsv("generated.csv", [ "x" ], fresh |> Seq.map (fun x -> [ x ]))
    ctx.WriteCsv("gradient_ascent.csv", [ "step"; "mu"; "sigma"; "mean_log_likelihood" ], trace)

    ctx.Record("samples", n)
    ctx.Record("mu_true", muTrue)
    ctx.Record("sigma_true", sdTrue)
    ctx.Record("mu_hat", muHat)
    ctx.Record("sigma_hat", sdHat)
    ctx.Record("log_likelihood_max", lMax)
    ctx.Record("log_likelihood_formula_residual", abs (lMax - lFormula) / abs lFormula)
    ctx.Record("gd_mu", mu)
    ctx.Record("gd_sigma", sdGd)
    ctx.Record("gd_max_abs_gap", max (abs (mu - muHat)) (abs (sdGd - sdHat)))
    // S0 L97's printed log-likelihood drops the factor n; its sigma-root is n times too large.
    ctx.Record("s0_printed_formula_variance_ratio", (data |> Array.sumBy (fun x -> (x - muHat) ** 2.0)) / varHat)
    ctx.Record("generated_mean", mean fresh)
    ctx.Record("generated_sd", sqrt (variance fresh))

    let xs = linspace (muTrue - 4.0 * sdTrue) (muTrue + 4.0 * sdTrue) 300
    let fitPanel =
        Panel.create
            $"Training data (n = {n}) and the fitted normal"
            "x"
            "density"
            [ Trace.histogram "training samples" true 30 data |> Trace.color "#8fb3d9"
              Trace.histogram $"{generated} generated samples" true 20 fresh |> Trace.color "#f2a65a" |> Trace.opacity 0.5
              Trace.line "true N(1.3, 0.7²)" xs (xs |> Array.map (normalPdf muTrue (sdTrue * sdTrue)))
              |> Trace.color "black"
              |> Trace.dash "dot"
              Trace.line $"MLE N({muHat:F3}, {sdHat:F3}²)" xs (xs |> Array.map (normalPdf muHat varHat))
              |> Trace.color "#c0392b"
              |> Trace.width 2.5
              Trace.scatter "generated (rug)" fresh (fresh |> Array.map (fun _ -> -0.02))
              |> Trace.color "#e67e22"
              |> Trace.set "marker.symbol" "line-ns-open"
              |> Trace.markerSize 8.0 ]
            |> Panel.xAxis "zeroline" false
    let steps' = trace |> Seq.map (fun r -> r.[0]) |> Seq.toArray
    let gdPanel =
        Panel.create
            "Gradient ascent reaches the closed-form MLE"
            "step"
            "|parameter − MLE|"
            [ Trace.line "|μ − μ̂|" steps' (trace |> Seq.map (fun r -> abs (r.[1] - muHat) + 1e-17)) |> Trace.color "#2c7fb8"
              Trace.line "|σ − σ̂|" steps' (trace |> Seq.map (fun r -> abs (r.[2] - sdHat) + 1e-17)) |> Trace.color "#d95f0e" ]
        |> Panel.logY
    let fig =
        Figure.grid "FIG-03 · Maximum likelihood fit of a normal law and generation (MLE-01)" 2 [ fitPanel; gdPanel ]
        |> Figure.layout "barmode" "overlay"
    ctx.SaveFigure("fig03_normal_mle", fig)

let experiment =
    { Name = "fig03-normal-mle"
      Ids = [ "FIG-03"; "MLE-01" ]
      Title = "Fitting a normal law by MLE and generating from it"
      InDefault = true
      Run = run }
