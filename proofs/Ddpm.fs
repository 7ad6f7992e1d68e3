/// Discrete DDPM, the SNR form of its KL terms, and DDIM (docs/claims.md):
/// DDPM-01 .. DDPM-06, SNR-02, DDIM-01, DDIM-02. The toolkit side is Research.Diffusion's DdpmSchedule,
/// processes, Parameterization and the ancestral sampler (Samplers.DdpmAncestral on DdpmTableProcess, DDPM-02/03);
/// the independent side is linear-Gaussian conditioning (LG-01),
/// DIV-02's KL, quadrature, Dormand–Prince and Monte Carlo.
module Research.Proofs.Ddpm

open System
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Research.Diffusion
open Research.Torch
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Generators
open Research.Proofs.Fixtures

let family = "DDPM"


let tables () = [ "linear", DdpmSchedule.Linear(); "SD", DdpmSchedule.ScaledLinear(); "cosine", DdpmSchedule.Cosine() ]

/// LG-01 in 1-D: prior N(mu, 1/lambda), likelihood N(a x + b, 1/l) gives the posterior (mean, variance).
let linearGaussianPosterior mu lambda a b l y =
    let v = 1.0 / (lambda + a * a * l)
    v * (a * l * (y - b) + lambda * mu), v

// ---------------------------------------------------------------------------------------------
// DDPM-01

/// Var(x_t | x_0) as a formula of the table; the claim is 1 - alpha-bar_t.
let ddpm01Checks (variance: DdpmSchedule -> int -> float) =
    let exact =
        tables ()
        |> List.map (fun (name, table) ->
            let mutable m, v, worst = 1.0, 0.0, 0.0
            for t in 1 .. table.Steps do
                m <- sqrt (1.0 - table.Beta t) * m
                v <- (1.0 - table.Beta t) * v + table.Beta t
                worst <- max worst (max (abs (m - sqrt (table.AlphaBar t))) (abs (v - variance table t)))
            Check.within "[A] step recursion = N(sqrt(alpha-bar) x0, (1 - alpha-bar) I)" worst 1e-12)
        |> Check.worst
    let table = DdpmSchedule.Linear()
    let x0 = [| 1.5; -0.5 |]
    let n = 20_000
    let r = rng 801
    let xs = Array.init 2 (fun i -> Array.create n x0[i])
    let checkpoints = set [ 1; 10; 100; 500; 1000 ]
    let mc = Collections.Generic.List<Check>()
    for t in 1 .. table.Steps do
        let a, b = sqrt (1.0 - table.Beta t), sqrt (table.Beta t)
        for i in 0..1 do
            let z = normals r n
            for j in 0 .. n - 1 do
                xs[i][j] <- a * xs[i][j] + b * z[j]
        if checkpoints.Contains t then
            for i in 0..1 do
                let m = moments xs[i]
                mc.Add(Check.monteCarlo "[M] mean at t in {1,10,100,500,1000}" m.Mean m.SeMean (sqrt (table.AlphaBar t) * x0[i]) 0.0)
                mc.Add(Check.monteCarlo "[M] variance at t in {1,10,100,500,1000}" m.Variance m.SeVariance (variance table t) 0.0)
    exact :: Check.grouped (List.ofSeq mc)

// ---------------------------------------------------------------------------------------------
// DDPM-02

/// One step of a library sampler from step t to t - 1 of the table process, for a model whose `kind` prediction is
/// the constant `value`, at x_t. The step is affine in the sampler's noise: x_{t-1} = mean + sd z. Running it with
/// two seeds and drawing the same z here gives mean and sd exactly, coordinate by coordinate (no Monte Carlo).
let libraryStep (sampler: Sampler) (proc: DdpmTableProcess) (kind: Prediction) (value: float[]) t (xt: float[]) =
    use scope = torch.NewDisposeScope()
    let shape = [| 1L; int64 xt.Length |]
    let model = Denoiser(proc, kind, Func<Tensor, float, Tensor>(fun _ _ -> torch.tensor (value, shape)))
    let data (x: Tensor) = use c = x.contiguous () in c.data<float> ()
    let run seed =
        use g = new Generator(seed)
        let out = sampler.Sample(model, proc, [| proc.TimeOfStep t; proc.TimeOfStep(t - 1) |], torch.tensor (xt, shape), g).X
        use again = new Generator(seed)
        data out, data (torch.randn (shape, ScalarType.Float64, generator = again))
    let (out1, z1), (out2, z2) = run 11UL, run 12UL
    let sd = Array.init xt.Length (fun i -> (out1[i] - out2[i]) / (z1[i] - z2[i]))
    Array.init xt.Length (fun i -> out1[i] - sd[i] * z1[i]), sd

/// The posterior's eps-form coefficient of eps: beta_t / sqrt(1 - alpha-bar_t) (S0 L501 has sqrt(beta~_t)).
let epsCoefficient (table: DdpmSchedule) t = table.Beta t / sqrt (1.0 - table.AlphaBar t)
let epsCoefficientAsPrinted (table: DdpmSchedule) t =
    table.Beta t / sqrt ((1.0 - table.AlphaBar(t - 1)) / (1.0 - table.AlphaBar t) * table.Beta t)

let posteriorMean (table: DdpmSchedule) t x0 xt =
    sqrt (table.AlphaBar(t - 1)) * table.Beta t / (1.0 - table.AlphaBar t) * x0
    + sqrt (1.0 - table.Beta t) * (1.0 - table.AlphaBar(t - 1)) / (1.0 - table.AlphaBar t) * xt

let posteriorVariance (table: DdpmSchedule) t = (1.0 - table.AlphaBar(t - 1)) / (1.0 - table.AlphaBar t) * table.Beta t

/// DDPM-02: the library's `sampler` step with the exact x_0 (x_0-prediction) is the posterior q(x_{t-1} | x_t, x_0) of
/// LG-01 (the claim: DDPM ancestral); `coefficient` is the eps-form coefficient of the posterior mean.
let ddpm02Checks (sampler: Sampler) (coefficient: DdpmSchedule -> int -> float) =
    let table = DdpmSchedule.Linear()
    let proc = DdpmTableProcess(table)
    sample 802 30 (Gen.zip3 (Gen.choose (2, 1000)) (uniform -2.0 2.0) (uniform -2.0 2.0))
    |> List.collect (fun (t, x0, e) ->
        let ab, abPrev, beta = table.AlphaBar t, table.AlphaBar(t - 1), table.Beta t
        let xt = sqrt ab * x0 + sqrt (1.0 - ab) * e
        let mean, var = linearGaussianPosterior (sqrt abPrev * x0) (1.0 / (1.0 - abPrev)) (sqrt (1.0 - beta)) 0.0 (1.0 / beta) xt
        let libMean, libSd = libraryStep sampler proc Prediction.X0 [| x0 |] t [| xt |]
        let xPrev = mean + 0.3
        let bayes = normalLogPdf (sqrt (1.0 - beta) * xPrev) beta xt + normalLogPdf (sqrt abPrev * x0) (1.0 - abPrev) xPrev - normalLogPdf (sqrt ab * x0) (1.0 - ab) xt
        [ Check.close "library ancestral step (D = x0) mean = LG-01 posterior mean" 1e-10 libMean[0] mean
          Check.close "library ancestral step (D = x0) variance = LG-01 posterior variance" 1e-10 (libSd[0] ** 2.0) var
          Check.close "LG-01 posterior mean = mu~_t" 1e-10 mean (posteriorMean table t x0 xt)
          Check.close "LG-01 posterior variance = beta~_t" 1e-10 var (posteriorVariance table t)
          Check.close "Bayes pointwise" 1e-10 (normalLogPdf (posteriorMean table t x0 xt) (posteriorVariance table t) xPrev) bayes
          Check.close "eps form = x0 form" 1e-10 ((xt - coefficient table t * e) / sqrt (1.0 - beta)) (posteriorMean table t x0 xt) ])
    |> Check.grouped

// ---------------------------------------------------------------------------------------------
// DDPM-03

/// The weight of ||eps - eps_theta||^2 in L_{t-1}; S0's literal weight reads beta~_t (posterior variance) for 1 - alpha-bar_t.
let klWeight (table: DdpmSchedule) t sigma2 = table.Beta t ** 2.0 / (2.0 * sigma2 * (1.0 - table.Beta t) * (1.0 - table.AlphaBar t))
let klWeightAsPrinted (table: DdpmSchedule) t sigma2 = table.Beta t ** 2.0 / (2.0 * (1.0 - table.Beta t) * posteriorVariance table t * sigma2)

/// DDPM-03 with p_theta's mean (and, for sigma^2 = beta~, its variance) from the library's ancestral step for an
/// eps-prediction model returning eps_theta; the KL against the posterior mu~ (F#) by DIV-02.
let ddpm03Checks (weight: DdpmSchedule -> int -> float -> float) =
    [ DdpmSchedule.Linear(); DdpmSchedule.ScaledLinear() ]
    |> List.collect (fun table ->
        let proc = DdpmTableProcess(table)
        [ 2; 10; 500; 1000 ]
        |> List.collect (fun t ->
            let r = rng (900 + t)
            let x0, eps, epsTheta = vec (normals r 3), vec (normals r 3), vec (normals r 3)
            let ab, beta = table.AlphaBar t, table.Beta t
            let xt = sqrt ab * x0 + sqrt (1.0 - ab) * eps
            let muTilde = x0.Map2((fun a b -> posteriorMean table t a b), xt)
            let libMean, libSd = libraryStep Samplers.DdpmAncestral proc Prediction.Eps (epsTheta.ToArray()) t (xt.ToArray())
            let muTheta = vec libMean
            let bt = posteriorVariance table t
            let klChecks =
                [ beta; libSd[0] ** 2.0 ]
                |> List.map (fun sigma2 ->
                    let kl = Divergences.gaussianKl muTilde (bt * eye 3) muTheta (sigma2 * eye 3)
                    let ct = 1.5 * (bt / sigma2 - 1.0 - log (bt / sigma2))
                    Check.close "KL(q || p_theta) = weight ||eps - eps_theta||^2 + C_t" 1e-10 kl (weight table t sigma2 * ((eps - epsTheta).L2Norm() ** 2.0) + ct))
            klChecks
            @ [ Check.close "library step variance = beta~_t (every coordinate)" 1e-10 (libSd |> Array.map (fun s -> abs (s * s - bt)) |> Array.max) 0.0
                Check.close "sigma^2 = beta~: weight = (SNR_{t-1}/SNR_t - 1)/2" 1e-10 (klWeight table t bt) (0.5 * (table.Snr(t - 1) / table.Snr t - 1.0)) ]))
    |> Check.grouped

// ---------------------------------------------------------------------------------------------
// DDPM-04

type ReverseChain = { A: float[]; C: float[]; S2: float[] }

let ddpm04Setup () =
    let T = 6
    let betas = Array.init T (fun k -> 0.05 + (0.3 - 0.05) * float k / float (T - 1))
    let table = DdpmSchedule(betas)
    let r = rng 1001
    let chain = { A = Array.init (T + 1) (fun _ -> 0.6 + 0.6 * r.NextDouble()); C = Array.init (T + 1) (fun _ -> r.NextDouble() - 0.5); S2 = Array.init (T + 1) (fun _ -> 0.05 + 0.3 * r.NextDouble()) }
    table, chain

/// ELBO = -L_T - sum L_{t-1} - L_0, each term in closed form (the reverse means are linear in x_t).
let ddpm04Elbo (table: DdpmSchedule) (chain: ReverseChain) x0 =
    let T = table.Steps
    let lT = Divergences.gaussianKl1 (sqrt (table.AlphaBar T) * x0) (1.0 - table.AlphaBar T) 0.0 1.0
    let middle =
        [ 2 .. T ]
        |> List.sumBy (fun t ->
            let ab, abPrev, beta = table.AlphaBar t, table.AlphaBar(t - 1), table.Beta t
            let kx = sqrt (1.0 - beta) * (1.0 - abPrev) / (1.0 - ab)
            let k0 = sqrt abPrev * beta / (1.0 - ab)
            let bt = posteriorVariance table t
            let s2 = chain.S2[t]
            // mu~ - mu_theta = (kx - a_t) x_t + k0 x0 - c_t with x_t ~ N(sqrt(ab) x0, 1 - ab).
            let mean = (kx - chain.A[t]) * sqrt ab * x0 + k0 * x0 - chain.C[t]
            let second = mean * mean + (kx - chain.A[t]) ** 2.0 * (1.0 - ab)
            0.5 * (bt / s2 - 1.0 - log (bt / s2) + second / s2))
    let l0 =
        let ab = table.AlphaBar 1
        let mean = x0 - chain.A[1] * sqrt ab * x0 - chain.C[1]
        0.5 * log (2.0 * Math.PI * chain.S2[1]) + (mean * mean + chain.A[1] ** 2.0 * (1.0 - ab)) / (2.0 * chain.S2[1])
    -lT - middle - l0, lT + middle + l0

/// The pointwise log ratio log p_theta(x_{0:T}) / q(x_{1:T}|x0) along one trajectory, both ways.
let logRatio (table: DdpmSchedule) (chain: ReverseChain) (xs: float[]) =
    let T = table.Steps
    let logP = normalLogPdf 0.0 1.0 xs[T] + (Seq.sum (seq { for t in 1 .. T -> normalLogPdf (chain.A[t] * xs[t] + chain.C[t]) chain.S2[t] xs[t - 1] }))
    let logQ = Seq.sum (seq { for t in 1 .. T -> normalLogPdf (sqrt (1.0 - table.Beta t) * xs[t - 1]) (table.Beta t) xs[t] })
    let decomposed =
        normalLogPdf 0.0 1.0 xs[T] - normalLogPdf (sqrt (table.AlphaBar T) * xs[0]) (1.0 - table.AlphaBar T) xs[T]
        + Seq.sum (seq { for t in 2 .. T -> normalLogPdf (chain.A[t] * xs[t] + chain.C[t]) chain.S2[t] xs[t - 1] - normalLogPdf (posteriorMean table t xs[0] xs[t]) (posteriorVariance table t) xs[t - 1] })
        + normalLogPdf (chain.A[1] * xs[1] + chain.C[1]) chain.S2[1] xs[0]
    logP - logQ, decomposed

/// Joint Gaussian of (x_0..x_T) under p_theta, then conditioned on x0: gives log p_theta(x0) and the gap KL.
let ddpm04Exact (table: DdpmSchedule) (chain: ReverseChain) x0 =
    let T = table.Steps
    let n = T + 1
    // Linear chains as x = L e + c: build means and covariances index by index.
    let jointOf (coefficients: int -> (int * float) list * float * float) order =
        let mean = Array.zeroCreate<float> n
        let cov = Array2D.zeroCreate<float> n n
        for i in order do
            let parents, shift, variance = coefficients i
            mean[i] <- shift + (parents |> List.sumBy (fun (j, a) -> a * mean[j]))
            for k in 0 .. n - 1 do
                if k <> i then
                    let c = parents |> List.sumBy (fun (j, a) -> a * cov[j, k])
                    cov[i, k] <- c
                    cov[k, i] <- c
            cov[i, i] <- variance + (parents |> List.sumBy (fun (j, a) -> a * (parents |> List.sumBy (fun (l, b) -> b * cov[j, l]))))
        vec mean, Matrix<float>.Build.DenseOfArray cov
    // Parents are computed before children; covariances with not-yet-defined nodes are zero and filled later.
    let pMean, pCov = jointOf (fun i -> if i = T then [], 0.0, 1.0 else [ i + 1, chain.A[i + 1] ], chain.C[i + 1], chain.S2[i + 1]) [ T .. -1 .. 0 ]
    let logP0 = normalLogPdf pMean[0] pCov[0, 0] x0
    let condMean = pMean.SubVector(1, T) + pCov.SubMatrix(1, T, 0, 1).Column(0) * ((x0 - pMean[0]) / pCov[0, 0])
    let condCov = pCov.SubMatrix(1, T, 1, T) - pCov.SubMatrix(1, T, 0, 1) * pCov.SubMatrix(0, 1, 1, T) / pCov[0, 0]
    let qMean, qCov = jointOf (fun i -> if i = 0 then [], x0, 0.0 else [ i - 1, sqrt (1.0 - table.Beta i) ], 0.0, table.Beta i) [ 0 .. T ]
    let gap = Divergences.gaussianKl (qMean.SubVector(1, T)) (qCov.SubMatrix(1, T, 1, T)) condMean condCov
    logP0, gap

let ddpm04 () =
    let table, chain = ddpm04Setup ()
    let x0 = 0.8
    let T = table.Steps
    let r = rng 1002
    let trajectories =
        Array.init 100_000 (fun _ ->
            let xs = Array.zeroCreate<float> (T + 1)
            xs[0] <- x0
            for t in 1 .. T do
                xs[t] <- sqrt (1.0 - table.Beta t) * xs[t - 1] + sqrt (table.Beta t) * (normals r 1)[0]
            xs)
    let pointwise = trajectories |> Array.take 1000 |> Array.map (fun xs -> let a, b = logRatio table chain xs in Check.close "pointwise decomposition of log p/q" 1e-11 a b) |> Check.worst
    let elbo, _ = ddpm04Elbo table chain x0
    let lhs, lhsSe = trajectories |> Array.map (fun xs -> fst (logRatio table chain xs)) |> meanAndSe
    let logP0, gap = ddpm04Exact table chain x0
    [ pointwise
      Check.monteCarlo "[M] E_q log p/q = -L_T - sum L_{t-1} - L_0" lhs lhsSe elbo 0.0
      Check.close "[A] log p_theta(x0) - ELBO = KL(q(x_1:T|x0) || p_theta(x_1:T|x0))" 1e-9 (logP0 - elbo) gap
      Check.isTrue "gap >= 0" (gap >= 0.0) ]

/// DDPM-04 control: S0's "ELBO = L_0 + ... + L_T" substituted for the ELBO.
let ddpm04AsPrinted () =
    let table, chain = ddpm04Setup ()
    let _, sum = ddpm04Elbo table chain 0.8
    let logP0, gap = ddpm04Exact table chain 0.8
    [ Check.close "[A] log p_theta(x0) - ELBO = KL" 1e-9 (logP0 - sum) gap ]

// ---------------------------------------------------------------------------------------------
// DDPM-05

/// `naive` fits N(x_t / sqrt(1 - beta), beta / (1 - beta)) (the forward step inverted, the score term dropped:
/// DDPM-05's control) instead of the kernel's own mean and variance.
let ddpm05With naive =
    let g = Gmm.g1
    let data = Score.toolkit g
    let logQ (x: float) = data.LogDensity(vec [| x |])
    let xt = 0.2
    let third = secondDerivative (fun x -> data.Score(vec [| x |])[0]) xt 1e-4
    let stats beta =
        let centre = xt / sqrt (1.0 - beta)
        let sd = sqrt beta
        let bps = [ for k in -8 .. 8 -> centre + float k * sd ]
        let logKernel x = normalLogPdf (sqrt (1.0 - beta) * x) beta xt + logQ x
        let shift = logKernel centre
        let z = integrateLine (fun x -> exp (logKernel x - shift)) bps
        let logP x = logKernel x - shift - log z
        let moment k m = integrateLine (fun x -> exp (logP x) * (x - m) ** float k) bps
        let mean = moment 1 0.0
        let var = moment 2 mean
        let skew = moment 3 mean / var ** 1.5
        let fitMean, fitVar = if naive then centre, beta / (1.0 - beta) else mean, var
        let kl = integrateLine (fun x -> let lg = normalLogPdf fitMean fitVar x in let lr = logP x - lg in exp lg * (exp lr * lr - exp lr + 1.0)) bps
        kl, skew
    let betas = [ 5e-3; 2.5e-3; 1.25e-3; 6.25e-4; 3.125e-4; 1.5625e-4 ]
    let results = betas |> List.map (fun b -> b, stats b)
    let ratios = results |> List.pairwise |> List.filter (fun (_, (b, _)) -> b <= 6.25e-4) |> List.map (fun ((_, (k1, _)), (_, (k2, _))) -> k1 / k2)
    let small = results |> List.filter (fun (b, _) -> b <= 6.25e-4)
    let klSmallest = fst (snd (List.last results))
    [ Check.relClose "(log q)'''(0.2) = -3.578033645 [D]" 1e-5 third -3.578033645 ]
    @ (ratios |> List.map (fun q -> Check.within "KL halving ratio in [7.5, 9] (beta <= 6.25e-4)" (if q >= 7.5 && q <= 9.0 then 0.0 else 1.0) 0.5))
    @ (small |> List.map (fun (b, (_, skew)) -> Check.within "skewness / (beta^{3/2} (log q)''') within 1 +- 0.05" (abs (skew / (b ** 1.5 * third) - 1.0)) 0.05))
    @ [ Check.within "KL at beta = 1.5625e-4 within 5% of beta^3 l'''^2 / 12 = 4.06975e-12" (abs (klSmallest / 4.06975e-12 - 1.0)) 0.05
        Check.relClose "beta^3 l'''^2 / 12 golden (section 15.5)" 2e-5 (1.5625e-4 ** 3.0 * third * third / 12.0) 4.06975e-12 ]

// ---------------------------------------------------------------------------------------------
// DDPM-06

/// Bin probability of N(mu, s^2) on [lo, hi], by erfc on the side that avoids cancellation.
let binProbability mu s lo hi =
    let upper x = if Double.IsPositiveInfinity x then 0.0 else 0.5 * MathNet.Numerics.SpecialFunctions.Erfc((x - mu) / (s * sqrt 2.0))
    let lower x = if Double.IsNegativeInfinity x then 0.0 else 0.5 * MathNet.Numerics.SpecialFunctions.Erfc(-(x - mu) / (s * sqrt 2.0))
    if lo >= mu then upper lo - upper hi else lower hi - lower lo

/// Levels v_j = -1 + spacing j, j = 0..count-1, bins of half-width `half` (the claim: k+1 levels, 2/k, 1/k).
let decoderChecks levels spacing half =
    sample 1101 cases (Gen.zip (uniform -1.2 1.2) (uniform 0.001 0.5))
    |> List.collect (fun (mu, s) ->
        let probs =
            Array.init levels (fun j ->
                let v = -1.0 + spacing * float j
                let lo = if j = 0 then -infinity else v - half
                let hi = if j = levels - 1 then infinity else v + half
                binProbability mu s lo hi)
        [ Check.within "sum over the k + 1 bins = 1" (abs (Array.sum probs - 1.0)) 1e-14
          // Below s ~ 0.07 the far bins (> 37 sd away) underflow float64, so positivity is asserted from 0.1.
          Check.isTrue "every bin probability > 0 (s >= 0.1)" (s < 0.1 || Array.forall (fun p -> p > 0.0) probs) ])
    |> Check.grouped

// ---------------------------------------------------------------------------------------------
// SNR-02

/// The precision of q(x_s | x_t, x0): sigma_t^2 / (sigma_{t|s}^2 sigma_s^2) (errata P.57/P.59).
let snrCase = zip4 (uniform 0.2 1.0) (uniform 0.05 1.5) (uniform 0.05 1.0) (uniform 0.05 2.0) |> Gen.where (fun (a1, s1, a2, s2) -> a1 / s1 > a2 / s2 && (s2 * s2 - (a2 / a1) ** 2.0 * s1 * s1) > 1e-3)

let snr02Checks (precision: float -> float -> float -> float) =
    sample 1201 cases (Gen.zip snrCase (vector 3 -1.5 1.5))
    |> List.collect (fun ((alphaS, sigmaS, alphaT, sigmaT), x0) ->
        let aTS = alphaT / alphaS
        let sTS2 = sigmaT ** 2.0 - aTS ** 2.0 * sigmaS ** 2.0
        let xt = 0.7
        let x0s = x0[0]
        let mean, var = linearGaussianPosterior (alphaS * x0s) (1.0 / sigmaS ** 2.0) aTS 0.0 (1.0 / sTS2) xt
        let muQ = aTS * sigmaS ** 2.0 / sigmaT ** 2.0 * xt + alphaS * sTS2 / sigmaT ** 2.0 * x0s
        let sigmaQ2 = 1.0 / precision sigmaS sigmaT sTS2
        let x0Hat = vec [| 0.2; -0.3; 0.9 |]
        let xtV = vec [| 0.7; 0.1; -0.4 |]
        let mq (z: V) = aTS * sigmaS ** 2.0 / sigmaT ** 2.0 * xtV + alphaS * sTS2 / sigmaT ** 2.0 * z
        let kl = Divergences.gaussianKl (mq (vec x0)) (sigmaQ2 * eye 3) (mq x0Hat) (sigmaQ2 * eye 3)
        let snrS, snrT = (alphaS / sigmaS) ** 2.0, (alphaT / sigmaT) ** 2.0
        let epsHat = vec [| 0.5; 0.5; -1.0 |]
        let epsTrue = (xtV - alphaT * vec x0) / sigmaT
        let x0FromEps = (xtV - sigmaT * epsHat) / alphaT
        let klEps = Divergences.gaussianKl (mq (vec x0)) (sigmaQ2 * eye 3) (mq x0FromEps) (sigmaQ2 * eye 3)
        let gamma = log (sigmaT ** 2.0 / alphaT ** 2.0)
        [ Check.close "posterior mean (LG-01) = mu_Q" 1e-10 mean muQ
          Check.close "posterior variance (LG-01) = 1 / precision" 1e-10 var sigmaQ2
          Check.close "KL (DIV-02) = (SNR_s - SNR_t)/2 ||x0 - x0hat||^2" 1e-10 kl (0.5 * (snrS - snrT) * ((vec x0 - x0Hat).L2Norm() ** 2.0))
          Check.close "eps form: KL = (SNR_s/SNR_t - 1)/2 ||eps - eps-hat||^2" 1e-10 klEps (0.5 * (snrS / snrT - 1.0) * ((epsTrue - epsHat).L2Norm() ** 2.0))
          Check.close "VDM: SNR = e^{-gamma}, alpha^2 / sigma^2 = sigmoid(-gamma) / sigmoid(gamma)" 1e-12 (sigmoid -gamma / sigmoid gamma) (exp -gamma) ])
    |> Check.grouped

// ---------------------------------------------------------------------------------------------
// DDIM-01

let ddimStep (p: NoiseProcess) (epsHat: float -> float -> float) t s x =
    let e = epsHat t x
    let x0 = (x - p.Sigma t * e) / p.Alpha t
    p.Alpha s * x0 + p.Sigma s * e

/// eps scaled by sigma_t instead of sigma_s: DDIM-01's control.
let ddimStepWrongSigma (p: NoiseProcess) (epsHat: float -> float -> float) t s x =
    let e = epsHat t x
    p.Alpha s * (x - p.Sigma t * e) / p.Alpha t + p.Sigma t * e

let ddim01With step =
    let p = VpCosine()
    let identity =
        sample 1301 cases (zip4 (timeBelow 0.98) (timeBelow 0.98) (uniform -2.0 2.0) (uniform -2.0 2.0))
        |> List.map (fun (t1, t2, x, e) ->
            let t, s = max t1 t2, min t1 t2
            let lhs = step p (fun _ _ -> e) t s x / p.Alpha s
            Check.close "x_s/alpha_s = x_t/alpha_t + (varsigma_s - varsigma_t) eps-hat" 1e-12 lhs (x / p.Alpha t + (p.Varsigma s - p.Varsigma t) * e))
        |> Check.worst
    // [R] F2 in 1-D (G1), exact eps-hat, from t = 0.98 to 0 in n uniform steps, against the [O] PF-ODE in varsigma.
    let data = Score.toolkit Gmm.g1
    let epsHat t (x: float) = if t = 0.0 then 0.0 else data.Diffuse(p, t).Predict(Prediction.Eps, x)
    let x0 = 0.9
    let reference =
        let v0 = p.Varsigma 0.98
        let xHat = solveOde (fun v y -> [| (if v <= 0.0 then 0.0 else epsHat (p.TimeAtVarsigma v) (y[0] * p.Alpha(p.TimeAtVarsigma v))) |]) v0 0.0 [| x0 / p.Alpha 0.98 |] 1e-10 1e-12
        xHat[0]
    let ddim n =
        let mutable x = x0
        for k in 0 .. n - 1 do
            let t = 0.98 * (1.0 - float k / float n)
            let s = 0.98 * (1.0 - float (k + 1) / float n)
            x <- step p epsHat t s x
        x
    let errors = [ 10; 20; 40; 80; 160; 320 ] |> List.map (fun n -> abs (ddim n - reference))
    let ratios = errors |> List.pairwise |> List.map (fun (a, b) -> a / b) |> List.skip 2
    let dirac =
        let m = 1.3
        let atom = Score.toolkit (Gmm.oneD [| 1.0 |] [| m |] [| 0.0 |])
        let e t (x: float) = atom.Diffuse(p, t).Predict(Prediction.Eps, x)
        step p e 0.98 0.0 (p.Alpha 0.98 * m + p.Sigma 0.98 * 0.4)
    let gaussian =
        sample 1302 cases (zip4 (timeBelow 0.98) (timeBelow 0.98) (uniform -2.0 2.0) (uniform 0.2 2.0))
        |> List.map (fun (t1, t2, z, sd) ->
            let t, s = max t1 t2, min t1 t2
            let m = 0.4
            let gauss = Score.toolkit (Gmm.oneD [| 1.0 |] [| m |] [| sd * sd |])
            let x = p.Alpha t * m + z
            let step = step p (fun u (y: float) -> gauss.Diffuse(p, u).Predict(Prediction.Eps, y)) t s x
            let a, b = p.Alpha t, p.Sigma t
            Check.close "Gaussian data: one DDIM step = z (as at s^2 + ss st)/(at^2 s^2 + st^2)" 1e-12 (step - p.Alpha s * m) (z * (p.Alpha s * a * sd * sd + p.Sigma s * b) / (a * a * sd * sd + b * b)))
        |> Check.worst
    [ identity
      Check.close "Dirac data: one step from 0.98 to 0 recovers m" 1e-12 dirac 1.3
      gaussian ]
    @ (ratios |> List.map (fun q -> Check.within "[R] DDIM error ratio on the three finest grids in [1.8, 2.2]" (abs (q - 2.0)) 0.2))

// ---------------------------------------------------------------------------------------------
// DDIM-02

/// `keepSigma` true uses sigma_s / sigma_t for the noise coefficient, eta's share not removed: DDIM-02's control.
let ddim02With keepSigma =
    sample 1401 6 (Gen.zip snrCase (uniform 0.0 1.0))
    |> List.collect (fun ((alphaS, sigmaS, alphaT, sigmaT), u) ->
        let eta = u * sigmaS
        let x0 = 0.6
        let n = 100_000
        let r = rng (1402 + int (u * 1000.0))
        let coefficient = if keepSigma then sigmaS / sigmaT else sqrt (sigmaS ** 2.0 - eta * eta) / sigmaT
        let xs = Array.map2 (fun e z -> let xt = alphaT * x0 + sigmaT * e in alphaS * x0 + coefficient * (xt - alphaT * x0) + eta * z) (normals r n) (normals r n)
        let m = moments xs
        let aTS = alphaT / alphaS
        let sTS2 = sigmaT ** 2.0 - aTS ** 2.0 * sigmaS ** 2.0
        let sigmaQ = sqrt (sTS2 * sigmaS ** 2.0 / sigmaT ** 2.0)
        let cQ = sqrt (sigmaS ** 2.0 - sigmaQ ** 2.0) / sigmaT
        [ Check.close "[A] variance: (sigma_s^2 - eta^2) + eta^2 = sigma_s^2" 1e-12 (coefficient ** 2.0 * sigmaT ** 2.0 + eta * eta) (sigmaS ** 2.0)
          Check.monteCarlo "[M] mean alpha_s x0" m.Mean m.SeMean (alphaS * x0) 0.0
          Check.monteCarlo "[M] variance sigma_s^2" m.Variance m.SeVariance (sigmaS ** 2.0) 0.0
          Check.close "eta = sigma_Q: x_t coefficient = alpha_{t|s} sigma_s^2 / sigma_t^2" 1e-12 cQ (aTS * sigmaS ** 2.0 / sigmaT ** 2.0)
          Check.close "eta = sigma_Q: x0 coefficient = alpha_s sigma_{t|s}^2 / sigma_t^2" 1e-12 (alphaS - cQ * alphaT) (alphaS * sTS2 / sigmaT ** 2.0) ])
    |> Check.grouped

let claims =
    [ claim "DDPM-01" "forward marginal q(x_t | x_0)" family (fun () -> ddpm01Checks (fun table t -> 1.0 - table.AlphaBar t))
      claim "DDPM-02" "posterior q(x_{t-1} | x_t, x_0)" family (fun () -> ddpm02Checks Samplers.DdpmAncestral epsCoefficient)
      claim "DDPM-03" "L_{t-1} as a weighted eps-MSE" family (fun () -> ddpm03Checks klWeight)
      claim "DDPM-04" "ELBO decomposition and sum" family ddpm04
      claim "DDPM-05" "small-beta reverse kernels are nearly Gaussian" family (fun () -> ddpm05With false)
      claim "DDPM-06" "discretised decoder sums to one (k+1 levels)" family (fun () -> decoderChecks 256 (2.0 / 255.0) (1.0 / 255.0))
      claim "SNR-02" "discrete KL term in SNR form; VDM sigmoid" family (fun () -> snr02Checks (fun sS sT sTS2 -> sT ** 2.0 / (sTS2 * sS ** 2.0)))
      claim "DDIM-01" "deterministic DDIM = Euler step of the PF-ODE in varsigma" family (fun () -> ddim01With ddimStep)
      claim "DDIM-02" "DDIM family preserves marginals; eta = posterior sd gives DDPM" family (fun () -> ddim02With false) ]

let controls =
    [ control "DDPM-01" "variance prod(1 - beta_s) for 1 - alpha-bar" family (fun () -> ddpm01Checks (fun table t -> table.AlphaBar t))
      control "DDPM-01" "variance sum beta_s" family (fun () -> ddpm01Checks (fun table t -> Seq.sum (Seq.init t (fun k -> table.Beta(k + 1)))))
      control "DDPM-02" "S0 L501: eps coefficient over sqrt(beta~_t)" family (fun () -> ddpm02Checks Samplers.DdpmAncestral epsCoefficientAsPrinted)
      control "DDPM-02" "library DDIM (eta 0) in place of the ancestral step" family (fun () -> ddpm02Checks (Samplers.Ddim 0.0) epsCoefficient)
      control "DDPM-05" "reverse kernel fitted by N(x_t / sqrt(1 - beta), beta / (1 - beta)) (score term dropped)" family (fun () -> ddpm05With true)
      control "DDIM-01" "DDIM step with eps scaled by sigma_t, not sigma_s" family (fun () -> ddim01With ddimStepWrongSigma)
      control "DDIM-02" "noise coefficient sigma_s / sigma_t (eta's share not removed)" family (fun () -> ddim02With true)
      control "DDPM-03" "S0's literal weight with beta~_t for 1 - alpha-bar_t" family (fun () -> ddpm03Checks klWeightAsPrinted)
      control "DDPM-04" "S0 L494: ELBO = L_0 + ... + L_T (sign)" family ddpm04AsPrinted
      control "DDPM-06" "k levels (spacing 2/(k-1)) with half-width 1/k" family (fun () -> decoderChecks 255 (2.0 / 254.0) (1.0 / 255.0))
      control "SNR-02" "pre-erratum: sigma_{t|s}^2 sigma_s^2 / sigma_t^2 as the precision" family (fun () -> snr02Checks (fun sS sT sTS2 -> sTS2 * sS ** 2.0 / sT ** 2.0)) ]
