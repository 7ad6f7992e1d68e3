/// The VDM view of the diffusion loss (docs/claims.md): SNR-03 (the continuous loss depends on the
/// schedule only through its SNR endpoints) and SNR-04 (L_T >= L_2T >= L_inf). The F8 schedules are realised as
/// toolkit NoiseProcesses (ScheduleProcess), so SNR and lambda' come from the toolkit's derivations; the
/// denoiser is the exact F2 posterior (checked against the toolkit's DiffusedMixture); integrals are adaptive
/// Gauss–Kronrod (section 15.2: the integrands carry responsibilities).
module Research.Proofs.Vdm

open System
open Research.Diffusion
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Fixtures

let family = "VDM"


/// The fast posterior against the toolkit's DiffusedMixture at a few (t, z) of VP-linear.
let posteriorAgreesWithToolkit (g: Gmm) =
    [ 0.05; 0.3; 0.7 ]
    |> List.collect (fun t ->
        let p = VpLinear()
        let tk = (Score.toolkit g).Diffuse(p, t)
        let post = (Mixture1D.OfGmm g).Posterior(p.Alpha t, p.Sigma t)
        [ -1.5; 0.2; 1.1 ]
        |> List.collect (fun z ->
            let q = post z
            [ Check.close "fast F2 posterior mean = toolkit PosteriorMean" 1e-12 q.Mean (tk.PosteriorMean z)
              Check.close "fast F2 posterior variance = toolkit PosteriorCovariance" 1e-12 q.Variance (tk.PosteriorCovariance(vec [| z |]).[0, 0])
              Check.close "fast F2 density = toolkit density" 1e-12 q.Density (exp (tk.LogDensity z)) ]))

// ---------------------------------------------------------------------------------------------
// F8 schedules

let lambdaMax = 10.0

let shapes =
    [ "h = t", id, (fun _ -> 1.0)
      "h = t^2", (fun t -> t * t), (fun t -> 2.0 * t)
      "h = sin(pi t/2)", (fun t -> sin (Math.PI * t / 2.0)), (fun t -> Math.PI / 2.0 * cos (Math.PI * t / 2.0)) ]

/// The six F8 schedules (three shapes h, VP and VE realisations) from lambda_max = 10 to lambdaMin, as toolkit
/// processes, each with its analytic lambda and lambda'.
let f8 lambdaMin =
    shapes
    |> List.collect (fun (name, h, hDot) ->
        let lambda t = lambdaMax + (lambdaMin - lambdaMax) * h t
        let lambdaDot t = (lambdaMin - lambdaMax) * hDot t
        [ ScheduleProcess(Schedule.lambdaVp ("VP " + name) lambda lambdaDot) :> NoiseProcess, lambda, lambdaDot
          ScheduleProcess(Schedule.lambdaVe ("VE " + name) lambda lambdaDot) :> NoiseProcess, lambda, lambdaDot ])

// ---------------------------------------------------------------------------------------------
// SNR-03

let private epsBreakpoints = [ -8.0; -4.0; -2.0; 0.0; 2.0; 4.0; 8.0 ]

/// E_eps (x - E[x_0 | alpha x + sigma eps])^2 for a fixed data point x, by GK over eps.
let pointError (g: Gmm) x alpha sigma =
    let post = (Mixture1D.OfGmm g).Posterior(alpha, sigma)
    integrateLine (fun e -> normalPdf 0.0 1.0 e * (x - (post (alpha * x + sigma * e)).Mean) ** 2.0) epsBreakpoints

/// L_inf(x) = -1/2 int_0^1 SNR'(t) E_eps (x - x^)^2 dt on a process, with SNR' = SNR lambda' from the toolkit.
let lossInTime (g: Gmm) x (p: NoiseProcess) =
    -0.5 * integrate (fun t -> p.Snr t * p.LogSnrPrime t * pointError g x (p.Alpha t) (p.Sigma t)) 0.0 1.0

/// The same in the VE form, 1/2 int E_eps (x - x~(x + eps/sqrt v, v))^2 dv with dv = v dlambda.
let lossInSnr (g: Gmm) x lambdaLo lambdaHi =
    0.5 * integrate (fun l -> exp l * pointError g x 1.0 (exp (-0.5 * l))) lambdaLo lambdaHi

/// Gaussian data N(mu, s^2) (d = 1): the closed form of L_inf(x) with u = 1 + v s^2.
let gaussianLoss mu s2 x lambdaLo lambdaHi =
    let uMin, uMax = 1.0 + exp lambdaLo * s2, 1.0 + exp lambdaHi * s2
    0.5 * (log (uMax / uMin) + ((x - mu) ** 2.0 / s2 - 1.0) * (1.0 / uMin - 1.0 / uMax))

/// A data point away from the data mean 0.4: at low SNR x^ -> E x_0, so at x = 0.4 the integrand vanishes there
/// and moving lambda_min would change nothing measurable.
let snr03Point = 1.3

/// Each F8 schedule with endpoints (10, lambdaMin) against the direct SNR integral over (-10, 10).
let scheduleChecks lambdaMin =
    let direct = lossInSnr Gmm.g1 snr03Point -10.0 lambdaMax
    f8 lambdaMin
    |> List.map (fun (p, _, _) -> Check.relClose "[Q] G1: L_inf in t on each F8 schedule = the SNR integral" 1e-8 (lossInTime Gmm.g1 snr03Point p) direct)
    |> Check.grouped

let snr03 () =
    let toolkitLambda =
        f8 -10.0
        |> List.collect (fun (p, lambda, lambdaDot) ->
            [ 0.0; 0.2; 0.5; 0.9; 1.0 ]
            |> List.collect (fun t ->
                [ Check.close "toolkit LogSnr = F8 lambda(t)" 1e-12 (p.LogSnr t) (lambda t)
                  Check.close "toolkit lambda' = -g^2/sigma^2 = F8 lambda'(t)" 1e-10 (p.LogSnrPrime t) (lambdaDot t) ]))
    let mu, s2 = 0.5, 0.49
    let gaussian = Gmm.oneD [| 1.0 |] [| mu |] [| s2 |]
    let closedForm =
        [ -0.7; 1.9 ]
        |> List.collect (fun x ->
            f8 -10.0 |> List.map (fun (p, _, _) -> Check.relClose "[Q] Gaussian data: L_inf(x) in t = closed form" 1e-8 (lossInTime gaussian x p) (gaussianLoss mu s2 x -10.0 lambdaMax)))
    // I-MMSE: averaged over the data the integrand is tr Cov[x_0 | x_t] = s^2 / (1 + v s^2) (toolkit posterior).
    let averaged =
        0.5 * integrate (fun l -> let sigma = exp (-0.5 * l) in exp l * (Score.toolkit gaussian).Diffuse(Edm(), sigma).PosteriorCovariance(vec [| 0.0 |]).[0, 0]) -10.0 lambdaMax
    // Moving lambda_min from -10 to -9 removes 1/2 int_{-10}^{-9} e^lambda E(x - x~)^2 dlambda from the loss.
    let reference = lossInSnr Gmm.g1 snr03Point -10.0 lambdaMax
    let moved = lossInTime Gmm.g1 snr03Point (let p, _, _ = (f8 -9.0).Head in p)
    let predicted = -(lossInSnr Gmm.g1 snr03Point -10.0 -9.0)
    scheduleChecks -10.0
    @ Check.grouped (toolkitLambda @ closedForm @ posteriorAgreesWithToolkit Gmm.g1)
    @ [ Check.relClose "[Q] I-MMSE: E_x L_inf = d/2 log((1 + SNRmax s^2)/(1 + SNRmin s^2))" 1e-9 averaged (0.5 * log ((1.0 + exp lambdaMax * s2) / (1.0 + exp -10.0 * s2)))
        Check.closeScaled "[Q] lambda_min -10 -> -9 changes L_inf by the predicted amount (relative to L_inf)" 1e-9 reference (moved - reference) predicted
        Check.exceeds "the change is >> the 1e-8 tolerance (relative)" (abs (moved - reference) / reference) 1e-6 ]

// ---------------------------------------------------------------------------------------------
// SNR-04

/// L_T = 1/2 sum_i (SNR_{s_i} - SNR_{t_i}) e(t_i), s_i = (i-1)/T, t_i = i/T, with e given on the 1024-grid.
/// L_T = 1/2 sum (SNR(s) - SNR(t)) e(t): e read at the noisier end t of each interval; `atStart` reads it at s (the
/// less noisy end, a lower Riemann sum: SNR-04's control).
let discreteLossAt atStart (p: NoiseProcess) (eOnGrid: float[]) T =
    let stride = 1024 / T
    let index i = if atStart then max 0 (i * stride - 1) else (i + 1) * stride - 1
    0.5 * Seq.sum (Seq.init T (fun i -> (p.Snr(float i / float T) - p.Snr(float (i + 1) / float T)) * eOnGrid[index i]))

let discreteLoss (p: NoiseProcess) eOnGrid T = discreteLossAt false p eOnGrid T

let ts = [ 1; 2; 4; 8; 16; 32; 64; 128; 256; 512; 1024 ]

/// The monotone chain L_1 > L_2 > ... > L_1024 > L_inf.
let chainChecks label (losses: float list) lInf =
    let steps = losses |> List.pairwise |> List.map (fun (a, b) -> a - b)
    [ Check.exceeds (label + ": L_T - L_2T > 0 for T = 1 .. 512 (smallest gap)") (List.min steps) 0.0
      Check.exceeds (label + ": L_1024 - L_inf > 0") (List.last losses - lInf) 0.0 ]

let snr04With atStart =
    let discreteLoss = discreteLossAt atStart
    let p, _, _ = (f8 -10.0).Head // VP, h = t: lambda-linear
    let grid = Array.init 1024 (fun i -> float (i + 1) / 1024.0)
    // Gaussian data N(mu, s^2): e(v) = s^2 / (1 + v s^2); the toolkit posterior variance at one v as a check.
    let s2 = 0.49
    let gaussian = Gmm.oneD [| 1.0 |] [| 0.5 |] [| s2 |]
    let eGauss = grid |> Array.map (fun t -> s2 / (1.0 + p.Snr t * s2))
    let toolkitE = (Score.toolkit gaussian).Diffuse(p, 0.5).PosteriorCovariance(vec [| 0.3 |]).[0, 0]
    let gaussLosses = ts |> List.map (discreteLoss p eGauss)
    let gaussInf = 0.5 * log ((1.0 + p.Snr 0.0 * s2) / (1.0 + p.Snr 1.0 * s2))
    let errors = gaussLosses |> List.map (fun l -> l - gaussInf) |> Array.ofList
    let ratios = [ for i in 7..9 -> errors[i] / errors[i + 1] ]
    // G1: e(v) = E_{x_t}[Var(x_0 | x_t)] by GK over x_t (VE form, sigma = 1/sqrt v).
    let g1E (snr: float) =
        let sigma = 1.0 / sqrt snr
        let post = (Mixture1D.OfGmm Gmm.g1).Posterior(1.0, sigma)
        integrateLine (fun z -> let q = post z in q.Density * q.Variance) (Marginal(Gmm.g1, 1.0, sigma).Breakpoints)
    let eG1 = grid |> Array.map (fun t -> g1E (p.Snr t))
    let g1Losses = ts |> List.map (discreteLoss p eG1)
    let g1Inf = 0.5 * integrate (fun l -> exp l * g1E (exp l)) -10.0 lambdaMax
    [ Check.close "toolkit posterior variance of Gaussian data = s^2/(1 + SNR s^2)" 1e-12 toolkitE (s2 / (1.0 + p.Snr 0.5 * s2)) ]
    @ chainChecks "Gaussian" gaussLosses gaussInf
    @ [ Check.within "[R] Gaussian: error ratios (L_T - L_inf)/(L_2T - L_inf), T = 128, 256, 512, within 10% of 2" (ratios |> List.map (fun r -> abs (r / 2.0 - 1.0)) |> List.max) 0.1
        Check.within "G1: e(v) is non-increasing in v (MMSE)" (eG1 |> Array.pairwise |> Array.map (fun (a, b) -> max 0.0 (a - b)) |> Array.max) 1e-15 ]
    @ chainChecks "G1" g1Losses g1Inf
    @ Check.grouped (posteriorAgreesWithToolkit Gmm.g1)

let claims =
    [ claim "SNR-03" "continuous VDM loss depends only on the SNR endpoints" family snr03
      claim "SNR-04" "discrete loss L_T >= L_2T >= L_inf" family (fun () -> snr04With false) ]

let controls =
    [ control "SNR-03" "lambda_min -10 -> -9 on the schedules, compared with the (-10, 10) value" family (fun () -> scheduleChecks -9.0)
      control "SNR-04" "e read at the less noisy end s of each interval (a lower sum)" family (fun () -> snr04With true) ]
