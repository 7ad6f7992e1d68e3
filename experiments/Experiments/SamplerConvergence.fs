/// Sampler convergence: every sampler of src/Research.Diffusion/Sampling on G4 (docs/claims.md F2 fixtures,
/// 1/4 sum_j N(2 e_j, 0.3^2 I)) with the exact mixture denoiser, under VP-linear and VE-geometric, on grids
/// uniform in log SNR. ODE samplers: the error at the final time, max |x - x*| over a seeded sample of p_T,
/// with x* from Dormand–Prince at rtol = atol = 1e-12 started at the same x_T (ConvergenceStudy),
/// against NFE; the empirical order is minus the log-log slope over the finest grids whose error is still
/// above the reference's accuracy (Convergence.FitOrder), to be compared with each sampler's declared order.
/// A sampler written here, outside the library, on its public SamplerContext (Kutta's RK3) is fitted with the rest.
/// Adaptive samplers (Dormand–Prince, DPM-Solver-23) are swept over their tolerance. Stochastic samplers have no
/// pathwise error at a fixed seed: they are scored by MMD^2 to the exact p_{t_end} (closed form in p,
/// Distances.MmdSquared), and their declared weak orders are checked by the moment errors on a Gaussian target.
module Research.Experiments.SamplerConvergence

open System
open System.Text.Json.Nodes
open Research.Diffusion
open Research.Torch
open Research.Experiments.Figures

/// G4 (docs/claims.md fixtures), as the library names it.
let g4 = CatalogueMixtures.G4

/// A process and the time span sampled: from `Start` (nearly the prior) down to `End` (near the data,
/// sigma > 0 so that no sampler takes its first-order denoising step to sigma = 0 and the orders show).
type private Setting = { Process: NoiseProcess; Start: float; End: float }

/// A sampler written outside Research.Diffusion on its public SamplerContext, to show the library is extensible:
/// Kutta's third-order Runge–Kutta method on the VE normal form dx^/dvarsigma = eps^ (PROC-08),
/// k1 = eps^(x^, v), k2 = eps^(x^ + h/2 k1, v + h/2), k3 = eps^(x^ - h k1 + 2h k2, v + h), x^ += h (k1 + 4 k2 + k3)/6,
/// with the library's convention of a denoising step to sigma = 0. Declared order 3; the sweep fits it like the rest.
let kutta3 =
    Sampler(
        "Kutta RK3 in varsigma (outside the library)",
        SamplerProperties(Order = Nullable 3),
        SampleFunction(fun c times x ->
            c.Loop(x, times, fun i y ->
                let t, s = times.[i], times.[i + 1]
                if c.Sigma s = 0.0 then c.Denoised(y, t) * c.Alpha s
                else
                    let v, h = c.Varsigma t, c.Varsigma s - c.Varsigma t
                    let at (level: float) = c.TimeAtVarsigma level
                    let hat = y / c.Alpha t
                    let k1 = c.EpsHat(hat, t)
                    let k2 = c.EpsHat(hat + k1 * (0.5 * h), at (v + 0.5 * h))
                    let k3 = c.EpsHat(hat - k1 * h + k2 * (2.0 * h), s)
                    (hat + (k1 + k2 * 4.0 + k3) * (h / 6.0)) * c.Alpha s))
    )

/// The fixed-step deterministic samplers, each with a declared order: every one of the library's (Samplers.All)
/// and the one written here. DPM-Solver-1 is DDIM written in lambda (DDIM-01) and is kept to show it; EDM with
/// churn 0 is Heun in varsigma; DPM-2 is DPM-Solver-2 in varsigma.
let odeSamplers =
    [ for s in Samplers.All do
          if s.Properties.Order.HasValue && not s.Properties.Adaptive then yield s
      yield kutta3 ]

/// The stochastic samplers with a weak order on a grid (annealed Langevin's is in its step size: fig14-langevin and
/// the library tests study it), scored by MMD^2 and by their weak order; EDM with churn, which claims none, by MMD^2.
let weakOrderSamplers =
    [ for s in Samplers.All do
          if s.Properties.WeakOrder.HasValue && not (s.Name.StartsWith "annealed") then yield s ]

let stochasticSamplers = weakOrderSamplers @ [ Samplers.EdmStochastic(churn = 10.0) ]

/// The asymptotic range of a sweep: the `count` finest grids whose error is above `floor` (below it the
/// reference's own error and round-off take over, and the curve flattens).
let asymptoticRange (count: int) (floor: float) (points: ErrorPoint[]) =
    let above = points |> Array.filter (fun p -> p.Error > floor)
    above.[max 0 (above.Length - count) ..]

let private palette =
    [| "#1f77b4"; "#ff7f0e"; "#2ca02c"; "#d62728"; "#9467bd"; "#8c564b"; "#e377c2"; "#7f7f7f"; "#bcbd22"; "#17becf" |]

let run (ctx: Context) =
    let points = ctx.Int("points", 64, 256)
    let minPower = ctx.Int("min_power", 1, 1)
    let maxPower = ctx.Int("max_power", 10, 11)
    let fitPoints = ctx.Int("fit_points", 3, 3)
    let floor = ctx.Float("error_floor", 1e-10, 1e-10)
    let particles = ctx.Int("particles", 2000, 5000)
    let stochasticMaxPower = ctx.Int("stochastic_max_power", 8, 10)
    let lengthscale = ctx.Float("mmd_lengthscale", 0.5, 0.5)
    let vpEnd = ctx.Float("vp_t_end", 1e-2, 1e-2)
    let veSigmaEnd = ctx.Float("ve_sigma_end", 3e-2, 3e-2)
    let ve = VeGeometric()
    let settings =
        [ { Process = VpLinear(); Start = 1.0; End = vpEnd }
          { Process = ve; Start = 1.0; End = ve.TimeAtVarsigma veSigmaEnd } ]
    let steps = [ for k in minPower..maxPower -> 1 <<< k ]
    let stochasticSteps = [ for k in 2..stochasticMaxPower -> 1 <<< k ]
    let tolerances = [ for k in 3..10 -> 10.0 ** float -k ]
    let grid (s: Setting) n = TimeGrid.UniformLogSnr(s.Process, n, s.Start, s.End)
    let seed = ctx.Seed

    // ---- ODE samplers: pathwise error against Dormand–Prince at 1e-12 from the same x_T ----------------------
    let ode =
        ctx.Progress(
            "ODE samplers",
            settings.Length * (odeSamplers.Length + 1),
            fun tick ->
                [ for s in settings ->
                      use study = new ConvergenceStudy(g4, s.Process, s.Start, s.End, points, seed)
                      let sweeps =
                          [ for sampler in odeSamplers ->
                                let sweep = [| for n in steps -> study.Error(sampler, n, grid s n) |]
                                tick ()
                                sampler, sweep ]
                      // Adaptive Dormand–Prince: one run per tolerance on the two-point grid (it picks its own steps).
                      let dormandPrince = [| for tol in tolerances -> study.Error(Samplers.DormandPrince(tol, tol), 1, [| s.Start; s.End |]) |]
                      let dpmAdaptive = [| for tol in tolerances.[.. 4] -> study.Error(Samplers.DpmSolverAdaptive(tol, tol), 1, [| s.Start; s.End |]) |]
                      tick ()
                      s, sweeps, dormandPrince, dpmAdaptive ]
        )

    // ---- stochastic samplers: MMD^2 to the exact p_{t_end} ------------------------------------------------------
    let startSample (s: Setting) =
        let draws = g4.Diffuse(s.Process, s.Start).Marginal.Sample(Random seed, particles)
        torch.tensor (draws |> Array.collect (fun v -> v.ToArray()), [| int64 particles; 2L |])
    let stochastic =
        ctx.Progress(
            "stochastic samplers",
            settings.Length * stochasticSamplers.Length * stochasticSteps.Length,
            fun tick ->
                [ for s in settings ->
                      use mixture = new TensorMixture(g4)
                      let model = mixture.Denoiser s.Process
                      let target = g4.Diffuse(s.Process, s.End).Marginal
                      use x = startSample s
                      // The Monte Carlo floor: an exact sample of p_{t_end} of the same size.
                      let exact =
                          let draws = target.Sample(Random(seed + 1), particles)
                          use y = torch.tensor (draws |> Array.collect (fun v -> v.ToArray()), [| int64 particles; 2L |])
                          Distances.MmdSquared(y, target, lengthscale)
                      let rows =
                          [ for (i, sampler) in List.indexed stochasticSamplers do
                                for n in stochasticSteps ->
                                    use scope = torch.NewDisposeScope()
                                    use generator = new Generator(uint64 (seed + 1000 * i + n))
                                    let result = sampler.Sample(model, s.Process, grid s n, x, generator)
                                    let mmd = Distances.MmdSquared(result.X, target, lengthscale)
                                    tick ()
                                    sampler, n, result.Nfe, mmd ]
                      s, exact, rows ]
        )

    // ---- weak orders: moment errors on a Gaussian target ---------------------------------------------------------
    // N(0.5, 0.3^2) under VP-linear from exact (standardised) draws of p_1 down to t = 0.05: the relative error of the
    // sample variance against N. Points within 3 SE of the Monte Carlo floor are not fitted; a weak order p is a
    // guaranteed rate, so the fit must be at least p - 0.25 (on this linear problem some methods do better).
    let weakParticles = ctx.Int("weak_particles", 1 <<< 17, 1 <<< 19)
    let weakSteps = [ 16; 32; 64; 128 ]
    let weakProcess = VpLinear()
    let weakEnd = 0.05
    let gaussianVariance t = weakProcess.Alpha t ** 2.0 * 0.09 + weakProcess.Sigma t ** 2.0
    let weakFloor = 3.0 * sqrt (2.0 / float weakParticles)
    let weak =
        ctx.Progress(
            "weak orders",
            weakOrderSamplers.Length * weakSteps.Length,
            fun tick ->
                use mixture = new TensorMixture(GaussianMixture.OneDimensional([| 1.0 |], [| 0.5 |], [| 0.09 |]))
                let model = mixture.Denoiser weakProcess
                [ for (i, sampler) in List.indexed weakOrderSamplers ->
                      let points =
                          [| for n in weakSteps ->
                                 use scope = torch.NewDisposeScope()
                                 use g = new Generator(uint64 (seed + 5))
                                 let z = torch.randn ([| int64 weakParticles; 1L |], ScalarType.Float64, generator = g)
                                 let x0 = (z - z.mean ()) / z.std () * sqrt (gaussianVariance 1.0) + weakProcess.Alpha 1.0 * 0.5
                                 use g2 = new Generator(uint64 (seed + 100 * i + n))
                                 let result = sampler.Sample(model, weakProcess, TimeGrid.UniformLogSnr(weakProcess, n, 1.0, weakEnd), x0, g2)
                                 tick ()
                                 ErrorPoint(n, result.Nfe, abs (result.X.var().ToDouble() / gaussianVariance weakEnd - 1.0)) |]
                      sampler, points ]
        )

    // ---- summary ----------------------------------------------------------------------------------------------
    let orders = JsonObject()
    let declared = JsonObject()
    let mutable worst = 0.0
    let fits =
        [ for (s, sweeps, _, _) in ode do
              for (sampler, sweep) in sweeps ->
                  let window = asymptoticRange fitPoints floor sweep
                  let fitted = Convergence.FitOrder(window, inSteps = true)
                  let name = sampler.Name
                  if isNull orders.[name] then orders.[name] <- JsonObject()
                  orders.[name].[s.Process.Name] <- JsonValue.Create(Math.Round(fitted, 4))
                  let p = sampler.Properties.Order.Value
                  declared.[name] <- JsonValue.Create p
                  worst <- max worst (abs (fitted - float p))
                  (s.Process.Name, name), (fitted, window) ]
        |> Map.ofList
    ctx.Summary.["orders"] <- orders
    ctx.Summary.["declared_orders"] <- declared
    ctx.Record("max_abs_order_deviation", worst)
    for (s, _, dp, adaptive) in ode do
        ctx.Record($"dormand_prince_tolerance_sweep_slope_{s.Process.Name}", Convergence.FitOrder(asymptoticRange dp.Length floor dp))
        // adaptive DPM-Solver-23: its error against its tolerance rtol = atol (a ratio near or below 1 follows the tolerance)
        let worstRatio = Seq.zip tolerances adaptive |> Seq.map (fun (tol, p) -> p.Error / tol) |> Seq.max
        ctx.Record($"dpm_solver_adaptive_max_error_over_tolerance_{s.Process.Name}", worstRatio)
    ctx.Record("reference", "Dormand–Prince rtol = atol = 1e-12 from the same x_T")
    ctx.Record("error", "max over points and coordinates of |x - x*| at t_end")
    ctx.Record("fit", $"minus the least-squares slope of log error against log steps over the {fitPoints} finest grids with error > {floor:G3}")
    ctx.Record(
        "stochastic_samplers",
        "not in the order fit: their error is distributional (MMD^2 to the exact p_t_end, Gaussian kernel, closed form in p), with a Monte Carlo floor, and their weak order is checked by moment errors on a Gaussian (weak_orders); annealed Langevin is left out (its fixed-step bias does not vanish with NFE)"
    )
    let weakOrders = JsonObject()
    let mutable weakMargin = infinity
    for (sampler, points) in weak do
        // the errors above the Monte Carlo floor; where fewer than two are, the two coarsest grids
        let measured = points |> Array.filter (fun p -> p.Error > weakFloor)
        let fitted = Convergence.FitOrder(if measured.Length >= 2 then measured else points.[.. 1])
        weakOrders.[sampler.Name] <- JsonValue.Create(Math.Round(fitted, 4))
        weakMargin <- min weakMargin (fitted - sampler.Properties.WeakOrder.Value)
    ctx.Summary.["weak_orders"] <- weakOrders
    ctx.Record("min_weak_order_margin", weakMargin)
    ctx.Record("weak_order_check", "relative error of the sample variance, N(0.5, 0.3^2) under VP-linear from t = 1 to 0.05, N = 16..128; fitted over errors above 3 SE; must be >= declared - 0.25")
    for (s, exact, rows) in stochastic do
        let key = s.Process.Name
        ctx.Record($"mmd2_exact_sample_{key}", exact.Value)
        ctx.Record($"mmd2_exact_sample_se_{key}", exact.StandardError)
        for sampler in stochasticSamplers do
            let own = rows |> List.filter (fun (sm, _, _, _) -> sm = sampler)
            let _, _, _, coarsest = List.head own
            let _, _, _, finest = List.last own
            ctx.Record($"mmd2_coarsest_{key}_{sampler.Name}", coarsest.Value)
            ctx.Record($"mmd2_finest_{key}_{sampler.Name}", finest.Value)
            ctx.Record($"mmd2_finest_se_{key}_{sampler.Name}", finest.StandardError)
    for s in settings do
        ctx.Record($"t_start_{s.Process.Name}", s.Start)
        ctx.Record($"t_end_{s.Process.Name}", s.End)
        ctx.Record($"sigma_end_{s.Process.Name}", s.Process.Sigma s.End)

    // ---- data -------------------------------------------------------------------------------------------------
    let inv (x: float) = x.ToString("R", Globalization.CultureInfo.InvariantCulture)
    ctx.WriteTextCsv(
        "ode_errors.csv",
        [ "process"; "sampler"; "declared_order"; "steps"; "nfe"; "error"; "in_fit" ],
        [ for (s, sweeps, dp, _) in ode do
              for (sampler, sweep) in sweeps do
                  let _, window = fits.[(s.Process.Name, sampler.Name)]
                  for p in sweep ->
                      [ s.Process.Name; sampler.Name; string sampler.Properties.Order.Value; string p.Steps; string p.Nfe; inv p.Error
                        string (window |> Array.contains p) ]
              for (tol, p) in List.zip tolerances (List.ofArray dp) ->
                  [ s.Process.Name; $"Dormand–Prince (tol {tol:G3})"; "5"; ""; string p.Nfe; inv p.Error; "false" ] ]
    )
    ctx.WriteTextCsv(
        "weak_moments.csv",
        [ "sampler"; "declared_weak_order"; "steps"; "nfe"; "relative_variance_error" ],
        [ for (sampler, points) in weak do
              for p in points -> [ sampler.Name; string sampler.Properties.WeakOrder.Value; string p.Steps; string p.Nfe; inv p.Error ] ]
    )
    ctx.WriteTextCsv(
        "stochastic_mmd.csv",
        [ "process"; "sampler"; "steps"; "nfe"; "mmd2"; "mmd2_se" ],
        [ for (s, exact, rows) in stochastic do
              yield [ s.Process.Name; "exact sample of p_t_end"; ""; ""; inv exact.Value; inv exact.StandardError ]
              for (sampler, n, nfe, mmd) in rows ->
                  [ s.Process.Name; sampler.Name; string n; string nfe; inv mmd.Value; inv mmd.StandardError ] ]
    )

    // ---- figure: error vs NFE per process (top), MMD^2 vs NFE per process (bottom) ----------------------------
    let odePanel (s: Setting, sweeps: (Sampler * ErrorPoint[]) list, dp: ErrorPoint[], _: ErrorPoint[]) first =
        let traces =
            [ for (i, (sampler, sweep)) in List.indexed sweeps do
                  let fitted, window = fits.[(s.Process.Name, sampler.Name)]
                  let color = palette.[i % palette.Length]
                  let shown = sweep |> Array.filter (fun p -> p.Error > 0.0)
                  yield
                      Trace.line $"{sampler.Name} ({sampler.Properties.Order.Value})" (shown |> Seq.map (fun p -> float p.Nfe)) (shown |> Seq.map (fun p -> p.Error))
                      |> Trace.set "mode" "lines+markers"
                      |> Trace.color color
                      |> Trace.legendGroup sampler.Name
                      |> (if first then id else Trace.hideLegend)
                  // The fitted line over the fit window, drawn a decade below the data so both stay readable.
                  let a, b = window.[0], window.[window.Length - 1]
                  yield
                      Trace.line "" [ float a.Nfe; float b.Nfe ] [ a.Error / 10.0; a.Error / 10.0 * (float b.Nfe / float a.Nfe) ** -fitted ]
                      |> Trace.color color
                      |> Trace.dash "dot"
                      |> Trace.legendGroup sampler.Name
                      |> Trace.set "hovertext" $"fitted order {fitted:F2}"
                      |> Trace.hideLegend
              yield
                  Trace.line "Dormand–Prince (tolerance 1e-3 … 1e-10)" (dp |> Seq.map (fun p -> float p.Nfe)) (dp |> Seq.map (fun p -> max p.Error 1e-16))
                  |> Trace.set "mode" "lines+markers"
                  |> Trace.color "black"
                  |> Trace.dash "dash"
                  |> Trace.legendGroup "dp"
                  |> (if first then id else Trace.hideLegend) ]
        // The fitted orders are in summary.json and in each fitted line's hover text; the title stays short.
        Panel.create $"{s.Process.Name} · ODE samplers (declared order); dotted: fit, ×0.1" "NFE" "max |x − x*| at t_end" traces
        |> Panel.logX
        |> Panel.logY
    let stochasticPanel (s: Setting, exact: Estimate, rows: (Sampler * int * int * Estimate) list) first =
        let traces =
            [ for (i, sampler) in List.indexed stochasticSamplers do
                  let own = rows |> List.filter (fun (sm, _, _, m) -> sm = sampler && m.Value > 0.0)
                  yield
                      Trace.line sampler.Name (own |> List.map (fun (_, _, nfe, _) -> float nfe)) (own |> List.map (fun (_, _, _, m) -> m.Value))
                      |> Trace.set "mode" "lines+markers"
                      |> Trace.color palette.[(i + 3) % palette.Length]
                      |> Trace.dash "dashdot"
                      |> Trace.legendGroup sampler.Name
                      |> (if first then id else Trace.hideLegend)
              let nfes = rows |> List.map (fun (_, _, nfe, _) -> float nfe)
              let floorLevel = max exact.Value 0.0 + 5.0 * exact.StandardError
              yield
                  Trace.line "exact sample: MMD² + 5 SE" [ List.min nfes; List.max nfes ] [ floorLevel; floorLevel ]
                  |> Trace.color "grey"
                  |> Trace.dash "dot"
                  |> Trace.legendGroup "floor"
                  |> (if first then id else Trace.hideLegend) ]
        Panel.create $"{s.Process.Name} · stochastic samplers, {particles} samples (not fitted)" "NFE" "MMD² to the exact p(t_end) (≤ 0 not shown)" traces
        |> Panel.logX
        |> Panel.logY
    let panels =
        (ode |> List.mapi (fun i o -> odePanel o (i = 0))) @ (stochastic |> List.mapi (fun i o -> stochasticPanel o (i = 0)))
    ctx.SaveFigure(
        "sampler_convergence",
        Figure.grid "Sampler convergence on G4 with the exact denoiser: error at t_end against NFE (grid uniform in log SNR)" 2 panels
        |> Figure.size 1400 1100
    )

let experiment =
    { Name = "sampler-convergence"
      Ids = [ "DDIM-01"; "SDE-05" ]
      Title = "Error against NFE of every sampler on a 2-D mixture with the exact score, VP and VE; fitted orders"
      InDefault = true
      Run = run }
