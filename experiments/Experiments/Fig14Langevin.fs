/// FIG-14 with LD-01 / LD-02 (book Fig. 1.9, Algorithm 2.1; Song & Ermon 2019): plain vs annealed
/// Langevin sampling of the GSE mixture 1/5 N((-5,-5), I) + 4/5 N((5,5), I) with exact scores.
/// Plain Langevin keeps the initial basin proportions (~0.5); annealing through noise levels
/// sigma_1 > ... > sigma_L recovers the weights (~0.79, LD-02 and section 15.8). Both runs are the library's
/// Samplers.AnnealedLangevin with the exact mixture denoiser under the EDM process (alpha = 1, sigma = t): plain
/// Langevin is one level at sigma = 1e-3 (the clean target to 1e-6 in variance) with a = eta; the per-step callback
/// records the mode fraction and the traced chains.
module Research.Experiments.Fig14Langevin

open System
open Research.Diffusion
open Research.Torch
open Research.Experiments.Numerics
open Research.Experiments.Figures
open MathNet.Numerics.LinearAlgebra

/// GSE (docs/claims.md F2), built in the library.
let gse =
    let v (a: float) (b: float) = Vector<float>.Build.DenseOfArray [| a; b |]
    GaussianMixture([| 0.2; 0.8 |], [| Gaussian.Isotropic(v -5.0 -5.0, 1.0); Gaussian.Isotropic(v 5.0 5.0, 1.0) |])

/// Fraction of the chains (rows of x) with x1 + x2 > 0: the heavy (5, 5) mode's side.
let private fraction (x: Tensor) =
    use positive = x.sum(1L).gt(0.0).``to``(ScalarType.Float64)
    use m = positive.mean ()
    m.ToDouble()

/// The first `count` chains as (x1, x2) pairs.
let private chains (x: Tensor) count =
    use head = x.narrow(0L, 0L, int64 count).contiguous ()
    let v = head.data<float> ()
    Array.init count (fun i -> v.[2 * i], v.[2 * i + 1])

let run (ctx: Context) =
    let n = ctx.Int("chains", 10_000, 100_000)
    let plainSteps = ctx.Int("plain_steps", 1000, 1000)
    let plainStep = ctx.Float("plain_step", 0.01, 0.01)
    let levels = ctx.Int("levels", 10, 10)
    let perLevel = ctx.Int("steps_per_level", 100, 100)
    let eta = ctx.Float("eta", 0.1, 0.1)
    let sigma1, sigmaL = 20.0, 1.0
    let sigmas = Array.init levels (fun i -> sigma1 * (sigmaL / sigma1) ** (float i / float (levels - 1)))
    let edm = Edm()
    use mixture = new TensorMixture(gse)
    let model = mixture.Denoiser edm

    let init (stream: int) =
        let rng = ctx.Rng stream
        torch.tensor (Array.init (2 * n) (fun _ -> -8.0 + 16.0 * rng.Uniform()), [| int64 n; 2L |])
    let traced = 4 // chains whose paths are drawn

    /// Runs annealed Langevin with `steps` per level over `levels` (EDM times = noise levels), recording the fraction
    /// every 20 steps and the traced chains at the steps `trace` selects; returns the final sample.
    let langevin label (steps: int) (stepSize: float) (levels: float[]) (x: Tensor) (stream: int) (trace: int -> bool) =
        let sampler = Samplers.AnnealedLangevin(steps, stepSize)
        let total = levels.Length * steps
        let curve = ResizeArray [ 0.0, fraction x ]
        let start = chains x traced
        let paths = Array.init traced (fun i -> ResizeArray [ start.[i] ])
        use generator = new Generator(uint64 (ctx.Seed * 7919 + stream))
        let result =
            ctx.Progress(
                label,
                total,
                fun tick ->
                    let onStep (step: SamplerStep) =
                        let k = step.Index + 1
                        if trace k then chains step.X traced |> Array.iteri (fun i c -> paths.[i].Add c)
                        if k % 20 = 0 then curve.Add(float k / float total, fraction step.X)
                        tick ()
                    sampler.Sample(model, edm, levels, x, generator, Action<SamplerStep> onStep).X
            )
        result, curve, paths

    // Plain Langevin at the clean target: one level, a = eta = plain_step.
    use plainStart = init 1
    let plainInit = fraction plainStart
    let plainResult, plainCurve, plainPaths =
        langevin "plain Langevin" plainSteps plainStep [| 1e-3 |] plainStart 2 (fun _ -> true)
    use plainResult = plainResult

    // Annealed Langevin (Song & Ermon 2019, Alg. 1; the book's Algorithm 2.1 with errata P.37, P.39). The path is
    // drawn at the end of each noise level: within the early, wide levels a step moves a chain by ~sqrt(2 eta)
    // sigma_i, which would fill the panel.
    use annealedStart = init 3
    let annealedInit = fraction annealedStart
    let annealedResult, annealedCurve, annealedPaths =
        langevin "annealed Langevin" perLevel eta sigmas annealedStart 4 (fun k -> k % perLevel = 0)
    use annealedResult = annealedResult
    let columns (x: Tensor) =
        use c = x.contiguous ()
        let v = c.data<float> ()
        Array.init n (fun i -> v.[2 * i]), Array.init n (fun i -> v.[2 * i + 1])
    let px, py = columns plainResult
    let ax, ay = columns annealedResult

    let se = sqrt (0.16 / float n)
    let plainFraction = fraction plainResult
    let annealedFraction = fraction annealedResult
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
        Trace.contour "log p" grid grid (Array2D.init grid.Length grid.Length (fun i j -> gse.LogDensity(Vector<float>.Build.DenseOfArray [| grid.[j]; grid.[i] |])))
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
