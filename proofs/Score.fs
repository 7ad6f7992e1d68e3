/// Score, Tweedie, guidance and the structure of the score (docs/claims.md):
/// SM-01, SCORE-01, SCORE-02, SNR-01, GUIDE-01 .. GUIDE-03, SUB-01, SYM-01.
/// The toolkit side is Research.Diffusion's GaussianMixture / DiffusedMixture / Parameterization; the
/// independent side is the F2 posterior of Fixtures, finite differences and quadrature.
module Research.Proofs.Score

open System
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Research.Diffusion
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Generators
open Research.Proofs.Fixtures

let family = "Score"

let toolkit (g: Gmm) = GaussianMixture(g.Weights, g.Means, g.Covs)

let maxAbs (v: V) = v.AbsoluteMaximum()
let relDiff (a: V) (b: V) = maxAbs (a - b) / max 1.0 (max (maxAbs a) (maxAbs b))
let relDiffM (a: M) (b: M) = (a - b).InfinityNorm() / max 1.0 (max (a.InfinityNorm()) (b.InfinityNorm()))

/// Random (mixture with atoms, process, t, x): x is drawn near the marginal's bulk.
let scoreCase =
    gen {
        let! d = dimension
        let! g = Gmm.generateWithAtoms d
        let! (s, p), t = Processes.pairAndTime
        let! u = vector d -1.0 1.0
        return g, s, p, t, u
    }

let private point (g: Gmm) (s: Schedule) t (u: float[]) =
    let m = marginal g s t
    let k = 0
    m.ComponentMeans[k] + vec u * sqrt (m.Covariances[k].Diagonal().Maximum())


// ---------------------------------------------------------------------------------------------
// SM-01

/// `divide` false compares the score with grad p itself (SM-01's control: the division by p forgotten).
let sm01Cases divide =
        sample 201 20 scoreCase
        |> List.collect (fun (g, s, p, t, u) ->
            let x = point g s t u
            let m = marginal g s t
            let tk = (toolkit g).Diffuse(p, t)
            let score = tk.Score x
            // grad p / p from the components directly, without log-sum-exp.
            let dens = m.ComponentLogDensities x |> Array.map exp
            let gradP = Seq.fold2 (fun (acc: V) dk (ak: V) -> acc + dk * ak) (vec (Array.zeroCreate g.Dim)) dens (m.ComponentScores x)
            let ratio = if divide then gradP / Array.sum dens else gradP
            let h = 1e-5 * s.Sigma t
            let fd = vec (gradient (fun y -> tk.LogDensity(vec y)) (x.ToArray()) h)
            [ Check.within "score (toolkit) = grad p / p" (relDiff score ratio) 1e-10
              Check.within "score (toolkit) = FD of log p_t [D]" (relDiff score fd) 1e-7 ])
        |> Check.grouped

let sm01 () =
    let cases = sm01Cases true
    let far =
        let g = Gmm.g1
        let tk = (toolkit g).Diffuse(VpLinear(), 0.3)
        let m = marginal g Schedule.vpLinear 0.3
        [ 50.0; -50.0 ]
        |> List.map (fun x ->
            let s = tk.Score(vec [| x |])
            let logs = m.ComponentLogDensities(vec [| x |])
            let dominant = m.ComponentScores(vec [| x |])[Array.findIndex ((=) (Array.max logs)) logs]
            Check.within "|x| = 50: finite, equals the dominant component's score" (if Double.IsFinite s[0] then relDiff s dominant else nan) 1e-12)
    cases @ far

// ---------------------------------------------------------------------------------------------
// SCORE-01 (Tweedie)

/// First- and second-order Tweedie, written with the noise variance sigma^2 (the claim) or a control's power.
type Tweedie =
    { X0: float -> float -> V -> V -> V
      Covariance: float -> float -> M -> M }

let tweedie =
    { X0 = fun alpha sigma x score -> (x + sigma * sigma * score) / alpha
      Covariance = fun alpha sigma hessian -> sigma * sigma / (alpha * alpha) * (eye hessian.RowCount + sigma * sigma * hessian) }

/// Negative control: Tweedie with sigma in place of sigma^2.
let tweedieSigma =
    { X0 = fun alpha sigma x score -> (x + sigma * score) / alpha
      Covariance = fun alpha sigma hessian -> sigma / (alpha * alpha) * (eye hessian.RowCount + sigma * hessian) }

let tweedieChecks (tw: Tweedie) =
    sample 202 20 scoreCase
    |> List.filter (fun (_, s, _, t, _) -> s.Alpha t > 1e-3 && s.Sigma t > 1e-3)
    |> List.collect (fun (g, s, p, t, u) ->
        let x = point g s t u
        let m = marginal g s t
        let tk = (toolkit g).Diffuse(p, t)
        let a, sg = s.Alpha t, s.Sigma t
        let score = tk.Score x
        [ Check.within "score = -E[eps|x]/sigma (F2 posterior)" (relDiff score (-(m.EpsHat x) / sg)) 1e-10
          Check.within "toolkit ScoreFromEps = score" (relDiff (Parameterization.ScoreFromEps(p.At t, x, m.EpsHat x)) score) 1e-10
          Check.within "first order: E[x0|x] = (x + sigma^2 s)/alpha" (relDiff (tw.X0 a sg x score) (m.PosteriorMean x)) 1e-9
          Check.within "toolkit X0FromScore = F2 posterior mean" (relDiff (Parameterization.X0FromScore(p.At t, x, score)) (m.PosteriorMean x)) 1e-9
          Check.within "second order: Cov[x0|x] = sigma^2/alpha^2 (I + sigma^2 H)" (relDiffM (tw.Covariance a sg (tk.Marginal.LogDensityHessian x)) (m.PosteriorCovariance x)) 1e-9
          Check.within "toolkit posterior covariance = F2" (relDiffM (tk.PosteriorCovariance x) (m.PosteriorCovariance x)) 1e-9 ])
    |> Check.grouped

// ---------------------------------------------------------------------------------------------
// SCORE-02

let epsModel x = 0.3 * tanh x + 0.1 * x

/// SCORE-02 for G1 at (process, t): LHS by conditioning on the component (x_t and eps are jointly
/// Gaussian given k), RHS from the toolkit's exact eps-prediction plus C_t; `withConstant` = false is the control.
let score02Sides withConstant (s: Schedule) (p: NoiseProcess) t =
    let g = Gmm.g1
    let m = marginal g s t
    let a, sg = s.Alpha t, s.Sigma t
    let tk = (toolkit g).Diffuse(p, t)
    let bps = List.ofSeq m.Breakpoints
    let lhs =
        Array.init g.K (fun k ->
            let mu, c = a * g.Means[k][0], a * a * g.Covs[k][0, 0] + sg * sg
            let condVar = 1.0 - sg * sg / c
            g.Weights[k] * integrateLine (fun x -> normalPdf mu c x * ((epsModel x - sg * (x - mu) / c) ** 2.0 + condVar)) bps)
        |> Array.sum
    let density x = exp (m.LogDensity(vec [| x |]))
    let fit = integrateLine (fun x -> density x * (epsModel x - tk.Predict(Prediction.Eps, x)) ** 2.0) bps
    let constant = 1.0 - sg * sg * integrateLine (fun x -> density x * tk.Score(x) ** 2.0) bps
    lhs, fit + (if withConstant then constant else 0.0)

let score02Checks withConstant =
    sample 203 6 Processes.pairAndTime
    |> List.map (fun ((s, p), t) -> let l, r = score02Sides withConstant s p t in Check.relClose "[Q] eps-MSE = fit to E[eps|x] + C_t" 1e-9 l r)
    |> Check.worst

let score02 () =
    let s, p = Schedule.vpLinear, VpLinear() :> NoiseProcess
    let t = 0.4
    let _, rhs = score02Sides true s p t
    let r = rng 204
    let n = 1_000_000
    let x0s = Gmm.sample r Gmm.g1 n
    let eps = normals r n
    let a, sg = s.Alpha t, s.Sigma t
    let values = Array.init n (fun i -> let x = a * x0s[i][0] + sg * eps[i] in (epsModel x - eps[i]) ** 2.0)
    let mean, se = meanAndSe values
    [ score02Checks true; Check.monteCarlo "[M] N = 10^6 eps-MSE" mean se rhs 0.0 ]

// ---------------------------------------------------------------------------------------------
// SNR-01

/// VP score = alpha-bar^power score VE at x / sqrt(alpha-bar): the claim's power is -1/2, the control's +1/2.
let snr01With power =
    let vp = VpLinear()
    let ve = Edm()
    sample 205 cases (Gen.zip (Gmm.generate 2) (Gen.zip time (vector 2 -1.0 1.0)))
    |> List.collect (fun (g, (t, u)) ->
        let abar = vp.Alpha t ** 2.0
        let sigmaTilde = vp.Varsigma t
        let x = vec u * 2.0
        let xTilde = x / sqrt abar
        let sVp = (toolkit g).Diffuse(vp, t).Score x
        let sVe = (toolkit g).Diffuse(ve, sigmaTilde).Score xTilde
        let eps = vec (Array.map (fun v -> 0.7 * v) u)
        let model = vec [| 0.3; -1.1 |]
        let epsTheta = -sigmaTilde * model
        [ Check.close "sigma~^2 = (1 - alpha-bar)/alpha-bar = 1/SNR" 1e-12 (sigmaTilde ** 2.0) (1.0 / vp.Snr t)
          Check.within "score VP = alpha-bar^{-1/2} score VE" (relDiff sVp (sVe * abar ** power)) 1e-10
          Check.close "||eps_theta - eps||^2 = sigma~^2 ||s_VE + eps/sigma~||^2" 1e-12 (((epsTheta - eps).L2Norm()) ** 2.0) (sigmaTilde ** 2.0 * ((model + eps / sigmaTilde).L2Norm()) ** 2.0) ])
    |> Check.grouped

// ---------------------------------------------------------------------------------------------
// GUIDE-01 .. GUIDE-03

/// The sub-mixture of the components labelled y (p_0(x | y)).
let subMixture (g: Gmm) (labels: int list) =
    { Weights = labels |> List.map (fun k -> g.Weights[k]) |> Array.ofList |> fun w -> w |> Array.map (fun v -> v / Array.sum w)
      Means = labels |> List.map (fun k -> g.Means[k]) |> Array.ofList
      Covs = labels |> List.map (fun k -> g.Covs[k]) |> Array.ofList }

/// log p_t(y | x) = log sum_{k in y} r_k(x): the noisy classifier of F2.
let logClassifier (m: Marginal) (labels: int list) (x: V) = let r = m.Responsibilities x in log (labels |> List.sumBy (fun k -> r[k]))

let guideCase =
    gen {
        let! g = Gmm.generate 1 |> Gen.where (fun g -> g.K >= 2)
        let! t = uniform 0.1 0.9
        let! u = uniform -2.0 2.0
        return g, t, u
    }

/// GUIDE-01 (2): p_t(y | x_t) = E[r^(0)_y(x_0) | x_t], with a classifier at x_0 given as a function.
let noisyClassifierChecks (classifierAt: Marginal -> Marginal -> float -> float) =
    sample 206 8 guideCase
    |> List.map (fun (g, t, u) ->
        let s = Schedule.vpLinear
        let m = marginal g s t
        let clean = Marginal(g, 1.0, 0.0)
        let x = u * 2.0
        let posterior = m.PosteriorComponents(vec [| x |])
        let r = m.Responsibilities(vec [| x |])
        let labels = [ 0 ]
        let cleanR (x0: float) = exp (logClassifier clean labels (vec [| x0 |]))
        let posteriorDensity x0 = Array.init g.K (fun k -> let (mk: V), (sk: M) = posterior[k] in r[k] * normalPdf mk[0] sk[0, 0] x0) |> Array.sum
        let bps = posterior |> Array.map (fun ((mk: V), (sk: M)) -> mk[0], sqrt sk[0, 0]) |> breakpointsAround
        let expected = integrateLine (fun x0 -> posteriorDensity x0 * cleanR x0) bps
        Check.close "[Q] p_t(y|x) = E[r^(0)_y(x0) | x_t]" 1e-9 (classifierAt m clean x) expected)

let guide01 () =
    let scores =
        sample 207 cases guideCase
        |> List.collect (fun (g, t, u) ->
            let p = VpLinear()
            let labels = [ 0 .. g.K / 2 - 1 ]
            let x = vec [| u * 2.0 |]
            let m = marginal g Schedule.vpLinear t
            let conditional = (toolkit (subMixture g labels)).Diffuse(p, t).Score x
            let unconditional = (toolkit g).Diffuse(p, t).Score x
            let h = 1e-5 * Schedule.vpLinear.Sigma t
            let gradLogR = derivative (fun y -> logClassifier m labels (vec [| y |])) x[0] h
            [ Check.within "score of p_t(.|y) = s_t + grad log r_y [D]" (abs (conditional[0] - unconditional[0] - gradLogR) / max 1.0 (abs conditional[0])) 1e-7 ])
        |> Check.grouped
    scores @ [ Check.worst (noisyClassifierChecks (fun m _ x -> exp (logClassifier m [ 0 ] (vec [| x |])))) ]

/// `sign` +1: eps-hat - gamma sigma grad log r (the claim); -1 adds it (the control).
let guide02With sign =
    sample 208 cases guideCase
    |> List.collect (fun (g, t, u) ->
        let p = VpLinear()
        let labels = [ 0 ]
        let x = vec [| u * 2.0 |]
        let m = marginal g Schedule.vpLinear t
        let tk = (toolkit g).Diffuse(p, t)
        let sigma = p.Sigma t
        // grad log r_k = a_k - s_t (F2).
        let gradLogR = (m.ComponentScores x).[0].[0] - (m.Score x).[0]
        [ 0.0; 1.0; 2.5 ]
        |> List.collect (fun gamma ->
            let guidedScore = tk.Score(x)[0] + gamma * gradLogR
            let guidedEps = tk.Predict(Prediction.Eps, x)[0] - sign * gamma * sigma * gradLogR
            [ Check.close "score form <-> eps form" 1e-12 (-sigma * guidedScore) guidedEps ]
            @ (if gamma = 1.0 then
                   [ Check.close "gamma = 1: the conditional score" 1e-10 guidedScore ((toolkit (subMixture g labels)).Diffuse(p, t).Score(x)[0]) ]
               else [])))
    |> Check.grouped

/// Guided score of GUIDE-02/03 and the exact score of the diffused tilted law p0 p(y|x)^gamma (by quadrature).
let tiltedScores gamma (t: float) x =
    let g = Gmm.g1
    let s = Schedule.vpLinear
    let m = marginal g s t
    let clean = Marginal(g, 1.0, 0.0)
    let xv = vec [| x |]
    let s0 = (m.Score xv).[0]
    let guided = s0 + gamma * ((m.ComponentScores xv).[0].[0] - s0)
    let a, sg = s.Alpha t, s.Sigma t
    let tilted x0 = exp (clean.LogDensity(vec [| x0 |]) + gamma * logClassifier clean [ 0 ] (vec [| x0 |]))
    let bps = List.ofSeq clean.Breakpoints
    let pt y = integrateLine (fun x0 -> tilted x0 * normalPdf (a * x0) (sg * sg) y) bps
    let dpt y = integrateLine (fun x0 -> tilted x0 * normalPdf (a * x0) (sg * sg) y * (-(y - a * x0) / (sg * sg))) bps
    guided, dpt x / pt x

/// CFG read as classifier guidance with scale gammaOf w: the claim's 1 + w, the control's w.
let guide03Identities (gammaOf: float -> float) =
        sample 209 cases (Gen.zip guideCase (uniform 0.0 4.0))
        |> List.collect (fun ((g, t, u), w) ->
            let p = VpLinear()
            let x = vec [| u * 2.0 |]
            let cond = (toolkit (subMixture g [ 0 ])).Diffuse(p, t)
            let uncond = (toolkit g).Diffuse(p, t)
            let sigma = p.Sigma t
            let epsCfg = (1.0 + w) * cond.Predict(Prediction.Eps, x)[0] - w * uncond.Predict(Prediction.Eps, x)[0]
            let scoreCfg = (1.0 + w) * cond.Score(x)[0] - w * uncond.Score(x)[0]
            let m = marginal g Schedule.vpLinear t
            let implicitClassifier = cond.Score(x)[0] - uncond.Score(x)[0]
            let gradLogR = derivative (fun y -> logClassifier m [ 0 ] (vec [| y |])) x[0] (1e-5 * sigma)
            [ Check.close "CFG: eps form = -sigma x score form" 1e-10 epsCfg (-sigma * scoreCfg)
              Check.close "CFG = classifier guidance with gamma = 1 + w" 1e-10 scoreCfg (uncond.Score(x)[0] + gammaOf w * implicitClassifier)
              Check.within "implicit classifier = grad log p_t(y|x) [D]" (abs (implicitClassifier - gradLogR) / max 1.0 (abs gradLogR)) 1e-7 ])
        |> Check.grouped

let guide03 () =
    let identities = guide03Identities (fun w -> 1.0 + w)
    let g3, e3 = tiltedScores 3.0 0.5 0.3
    let g1, e1 = tiltedScores 1.0 0.5 0.3
    identities
    @ [ Check.exceeds "caveat: gamma = 3 guided score differs from the tilted law's" (abs (g3 - e3)) 1e-6
        Check.close "gamma = 1: guided score = tilted law's score [Q]" 1e-8 g1 e1 ]

// ---------------------------------------------------------------------------------------------
// SUB-01 and SYM-01

/// The orthogonal part -(I - UU^T) x / sigma^power: the claim's power 2, the control's 1.
let sub01With power =
    sample 210 cases (Gen.zip (Gen.zip (vector 6 -1.0 1.0) (Generators.mixtureParameters 2)) (Gen.zip time (vector 3 -2.0 2.0)))
    |> List.collect (fun ((raw, (w, means, covs)), (t, xs)) ->
        let u = Matrix<float>.Build.DenseOfColumnMajor(3, 2, raw).QR().Q.SubMatrix(0, 3, 0, 2)
        let lowDim = Gmm.create w means covs
        let full = { Weights = lowDim.Weights; Means = lowDim.Means |> Array.map (fun m -> u * m); Covs = lowDim.Covs |> Array.map (fun s -> u * s * u.Transpose()) }
        let p = VpLinear()
        let x = vec xs
        let projector = u * u.Transpose()
        let sigma = p.Sigma t
        let decomposed = u * (toolkit lowDim).Diffuse(p, t).Score(u.Transpose() * x) - (eye 3 - projector) * x / sigma ** power
        [ Check.within "full score = U grad log p^(n)(U^T x) - (I - UU^T) x / sigma^2" (relDiff ((toolkit full).Diffuse(p, t).Score x) decomposed) 1e-10
          Check.within "P^2 = P = P^T" (max (relDiffM (projector * projector) projector) (relDiffM projector (projector.Transpose()))) 1e-12 ])
    |> Check.grouped

let rotation (angle: float) = mat [| [| cos angle; -sin angle |]; [| sin angle; cos angle |] |]

let symmetryChecks (transforms: (string * M) list) =
    let g = Gmm.g4
    sample 211 cases (Gen.zip time (vector 2 -3.0 3.0))
    |> List.collect (fun (t, xs) ->
        let tk = (toolkit g).Diffuse(VpLinear(), t)
        let x = vec xs
        transforms
        |> List.collect (fun (name, r) ->
            [ Check.close (name + ": p_t(Rx) = p_t(x)") 1e-12 (tk.LogDensity(r * x)) (tk.LogDensity x)
              Check.within (name + ": s_t(Rx) = R s_t(x)") (relDiff (tk.Score(r * x)) (r * tk.Score x)) 1e-12 ]))
    |> Check.grouped

let sym01 () =
    symmetryChecks
        [ "90 degree rotation", rotation (Math.PI / 2.0)
          "reflection x1 -> -x1", mat [| [| -1.0; 0.0 |]; [| 0.0; 1.0 |] |]
          "reflection x2 -> -x2", mat [| [| 1.0; 0.0 |]; [| 0.0; -1.0 |] |] ]

let claims =
    [ claim "SM-01" "score = grad p / p" family sm01
      claim "SCORE-01" "score = -E[eps|x_t]/sigma (Tweedie, 1st and 2nd order)" family (fun () -> tweedieChecks tweedie)
      claim "SCORE-02" "eps-MSE (DSM) loss decomposition" family score02
      claim "SNR-01" "SBM (VE) and DDPM (VP) unified through SNR" family (fun () -> snr01With -0.5)
      claim "GUIDE-01" "conditional score = score + noisy-classifier gradient" family guide01
      claim "GUIDE-02" "classifier guidance with scale gamma" family (fun () -> guide02With 1.0)
      claim "GUIDE-03" "classifier-free guidance (and its caveat)" family guide03
      claim "SUB-01" "subspace diffusion: score decomposition" family (fun () -> sub01With 2.0)
      claim "SYM-01" "symmetry: invariant marginals, equivariant score" family sym01 ]

let controls =
    [ control "SCORE-01" "Tweedie with sigma in place of sigma^2" family (fun () -> tweedieChecks tweedieSigma)
      control "SCORE-02" "eps-MSE decomposition without C_t" family (fun () -> [ score02Checks false ])
      control "GUIDE-01" "clean classifier r^(0)_y evaluated at the noisy x_t" family (fun () ->
          noisyClassifierChecks (fun _ clean x -> exp (logClassifier clean [ 0 ] (vec [| x |]))))
      control "SYM-01" "45 degree rotation is not a symmetry of G4" family (fun () -> symmetryChecks [ "45 degree rotation", rotation (Math.PI / 4.0) ])
      control "SM-01" "grad p without the division by p" family (fun () -> sm01Cases false)
      control "SNR-01" "VP score = alpha-bar^{+1/2} score VE (scaling inverted)" family (fun () -> snr01With 0.5)
      control "GUIDE-02" "guided eps with + gamma sigma grad log r (sign)" family (fun () -> guide02With -1.0)
      control "GUIDE-03" "CFG read as classifier guidance with gamma = w (not 1 + w)" family (fun () -> guide03Identities id)
      control "SUB-01" "orthogonal part -(I - UU^T) x / sigma (not sigma^2)" family (fun () -> sub01With 1.0) ]
