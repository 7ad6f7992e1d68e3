/// SDE-02 (S1 L27–L48): the Fokker–Planck equation dp/dt = −d/dx(p f x) + ½ g² d²p/dx² for the 1-D
/// mixture G1 under VP-linear, checked over a (t, x) grid. With the process's own f and g² the
/// residual is at round-off; with the seed-style slip "g in place of g²" it is of order one.
/// The time derivative is the analytic F2 formula; a central difference in t is the independent side.
module Research.Experiments.Sde02FokkerPlanck

open System
open Research.Diffusion
open Research.Experiments.Numerics
open Research.Experiments.Figures

/// p, dp/dx, d²p/dx² and ∂p/∂t of the diffused mixture at (t, x), from the process's alpha, sigma and
/// their derivatives (F2 time derivative).
let densityTerms (data: Mixture1D) (proc: NoiseProcess) (t: float) (x: float) =
    let a, a' = proc.Alpha t, proc.AlphaPrime t
    let s = proc.Sigma t
    let s2' = proc.SigmaSquaredPrime t
    let mutable p, dp, d2p, dt = 0.0, 0.0, 0.0, 0.0
    for k in 0 .. data.Count - 1 do
        let m, v = data.Means.[k], data.Variances.[k]
        let mu, c = a * m, a * a * v + s * s
        let mu', c' = a' * m, 2.0 * a * a' * v + s2'
        let r = x - mu
        let n = data.Weights.[k] * normalPdf mu c x
        p <- p + n
        dp <- dp - n * r / c
        d2p <- d2p + n * (r * r / (c * c) - 1.0 / c)
        dt <- dt + n * (mu' * r / c + 0.5 * r * r * c' / (c * c) - 0.5 * c' / c)
    p, dp, d2p, dt

/// −d/dx(p f x) + ½ g² p'' for the linear drift f(t) x (d = 1).
let fokkerPlanckRhs (f: float) (g2: float) (x: float) (p: float, dp: float, d2p: float) = -f * (p + x * dp) + 0.5 * g2 * d2p

let run (ctx: Context) =
    let nt = ctx.Int("t_points", 121, 401)
    let nx = ctx.Int("x_points", 161, 601)
    let data = Mixture1D.g1
    let proc = VpLinear() :> NoiseProcess
    let ts = linspace 0.01 0.99 nt
    let xs = linspace -4.0 4.0 nx
    let resTrue = Array2D.zeroCreate nx nt
    let resWrong = Array2D.zeroCreate nx nt
    let resFd = Array2D.zeroCreate nx nt
    for j in 0 .. nt - 1 do
        let t = ts.[j]
        let f, g2 = proc.Drift t, proc.DiffusionSquared t
        // Section 15.1: step 1e-5·δ with δ = min(1, t, 1 − t).
        let h = 1e-5 * min 1.0 (min t (1.0 - t))
        for i in 0 .. nx - 1 do
            let x = xs.[i]
            let p, dp, d2p, dtp = densityTerms data proc t x
            let scale = max (abs p) (abs dtp)
            let rhs = fokkerPlanckRhs f g2 x (p, dp, d2p)
            let wrong = fokkerPlanckRhs f (sqrt g2) x (p, dp, d2p)
            let pPlus, _, _, _ = densityTerms data proc (t + h) x
            let pMinus, _, _, _ = densityTerms data proc (t - h) x
            resTrue.[i, j] <- abs (dtp - rhs) / scale
            resWrong.[i, j] <- abs (dtp - wrong) / scale
            resFd.[i, j] <- abs ((pPlus - pMinus) / (2.0 * h) - rhs) / scale
    let maxOf (m: float[,]) = m |> Seq.cast<float> |> Seq.max
    let medianOf (m: float[,]) = m |> Seq.cast<float> |> Seq.sort |> Seq.toArray |> fun a -> a.[a.Length / 2]
    ctx.Record("max_rel_residual_true_g", maxOf resTrue)
    ctx.Record("median_rel_residual_true_g", medianOf resTrue)
    ctx.Record("max_rel_residual_wrong_g", maxOf resWrong)
    ctx.Record("median_rel_residual_wrong_g", medianOf resWrong)
    ctx.Record("max_rel_residual_fd_time_derivative", maxOf resFd)
    ctx.Record("grid_points", nt * nx)

    ctx.WriteCsv(
        "residuals.csv",
        [ "t"; "x"; "rel_residual_true_g"; "rel_residual_wrong_g"; "rel_residual_fd" ],
        seq {
            for j in 0 .. nt - 1 do
                for i in 0 .. nx - 1 -> [ ts.[j]; xs.[i]; resTrue.[i, j]; resWrong.[i, j]; resFd.[i, j] ]
        }
    )
    let logMap (m: float[,]) = m |> Array2D.map (fun r -> log10 (max r 1e-17))
    let heat title (m: float[,]) =
        Panel.create title "t" "x" [ Trace.heatmap "log10 residual" ts xs (logMap m) |> Trace.zRange -17.0 1.0 |> Trace.colorbarTitle "log10" ]
    // One slice: both sides at t = 0.1.
    let t0 = 0.1
    let slice =
        let f, g2 = proc.Drift t0, proc.DiffusionSquared t0
        let terms = xs |> Array.map (densityTerms data proc t0)
        Panel.create
            $"both sides at t = {t0}"
            "x"
            "∂p/∂t"
            [ Trace.line "∂p/∂t (F2 formula)" xs (terms |> Array.map (fun (_, _, _, d) -> d)) |> Trace.color "black" |> Trace.width 4.0
              Trace.line "RHS with g²" xs (Array.map2 (fun x (p, dp, d2p, _) -> fokkerPlanckRhs f g2 x (p, dp, d2p)) xs terms)
              |> Trace.color "#2ca02c"
              |> Trace.dash "dash"
              Trace.line "RHS with g (wrong)" xs (Array.map2 (fun x (p, dp, d2p, _) -> fokkerPlanckRhs f (sqrt g2) x (p, dp, d2p)) xs terms)
              |> Trace.color "#d62728" ]
    ctx.SaveFigure(
        "sde02_fokker_planck",
        Figure.grid
            "SDE-02 · Fokker–Planck residual |∂p/∂t − RHS| / max(|p|, |∂p/∂t|), G1 under VP-linear"
            2
            [ heat $"true (f, g²): max {maxOf resTrue:E1}" resTrue
              heat $"g in place of g²: max {maxOf resWrong:E1}" resWrong
              heat $"∂p/∂t by central difference: max {maxOf resFd:E1}" resFd
              slice ]
    )

let experiment =
    { Name = "sde02-fokker-planck"
      Ids = [ "SDE-02" ]
      Title = "Fokker-Planck residual over (t, x): round-off for the true g, order one for a wrong g"
      InDefault = true
      Run = run }
