/// The closed-form fixtures of docs/claims.md, written independently of the C# toolkit so
/// that each can serve as the other side of a comparison: F2 Gaussian mixtures (with exact time
/// marginals, score, Hessian, posterior and time derivative; in any d, and the scalar 1-D Mixture1D that the
/// experiments share) and F6 continuous schedules.
module Research.Proofs.Fixtures

open System
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Research.Proofs.Numerics

// ---------------------------------------------------------------------------------------------
// F2: Gaussian mixtures

/// p_0 = sum_k pi_k N(m_k, S_k); S_k = 0 is a Dirac atom (allowed for t > 0).
type Gmm =
    { Weights: float[]
      Means: V[]
      Covs: M[] }
    member g.Dim = g.Means[0].Count
    member g.K = g.Weights.Length

module Gmm =
    let create (weights: float[]) (means: float[][]) (covs: float[,][]) =
        { Weights = weights
          Means = means |> Array.map vec
          Covs = covs |> Array.map (fun c -> Matrix<float>.Build.DenseOfArray c) }

    let oneD (weights: float[]) (means: float[]) (variances: float[]) =
        create weights (means |> Array.map (fun m -> [| m |])) (variances |> Array.map (fun v -> array2D [ [ v ] ]))

    let isotropic (weights: float[]) (means: float[][]) (variance: float) =
        let d = means[0].Length
        create weights means (means |> Array.map (fun _ -> Array2D.init d d (fun i j -> if i = j then variance else 0.0)))

    /// Named instances of F2.
    let g1 = oneD [| 0.3; 0.7 |] [| -1.0; 1.0 |] [| 0.3 ** 2.0; 0.5 ** 2.0 |]
    let g3 = oneD [| 0.5; 0.3; 0.2 |] [| -1.5; 0.5; 2.0 |] [| 0.2 ** 2.0; 0.3 ** 2.0; 0.15 ** 2.0 |]
    let gse = isotropic [| 0.2; 0.8 |] [| [| -5.0; -5.0 |]; [| 5.0; 5.0 |] |] 1.0
    let g4 = isotropic [| 0.25; 0.25; 0.25; 0.25 |] [| [| 2.0; 0.0 |]; [| -2.0; 0.0 |]; [| 0.0; 2.0 |]; [| 0.0; -2.0 |] |] 0.09

    /// F2's FsCheck generator in dimension d.
    let generate d = Generators.mixtureParameters d |> Gen.map (fun (w, m, c) -> create w m c)

    /// The same, with each component turned into a Dirac atom with probability 1/3 (SCORE-01: "including Dirac atoms").
    let generateWithAtoms d =
        gen {
            let! g = generate d
            let! atoms = Gen.arrayOfLength g.K (Gen.choose (0, 2))
            return { g with Covs = Array.map2 (fun (c: M) a -> if a = 0 then c * 0.0 else c) g.Covs atoms }
        }

    let sample (r: Random) (g: Gmm) n =
        let cumulative = Array.scan (+) 0.0 g.Weights
        Array.init n (fun _ ->
            let u = r.NextDouble()
            let k = max 0 (min (g.K - 1) ((Array.findIndexBack (fun c -> c <= u) cumulative)))
            let z = vec (normals r g.Dim)
            let l = if g.Covs[k].L2Norm() = 0.0 then g.Covs[k] else g.Covs[k].Cholesky().Factor
            g.Means[k] + l * z)

    let mean (g: Gmm) = Seq.fold2 (fun (acc: V) w (m: V) -> acc + w * m) (vec (Array.zeroCreate g.Dim)) g.Weights g.Means

    let covariance (g: Gmm) =
        let mu = mean g
        let second = Seq.fold2 (fun (acc: M) w k -> acc + w * (g.Covs[k] + g.Means[k].OuterProduct(g.Means[k]))) (Matrix<float>.Build.Dense(g.Dim, g.Dim)) g.Weights [ 0 .. g.K - 1 ]
        second - mu.OuterProduct mu

/// p_t(z), E[x_0 | x_t = z] and Var[x_0 | x_t = z] of a 1-D F2 mixture at one (alpha, sigma).
[<Struct>]
type Posterior1 = { Density: float; Mean: float; Variance: float }

/// F2 in one dimension, on scalars: density, cdf, quantile, score, posterior and the marginal under
/// x_t = alpha x_0 + sigma eps. It is the 1-D twin of Gmm/Marginal below (vectors and Cholesky factors, any d),
/// kept because quadrature, ODE and SDE loops evaluate 1-D scores and posteriors millions of times and the
/// d-dimensional form allocates on every call. One copy, shared by the proofs and the experiments' 1-D figures.
type Mixture1D(weights: float[], means: float[], variances: float[]) =
    do
        if weights.Length = 0 || weights.Length <> means.Length || means.Length <> variances.Length then
            invalidArg "weights" "weights, means and variances must be non-empty and of the same length"
        if abs (Array.sum weights - 1.0) > 1e-9 then invalidArg "weights" "weights must sum to 1"
    let k = weights.Length
    let logW = weights |> Array.map log
    // log pi_k - 1/2 log(2 pi v_k): the part of each component's log density that does not depend on x
    let logNorm = Array.init k (fun j -> logW[j] - 0.5 * (log2pi + log variances[j]))
    let componentLog j (x: float) = let r = x - means[j] in logNorm[j] - 0.5 * r * r / variances[j]
    let largestLog x =
        let mutable top = -infinity
        for j in 0 .. k - 1 do top <- max top (componentLog j x)
        top

    member _.Weights = weights
    member _.Means = means
    member _.Variances = variances
    member _.Count = k

    /// log p(x) by log-sum-exp over the components.
    member _.LogPdf(x: float) =
        let top = largestLog x
        let mutable z = 0.0
        for j in 0 .. k - 1 do z <- z + exp (componentLog j x - top)
        top + log z

    member m.Pdf(x: float) = exp (m.LogPdf x)

    /// F(x) = sum_k pi_k Phi((x - m_k)/sqrt v_k).
    member _.Cdf(x: float) =
        let mutable acc = 0.0
        for j in 0 .. k - 1 do acc <- acc + weights[j] * Phi((x - means[j]) / sqrt variances[j])
        acc

    /// F^{-1}(u) by bisection on the exact cdf (200 halvings: to the last bit).
    member m.Quantile(u: float) =
        let spread = variances |> Array.max |> sqrt
        let mutable lo = Array.min means - 40.0 * spread
        let mutable hi = Array.max means + 40.0 * spread
        for _ in 1..200 do
            let mid = 0.5 * (lo + hi)
            if m.Cdf mid < u then lo <- mid else hi <- mid
        0.5 * (lo + hi)

    /// Responsibilities r_k(x), in log space.
    member m.Responsibilities(x: float) =
        let lp = m.LogPdf x
        Array.init k (fun j -> exp (componentLog j x - lp))

    /// d/dx log p(x) = sum_k r_k(x) (m_k - x)/v_k, the responsibilities normalised after subtracting the largest log
    /// term (two passes, no allocation: the inner loop of simulations).
    member _.Score(x: float) =
        let top = largestLog x
        let mutable z, s = 0.0, 0.0
        for j in 0 .. k - 1 do
            let w = exp (componentLog j x - top)
            z <- z + w
            s <- s + w * (means[j] - x) / variances[j]
        s / z

    member _.Mean = Array.fold2 (fun acc w m -> acc + w * m) 0.0 weights means

    member m.Variance =
        let mu = m.Mean
        (Array.map3 (fun w mk v -> w * (v + mk * mk)) weights means variances |> Array.sum) - mu * mu

    /// The law of alpha x_0 + sigma eps (F2): means alpha m_k, variances alpha^2 v_k + sigma^2.
    member _.Marginal(alpha: float, sigma: float) =
        Mixture1D(weights, means |> Array.map (fun m -> alpha * m), variances |> Array.map (fun v -> alpha * alpha * v + sigma * sigma))

    /// The F2 posterior of x_0 given x_t = z at (alpha, sigma): components m~_k = m_k + alpha v_k (z - alpha m_k)/C_k,
    /// v~_k = v_k - alpha^2 v_k^2/C_k with C_k = alpha^2 v_k + sigma^2, weighted by the responsibilities of p_t. The
    /// returned function reuses its buffers (allocation-free for nested quadrature): use one per thread.
    member _.Posterior(alpha: float, sigma: float) =
        let c = Array.init k (fun j -> alpha * alpha * variances[j] + sigma * sigma)
        let logNormT = Array.init k (fun j -> logW[j] - 0.5 * (log2pi + log c[j]))
        let logs = Array.zeroCreate<float> k
        let posteriorMeans = Array.zeroCreate<float> k
        fun (z: float) ->
            let mutable best = -infinity
            for j in 0 .. k - 1 do
                let r = z - alpha * means[j]
                logs[j] <- logNormT[j] - 0.5 * r * r / c[j]
                posteriorMeans[j] <- means[j] + alpha * variances[j] * r / c[j]
                best <- max best logs[j]
            let mutable total, mean = 0.0, 0.0
            for j in 0 .. k - 1 do
                logs[j] <- exp (logs[j] - best)
                total <- total + logs[j]
                mean <- mean + logs[j] * posteriorMeans[j]
            mean <- mean / total
            // sum_k r_k (v~_k + (m~_k - mean)^2): no cancellation where the posterior is narrow (high SNR)
            let mutable var = 0.0
            for j in 0 .. k - 1 do
                var <- var + logs[j] / total * (variances[j] - alpha * alpha * variances[j] * variances[j] / c[j] + (posteriorMeans[j] - mean) ** 2.0)
            { Density = exp best * total; Mean = mean; Variance = var }

    /// Points where an integrand in p has structure (component means and +-3 sd), for quadrature.
    member _.Breakpoints =
        [| for j in 0 .. k - 1 do
               let s = sqrt variances[j]
               yield! [ means[j] - 3.0 * s; means[j]; means[j] + 3.0 * s ] |]

    /// An interval holding all but ~1e-30 of the mass.
    member _.Support =
        let lo = Array.map2 (fun m v -> m - 12.0 * sqrt v) means variances |> Array.min
        let hi = Array.map2 (fun m v -> m + 12.0 * sqrt v) means variances |> Array.max
        lo, hi

    /// The scalar form of a 1-D Gmm.
    static member OfGmm(g: Gmm) =
        if g.Dim <> 1 then invalidArg "g" "a 1-D mixture is needed"
        Mixture1D(g.Weights, g.Means |> Array.map (fun m -> m[0]), g.Covs |> Array.map (fun c -> c[0, 0]))

/// The time marginal p_t of an F2 mixture under a linear process with coefficients (alpha, sigma):
/// p_t = sum_k pi_k N(alpha m_k, C_k), C_k = alpha^2 S_k + sigma^2 I, valid for any linear SDE.
type Marginal(g: Gmm, alpha: float, sigma: float) =
    let d = g.Dim
    let covs = g.Covs |> Array.map (fun s -> alpha * alpha * s + sigma * sigma * eye d)
    let chols = covs |> Array.map (fun c -> c.Cholesky())
    let logDets = chols |> Array.map (fun ch -> 2.0 * Seq.sum (Seq.init d (fun i -> log ch.Factor[i, i])))
    let means = g.Means |> Array.map (fun m -> alpha * m)
    let logW = g.Weights |> Array.map log
    let scalar = lazy (Mixture1D.OfGmm(g).Marginal(alpha, sigma))

    member _.Alpha = alpha
    member _.Sigma = sigma
    member _.Mixture = g
    member _.Covariances = covs
    member _.ComponentMeans = means

    member _.ComponentLogDensities(x: V) =
        Array.init g.K (fun k ->
            let r = x - means[k]
            logW[k] - 0.5 * (float d * log2pi + logDets[k] + r * chols[k].Solve(r)))

    member m.LogDensity(x: V) = logSumExp (m.ComponentLogDensities x)
    member m.Density(x: V) = exp (m.LogDensity x)

    /// r_k(x), through log-sum-exp (F2).
    member m.Responsibilities(x: V) =
        let l = m.ComponentLogDensities x
        let z = logSumExp l
        l |> Array.map (fun v -> exp (v - z))

    /// a_k = -C_k^{-1}(x - alpha m_k).
    member _.ComponentScores(x: V) = Array.init g.K (fun k -> -chols[k].Solve(x - means[k]))

    member m.Score(x: V) =
        let r = m.Responsibilities x
        Seq.fold2 (fun (acc: V) rk (ak: V) -> acc + rk * ak) (vec (Array.zeroCreate d)) r (m.ComponentScores x)

    /// Hessian of log p_t: sum_k r_k(-C_k^{-1} + a_k a_k^T) - s s^T.
    member m.Hessian(x: V) =
        let r = m.Responsibilities x
        let a = m.ComponentScores x
        let s = m.Score x
        let sum =
            Seq.init g.K (fun k -> r[k] * (-(chols[k].Solve(eye d)) + a[k].OuterProduct(a[k])))
            |> Seq.reduce (+)
        sum - s.OuterProduct s

    member m.Laplacian(x: V) = (m.Hessian x).Trace()

    /// Posterior components: m~_k = m_k + alpha S_k C_k^{-1}(x - alpha m_k), S~_k = S_k - alpha^2 S_k C_k^{-1} S_k.
    member _.PosteriorComponents(x: V) =
        Array.init g.K (fun k ->
            let s = g.Covs[k]
            let mk = g.Means[k] + alpha * s * chols[k].Solve(x - means[k])
            let sk = s - alpha * alpha * s * chols[k].Solve(s)
            mk, sk)

    /// E[x_0 | x_t = x] from the posterior mixture (independent of the score).
    member m.PosteriorMean(x: V) =
        let r = m.Responsibilities x
        Seq.fold2 (fun (acc: V) rk (mk: V, _) -> acc + rk * mk) (vec (Array.zeroCreate d)) r (m.PosteriorComponents x)

    member m.PosteriorCovariance(x: V) =
        let r = m.Responsibilities x
        let comps = m.PosteriorComponents x
        let mean = m.PosteriorMean x
        let second = Seq.fold2 (fun (acc: M) rk (mk: V, sk: M) -> acc + rk * (sk + mk.OuterProduct mk)) (Matrix<float>.Build.Dense(d, d)) r comps
        second - mean.OuterProduct mean

    /// E[eps | x_t = x] = sum_k r_k sigma C_k^{-1}(x - alpha m_k), from the posterior side of F2.
    member m.EpsHat(x: V) =
        let r = m.Responsibilities x
        Seq.fold2 (fun (acc: V) rk k -> acc + rk * sigma * chols[k].Solve(x - means[k])) (vec (Array.zeroCreate d)) r [ 0 .. g.K - 1 ]

    /// The 1-D marginal as a scalar Mixture1D (d = 1 only).
    member _.Scalar = scalar.Value

    /// 1-D cdf F_t(x) = sum_k pi_k Phi((x - alpha m_k)/sqrt C_k).
    member _.Cdf(x: float) = scalar.Value.Cdf x

    /// 1-D quantile by bisection on the exact cdf.
    member _.Quantile(u: float) = scalar.Value.Quantile u

    /// Breakpoints for 1-D quadrature of expressions in p_t (section 15.2).
    member _.Breakpoints = Array.init g.K (fun k -> means[k][0], sqrt (covs[k][0, 0])) |> breakpointsAround

/// Time derivative of p_t (F2): d/dt N(x; mu, C) = N [mu'^T C^{-1}(x-mu) + 1/2 (x-mu)^T C^{-1} C' C^{-1} (x-mu) - 1/2 tr(C^{-1} C')],
/// with mu' = alpha' m_k and C' = 2 alpha alpha' S_k + (sigma^2)' I.
let densityTimeDerivative (g: Gmm) (alpha, alphaDot, sigma, sigmaDot) (x: V) =
    let d = g.Dim
    Array.init g.K (fun k ->
        let c = alpha * alpha * g.Covs[k] + sigma * sigma * eye d
        let cDot = 2.0 * alpha * alphaDot * g.Covs[k] + 2.0 * sigma * sigmaDot * eye d
        let mu = alpha * g.Means[k]
        let cinv = c.Inverse()
        let r = x - mu
        let u = cinv * r
        let density = exp (mvnLogPdf mu c x)
        g.Weights[k] * density * ((alphaDot * g.Means[k]) * u + 0.5 * (u * (cDot * u)) - 0.5 * (cinv * cDot).Trace()))
    |> Array.sum

// ---------------------------------------------------------------------------------------------
// F6: continuous schedules (closed forms and analytic derivatives)

type Schedule =
    { Name: string
      Alpha: float -> float
      AlphaDot: float -> float
      Sigma: float -> float
      SigmaDot: float -> float
      /// Largest t used in checks (0.98 where alpha -> 0 at 1: RF, VP-cos).
      TMax: float }

module Schedule =
    /// PROC-02: f = alpha'/alpha, g^2 = 2 sigma sigma' - 2 (alpha'/alpha) sigma^2.
    let drift (s: Schedule) t = s.AlphaDot t / s.Alpha t
    let diffusion2 (s: Schedule) t = 2.0 * s.Sigma t * s.SigmaDot t - 2.0 * drift s t * s.Sigma t ** 2.0
    let snr (s: Schedule) t = (s.Alpha t / s.Sigma t) ** 2.0
    let logSnr (s: Schedule) t = 2.0 * (log (s.Alpha t) - log (s.Sigma t))
    let varsigma (s: Schedule) t = s.Sigma t / s.Alpha t

    /// VP with sigma^2 = 1 - alpha^2, from alpha and alpha'.
    let private vp name alpha alphaDot tmax =
        { Name = name
          Alpha = alpha
          AlphaDot = alphaDot
          Sigma = fun t -> sqrt (1.0 - alpha t ** 2.0)
          SigmaDot = fun t -> -alpha t * alphaDot t / sqrt (1.0 - alpha t ** 2.0)
          TMax = tmax }

    /// VP-lin: beta(t) = bmin + t (bmax - bmin), alpha = exp(-B/2).
    let vpLinearWith bmin bmax =
        let beta t = bmin + t * (bmax - bmin)
        let alpha t = exp (-0.5 * (bmin * t + 0.5 * (bmax - bmin) * t * t))
        vp (sprintf "VP-lin(%.3g,%.3g)" bmin bmax) alpha (fun t -> -0.5 * beta t * alpha t) 0.99

    let vpLinear = { vpLinearWith 0.1 20.0 with Name = "VP-lin" }

    let vpCosine =
        let s = 0.008
        let u t = Math.PI / 2.0 * (t + s) / (1.0 + s)
        let c0 = cos (u 0.0)
        vp "VP-cos" (fun t -> cos (u t) / c0) (fun t -> -sin (u t) / c0 * Math.PI / (2.0 * (1.0 + s))) 0.98

    /// PROC-05 constants: beta(t) = (a t + b)^2.
    let sdA = (sqrt 12.0 - sqrt 0.85) * 1000.0 / 999.0
    let sdB = sqrt 0.85 - (sqrt 12.0 - sqrt 0.85) / 999.0

    let stableDiffusion =
        let alpha t = exp (-(((sdA * t + sdB) ** 3.0) - sdB ** 3.0) / (6.0 * sdA))
        vp "SD" alpha (fun t -> -0.5 * (sdA * t + sdB) ** 2.0 * alpha t) 0.99

    let subVp =
        { vpLinear with
            Name = "sub-VP"
            Sigma = fun t -> 1.0 - vpLinear.Alpha t ** 2.0
            SigmaDot = fun t -> -2.0 * vpLinear.Alpha t * vpLinear.AlphaDot t }

    let veGeometric =
        let smin, smax = 0.01, 50.0
        let r = smax / smin
        let sigma t = smin * sqrt (r ** (2.0 * t) - 1.0)
        { Name = "VE-geo"
          Alpha = fun _ -> 1.0
          AlphaDot = fun _ -> 0.0
          Sigma = sigma
          SigmaDot = fun t -> smin * smin * log r * r ** (2.0 * t) / sigma t
          TMax = 0.99 }

    let rectifiedFlow =
        { Name = "RF"; Alpha = (fun t -> 1.0 - t); AlphaDot = (fun _ -> -1.0); Sigma = id; SigmaDot = (fun _ -> 1.0); TMax = 0.98 }

    let edm = { Name = "EDM"; Alpha = (fun _ -> 1.0); AlphaDot = (fun _ -> 0.0); Sigma = id; SigmaDot = (fun _ -> 1.0); TMax = 0.99 }

    let all = [ vpLinear; vpCosine; stableDiffusion; subVp; veGeometric; rectifiedFlow; edm ]

    /// Random VP-lin schedules (beta_min, beta_max) for FsCheck, on top of the named ones.
    let generate =
        Gen.oneof
            [ Gen.elements all
              gen {
                  let! bmin = Generators.uniform 0.05 1.0
                  let! bmax = Generators.uniform 5.0 25.0
                  return vpLinearWith bmin bmax
              } ]

    /// F8: lambda(t) = lmax + (lmin - lmax) h(t), realised as VP (alpha^2 = sigmoid(lambda)) or VE (alpha = 1).
    let lambdaVp name (lambda: float -> float) (lambdaDot: float -> float) =
        let alpha t = sqrt (sigmoid (lambda t))
        let sigma t = sqrt (sigmoid (-(lambda t)))
        { Name = name
          Alpha = alpha
          AlphaDot = fun t -> 0.5 * alpha t * sigmoid (-(lambda t)) * lambdaDot t
          Sigma = sigma
          SigmaDot = fun t -> -0.5 * sigma t * sigmoid (lambda t) * lambdaDot t
          TMax = 1.0 }

    let lambdaVe name (lambda: float -> float) (lambdaDot: float -> float) =
        { Name = name
          Alpha = fun _ -> 1.0
          AlphaDot = fun _ -> 0.0
          Sigma = fun t -> exp (-0.5 * lambda t)
          SigmaDot = fun t -> -0.5 * exp (-0.5 * lambda t) * lambdaDot t
          TMax = 1.0 }

/// The marginal of an F2 mixture under a schedule at time t.
let marginal (g: Gmm) (s: Schedule) t = Marginal(g, s.Alpha t, s.Sigma t)

/// An F6/F8 schedule as a toolkit NoiseProcess: the toolkit then derives f, g^2, SNR and lambda' from the
/// schedule's closed forms, so a claim can check those derivations on schedules the toolkit does not ship.
type ScheduleProcess(s: Schedule) =
    inherit Research.Diffusion.NoiseProcess()
    override _.Name = s.Name
    override _.Alpha t = s.Alpha t
    override _.Sigma t = s.Sigma t
    override _.AlphaPrime t = s.AlphaDot t
    override _.SigmaPrime t = s.SigmaDot t
