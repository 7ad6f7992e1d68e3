/// FIG-02 (S1 L71–L75, an animation; SDE-08): p_t of the 1-D mixture G3 under the Stable-Diffusion
/// VP process as a space-time heat map, with the 10 points at cumulative probabilities k/11 carried
/// by the probability-flow ODE with the exact score (adaptive Dormand–Prince, rtol 1e-10, atol 1e-12).
/// Each point stays on its quantile: the curves never cross and every band keeps mass 1/11.
module Research.Experiments.Fig02PfQuantiles

open System
open Research.Diffusion
open Research.Experiments.Numerics
open Research.Experiments.Figures
open MathNet.Numerics.LinearAlgebra

let run (ctx: Context) =
    let outputs = ctx.Int("time_points", 101, 401)
    let nx = ctx.Int("x_points", 241, 601)
    let rtol = ctx.Float("rtol", 1e-10, 1e-10)
    let atol = ctx.Float("atol", 1e-12, 1e-12)
    let data = Mixture1D.g3Library
    let proc = VpScaledLinear() :> NoiseProcess
    let sde = LinearSde.Of proc
    let marginal t = Mixture1D.diffuse data proc t
    let levels = Array.init 10 (fun k -> float (k + 1) / 11.0)
    let x0 = levels |> Array.map (marginal 0.0).Quantile

    // dx/dt = f x − ½ g² ∇log p_t (SDE-03), for the ten points at once (one 10-vector state).
    let velocity (t: float) (x: float[]) =
        let pt = marginal t
        let score = x |> Array.map pt.Score
        sde.ProbabilityFlowVelocity(t, Vector<float>.Build.DenseOfArray x, Vector<float>.Build.DenseOfArray score).ToArray()
    let ts = linspace 0.0 1.0 outputs
    let sol = dormandPrince velocity 0.0 x0 1.0 ts rtol atol
    let paths = sol.States

    // SDE-08: F_t(x_k(t)) = k/11, x_k(t) = F_t^{-1}(k/11), band masses 1/11, order preserved.
    let mutable cdfDev = 0.0
    let mutable quantileDev = 0.0
    let mutable massDev = 0.0
    let mutable ordered = true
    for i in 0 .. ts.Length - 1 do
        let pt = marginal ts.[i]
        let xs = paths.[i]
        let cdf = xs |> Array.map pt.Cdf
        for k in 0..9 do
            cdfDev <- max cdfDev (abs (cdf.[k] - levels.[k]))
            quantileDev <- max quantileDev (abs (xs.[k] - pt.Quantile levels.[k]) / max 1.0 (abs xs.[k]))
        let masses = Array.concat [ [| cdf.[0] |]; Array.init 9 (fun k -> cdf.[k + 1] - cdf.[k]); [| 1.0 - cdf.[9] |] ]
        massDev <- max massDev (masses |> Array.map (fun m -> abs (m - 1.0 / 11.0)) |> Array.max)
        ordered <- ordered && (Array.pairwise xs |> Array.forall (fun (a, b) -> a < b))

    // p_1 ≈ N(0, 1): means scaled by alpha(1) = 0.0691, variances alpha² S_k + 1 − alpha².
    let alpha1 = proc.Alpha 1.0
    let p1 = marginal 1.0
    let varErr =
        Array.map2 (fun v0 v1 -> abs (v1 - (alpha1 * alpha1 * v0 + 1.0 - alpha1 * alpha1))) (Mixture1D.ofLibrary data).Variances p1.Variances
        |> Array.max
    let lo, hi = -6.0, 6.0
    let p1Tv = 0.5 * integrate (fun x -> abs (p1.Pdf x - normalPdf 0.0 1.0 x)) lo hi [ -1.0; 0.0; 1.0 ]

    ctx.Record("max_cdf_deviation", cdfDev)
    ctx.Record("max_quantile_deviation", quantileDev)
    ctx.Record("max_band_mass_deviation", massDev)
    ctx.Record("trajectories_ordered", ordered)
    ctx.Record("ode_evaluations", sol.Evaluations)
    ctx.Record("ode_accepted_steps", sol.Steps)
    ctx.Record("alpha_1", alpha1)
    ctx.Record("p1_variance_formula_max_err", varErr)
    ctx.Record("p1_total_variation_to_standard_normal", p1Tv)
    ctx.Record("x0_quantiles_min", x0.[0])
    ctx.Record("x0_quantiles_max", x0.[9])

    ctx.WriteCsv(
        "trajectories.csv",
        "t" :: [ for k in 1..10 -> $"x_{k}_of_11" ],
        Seq.init ts.Length (fun i -> ts.[i] :: List.ofArray paths.[i])
    )
    let xs = linspace -3.5 3.5 nx
    let densityTs = linspace 0.0 1.0 (min outputs 201)
    let z = Array2D.zeroCreate xs.Length densityTs.Length
    for j in 0 .. densityTs.Length - 1 do
        let pt = marginal densityTs.[j]
        for i in 0 .. xs.Length - 1 do
            z.[i, j] <- pt.Pdf xs.[i]
    let heat =
        Panel.create
            $"p_t(x) of G3 under the SD process, with the PF-ODE paths of the quantiles k/11 (max |F_t(x_k) − k/11| = {cdfDev:E1})"
            "t"
            "x"
            ([ Trace.heatmap "p_t(x)" densityTs xs z
               |> Trace.colorscale "Blues"
               |> Trace.set "reversescale" true
               // The sharp t = 0 peaks would wash out the rest; the scale is clipped at 0.6.
               |> Trace.zRange 0.0 0.6
               |> Trace.colorbarTitle "p_t(x)" ]
             @ [ for k in 0..9 ->
                     Trace.line $"u = {k + 1}/11" ts (paths |> Array.map (fun p -> p.[k]))
                     |> Trace.color "#d62728"
                     |> Trace.width 1.8
                     |> Trace.legendGroup "paths"
                     |> (if k = 0 then Trace.set "name" "PF-ODE paths of u = k/11" else Trace.hideLegend) ])
    let snapshot (t: float) =
        let pt = marginal t
        let i = ts |> Array.findIndex (fun s -> abs (s - t) < 1e-12)
        let q = paths.[i]
        Panel.create
            $"t = {t}: p_t and the 11 bands of mass 1/11"
            "x"
            "density"
            [ Trace.line "p_t" xs (xs |> Array.map pt.Pdf) |> Trace.color "#3182bd" |> Trace.hideLegend
              Trace.scatter "quantile points" q (q |> Array.map (fun _ -> 0.0)) |> Trace.color "#d62728" |> Trace.markerSize 8.0 |> Trace.hideLegend ]
    let fig =
        Figure.grid "FIG-02 · 1-D probability flow under the Stable-Diffusion schedule (SDE-08)" 3 [
            heat |> Panel.domain 0.0 0.93 0.42 1.0
            snapshot 0.0 |> Panel.domain 0.0 0.28 0.0 0.3
            snapshot 0.5 |> Panel.domain 0.34 0.62 0.0 0.3
            snapshot 1.0 |> Panel.domain 0.68 0.96 0.0 0.3 ]
        |> Figure.size 1200 900
        |> Figure.layout "legend.x" 0.75
        |> Figure.layout "legend.y" 1.08
        |> Figure.layout "legend.orientation" "h"
    ctx.SaveFigure("fig02_pf_quantiles", fig)

let experiment =
    { Name = "fig02-pf-quantiles"
      Ids = [ "FIG-02"; "SDE-08"; "SDE-03" ]
      Title = "1-D probability flow of the quantiles k/11 under the SD schedule"
      InDefault = true
      Run = run }
