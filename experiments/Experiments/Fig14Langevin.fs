/// FIG-14 with LD-01 / LD-02 (book Fig. 1.9, Algorithm 2.1; Song & Ermon 2019): plain vs annealed
/// Langevin sampling of the GSE mixture 1/5 N((-5,-5), I) + 4/5 N((5,5), I) with exact scores.
/// Plain Langevin keeps the initial basin proportions (~0.5); annealing through noise levels
/// sigma_1 > ... > sigma_L recovers the weights (~0.79, LD-02 and section 15.8).
module Research.Experiments.Fig14Langevin

open System
open Research.Diffusion
open Research.Experiments.Numerics
open Research.Experiments.Figures
open MathNet.Numerics.LinearAlgebra

/// An isotropic 2-D Gaussian mixture smoothed by N(0, s^2 I): components N(m_k, (v_k + s^2) I).
/// The scalar twin of the library mixture's Diffuse marginal under alpha = 1, sigma = s (VE / EDM),
/// used in the inner loops; checked against the library in the summary.
type Isotropic2D(weights: float[], mx: float[], my: float[], variances: float[]) =
    let logW = weights |> Array.map log
    member _.Score(s: float, x: float, y: float) =
        // Responsibilities by log-sum-exp over components, then sum_k r_k (m_k - x)/C_k.
        let k = weights.Length
        let logs = Array.zeroCreate k
        let mutable mx' = Double.NegativeInfinity
        for i in 0 .. k - 1 do
            let c = variances.[i] + s * s
            let dx, dy = x - mx.[i], y - my.[i]
            logs.[i] <- logW.[i] - log c - 0.5 * (dx * dx + dy * dy) / c
            mx' <- max mx' logs.[i]
        let mutable z = 0.0
        let mutable sx = 0.0
        let mutable sy = 0.0
        for i in 0 .. k - 1 do
            let w = exp (logs.[i] - mx')
            let c = variances.[i] + s * s
            z <- z + w
            sx <- sx + w * (mx.[i] - x) / c
            sy <- sy + w * (my.[i] - y) / c
        sx / z, sy / z
    member _.LogPdf(s: float, x: float, y: float) =
        let mutable acc = Double.NegativeInfinity
        for i in 0 .. weights.Length - 1 do
            let c = variances.[i] + s * s
            let dx, dy = x - mx.[i], y - my.[i]
            acc <- logAddExp acc (logW.[i] - log (2.0 * Math.PI * c) - 0.5 * (dx * dx + dy * dy) / c)
        acc

/// GSE (derivations.md F2), built in the library.
let gse =
    let v (a: float) (b: float) = Vector<float>.Build.DenseOfArray [| a; b |]
    GaussianMixture([| 0.2; 0.8 |], [| Gaussian.Isotropic(v -5.0 -5.0, 1.0); Gaussian.Isotropic(v 5.0 5.0, 1.0) |])

let ofLibrary (m: GaussianMixture) =
    Isotropic2D(
        Seq.toArray m.Weights,
        [| for c in m.Components -> c.Mean.[0] |],
        [| for c in m.Components -> c.Mean.[1] |],
        [| for c in m.Components -> c.Covariance.[0, 0] |]
    )

/// x <- x + a s(x) + sqrt(2a) u for every chain (LD-01), in place.
let private langevinStep (p: Isotropic2D) (rng: NormalRng) (noise: float) (a: float) (xs: float[]) (ys: float[]) =
    let c = sqrt (2.0 * a)
    for i in 0 .. xs.Length - 1 do
        let sx, sy = p.Score(noise, xs.[i], ys.[i])
        xs.[i] <- xs.[i] + a * sx + c * rng.Normal()
        ys.[i] <- ys.[i] + a * sy + c * rng.Normal()

let private fraction (xs: float[]) (ys: float[]) =
    (Array.map2 (fun x y -> if x + y > 0.0 then 1.0 else 0.0) xs ys |> Array.sum) / float xs.Length

let run (ctx: Context) =
    let n = ctx.Int("chains", 10_000, 100_000)
    let plainSteps = ctx.Int("plain_steps", 1000, 1000)
    let plainStep = ctx.Float("plain_step", 0.01, 0.01)
    let levels = ctx.Int("levels", 10, 10)
    let perLevel = ctx.Int("steps_per_level", 100, 100)
    let eta = ctx.Float("eta", 0.1, 0.1)
    let sigma1, sigmaL = 20.0, 1.0
    let sigmas = Array.init levels (fun i -> sigma1 * (sigmaL / sigma1) ** (float i / float (levels - 1)))
    let p = ofLibrary gse

    // The scalar twin against the library's exact score of p_sigma (alpha = 1, sigma = s: the EDM process).
    let twinErr =
        [ for s in [ 0.5; 1.0; 5.0; 20.0 ] do
              for (x, y) in [ -5.0, -5.0; 0.3, -0.7; 4.0, 6.0; -9.0, 3.0 ] ->
                  let lib = gse.Diffuse(Edm(), s).Score(Vector<float>.Build.DenseOfArray [| x; y |])
                  let sx, sy = p.Score(s, x, y)
                  max (abs (lib.[0] - sx)) (abs (lib.[1] - sy)) ]
        |> List.max
    ctx.Record("score_twin_vs_library_max_abs_err", twinErr)

    let init (stream: int) =
        let rng = ctx.Rng stream
        Array.init n (fun _ -> -8.0 + 16.0 * rng.Uniform()), Array.init n (fun _ -> -8.0 + 16.0 * rng.Uniform())
    let traced = 4 // chains whose paths are drawn

    // Plain Langevin at the clean target.
    let px, py = init 1
    let plainInit = fraction px py
    let rngPlain = ctx.Rng 2
    let plainCurve = ResizeArray [ 0.0, plainInit ]
    let plainPaths = Array.init traced (fun i -> ResizeArray [ px.[i], py.[i] ])
    ctx.Progress(
        "plain Langevin",
        plainSteps,
        fun tick ->
            for k in 1..plainSteps do
                langevinStep p rngPlain 0.0 plainStep px py
                for i in 0 .. traced - 1 do
                    plainPaths.[i].Add(px.[i], py.[i])
                if k % 20 = 0 then plainCurve.Add(float k / float plainSteps, fraction px py)
                tick ()
    )

    // Annealed Langevin (Song & Ermon 2019, Alg. 1; the book's Algorithm 2.1 with errata P.37, P.39).
    let ax, ay = init 3
    let annealedInit = fraction ax ay
    let rngAnnealed = ctx.Rng 4
    let annealedCurve = ResizeArray [ 0.0, annealedInit ]
    let annealedPaths = Array.init traced (fun i -> ResizeArray [ ax.[i], ay.[i] ])
    ctx.Progress(
        "annealed Langevin",
        levels * perLevel,
        fun tick ->
            for li in 0 .. levels - 1 do
                let s = sigmas.[li]
                let a = eta * s * s / (sigmaL * sigmaL)
                for k in 1..perLevel do
                    langevinStep p rngAnnealed s a ax ay
                    // The path is drawn at the end of each noise level: within the early, wide levels a
                    // step moves a chain by ~sqrt(2 eta) sigma_i, which would fill the panel.
                    if k = perLevel then
                        for i in 0 .. traced - 1 do
                            annealedPaths.[i].Add(ax.[i], ay.[i])
                    if k % 20 = 0 then annealedCurve.Add(float (li * perLevel + k) / float (levels * perLevel), fraction ax ay)
                    tick ()
    )

    let se = sqrt (0.16 / float n)
    let plainFraction = fraction px py
    let annealedFraction = fraction ax ay
    // Per-coordinate variance inside the heavy mode, against the ULA value 2/(1 - eta/4) (LD-02; informative).
    let inMode = Array.zip ax ay |> Array.filter (fun (x, y) -> x + y > 0.0)
    let modeVar = (variance (inMode |> Array.map fst) + variance (inMode |> Array.map snd)) / 2.0
    ctx.Record("chains", n)
    ctx.Record("initial_fraction_plain", plainInit)
    ctx.Record("initial_fraction_annealed", annealedInit)
    ctx.Record("plain_mode_fraction", plainFraction)
    ctx.Record("annealed_mode_fraction", annealedFraction)
    ctx.Record("target_mode_fraction", 0.8)
    ctx.Record("standard_error", se)
    ctx.Record("annealed_reference_fraction", 0.7885)
    ctx.Record("plain_reference_fraction", 0.5096)
    ctx.Record("annealed_mode_variance_per_coordinate", modeVar)
    ctx.Record("annealed_mode_variance_ula_prediction", 2.0 / (1.0 - eta / 4.0))

    ctx.WriteCsv("plain_samples.csv", [ "x1"; "x2" ], Seq.init n (fun i -> [ px.[i]; py.[i] ]))
    ctx.WriteCsv("annealed_samples.csv", [ "x1"; "x2" ], Seq.init n (fun i -> [ ax.[i]; ay.[i] ]))
    ctx.WriteCsv(
        "mode_fraction.csv",
        [ "progress"; "plain"; "annealed" ],
        Seq.zip plainCurve annealedCurve |> Seq.map (fun ((t, a), (_, b)) -> [ t; a; b ])
    )

    let grid = linspace -10.0 10.0 101
    let contour =
        Trace.contour "log p" grid grid (Array2D.init grid.Length grid.Length (fun i j -> p.LogPdf(0.0, grid.[j], grid.[i])))
        |> Trace.set "contours.start" -12.0
        |> Trace.set "contours.end" -1.0
        |> Trace.set "contours.size" 1.0
        |> Trace.hideLegend
    let shown = min n 2500
    let samplesPanel title (xs: float[]) (ys: float[]) color fr =
        Panel.create
            $"{title}: fraction in the (5,5) mode {fr:F3}"
            "x₁"
            "x₂"
            [ contour
              Trace.scatter title xs.[.. shown - 1] ys.[.. shown - 1] |> Trace.color color |> Trace.markerSize 3.0 |> Trace.opacity 0.5
              Trace.line "x₁ + x₂ = 0" [ -10.0; 10.0 ] [ 10.0; -10.0 ] |> Trace.color "grey" |> Trace.dash "dot" |> Trace.hideLegend ]
        |> Panel.xRange -10.0 10.0
        |> Panel.yRange -10.0 10.0
        |> Panel.equalAspect
    let pathsPanel =
        Panel.create
            "single chains: plain (every step), annealed (end of each level)"
            "x₁"
            "x₂"
            ([ contour ]
             @ [ for i in 0 .. traced - 1 ->
                     Trace.line (if i = 0 then "plain" else "") (plainPaths.[i] |> Seq.map fst) (plainPaths.[i] |> Seq.map snd)
                     |> Trace.color "#3182bd"
                     |> Trace.width 0.7
                     |> Trace.legendGroup "plain"
                     |> (if i = 0 then id else Trace.hideLegend) ]
             @ [ for i in 0 .. traced - 1 ->
                     Trace.line (if i = 0 then "annealed" else "") (annealedPaths.[i] |> Seq.map fst) (annealedPaths.[i] |> Seq.map snd)
                     |> Trace.set "mode" "lines+markers"
                     |> Trace.markerSize 5.0
                     |> Trace.color "#e6550d"
                     |> Trace.width 1.5
                     |> Trace.legendGroup "annealed"
                     |> (if i = 0 then id else Trace.hideLegend) ])
        |> Panel.xRange -15.0 15.0
        |> Panel.yRange -15.0 15.0
        |> Panel.equalAspect
    let curvePanel =
        Panel.create
            "fraction with x₁ + x₂ > 0 during sampling"
            "progress through the run"
            "fraction"
            [ Trace.line "plain (α = 0.01)" (plainCurve |> Seq.map fst) (plainCurve |> Seq.map snd) |> Trace.color "#3182bd" |> Trace.width 2.5
              Trace.line "annealed (σ: 20 → 1)" (annealedCurve |> Seq.map fst) (annealedCurve |> Seq.map snd) |> Trace.color "#e6550d" |> Trace.width 2.5
              Trace.line "true weight 0.8" [ 0.0; 1.0 ] [ 0.8; 0.8 ] |> Trace.color "black" |> Trace.dash "dot" ]
        |> Panel.yRange 0.4 0.9
    ctx.SaveFigure(
        "fig14_langevin",
        Figure.grid
            "FIG-14 · Plain vs annealed Langevin on ⅕N((−5,−5), I) + ⅘N((5,5), I) with the exact score (LD-02)"
            2
            [ samplesPanel "plain Langevin" px py "#3182bd" plainFraction
              samplesPanel "annealed Langevin" ax ay "#e6550d" annealedFraction
              pathsPanel
              curvePanel ]
        |> Figure.size 1100 950
    )

let experiment =
    { Name = "fig14-langevin"
      Ids = [ "FIG-14"; "LD-01"; "LD-02" ]
      Title = "Plain vs annealed Langevin sampling of a two-mode mixture with the exact score"
      InDefault = true
      Run = run }
