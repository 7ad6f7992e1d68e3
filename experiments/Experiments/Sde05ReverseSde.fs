/// SDE-03 and SDE-05 (S1 L49–L94): sampling G1 under VP-linear with the exact score.
/// The reverse-time SDE dx = [f x − g² ∇log p_t] dt + g dw̄ (the library's Euler–Maruyama sampler) and the
/// probability-flow ODE dx/dt = f x − ½ g² ∇log p_t (its Heun sampler), both started from exact draws of p_1 and
/// run back to t_min = 1e-3 with snapshots taken by the samplers' per-step callback, and the forward SDE from p_0,
/// give histograms that match the exact p_t at every t. Negative control: the PF drift (½ g²) combined with noise
/// g, written as a sampler on the library's public SamplerContext.
module Research.Experiments.Sde05ReverseSde

open System
open Research.Diffusion
open Research.Torch
open Research.Experiments.Numerics
open Research.Experiments.Figures
open MathNet.Numerics.LinearAlgebra

type private Snapshot = { T: float; Samples: float[] }

let run (ctx: Context) =
    let n = ctx.Int("particles", 20_000, 100_000)
    let steps = ctx.Int("steps", 400, 1000)
    let tMin = ctx.Float("t_min", 1e-3, 1e-3)
    let data = Mixture1D.g1Library
    let proc = VpLinear() :> NoiseProcess
    let sde = LinearSde.Of proc
    let marginal t = Mixture1D.diffuse data proc t
    // Uniform grid k/steps on [0, 1] with its first point moved from 0 to t_min (ascending).
    let times = Array.append [| tMin |] (Array.init steps (fun i -> float (i + 1) / float steps) |> Array.filter (fun t -> t > tMin + 1e-12))
    let steps = times.Length - 1
    let snapTimes = [| 1.0; 0.5; 0.2; 0.05; tMin |]
    let isSnap (t: float) = snapTimes |> Array.exists (fun s -> abs (s - t) < 1e-9)
    // Every snapshot time must be a grid time.
    for s in snapTimes do
        if not (times |> Array.exists (fun t -> abs (t - s) < 1e-9)) then failwithf "snapshot t = %g is not on the time grid" s
    let vec (a: float[]) = Vector<float>.Build.DenseOfArray a
    let mixture = new TensorMixture(data)
    let model = mixture.Denoiser proc
    let descending = Array.rev times

    /// Runs a library sampler from exact draws of p_1 down the grid; the per-step callback keeps the snapshots.
    let sampleWith (sampler: Sampler) (stream: int) label =
        let x0 = (marginal 1.0).Sample(ctx.Rng(stream + 100), n)
        let snaps = ResizeArray [ { T = 1.0; Samples = Array.copy x0 } ]
        use x = torch.tensor (x0, [| int64 n; 1L |])
        use generator = new Generator(uint64 (ctx.Seed * 7919 + stream))
        ctx.Progress(
            label,
            steps,
            fun tick ->
                let onStep (step: SamplerStep) =
                    if isSnap step.Time then
                        use values = step.X.contiguous ()
                        snaps.Add { T = step.Time; Samples = values.data<float> () }
                    tick ()
                (sampler.Sample(model, proc, descending, x, generator, Action<SamplerStep> onStep)).X.Dispose()
        )
        snaps |> Seq.toList

    /// The negative control as a sampler written outside the library on its public SamplerContext: Euler–Maruyama
    /// with the PF drift f x - g^2/2 score (SDE-03) but the reverse SDE's noise g (SDE-05), which is no member of the
    /// h-family (SDE-04) and so misses the marginals.
    let pfDriftWithNoise =
        Sampler(
            "PF drift + noise g (wrong)",
            SamplerProperties(WeakOrder = Nullable()),
            SampleFunction(fun c grid x ->
                c.Loop(x, grid, fun i y ->
                    let t, s = grid.[i], grid.[i + 1]
                    let score = c.Predict(Prediction.Score, y, t)
                    let drift = y * sde.F.Invoke t - score * (0.5 * sde.GSquared.Invoke t)
                    y + drift * (s - t) + c.Noise(y) * (sde.G t * sqrt (t - s))))
        )

    /// Forward Euler–Maruyama of dx = f x dt + g dw from exact draws of p_0 (run from t_min, where
    /// p_tmin is drawn exactly too, so that all methods share one grid).
    let forwardSde () =
        let rng = ctx.Rng 301
        let mutable x = (marginal tMin).Sample(ctx.Rng 302, n)
        let snaps = ResizeArray [ { T = tMin; Samples = Array.copy x } ]
        for i in 0 .. steps - 1 do
            let t, dt = times.[i], times.[i + 1] - times.[i]
            let f, g = sde.F.Invoke t, sde.G t
            x <- Array.init n (fun j -> x.[j] + f * x.[j] * dt + g * sqrt dt * rng.Normal())
            if isSnap times.[i + 1] then snaps.Add { T = times.[i + 1]; Samples = Array.copy x }
        snaps |> Seq.toList

    let methods =
        [ "reverse SDE", sampleWith (Samplers.ReverseSde()) 101 "reverse SDE (Euler–Maruyama)"
          "PF-ODE", sampleWith Samplers.Heun 201 "PF-ODE (Heun)"
          "forward SDE", forwardSde ()
          "wrong: PF drift + noise g", sampleWith pfDriftWithNoise 401 "negative control" ]
    mixture.Dispose()

    // Mean, variance and P(x > 0) against the exact p_t, in standard errors; Kolmogorov–Smirnov distance.
    let stats (t: float) (xs: float[]) =
        let pt = marginal t
        let m, v = pt.Mean, pt.Variance
        let q = 1.0 - pt.Cdf 0.0
        let nn = float xs.Length
        let m4 =
            // Fourth central moment of p_t by quadrature.
            let lo, hi = pt.Support
            integrate (fun x -> pt.Pdf x * (x - m) ** 4.0) lo hi pt.Breakpoints
        let zMean = (mean xs - m) / sqrt (v / nn)
        let zVar = (variance xs - v) / sqrt ((m4 - v * v) / nn)
        let zPos = ((xs |> Array.filter (fun x -> x > 0.0) |> Array.length |> float) / nn - q) / sqrt (q * (1.0 - q) / nn)
        let sorted = Array.sort xs
        let ks = sorted |> Array.mapi (fun i x -> let f = pt.Cdf x in max (abs (float (i + 1) / nn - f)) (abs (float i / nn - f))) |> Array.max
        zMean, zVar, zPos, ks * sqrt nn

    // The first snapshot of each method is its exact initial draw; it is listed but not scored.
    let rows =
        [ for (name, snaps) in methods do
              for s in List.tail snaps ->
                  let zm, zv, zp, ks = stats s.T s.Samples
                  name, s.T, zm, zv, zp, ks ]
    ctx.WriteTextCsv(
        "moment_checks.csv",
        [ "method"; "t"; "z_mean"; "z_variance"; "z_positive_fraction"; "ks_sqrt_n" ],
        rows |> List.map (fun (nm, t, zm, zv, zp, ks) -> [ nm; string t; string zm; string zv; string zp; string ks ])
    )
    let worst name =
        rows
        |> List.filter (fun (nm, _, _, _, _, _) -> nm = name)
        |> List.map (fun (_, _, zm, zv, zp, _) -> List.max [ abs zm; abs zv; abs zp ])
        |> List.max
    let worstKs name = rows |> List.filter (fun (nm, _, _, _, _, _) -> nm = name) |> List.map (fun (_, _, _, _, _, ks) -> ks) |> List.max
    ctx.Record("particles", n)
    ctx.Record("steps", steps)
    ctx.Record("reverse_sde_max_abs_z", worst "reverse SDE")
    ctx.Record("pf_ode_max_abs_z", worst "PF-ODE")
    ctx.Record("forward_sde_max_abs_z", worst "forward SDE")
    ctx.Record("negative_control_max_abs_z", worst "wrong: PF drift + noise g")
    ctx.Record("reverse_sde_max_ks_sqrt_n", worstKs "reverse SDE")
    ctx.Record("pf_ode_max_ks_sqrt_n", worstKs "PF-ODE")
    ctx.Record("forward_sde_max_ks_sqrt_n", worstKs "forward SDE")
    ctx.Record("negative_control_max_ks_sqrt_n", worstKs "wrong: PF drift + noise g")
    let atTmin name = rows |> List.find (fun (nm, t, _, _, _, _) -> nm = name && abs (t - tMin) < 1e-12)
    let _, _, _, zvWrong, _, _ = atTmin "wrong: PF drift + noise g"
    ctx.Record("negative_control_variance_z_at_tmin", zvWrong)
    let _, _, _, zvRev, _, _ = atTmin "reverse SDE"
    ctx.Record("reverse_sde_variance_z_at_tmin", zvRev)

    // Histograms as step lines (bin densities), each against the exact p_t.
    let colors = dict [ "reverse SDE", "#1f77b4"; "PF-ODE", "#2ca02c"; "forward SDE", "#9467bd"; "wrong: PF drift + noise g", "#d62728" ]
    let bins = 60
    let histogram (lo: float) (hi: float) (xs: float[]) =
        let w = (hi - lo) / float bins
        let counts = Array.zeroCreate bins
        for x in xs do
            let b = int ((x - lo) / w)
            if b >= 0 && b < bins then counts.[b] <- counts.[b] + 1.0
        Array.init bins (fun b -> lo + (float b + 0.5) * w), counts |> Array.map (fun c -> c / (float xs.Length * w))
    let panels =
        [ for (i, t) in Array.indexed snapTimes ->
              let pt = marginal t
              let lo, hi = -3.5, 3.5
              let grid = linspace lo hi 300
              Panel.create
                  $"t = {t}"
                  "x"
                  "density"
                  ([ Trace.line "exact p_t" grid (grid |> Array.map pt.Pdf) |> Trace.color "black" |> Trace.width 3.0 |> Trace.legendGroup "exact" |> (if i = 0 then id else Trace.hideLegend) ]
                   @ [ for (name, snaps) in methods do
                           match snaps |> List.tryFind (fun s -> abs (s.T - t) < 1e-9) with
                           | Some s ->
                               let cx, dens = histogram lo hi s.Samples
                               yield
                                   Trace.line name cx dens
                                   |> Trace.set "line.shape" "hvh"
                                   |> Trace.color colors.[name]
                                   |> Trace.legendGroup name
                                   |> (if i = 0 then id else Trace.hideLegend)
                           | None -> () ]) ]
    ctx.SaveFigure(
        "sde05_reverse_sde",
        Figure.grid $"SDE-03 / SDE-05 · Reverse SDE, PF-ODE and forward SDE vs the exact p_t (G1, VP-linear, {n} particles, {steps} steps)" 3 panels
        |> Figure.layout "legend.orientation" "h"
        |> Figure.layout "legend.y" -0.12
    )

let experiment =
    { Name = "sde05-reverse-sde"
      Ids = [ "SDE-05"; "SDE-03" ]
      Title = "Reverse SDE and PF-ODE sampling with the exact score: histograms against the exact p_t"
      InDefault = true
      Run = run }
