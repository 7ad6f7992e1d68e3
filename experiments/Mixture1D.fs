/// A 1-D Gaussian mixture in float64 with the closed forms the 1-D figures need (density, cdf,
/// quantile, score, marginal under x_t = alpha x_0 + sigma eps; docs/claims.md F2).
/// The mixtures themselves come from Research.Diffusion (GaussianMixture, its Diffuse marginal);
/// this scalar twin exists because the figures evaluate millions of 1-D densities and scores, and
/// the library's general d-dimensional version allocates vectors and matrices on every call.
namespace Research.Experiments

open System
open Research.Experiments.Numerics

type Mixture1D(weights: float[], means: float[], variances: float[]) =
    do
        if weights.Length <> means.Length || means.Length <> variances.Length then
            invalidArg "weights" "weights, means and variances must have the same length"
        if abs (Array.sum weights - 1.0) > 1e-12 then invalidArg "weights" "weights must sum to 1"
    let logW = weights |> Array.map log

    member _.Weights = weights
    member _.Means = means
    member _.Variances = variances
    member _.Count = weights.Length

    /// log p(x) by log-sum-exp over components.
    member _.LogPdf(x: float) =
        let mutable acc = Double.NegativeInfinity
        for k in 0 .. weights.Length - 1 do
            acc <- logAddExp acc (logW.[k] + normalLogPdf means.[k] variances.[k] x)
        acc

    member this.Pdf(x: float) = exp (this.LogPdf x)

    member _.Cdf(x: float) =
        let mutable acc = 0.0
        for k in 0 .. weights.Length - 1 do
            acc <- acc + weights.[k] * normalCdf ((x - means.[k]) / sqrt variances.[k])
        acc

    /// Responsibilities r_k(x) (F2), computed in log space.
    member this.Responsibilities(x: float) =
        let lp = this.LogPdf x
        Array.init weights.Length (fun k -> exp (logW.[k] + normalLogPdf means.[k] variances.[k] x - lp))

    /// d/dx log p(x) = sum_k r_k(x) (m_k - x) / v_k, with the responsibilities normalised after
    /// subtracting the largest log term (two passes, no allocation: this is the inner loop of the
    /// samplers).
    member _.Score(x: float) =
        let mutable top = Double.NegativeInfinity
        for k in 0 .. weights.Length - 1 do
            top <- max top (logW.[k] + normalLogPdf means.[k] variances.[k] x)
        let mutable z = 0.0
        let mutable s = 0.0
        for k in 0 .. weights.Length - 1 do
            let w = exp (logW.[k] + normalLogPdf means.[k] variances.[k] x - top)
            z <- z + w
            s <- s + w * (means.[k] - x) / variances.[k]
        s / z

    /// Quantile F^{-1}(u) by bisection on the exact cdf.
    member this.Quantile(u: float) =
        let spread = variances |> Array.max |> sqrt
        let lo = (Array.min means) - 40.0 * spread
        let hi = (Array.max means) + 40.0 * spread
        bisect (fun x -> this.Cdf x - u) lo hi

    member _.Mean = Array.fold2 (fun acc w m -> acc + w * m) 0.0 weights means

    member this.Variance =
        let mu = this.Mean
        (Array.map3 (fun w m v -> w * (v + m * m)) weights means variances |> Array.sum) - mu * mu

    /// The law of alpha x_0 + sigma eps (F2): means alpha m_k, variances alpha^2 S_k + sigma^2.
    member _.Marginal(alpha: float, sigma: float) =
        Mixture1D(weights, means |> Array.map (fun m -> alpha * m), variances |> Array.map (fun v -> alpha * alpha * v + sigma * sigma))

    /// Exact draws: pick a component by its weight, then a normal draw.
    member _.Sample(rng: NormalRng, n: int) =
        Array.init n (fun _ ->
            let u = rng.Uniform()
            let mutable k = 0
            let mutable c = weights.[0]
            while u > c && k < weights.Length - 1 do
                k <- k + 1
                c <- c + weights.[k]
            means.[k] + sqrt variances.[k] * rng.Normal())

    /// Points where the integrand of a quadrature has structure (component means ± a few sd).
    member _.Breakpoints =
        [| for k in 0 .. weights.Length - 1 do
               let s = sqrt variances.[k]
               yield! [ means.[k] - 3.0 * s; means.[k]; means.[k] + 3.0 * s ] |]

    /// An interval holding all but ~1e-30 of the mass.
    member _.Support =
        let lo = Array.map2 (fun m v -> m - 12.0 * sqrt v) means variances |> Array.min
        let hi = Array.map2 (fun m v -> m + 12.0 * sqrt v) means variances |> Array.max
        lo, hi

module Mixture1D =
    /// The scalar twin of a 1-D Research.Diffusion.GaussianMixture (same weights, means, variances).
    let ofLibrary (m: Research.Diffusion.GaussianMixture) =
        if m.Dimension <> 1 then invalidArg "m" "a 1-D mixture is needed"
        Mixture1D(
            Seq.toArray m.Weights,
            [| for c in m.Components -> c.Mean.[0] |],
            [| for c in m.Components -> c.Covariance.[0, 0] |]
        )

    /// The library's 1-D mixture with these parameters.
    let toLibrary (m: Mixture1D) = Research.Diffusion.GaussianMixture.OneDimensional(m.Weights, m.Means, m.Variances)

    /// p_t of the data under a Research.Diffusion noise process, via the library's F2 marginal.
    let diffuse (data: Research.Diffusion.GaussianMixture) (proc: Research.Diffusion.NoiseProcess) (t: float) =
        ofLibrary (data.Diffuse(proc, t).Marginal)

    let private library (w: float[]) (m: float[]) (v: float[]) = Research.Diffusion.GaussianMixture.OneDimensional(w, m, v)
    /// G1 (docs/claims.md F2): pi = (0.3, 0.7), m = (-1, 1), S = (0.3^2, 0.5^2).
    let g1Library = library [| 0.3; 0.7 |] [| -1.0; 1.0 |] [| 0.09; 0.25 |]
    /// G3: pi = (0.5, 0.3, 0.2), m = (-1.5, 0.5, 2), S = (0.2^2, 0.3^2, 0.15^2).
    let g3Library = library [| 0.5; 0.3; 0.2 |] [| -1.5; 0.5; 2.0 |] [| 0.04; 0.09; 0.0225 |]
    let g1 = ofLibrary g1Library
    let g3 = ofLibrary g3Library
    let normal (m: float) (v: float) = Mixture1D([| 1.0 |], [| m |], [| v |])
