/// The 1-D Gaussian mixture of the 1-D figures (density, cdf, quantile, score, marginal under
/// x_t = alpha x_0 + sigma eps; docs/claims.md F2) is the proofs' scalar mixture, Research.Proofs.Fixtures.Mixture1D:
/// one copy of the closed forms for both. The figures need it rather than the library's GaussianMixture because they
/// evaluate millions of 1-D densities and scores, and the library's d-dimensional form allocates on every call; the
/// mixtures themselves still come from Research.Diffusion (its catalogue and its Diffuse marginal), so a figure shows
/// the library's data. This file adds only the ties to the library and to the experiments' seeded generator.
namespace Research.Experiments

open Research.Experiments.Numerics

type Mixture1D = Research.Proofs.Fixtures.Mixture1D

[<AutoOpen>]
module Mixture1DSampling =
    type Research.Proofs.Fixtures.Mixture1D with
        /// Exact draws from the experiments' seeded generator: pick a component by its weight, then a normal draw.
        member m.Sample(rng: NormalRng, n: int) =
            let weights, means, variances = m.Weights, m.Means, m.Variances
            Array.init n (fun _ ->
                let u = rng.Uniform()
                let mutable k = 0
                let mutable c = weights.[0]
                while u > c && k < weights.Length - 1 do
                    k <- k + 1
                    c <- c + weights.[k]
                means.[k] + sqrt variances.[k] * rng.Normal())

[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Mixture1D =
    /// The scalar twin of a 1-D Research.Diffusion.GaussianMixture (same weights, means, variances).
    let ofLibrary (m: Research.Diffusion.GaussianMixture) =
        if m.Dimension <> 1 then invalidArg "m" "a 1-D mixture is needed"
        Mixture1D(
            Seq.toArray m.Weights,
            [| for c in m.Components -> c.Mean.[0] |],
            [| for c in m.Components -> c.Covariance.[0, 0] |]
        )

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
