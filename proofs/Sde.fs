/// Stochastic calculus (docs/claims.md): SDE-01 .. SDE-08. The toolkit side is
/// Research.Diffusion's LinearSde (forward, reverse and probability-flow drifts) and DiffusedMixture;
/// the independent side is the F2 time derivative, finite differences, Dormand–Prince and Monte Carlo.
module Research.Proofs.Sde

open System
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Research.Diffusion
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Generators
open Research.Proofs.Fixtures

let family = "SDE"


// ---------------------------------------------------------------------------------------------
// SDE-01

/// Wiener statistics from N paths of n steps, increments scaled by `scale dt` (sqrt for Brownian motion).
let wienerChecks (scale: float -> float) =
    let n, paths = 1000, 100_000
    let dt = 1.0 / float n
    let r = rng 301
    let w03, w07, w1, qv, absInc, firstInc, lastInc = Array.zeroCreate paths, Array.zeroCreate paths, Array.zeroCreate paths, Array.zeroCreate paths, Array.zeroCreate paths, Array.zeroCreate paths, Array.zeroCreate paths
    let z = Array.zeroCreate<float> n
    for i in 0 .. paths - 1 do
        MathNet.Numerics.Distributions.Normal.Samples(r, z, 0.0, 1.0)
        let mutable w, q = 0.0, 0.0
        for k in 0 .. n - 1 do
            let dw = scale dt * z[k]
            w <- w + dw
            q <- q + dw * dw
            if k = 299 then w03[i] <- w
            if k = 699 then w07[i] <- w
        w1[i] <- w
        qv[i] <- q
        absInc[i] <- abs (scale dt * z[0])
        firstInc[i] <- scale dt * z[0]
        lastInc[i] <- scale dt * z[n - 1]
    let nf = float paths
    let var1 = moments w1
    let cov, covSe = meanAndSe (Array.map2 (*) w03 w07)
    let corr = (Array.map2 (*) firstInc lastInc |> Array.average) / sqrt (moments firstInc).Variance / sqrt (moments lastInc).Variance
    let qvMean, qvSe = meanAndSe qv
    let absMean, absSe = meanAndSe absInc
    [ Check.monteCarlo "Var(w_1) = 1" var1.Variance (sqrt (2.0 / nf)) 1.0 0.0
      Check.monteCarlo "Cov(w_0.3, w_0.7) = 0.3" cov (max covSe (sqrt ((0.09 + 0.21) / nf))) 0.3 0.0
      Check.within "corr of disjoint increments (within 5/sqrt N)" (abs corr) (5.0 / sqrt nf)
      Check.monteCarlo "quadratic variation -> t" qvMean qvSe 1.0 0.0
      Check.monteCarlo "E|dw| = sqrt(2 dt / pi)" absMean absSe (sqrt (2.0 * dt / Math.PI)) 0.0 ]

// ---------------------------------------------------------------------------------------------
// SDE-02 Fokker–Planck

/// The Fokker–Planck right-hand side for a linear SDE, -div(p f x) + 1/2 Delta(p g^2), from the
/// toolkit's density, score and Hessian; `g2Of` and `divergenceSign` are what the controls alter.
type FokkerPlanck = { G2Of: float -> float; DivergenceSign: float }

let fokkerPlanck = { G2Of = id; DivergenceSign = -1.0 }
/// Controls: g in place of g^2; a flipped sign on the divergence.
let fokkerPlanckWithG = { G2Of = sqrt; DivergenceSign = -1.0 }
let fokkerPlanckFlipped = { G2Of = id; DivergenceSign = 1.0 }

let fpRhs (fp: FokkerPlanck) (tk: DiffusedMixture) (f: float) (g2: float) (x: V) =
    let d = float x.Count
    let p = exp (tk.LogDensity x)
    let s = tk.Score x
    let gradP = p * s
    let laplacianP = p * (tk.Marginal.LogDensityLaplacian x + s * s)
    fp.DivergenceSign * f * (d * p + x * gradP) + 0.5 * fp.G2Of g2 * laplacianP

/// F3 Ornstein–Uhlenbeck as a schedule: alpha = e^{-theta t}, sigma^2 = c^2 (1 - e^{-2 theta t}) / (2 theta).
let ornsteinUhlenbeck theta c =
    let sigma t = sqrt (c * c * (1.0 - exp (-2.0 * theta * t)) / (2.0 * theta))
    { Name = "OU"; Alpha = (fun t -> exp (-theta * t)); AlphaDot = (fun t -> -theta * exp (-theta * t))
      Sigma = sigma; SigmaDot = (fun t -> c * c * exp (-2.0 * theta * t) / (2.0 * sigma t)); TMax = 0.99 }

/// GBM (F4) log-density and its Fokker–Planck sides; `logDrift` is mu - kappa^2/2 (Ito) or mu (Stratonovich, control).
let gbmChecks (logDrift: float -> float -> float) =
    let mu, kappa, m0, v0 = 0.3, 0.5, 0.0, 0.2
    let m t = m0 + logDrift mu kappa * t
    let v t = v0 + kappa * kappa * t
    let p t x = exp (-log x - 0.5 * log (2.0 * Math.PI * v t) - (log x - m t) ** 2.0 / (2.0 * v t))
    sample 302 cases (Gen.zip (uniform 0.1 2.0) (uniform -1.5 1.5))
    |> List.map (fun (t, z) ->
        let x = exp (m t + sqrt (v t) * z)
        let lhs = derivative (fun u -> p u x) t (timeStep (t / 3.0))
        let h = 1e-4 * x
        let rhs = -derivative (fun y -> mu * y * p t y) x h + 0.5 * secondDerivative (fun y -> kappa * kappa * y * y * p t y) x h
        Check.relClose "GBM: dp/dt = -d(mu x p) + 1/2 d^2(kappa^2 x^2 p) [D]" 1e-5 lhs rhs)

let fpChecks (fp: FokkerPlanck) =
    let processes = [ Schedule.vpLinear, VpLinear() :> NoiseProcess; (let ou = ornsteinUhlenbeck 0.8 1.2 in ou, ScheduleProcess(ou) :> NoiseProcess) ]
    sample 303 40 (Gen.zip (Gen.zip (Gen.elements processes) (Gen.choose (1, 2))) (Gen.zip time (vector 2 -1.0 1.0)))
    |> List.collect (fun (((s, p), d), (t, u)) ->
        let g = (sample (304 + d) 1 (Gmm.generate d)).Head
        let tk = Score.toolkit(g).Diffuse(p, t)
        let m = marginal g s t
        let x = m.ComponentMeans[0] + vec (Array.sub u 0 d) * sqrt (m.Covariances[0].Diagonal().Maximum())
        let lhs = densityTimeDerivative g (s.Alpha t, s.AlphaDot t, s.Sigma t, s.SigmaDot t) x
        let rhs = fpRhs fp tk (p.Drift t) (p.DiffusionSquared t) x
        let density = exp (tk.LogDensity x)
        let fd = derivative (fun v -> exp (Score.toolkit(g).Diffuse(p, v).LogDensity x)) t (timeStep t)
        [ Check.closeScaled "dp/dt (F2) = -div(p f) + 1/2 g^2 Delta p" 1e-10 (max density (abs lhs)) lhs rhs
          Check.closeScaled "dp/dt by FD in t = F2 formula [D]" 1e-7 (max density (abs lhs)) fd lhs ])
    |> Check.grouped

let sde02 () =
    let ou t = (let theta, c, m0, v0 = 0.8, 1.2, 0.5, 0.3 in let a = exp (-theta * t) in a * m0, a * a * v0 + c * c * (1.0 - a * a) / (2.0 * theta))
    let generator =
        sample 305 cases time
        |> List.collect (fun t ->
            let theta, c = 0.8, 1.2
            let second u = let m, v = ou u in m * m + v
            let fourth u = let m, v = ou u in m ** 4.0 + 6.0 * m * m * v + 3.0 * v * v
            let h = timeStep t
            [ Check.relClose "OU generator: d/dt E x^2 = E[2x f + g^2]" 1e-7 (derivative second t h) (-2.0 * theta * second t + c * c)
              Check.relClose "OU generator: d/dt E x^4 = E[4x^3 f + 6 g^2 x^2]" 1e-7 (derivative fourth t h) (-4.0 * theta * fourth t + 6.0 * c * c * second t) ])
        |> Check.grouped
    fpChecks fokkerPlanck @ [ Check.worst (gbmChecks (fun mu kappa -> mu - kappa * kappa / 2.0)) ] @ generator

// ---------------------------------------------------------------------------------------------
// SDE-03 PF-ODE

/// F4's quantile path against the PF-ODE drift f - g grad g - 1/2 g^2 grad log p; `withGradG` = false is the control.
let gbmFlowChecks withGradG =
    let mu, kappa, m0, v0 = 0.3, 0.5, 0.0, 0.2
    let m t = m0 + (mu - kappa * kappa / 2.0) * t
    let v t = v0 + kappa * kappa * t
    sample 306 cases (Gen.zip (uniform 0.1 2.0) (uniform -2.0 2.0))
    |> List.map (fun (t, z) ->
        let path u = exp (m u + sqrt (v u) * z)
        let x = path t
        let score = -1.0 / x - (log x - m t) / (v t * x)
        let drift = mu * x - (if withGradG then kappa * x * kappa else 0.0) - 0.5 * kappa * kappa * x * x * score
        Check.relClose "F4 quantile path: dx/dt [D] = f - g grad g - 1/2 g^2 score" 1e-7 (derivative path t (timeStep (t / 3.0))) drift)
    |> Check.worst

let sde03 () =
    let pointwise =
        sample 307 cases (Gen.zip (Gmm.generate 2) (Gen.zip time (vector 2 -1.0 1.0)))
        |> List.map (fun (g, (t, u)) ->
            let p = VpLinear()
            let sde = LinearSde.Of p
            let tk = Score.toolkit(g).Diffuse(p, t)
            let x = vec u * 1.5
            let density = exp (tk.LogDensity x)
            let s = tk.Score x
            let v = sde.ProbabilityFlowVelocity(t, x, s)
            let divV = 2.0 * p.Drift t - 0.5 * p.DiffusionSquared t * tk.Marginal.LogDensityLaplacian x
            let lhs = -(density * (s * v) + density * divV)
            let rhs = fpRhs fokkerPlanck tk (p.Drift t) (p.DiffusionSquared t) x
            Check.closeScaled "-div(p f-bar) = -div(p f) + 1/2 Delta(p g^2)" 1e-10 (max density (abs rhs)) lhs rhs)
        |> Check.worst
    // [M] G1 pushed through the PF-ODE (exact score) from t = 0 to 1; all samples in one ODE system.
    let g = Gmm.g1
    let vp = Schedule.vpLinear
    let n = 10_000
    let xs0 = Gmm.sample (rng 308) g n |> Array.map (fun v -> v[0])
    let toolkitVp = VpLinear()
    let velocity t (xs: float[]) =
        let score = (Mixture1D.OfGmm g).Marginal(vp.Alpha t, vp.Sigma t).Score
        // The toolkit's coefficients: finite at t = 0, where the F6 form's sigma' is infinite.
        let f, g2 = toolkitVp.Drift t, toolkitVp.DiffusionSquared t
        xs |> Array.map (fun x -> f * x - 0.5 * g2 * score x)
    let xs1 = solveOde velocity 0.0 1.0 xs0 1e-10 1e-12
    let mo = moments xs1
    let m1 = (marginal g vp 1.0).Scalar
    let exactMean, exactVar = m1.Mean, m1.Variance
    [ pointwise; gbmFlowChecks true
      Check.monteCarlo "[M] PF-ODE pushes G1 to p_1: mean" mo.Mean mo.SeMean exactMean 0.0
      Check.monteCarlo "[M] PF-ODE pushes G1 to p_1: variance" mo.Variance mo.SeVariance exactVar 0.0 ]

// ---------------------------------------------------------------------------------------------
// SDE-04, SDE-05: the h-family, simulated with coupled step halving (section 0.3 bias budget)

/// Euler–Maruyama for G1 under VP-lin with drift `drift t x` and noise `noise t`, from t0 to t1 (either
/// direction), n and 2n steps on the same Brownian path; returns the (coarse, fine) end states.
let coupledEulerMaruyama (drift: float -> float -> float) (noise: float -> float) t0 t1 n (x0: float[]) seed =
    let r = rng seed
    let coarse, fine = Array.copy x0, Array.copy x0
    let hFine = (t1 - t0) / float (2 * n)
    let z1, z2 = Array.zeroCreate<float> x0.Length, Array.zeroCreate<float> x0.Length
    for k in 0 .. n - 1 do
        MathNet.Numerics.Distributions.Normal.Samples(r, z1, 0.0, 1.0)
        MathNet.Numerics.Distributions.Normal.Samples(r, z2, 0.0, 1.0)
        let ta = t0 + float (2 * k) * hFine
        let tb = ta + hFine
        let sqrtH = sqrt (abs hFine)
        let da, db, dc = drift ta, drift tb, drift ta
        let na, nb, nc = noise ta, noise tb, noise ta
        for i in 0 .. x0.Length - 1 do
            let x = fine[i] + da fine[i] * hFine + na * sqrtH * z1[i]
            fine[i] <- x + db x * hFine + nb * sqrtH * z2[i]
            coarse[i] <- coarse[i] + dc coarse[i] * (2.0 * hFine) + nc * sqrtH * (z1[i] + z2[i])
    coarse, fine

/// drift t returns x -> drift; built from the toolkit's h-family coefficients and the exact G1 score.
let hFamilyDrift (h: float -> float) reverse t =
    let p = VpLinear()
    let sde = LinearSde.Of p
    let score = (Mixture1D.OfGmm Gmm.g1).Marginal(p.Alpha t, p.Sigma t).Score
    let f, g2, h2 = sde.F.Invoke t, sde.GSquared.Invoke t, h t ** 2.0
    // GeneralizedDrift: f x - (g^2 -/+ h^2)/2 score, forward / reverse.
    let coefficient = if reverse then 0.5 * (g2 + h2) else 0.5 * (g2 - h2)
    fun x -> f * x - coefficient * score x

let private g1Moments t =
    let m = (marginal Gmm.g1 Schedule.vpLinear t).Scalar
    m.Mean, m.Variance, 1.0 - m.Cdf 0.0

let simulationChecks label (coarse: float[]) (fine: float[]) t =
    let mean, var, positive = g1Moments t
    let mc, mf = moments coarse, moments fine
    let pc, pf = coarse |> Array.averageBy (fun x -> if x > 0.0 then 1.0 else 0.0), fine |> Array.averageBy (fun x -> if x > 0.0 then 1.0 else 0.0)
    let pSe = sqrt (pf * (1.0 - pf) / float fine.Length)
    [ Check.monteCarlo (label + ": mean") mf.Mean mf.SeMean mean (2.0 * abs (mf.Mean - mc.Mean))
      Check.monteCarlo (label + ": variance") mf.Variance mf.SeVariance var (2.0 * abs (mf.Variance - mc.Variance))
      Check.monteCarlo (label + ": P(x > 0)") pf pSe positive (2.0 * abs (pf - pc)) ]

let hFamilyChecks () =
    let p = VpLinear()
    let x0 = Gmm.sample (rng 401) Gmm.g1 20_000 |> Array.map (fun v -> v[0])
    [ "h = 0", (fun _ -> 0.0); "h = g", p.Diffusion; "h = 2g", (fun t -> 2.0 * p.Diffusion t) ]
    |> List.collect (fun (name, h) ->
        let coarse, fine = coupledEulerMaruyama (hFamilyDrift h false) h 0.0 1.0 500 x0 402
        simulationChecks ("[M] forward " + name) coarse fine 1.0)

/// SDE-04 (1): the Fokker–Planck right-hand side of the h-family, drift f x - (g^2 - sign h^2)/2 s, is the
/// same for every h; sign = -1 is the control (the +1/2 h^2 score term flipped).
let hFamilyPointwise sign =
    sample 403 cases (Gen.zip (Gmm.generate 2) (Gen.zip time (vector 2 -1.0 1.0)))
    |> List.collect (fun (g, (t, u)) ->
        let p = VpLinear()
        let sde = LinearSde.Of p
        let tk = Score.toolkit(g).Diffuse(p, t)
        let x = vec u * 1.5
        let density = exp (tk.LogDensity x)
        let s = tk.Score x
        let reference = fpRhs fokkerPlanck tk (p.Drift t) (p.DiffusionSquared t) x
        [ 0.0; 0.5; 1.0; 2.0 ]
        |> List.collect (fun factor ->
            let h = factor * p.Diffusion t
            let drift = p.Drift t * x - 0.5 * (p.DiffusionSquared t - sign * h * h) * s
            let divDrift = 2.0 * p.Drift t - 0.5 * (p.DiffusionSquared t - sign * h * h) * tk.Marginal.LogDensityLaplacian x
            let laplacianP = density * (tk.Marginal.LogDensityLaplacian x + s * s)
            let rhs = -(density * (s * drift) + density * divDrift) + 0.5 * h * h * laplacianP
            [ Check.within "toolkit GeneralizedDrift = f x - (g^2 - h^2)/2 s" (Score.relDiff (sde.GeneralizedDrift(t, x, s, h, false)) (p.Drift t * x - 0.5 * (p.DiffusionSquared t - h * h) * s)) 1e-12
              Check.closeScaled "FP right-hand side identical for h in {0, g/2, g, 2g}" 1e-10 (max density (abs reference)) rhs reference ]))
    |> Check.grouped

let sde04 () = hFamilyPointwise 1.0 @ hFamilyChecks ()

/// Anderson's drift f - scoreFactor g^2 s in the Fokker–Planck check: the claim uses the library's ReverseDrift
/// (scoreFactor 1); the control the PF-ODE's factor 1/2 with the noise g dw kept.
let sde05Pointwise (scoreFactor: float option) =
        sample 501 cases (Gen.zip (Gmm.generate 2) (Gen.zip time (vector 2 -1.0 1.0)))
        |> List.map (fun (g, (t, u)) ->
            let p = VpLinear()
            let sde = LinearSde.Of p
            let tk = Score.toolkit(g).Diffuse(p, t)
            let x = vec u * 1.5
            let density = exp (tk.LogDensity x)
            let s = tk.Score x
            let c = defaultArg scoreFactor 1.0
            let drift = match scoreFactor with None -> sde.ReverseDrift(t, x, s) | Some c -> p.Drift t * x - c * p.DiffusionSquared t * s
            let divDrift = 2.0 * p.Drift t - c * p.DiffusionSquared t * tk.Marginal.LogDensityLaplacian x
            let laplacianP = density * (tk.Marginal.LogDensityLaplacian x + s * s)
            let lhs = -(density * (s * drift) + density * divDrift) - 0.5 * p.DiffusionSquared t * laplacianP
            let rhs = fpRhs fokkerPlanck tk (p.Drift t) (p.DiffusionSquared t) x
            Check.closeScaled "-div(p(f - g^2 s)) - 1/2 g^2 Delta p = -div(p f) + 1/2 g^2 Delta p" 1e-10 (max density (abs rhs)) lhs rhs)
        |> Check.worst

let sde05 () =
    let pointwise = sde05Pointwise None
    // [R] F1 data N(m, S): reverse EM's mean and variance recursions are exact (linear score).
    let vp = VpLinear()
    let m0, s0 = 0.7, 0.5
    let tMin = 1e-3
    let terminalError n =
        let h = (1.0 - tMin) / float n
        let mutable mean, var = vp.Alpha 1.0 * m0, vp.Alpha 1.0 ** 2.0 * s0 + vp.Sigma 1.0 ** 2.0
        for k in 0 .. n - 1 do
            let t = 1.0 - float k * h
            let c = vp.Alpha t ** 2.0 * s0 + vp.Sigma t ** 2.0
            // x <- x - [f x - g^2 s(x)] h + g sqrt h u, with s(x) = -(x - alpha m)/C: affine in x.
            let a = 1.0 - (vp.Drift t + vp.DiffusionSquared t / c) * h
            let b = vp.DiffusionSquared t * vp.Alpha t * m0 / c * h
            mean <- a * mean + b
            var <- a * a * var + vp.DiffusionSquared t * h
        let exactMean, exactVar = vp.Alpha tMin * m0, vp.Alpha tMin ** 2.0 * s0 + vp.Sigma tMin ** 2.0
        abs (mean - exactMean) + abs (var - exactVar)
    let errors = [ 200; 400; 800; 1600 ] |> List.map terminalError
    let ratios = errors |> List.pairwise |> List.map (fun (a, b) -> a / b)
    // [M] G1 from T = 1 down to t_min with the reverse SDE (h = g), coupled halving for the bias budget.
    // x_1 ~ p_1 exactly: G1 samples pushed through the exact transition.
    let r = rng 502
    let startSamples = Gmm.sample r Gmm.g1 20_000 |> Array.map (fun v -> vp.Alpha 1.0 * v[0] + vp.Sigma 1.0 * (normals r 1)[0])
    let coarse, fine = coupledEulerMaruyama (hFamilyDrift vp.Diffusion true) vp.Diffusion 1.0 tMin 500 startSamples 503
    pointwise
    :: (ratios |> List.map (fun q -> Check.within "[R] F1 reverse EM: error ratio n -> 2n in [1.8, 2.2]" (abs (q - 2.0)) 0.2))
    @ simulationChecks "[M] reverse SDE to t_min" coarse fine tMin

// ---------------------------------------------------------------------------------------------
// SDE-06

/// `sdeCovariance` is the covariance the SDE's samples are compared with: alpha_{t|s} Var_s (the claim), or the
/// PF-ODE's sqrt(Var_s Var_t) (the control: same marginals taken for the same path law).
let sde06With (sdeCovariance: float -> float -> float -> float) =
    let vp = VpLinear()
    let s, t, S = 0.2, 0.5, 4.0
    let n = 100_000
    let r = rng 601
    let varS = vp.Alpha s ** 2.0 * S + vp.Sigma s ** 2.0
    let varT = vp.Alpha t ** 2.0 * S + vp.Sigma t ** 2.0
    let alphaTS = vp.Alpha t / vp.Alpha s
    let sigmaTS = sqrt (vp.Sigma t ** 2.0 - alphaTS ** 2.0 * vp.Sigma s ** 2.0)
    let xs = normals r n |> Array.map (fun z -> sqrt varS * z)
    let sdeT = Array.map2 (fun x z -> alphaTS * x + sigmaTS * z) xs (normals r n)
    // The PF-ODE flow map of Gaussian data is linear: x_t = sqrt(Var_t / Var_s) x_s, integrated here by [O].
    let score u x = -x / (vp.Alpha u ** 2.0 * S + vp.Sigma u ** 2.0)
    let c = (solveOde (fun u y -> [| vp.Drift u * y[0] - 0.5 * vp.DiffusionSquared u * score u y[0] |]) s t [| 1.0 |] 1e-10 1e-12)[0]
    let odeT = xs |> Array.map ((*) c)
    let covSde, seSde = meanAndSe (Array.map2 (*) xs sdeT)
    let covOde, seOde = meanAndSe (Array.map2 (*) xs odeT)
    [ Check.close "[O] PF-ODE map = sqrt(Var_t / Var_s)" 1e-7 c (sqrt (varT / varS))
      Check.monteCarlo "[M] SDE: Cov(x_s, x_t) = alpha_{t|s} Var(x_s)" covSde seSde (sdeCovariance alphaTS varS varT) 0.0
      Check.monteCarlo "[M] PF-ODE: Cov = sqrt(Var_s Var_t)" covOde seOde (sqrt (varS * varT)) 0.0
      Check.exceeds "the two covariances differ by >= 20 SE" (abs (covSde - covOde)) (20.0 * sqrt (seSde ** 2.0 + seOde ** 2.0)) ]

// ---------------------------------------------------------------------------------------------
// SDE-07

let private mixture2 = Gmm.create [| 0.35; 0.65 |] [| [| -1.0; 0.5 |]; [| 1.2; -0.4 |] |] [| array2D [ [ 0.3; 0.1 ]; [ 0.1; 0.2 ] ]; array2D [ [ 0.25; -0.05 ]; [ -0.05; 0.4 ] ] |]

/// Augmented PF-ODE state (x, ell, I): dx/dt = v, d ell/dt = div v = d f - 1/2 g^2 Delta log p, and the
/// matrix I' = f I - 1/2 g^2 H so that a fixed probe u gives the Hutchinson integral u^T I u.
/// `sign` +1: log p_0 = log p_1 + int div v (the claim); -1 subtracts it (the control).
let sde07With sign =
    let p = VpLinear()
    let sde = LinearSde.Of p
    let data = Score.toolkit mixture2
    let rhs t (y: float[]) =
        let tk = data.Diffuse(p, t)
        let x = vec [| y[0]; y[1] |]
        let hess = tk.Marginal.LogDensityHessian x
        let v = sde.ProbabilityFlowVelocity(t, x, tk.Score x)
        let f, g2 = p.Drift t, p.DiffusionSquared t
        let div = 2.0 * f - 0.5 * g2 * hess.Trace()
        Array.append [| v[0]; v[1]; div |] [| for i in 0..1 do for j in 0..1 -> (if i = j then f else 0.0) - 0.5 * g2 * hess[i, j] |]
    let x0 = [| 0.3; -0.2 |]
    let y1 = solveOde rhs 0.0 1.0 (Array.append x0 (Array.zeroCreate 5)) 1e-10 1e-12
    let logP0 = data.LogDensity(vec x0)
    let logP1 = data.Diffuse(p, 1.0).LogDensity(vec [| y1[0]; y1[1] |])
    let yBack = solveOde rhs 1.0 0.0 (Array.append [| y1[0]; y1[1] |] (Array.zeroCreate 5)) 1e-10 1e-12
    let r = rng 701
    let probes =
        Array.init 2000 (fun _ ->
            let u = Array.init 2 (fun _ -> if r.NextDouble() < 0.5 then -1.0 else 1.0)
            u[0] * u[0] * y1[3] + u[0] * u[1] * (y1[4] + y1[5]) + u[1] * u[1] * y1[6])
    let hMean, hSe = meanAndSe probes
    [ Check.within "[O] forwards: |log p0(x0) - log p1(x1) - int div v|" (abs (logP0 - logP1 - sign * y1[2])) 1e-7
      Check.within "[O] backwards: returns to x0" (max (abs (yBack[0] - x0[0])) (abs (yBack[1] - x0[1]))) 1e-7
      Check.within "[O] backwards: ell accumulates -int div v" (abs (yBack[2] + y1[2])) 1e-7
      Check.close "Hutchinson trace integral = exact (u^T I u, E uu^T = I)" 1e-9 (y1[3] + y1[6]) y1[2]
      Check.monteCarlo "[M] Hutchinson, 2000 Rademacher probes" hMean hSe y1[2] 0.0 ]

// ---------------------------------------------------------------------------------------------
// SDE-08

/// `flow` true integrates the library's PF-ODE velocity (the claim); false its reverse-SDE drift f - g^2 s (the control).
let sde08With flow =
    let p = VpScaledLinear()
    let sde = LinearSde.Of p
    let data = Score.toolkit Gmm.g3
    let us = Array.init 10 (fun k -> float (k + 1) / 11.0)
    let starts = us |> Array.map data.Quantile
    let velocity t (xs: float[]) =
        let tk = data.Diffuse(p, t)
        xs |> Array.map (fun x ->
            let v, s = vec [| x |], tk.Score(vec [| x |])
            (if flow then sde.ProbabilityFlowVelocity(t, v, s) else sde.ReverseDrift(t, v, s))[0])
    [ 0.1 .. 0.1 .. 1.0 ]
    |> List.collect (fun t ->
        let xs = solveOde velocity 0.0 t starts 1e-10 1e-12
        let m = marginal Gmm.g3 Schedule.stableDiffusion t
        let masses = Array.concat [ [| m.Cdf xs[0] |]; xs |> Array.pairwise |> Array.map (fun (a, b) -> m.Cdf b - m.Cdf a); [| 1.0 - m.Cdf xs[9] |] ]
        [ Check.within "[O] x_t = F_t^{-1}(k/11) (toolkit quantile)" (Array.map2 (fun x u -> abs (x - data.Diffuse(p, t).Marginal.Quantile u) / max 1.0 (abs x)) xs us |> Array.max) 1e-7
          Check.within "[O] each of the 11 masses = 1/11" (masses |> Array.map (fun v -> abs (v - 1.0 / 11.0)) |> Array.max) 1e-7 ])
    |> Check.grouped

let claims =
    [ claim "SDE-01" "Wiener increments" family (fun () -> wienerChecks sqrt)
      claim "SDE-02" "Fokker-Planck equation" family sde02
      claim "SDE-03" "probability-flow ODE (incl. state-dependent g)" family sde03
      claim "SDE-04" "generalised h(t) SDE family" family sde04
      claim "SDE-05" "reverse-time SDE" family sde05
      claim "SDE-06" "same marginals != same path law" family (fun () -> sde06With (fun aTS varS _ -> aTS * varS))
      claim "SDE-07" "PF-ODE log-likelihood (instantaneous change of variables)" family (fun () -> sde07With 1.0)
      claim "SDE-08" "1-D PF-ODE transports quantiles" family (fun () -> sde08With true) ]

let controls =
    [ control "SDE-01" "increments scaled by dt instead of sqrt dt" family (fun () -> wienerChecks id)
      control "SDE-02" "Fokker-Planck with g in place of g^2" family (fun () -> fpChecks fokkerPlanckWithG)
      control "SDE-02" "Fokker-Planck with a flipped sign on the divergence" family (fun () -> fpChecks fokkerPlanckFlipped)
      control "SDE-02" "GBM solved as Stratonovich (log-drift mu)" family (fun () -> gbmChecks (fun mu _ -> mu))
      control "SDE-03" "PF-ODE drift without the g grad g term (GBM)" family (fun () -> [ gbmFlowChecks false ])
      control "SDE-04" "h-family with the sign of +1/2 h^2 score flipped" family (fun () -> hFamilyPointwise -1.0)
      control "SDE-05" "reverse drift f - 1/2 g^2 s (the PF-ODE's) with the noise g dw kept" family (fun () -> [ sde05Pointwise (Some 0.5) ])
      control "SDE-06" "SDE two-time covariance taken as the PF-ODE's sqrt(Var_s Var_t)" family (fun () -> sde06With (fun _ varS varT -> sqrt (varS * varT)))
      control "SDE-07" "log p_0 = log p_1 - int div v (sign of the divergence term)" family (fun () -> sde07With -1.0)
      control "SDE-08" "reverse-SDE drift f - g^2 s integrated as the flow" family (fun () -> sde08With false) ]
