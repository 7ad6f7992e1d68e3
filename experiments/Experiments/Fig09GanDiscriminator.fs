/// FIG-09 (S0 L293–L319): the GAN objective and its optimal discriminator. a log D + b log(1 − D)
/// peaks at D = a/(a + b) (GAN-01); at D* = P/(P + Q) the value is 2 JS − log 4 (GAN-02) and the
/// slides' combined generator objective is KL(Q ‖ P) (GAN-03). P = N(0, 1), Q_mu = N(mu, 1).
module Research.Experiments.Fig09GanDiscriminator

open System
open Research.Experiments.Numerics
open Research.Experiments.Figures

/// log sigmoid(z), stable for either sign of z.
let logSigmoid (z: float) = if z >= 0.0 then -(log1p (exp -z)) else z - log1p (exp z)

/// log D*(x) and log(1 − D*(x)) from log P and log Q: D* = sigmoid(log P − log Q) and
/// 1 − D* = sigmoid(log Q − log P), each evaluated on its own so that neither side of GAN-03 is
/// the other rewritten, and neither underflows to −inf in the tails (GAN-01 check 1).
let logDStar (lp: float) (lq: float) = logSigmoid (lp - lq), logSigmoid (lq - lp)

type GanValues =
    { Value: float // V(D*) = E_P log D* + E_Q log(1 − D*)
      TwoJsMinusLog4: float // 2 JS(P ‖ Q) − log 4, JS from its definition via M = (P + Q)/2
      GeneratorKl: float // E_Q log((1 − D*)/D*)
      KlQP: float } // KL(Q ‖ P) by quadrature

let values (mu: float) =
    let lp x = normalLogPdf 0.0 1.0 x
    let lq x = normalLogPdf mu 1.0 x
    let lo, hi = min 0.0 mu - 14.0, max 0.0 mu + 14.0
    let cuts = [ 0.0; mu; mu / 2.0; -3.0; 3.0; mu - 3.0; mu + 3.0 ]
    let q f = integrate f lo hi cuts
    let value =
        q (fun x ->
            let a, b = lp x, lq x
            let logD, log1mD = logDStar a b
            exp a * logD + exp b * log1mD)
    let js =
        q (fun x ->
            let a, b = lp x, lq x
            let lm = logAddExp a b - log 2.0
            0.5 * exp a * (a - lm) + 0.5 * exp b * (b - lm))
    let gen =
        q (fun x ->
            let a, b = lp x, lq x
            let logD, log1mD = logDStar a b
            exp b * (log1mD - logD))
    let klqp = q (fun x -> let a, b = lp x, lq x in exp b * (b - a))
    { Value = value; TwoJsMinusLog4 = 2.0 * js - log 4.0; GeneratorKl = gen; KlQP = klqp }

let run (ctx: Context) =
    let points = ctx.Int("mu_points", 81, 401)
    let ds = linspace 1e-3 (1.0 - 1e-3) 400
    let pairs = [ 1.0, 1.0; 1.0, 3.0; 3.0, 1.0; 2.0, 0.5 ]
    let colors = [| "#1b9e77"; "#d95f02"; "#7570b3"; "#e7298a" |]
    let objectivePanel =
        Panel.create
            "a log D + b log(1 − D) peaks at D = a/(a+b)"
            "D"
            "value"
            [ for i, (a, b) in List.indexed pairs do
                  let best = a / (a + b)
                  yield
                      Trace.line $"a = {a}, b = {b}" ds (ds |> Array.map (fun d -> a * log d + b * log (1.0 - d)))
                      |> Trace.color colors.[i]
                      |> Trace.legendGroup (string i)
                  yield
                      Trace.scatter $"max at {best:F3}" [ best ] [ a * log best + b * log (1.0 - best) ]
                      |> Trace.color colors.[i]
                      |> Trace.markerSize 10.0
                      |> Trace.legendGroup (string i)
                      |> Trace.hideLegend ]
        |> Panel.yRange -8.0 0.5

    let mus = linspace -4.0 4.0 points
    let rows = mus |> Array.map (fun mu -> mu, values mu)
    ctx.WriteCsv(
        "gan_values.csv",
        [ "mu"; "V_Dstar"; "two_js_minus_log4"; "generator_objective"; "kl_q_p"; "half_mu_squared" ],
        rows |> Seq.map (fun (mu, v) -> [ mu; v.Value; v.TwoJsMinusLog4; v.GeneratorKl; v.KlQP; mu * mu / 2.0 ])
    )
    let at1 = values 1.0
    ctx.Record("V_Dstar_mu1", at1.Value)
    ctx.Record("two_js_minus_log4_mu1", at1.TwoJsMinusLog4)
    ctx.Record("generator_objective_mu1", at1.GeneratorKl)
    ctx.Record("V_Dstar_mu1_golden_error", abs (at1.Value - -1.163451396750418))
    ctx.Record("generator_objective_mu1_golden_error", abs (at1.GeneratorKl - 0.5))
    ctx.Record("max_abs_V_minus_js", rows |> Array.map (fun (_, v) -> abs (v.Value - v.TwoJsMinusLog4)) |> Array.max)
    ctx.Record("max_abs_generator_minus_kl", rows |> Array.map (fun (mu, v) -> abs (v.GeneratorKl - mu * mu / 2.0)) |> Array.max)
    ctx.Record("max_abs_kl_quadrature_minus_closed_form", rows |> Array.map (fun (mu, v) -> abs (v.KlQP - mu * mu / 2.0)) |> Array.max)
    ctx.Record("min_V_Dstar", rows |> Array.map (fun (_, v) -> v.Value) |> Array.min)
    ctx.Record("minus_log4", -(log 4.0))

    let col f = rows |> Array.map (fun (_, v) -> f v)
    let jsPanel =
        Panel.create
            "V(G, D*) = 2 JS(P ‖ Q_μ) − log 4 (GAN-02)"
            "μ (Q_μ = N(μ, 1), P = N(0, 1))"
            "value"
            [ Trace.line "V(D*) (quadrature)" mus (col (fun v -> v.Value)) |> Trace.color "#2c7fb8" |> Trace.width 4.0
              Trace.line "2 JS − log 4" mus (col (fun v -> v.TwoJsMinusLog4)) |> Trace.color "#f03b20" |> Trace.dash "dash"
              Trace.scatter "μ = 1: −1.163451…" [ 1.0 ] [ at1.Value ] |> Trace.color "black" |> Trace.markerSize 9.0 ]
    let klPanel =
        Panel.create
            "E_Q log((1 − D*)/D*) = KL(Q_μ ‖ P) = μ²/2 (GAN-03)"
            "μ"
            "value"
            [ Trace.line "E_Q log((1 − D*)/D*)" mus (col (fun v -> v.GeneratorKl)) |> Trace.color "#2c7fb8" |> Trace.width 4.0
              Trace.line "μ²/2" mus (mus |> Array.map (fun m -> m * m / 2.0)) |> Trace.color "#f03b20" |> Trace.dash "dash"
              Trace.scatter "μ = 1: 0.5" [ 1.0 ] [ at1.GeneratorKl ] |> Trace.color "black" |> Trace.markerSize 9.0 ]
    let xs = linspace -4.0 5.0 300
    let dPanel =
        Panel.create
            "D*(x) = P/(P + Q) for μ = 1 (GAN-01)"
            "x"
            "density / probability"
            [ Trace.line "P = N(0,1)" xs (xs |> Array.map (normalPdf 0.0 1.0)) |> Trace.color "#2c7fb8"
              Trace.line "Q = N(1,1)" xs (xs |> Array.map (normalPdf 1.0 1.0)) |> Trace.color "#f03b20"
              Trace.line "D*(x)" xs (xs |> Array.map (fun x -> exp (fst (logDStar (normalLogPdf 0.0 1.0 x) (normalLogPdf 1.0 1.0 x)))))
              |> Trace.color "black"
              |> Trace.width 2.5 ]
    ctx.SaveFigure(
        "fig09_gan_discriminator",
        Figure.grid "FIG-09 · The GAN objective and the optimal discriminator" 2 [ objectivePanel; dPanel; jsPanel; klPanel ]
    )

let experiment =
    { Name = "fig09-gan-discriminator"
      Ids = [ "FIG-09"; "GAN-01"; "GAN-02"; "GAN-03" ]
      Title = "GAN optimal discriminator; V(D*) = 2 JS - log 4 and the generator objective = KL(Q||P)"
      InDefault = true
      Run = run }
