/// Noise processes, schedules and conversions (docs/claims.md): PROC-01 .. PROC-09.
/// The toolkit side is Research.Diffusion's NoiseProcess family; the independent side is the F6 closed
/// forms of Fixtures, finite differences, quadrature and Dormand–Prince.
module Research.Proofs.Processes

open System
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Research.Diffusion
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Generators
open Research.Proofs.Fixtures

let family = "Processes"

/// Each F6 closed form next to the toolkit's process for the same schedule.
let toolkitPairs : (Schedule * NoiseProcess) list =
    [ Schedule.vpLinear, VpLinear()
      Schedule.vpCosine, VpCosine()
      Schedule.stableDiffusion, VpScaledLinear()
      Schedule.subVp, SubVp()
      Schedule.veGeometric, VeGeometric()
      Schedule.rectifiedFlow, RectifiedFlow()
      Schedule.edm, Edm() ]

/// A random pair: a named F6 family or a random VP-lin, and t in [0.01, TMax].
let pairAndTime =
    gen {
        let! pair =
            Gen.oneof
                [ Gen.elements toolkitPairs
                  gen {
                      let! bmin = uniform 0.05 1.0
                      let! bmax = uniform 5.0 25.0
                      return Schedule.vpLinearWith bmin bmax, VpLinear(bmin, bmax) :> NoiseProcess
                  } ]
        let! u = uniform 0.0 1.0
        let s = fst pair
        return pair, 0.01 + u * (s.TMax - 0.01)
    }

let private perCase seed n (f: Schedule * NoiseProcess -> float -> Check list) =
    sample seed n pairAndTime |> List.collect (fun (pair, t) -> f pair t) |> List.groupBy (fun c -> c.What) |> List.map (snd >> Check.worst)

// ---------------------------------------------------------------------------------------------
// PROC-01

/// Moment ODEs of dx = f x dt + g dw: m' = f m, (sigma^2)' = k f sigma^2 + g^2 with k = 2 (PROC-01; a control
/// passes another k).
let momentOdeWith (k: float) (f: float -> float) (g2: float -> float) t =
    let y = solveOde (fun s y -> [| f s * y[0]; k * f s * y[1] + g2 s |]) 0.0 t [| 1.0; 0.0 |] 1e-10 1e-12
    y[0], y[1]

let momentOde f g2 t = momentOdeWith 2.0 f g2 t

/// PROC-01 for an arbitrary (f, g): the toolkit's quadrature of alpha and sigma^2 against the moment ODEs.
let proc01Arbitrary (k: float) =
    let f t = -1.0 + 0.5 * sin (3.0 * t)
    let g2 t = (1.0 + t * t) ** 2.0
    let sde = LinearSde(Func<_, _>(f), Func<_, _>(g2))
    [ 0.25; 0.5; 1.0 ]
    |> List.collect (fun t ->
        let struct (a, s2) = sde.ConditionalLaw(t)
        let ao, s2o = momentOdeWith k f g2 t
        [ Check.relClose "arbitrary f, g: alpha [Q] = [O]" 1e-7 a ao; Check.relClose "arbitrary f, g: sigma^2 [Q] = [O]" 1e-7 s2 s2o ])

let proc01 () =
    let f t = -1.0 + 0.5 * sin (3.0 * t)
    let g2 t = (1.0 + t * t) ** 2.0
    let sde = LinearSde(Func<_, _>(f), Func<_, _>(g2))
    let arbitrary = proc01Arbitrary 2.0
    // [M] Euler–Maruyama from x0 = 2; the bias budget b is exact: EM's own mean/variance recursion.
    let n, paths, x0 = 1000, 20_000, 2.0
    let h = 1.0 / float n
    let r = rng 21
    let xs = Array.create paths x0
    let mutable emMean, emVar = x0, 0.0
    for k in 0 .. n - 1 do
        let t = float k * h
        let z = normals r paths
        let a, sg = 1.0 + f t * h, sqrt (g2 t * h)
        for i in 0 .. paths - 1 do
            xs[i] <- a * xs[i] + sg * z[i]
        emMean <- a * emMean
        emVar <- a * a * emVar + g2 t * h
    let m = moments xs
    let struct (a1, s21) = sde.ConditionalLaw(1.0)
    // F3 OU and VP-lin closed forms.
    let theta, c = 0.7, 1.3
    let ou = LinearSde(Func<_, _>(fun _ -> -theta), Func<_, _>(fun _ -> c * c))
    let vp = VpLinear()
    let vpSde = LinearSde(Func<_, _>(fun t -> -0.5 * vp.Beta t), Func<_, _>(vp.Beta))
    let closed =
        [ 0.3; 0.9 ]
        |> List.collect (fun t ->
            let struct (ao, so) = ou.ConditionalLaw(t)
            let struct (av, sv) = vpSde.ConditionalLaw(t)
            [ Check.close "F3 OU: alpha = e^{-theta t}" 1e-12 ao (exp (-theta * t))
              Check.close "F3 OU: sigma^2 = c^2 (1 - e^{-2 theta t}) / 2 theta" 1e-12 so (c * c * (1.0 - exp (-2.0 * theta * t)) / (2.0 * theta))
              Check.close "VP-lin: alpha" 1e-12 av (vp.Alpha t)
              Check.close "VP-lin: sigma^2" 1e-12 sv (vp.Sigma t ** 2.0) ])
    arbitrary
    @ closed
    @ [ Check.monteCarlo "[M] EM mean of x_1" m.Mean m.SeMean (a1 * x0) (abs (emMean - a1 * x0))
        Check.monteCarlo "[M] EM variance of x_1" m.Variance m.SeVariance s21 (abs (emVar - s21)) ]

// ---------------------------------------------------------------------------------------------
// PROC-02

/// PROC-02 checked on one (schedule, process) pair: the toolkit's f, g^2 against FD of the F6 closed
/// forms, with a formula for g^2 in terms of (alpha, sigma, alpha', sigma') that a control can replace.
let proc02Checks (g2Formula: float -> float -> float -> float -> float) (s: Schedule, p: NoiseProcess) t =
    let h = timeStep t
    let aD = derivative s.Alpha t h
    let sD = derivative s.Sigma t h
    let a, sg = s.Alpha t, s.Sigma t
    let f = aD / a
    let g2 = g2Formula a sg aD sD
    let delta = min 1.0 (min t (1.0 - t))
    [ Check.close "alpha: toolkit = F6" 1e-12 (p.Alpha t) a
      Check.close "sigma: toolkit = F6" 1e-12 (p.Sigma t) sg
      Check.closeScaled "f = alpha'/alpha: toolkit = FD" 1e-7 (max (abs f) (abs a / delta / a)) (p.Drift t) f
      Check.closeScaled "g^2: toolkit = FD" 1e-7 (max (abs g2) (sg * sg / delta)) (p.DiffusionSquared t) g2
      Check.isTrue "g^2 >= 0" (p.DiffusionSquared t >= 0.0) ]

let g2FromAlphaSigma a sg aD sD = 2.0 * sg * sD - 2.0 * aD / a * sg * sg
/// Negative control: g^2 with the factor 2 of 2 sigma sigma' dropped.
let g2DroppedFactor a sg aD sD = sg * sD - 2.0 * aD / a * sg * sg

let proc02 () =
    let pointwise = perCase 31 40 (proc02Checks g2FromAlphaSigma)
    let roundTrip =
        toolkitPairs
        |> List.filter (fun (s, _) -> s.Name <> "EDM")
        |> List.collect (fun (s, p) ->
            let sde = LinearSde.Of p
            [ 0.3; 0.9 ]
            |> List.collect (fun t ->
                let struct (a, s2) = sde.ConditionalLaw(t)
                [ Check.close (sprintf "round trip PROC-01(f, g) reproduces alpha") 1e-9 a (s.Alpha t)
                  Check.relClose (sprintf "round trip PROC-01(f, g) reproduces sigma^2") 1e-9 s2 (s.Sigma t ** 2.0) ]))
        |> List.groupBy (fun c -> c.What) |> List.map (snd >> Check.worst)
    let grid =
        toolkitPairs
        |> List.map (fun (s, p) -> Array.init 999 (fun i -> 0.001 * float (i + 1) * s.TMax) |> Array.forall (fun t -> p.DiffusionSquared t >= 0.0))
        |> List.forall id
    pointwise @ roundTrip @ [ Check.isTrue "g^2 >= 0 on a grid of (0, 1), every family" grid ]

// ---------------------------------------------------------------------------------------------
// PROC-03

/// PROC-03's pointwise checks of a lambda' (the toolkit's LogSnrPrime, or a control's) against FD of F6's lambda
/// and against -g^2/sigma^2 with F6's g^2 and sigma.
let proc03Derivatives (lambdaPrime: NoiseProcess -> float -> float) =
    perCase 32 40 (fun (s, p) t ->
        let h = timeStep t
        let fd = derivative (Schedule.logSnr s) t h
        let delta = min 1.0 (min t (1.0 - t))
        [ Check.closeScaled "lambda' = -g^2/sigma^2: toolkit = FD" 1e-7 (max (abs fd) (abs (Schedule.logSnr s t) / delta)) (lambdaPrime p t) fd
          // the F6 closed forms' own g^2 and sigma (Fixtures), not the toolkit's: the identity, not a re-typing
          Check.close "lambda' = -g^2/sigma^2 with F6's g^2, sigma" 1e-9 (lambdaPrime p t) (-(Schedule.diffusion2 s t) / (s.Sigma t ** 2.0))
          Check.isTrue "varsigma non-decreasing at t" (p.Varsigma(t + h) >= p.Varsigma t) ])

let proc03 () =
    let monotone =
        toolkitPairs
        |> List.map (fun (s, p) ->
            let grid = Array.init 10_000 (fun i -> 1e-4 + (s.TMax - 1e-4) * float i / 9999.0)
            let increase = grid |> Array.pairwise |> Array.map (fun (a, b) -> p.LogSnr b - p.LogSnr a) |> Array.max
            Check.within (sprintf "max Delta lambda on 10^4 grid") (max 0.0 increase) 1e-12)
        |> Check.worst
    monotone :: proc03Derivatives (fun p t -> p.LogSnrPrime t)

// ---------------------------------------------------------------------------------------------
// PROC-04

/// The library's LinearSde with f = -beta/2 and g^2 = factor beta: VP (sigma^2 = 1 - alpha^2) for the claim's factor 1,
/// not for the control's 1/2 (f's halving copied onto g^2).
let proc04Variance factor =
    let vp = VpLinear()
    let sde = LinearSde(Func<_, _>(fun t -> -0.5 * vp.Beta t), Func<_, _>(fun t -> factor * vp.Beta t))
    sample 41 cases time
    |> List.map (fun t -> let struct (a, s2) = sde.ConditionalLaw(t) in Check.close "[Q] sigma^2 = 1 - alpha^2 (g^2 = beta)" 1e-12 s2 (1.0 - a * a))
    |> Check.worst

let proc04 () =
    let vp = VpLinear()
    let maxGap T =
        let table = DdpmSchedule.Discretize(vp, T)
        Seq.init T (fun k -> abs (table.AlphaBar(k + 1) - vp.Alpha(float (k + 1) / float T) ** 2.0)) |> Seq.max
    let gaps = [ 1000; 10_000; 100_000 ] |> List.map maxGap
    let references = [ 1.92846e-3; 1.92729e-4; 1.92717e-5 ]
    let variance = proc04Variance 1.0
    let discrete = DdpmSchedule.Linear()
    let exactVariance =
        // Var(x_k | x_0) by the step recursion v_k = (1 - beta_k) v_{k-1} + beta_k equals 1 - alpha-bar_k.
        let mutable v, worst = 0.0, 0.0
        for k in 1 .. discrete.Steps do
            v <- (1.0 - discrete.Beta k) * v + discrete.Beta k
            worst <- max worst (abs (v - (1.0 - discrete.AlphaBar k)))
        worst
    (List.map2 (fun g r -> Check.relClose (sprintf "[R] max |alpha-bar - alpha^2| = %g" r) 1e-4 g r) gaps references)
    @ (gaps |> List.pairwise |> List.map (fun (a, b) -> Check.within "[R] ratio per decade in [9, 11]" (abs (a / b - 10.0)) 1.0))
    @ [ variance; Check.within "discrete Var(x_k|x_0) = 1 - alpha-bar_k (recursion)" exactVariance 1e-12 ]

// ---------------------------------------------------------------------------------------------
// PROC-05

/// PROC-05's table and goldens for a given continuous alpha^2(t): the toolkit's, or a control's.
let sdChecks (alphaSquared: float -> float) =
    let table = DdpmSchedule.ScaledLinear()
    let T = table.Steps
    let gaps = Array.init T (fun k -> table.AlphaBar(k + 1) - alphaSquared (float (k + 1) / float T))
    let worst = gaps |> Array.map abs |> Array.max
    let at = (gaps |> Array.map abs |> Array.findIndex ((=) worst)) + 1
    [ Check.close "golden alpha(1)^2" 1e-12 (alphaSquared 1.0) 0.004779523758198566
      Check.relClose "max |alpha-bar_t - alpha(t/T)^2| = 1.1075e-3" 1e-4 worst 1.1075e-3
      Check.within "argmax t = 469" (float (abs (at - 469))) 0.0
      Check.isTrue "alpha-bar_t < alpha(t/T)^2 for every t" (gaps |> Array.forall (fun g -> g < 0.0))
      Check.relClose "relative gap at t = 1000 (to alpha-bar_1000) = 2.563%" 1e-3 ((alphaSquared 1.0 - table.AlphaBar T) / table.AlphaBar T) 0.02563
      Check.close "log alpha(1)^2 - log alpha-bar_1000 = 0.0253043" 1e-7 (log (alphaSquared 1.0) - log (table.AlphaBar T)) 0.0253043 ]

let proc05 () =
    let sd = VpScaledLinear()
    let table = DdpmSchedule.ScaledLinear()
    let betas = table.Betas()
    let T = float table.Steps
    [ Check.close "a = 2.5446918612697353" 1e-12 sd.A 2.5446918612697353
      Check.close "b = 0.919409753868019" 1e-12 sd.B 0.919409753868019
      Check.close "a + b = sqrt 12" 1e-12 (sd.A + sd.B) (sqrt 12.0)
      Check.close "golden alpha-bar_1" 1e-12 (table.AlphaBar 1) 0.99915
      Check.close "golden alpha-bar_1000" 1e-12 (table.AlphaBar 1000) 0.004660098513077234
      Check.close "golden int_0^1 beta" 1e-12 (sd.IntegratedBeta 1.0) 5.3434143696184195
      Check.close "golden sum beta_t" 1e-12 (Array.sum betas) 5.348992791713452
      Check.close "golden sum beta_t^2 / 2" 1e-12 (betas |> Array.sumBy (fun b -> b * b / 2.0)) 0.019612812603513836
      Check.within "beta(k/T) = T beta_k for all k" (betas |> Array.mapi (fun k b -> abs (sd.Beta(float (k + 1) / T) - T * b)) |> Array.max) 1e-13
      Check.close "[Q] closed-form alpha = exp(-1/2 int beta)" 1e-12 (sd.Alpha 0.7) (exp (-0.5 * integrate sd.Beta 0.0 0.7))
      Check.close "F6 closed form alpha = toolkit" 1e-12 (Schedule.stableDiffusion.Alpha 0.7) (sd.Alpha 0.7) ]
    @ sdChecks (fun t -> sd.Alpha t ** 2.0)

/// PROC-05 controls: alpha with the exponent's 1/(6a) used for alpha^2; alpha(T t) for alpha(t/T).
let sdAlphaAsAlphaSquared t = Schedule.stableDiffusion.Alpha t
let sdAlphaAtTt t = VpScaledLinear().Alpha(1000.0 * t) ** 2.0

// ---------------------------------------------------------------------------------------------
// PROC-06

/// The classification table's g^2 per row, with beta = -2 alpha'/alpha and B = int beta.
type Row = { Name: string; Process: NoiseProcess; TableG2: float -> float; Relation: float -> float -> float; AlphaOfVarsigma: float -> float; SigmaOfVarsigma: float -> float }

let tableRows (subVpExponent: float) =
    let vp = VpLinear()
    let beta t = vp.Beta t
    let bigB t = vp.IntegratedBeta t
    let rfBeta t = 2.0 / (1.0 - t)
    let rfB t = -2.0 * log (1.0 - t)
    // VE row: g^2 = (sigma^2)' = 2 sigmaMin^2 log(r) r^(2t), r = sigmaMax/sigmaMin, from F6's sigma^2 (not the toolkit's).
    let veG2 t = let r = 50.0 / 0.01 in 2.0 * 0.01 * 0.01 * log r * r ** (2.0 * t)
    [ { Name = "VE"; Process = VeGeometric(); TableG2 = veG2
        Relation = (fun a _ -> a - 1.0); AlphaOfVarsigma = (fun _ -> 1.0); SigmaOfVarsigma = id }
      { Name = "VP"; Process = vp; TableG2 = beta; Relation = (fun a s2 -> s2 - (1.0 - a * a))
        AlphaOfVarsigma = (fun v -> 1.0 / sqrt (1.0 + v * v)); SigmaOfVarsigma = (fun v -> v / sqrt (1.0 + v * v)) }
      { Name = "sub-VP"; Process = SubVp(); TableG2 = (fun t -> beta t * (1.0 - exp (-subVpExponent * bigB t)))
        Relation = (fun a s2 -> sqrt s2 - (1.0 - a * a))
        AlphaOfVarsigma = (fun v -> 0.5 * (-v + sqrt (v * v + 4.0))); SigmaOfVarsigma = (fun v -> v * 0.5 * (-v + sqrt (v * v + 4.0))) }
      { Name = "RF"; Process = RectifiedFlow(); TableG2 = (fun t -> rfBeta t * (1.0 - exp (-0.5 * rfB t)))
        Relation = (fun a s2 -> a + sqrt s2 - 1.0); AlphaOfVarsigma = (fun v -> 1.0 / (1.0 + v)); SigmaOfVarsigma = (fun v -> v / (1.0 + v)) } ]

/// PROC-06 (2): PROC-01 quadrature with the table's f and g reproduces each row's relation.
let tableRelationChecks (rows: Row list) =
    rows
    |> List.collect (fun row ->
        let sde = LinearSde(Func<_, _>(row.Process.Drift), Func<_, _>(row.TableG2))
        [ 0.2; 0.5; 0.9 ]
        |> List.map (fun t ->
            let struct (a, s2) = sde.ConditionalLaw(t)
            Check.within (sprintf "%s: [Q] relation from the table's f, g" row.Name) (abs (row.Relation a s2)) 1e-9))

let proc06 () =
    let rows = tableRows 2.0
    let g2 =
        rows
        |> List.collect (fun row ->
            sample 61 cases (timeBelow 0.98)
            |> List.collect (fun t ->
                [ Check.close (sprintf "%s: PROC-02 g^2 = table g^2" row.Name) 1e-10 (row.Process.DiffusionSquared t) (row.TableG2 t)
                  Check.close (sprintf "%s: alpha(varsigma_t) = alpha_t" row.Name) 1e-12 (row.AlphaOfVarsigma(row.Process.Varsigma t)) (row.Process.Alpha t)
                  Check.close (sprintf "%s: sigma(varsigma_t) = sigma_t" row.Name) 1e-12 (row.SigmaOfVarsigma(row.Process.Varsigma t)) (row.Process.Sigma t) ]))
        |> List.groupBy (fun c -> c.What) |> List.map (snd >> Check.worst)
    let sub = SubVp()
    let rf = RectifiedFlow()
    g2
    @ [ Check.worst (tableRelationChecks rows)
        Check.isTrue "sub-VP: sigma^2 <= 1 - alpha^2" (Seq.init 99 (fun i -> 0.01 * float (i + 1)) |> Seq.forall (fun t -> sub.Sigma t ** 2.0 <= 1.0 - sub.Alpha t ** 2.0))
        Check.close "RF: g^2 = 2t/(1-t)" 1e-12 (rf.DiffusionSquared 0.3) (0.6 / 0.7)
        Check.close "RF: f = -1/(1-t)" 1e-12 (rf.Drift 0.3) (-1.0 / 0.7) ]

// ---------------------------------------------------------------------------------------------
// PROC-07 and PROC-08: normal forms

let private mixture2 = Gmm.isotropic [| 0.4; 0.6 |] [| [| -1.0; 0.5 |]; [| 1.5; -0.5 |] |] 0.2

/// PF-ODE velocity f x - g^2/2 score of the F6 closed forms with the F2 fixture's exact score.
let pfVelocity (s: Schedule) (g: Gmm) t (x: float[]) =
    let score = (marginal g s t).Score(vec x)
    Array.init x.Length (fun i -> Schedule.drift s t * x[i] - 0.5 * Schedule.diffusion2 s t * score[i])

/// PROC-07's coefficient checks of a VP normal form (the toolkit's, or a control's) of each process.
let proc07Coefficients (vpFormOf: NoiseProcess -> Schedule -> NoiseProcess) =
        [ RectifiedFlow() :> NoiseProcess, Schedule.rectifiedFlow; VeGeometric(), Schedule.veGeometric; SubVp(), Schedule.subVp; VpScaledLinear(), Schedule.stableDiffusion ]
        |> List.collect (fun (p, s) ->
            let vpForm = vpFormOf p s
            sample 71 cases (timeBelow 0.98)
            |> List.collect (fun t ->
                let h = timeStep t
                let betaHat = derivative (fun u -> log (1.0 + Schedule.varsigma s u ** 2.0)) t h
                let v = Schedule.varsigma s t
                let c = sqrt (s.Alpha t ** 2.0 + s.Sigma t ** 2.0)
                // alpha sigma' - sigma alpha' = alpha^3/(2 sigma) (sigma^2/alpha^2)'
                let lhs = s.Alpha t * s.SigmaDot t - s.Sigma t * s.AlphaDot t
                let rhs = s.Alpha t ** 3.0 / (2.0 * s.Sigma t) * derivative (fun u -> (s.Sigma u / s.Alpha u) ** 2.0) t h
                [ Check.close "alpha^2 + sigma^2 = 1 in VP form" 1e-12 (vpForm.Alpha t ** 2.0 + vpForm.Sigma t ** 2.0) 1.0
                  Check.close "alpha^ = 1/sqrt(1 + varsigma^2)" 1e-12 (vpForm.Alpha t) (1.0 / sqrt (1.0 + v * v))
                  Check.relClose "beta^ = d/dt log(1 + varsigma^2) = g^2 of the VP form [D]" 1e-7 (vpForm.DiffusionSquared t) betaHat
                  Check.relClose "beta^ = -2 f of the VP form [D]" 1e-7 (-2.0 * vpForm.Drift t) betaHat
                  Check.relClose "beta^ = alpha^2 (sigma^2/alpha^2)' / (alpha^2 + sigma^2)" 1e-10 (p.DiffusionSquared t / (c * c)) (vpForm.DiffusionSquared t)
                  Check.relClose "alpha sigma' - sigma alpha' = alpha^3/(2 sigma) (sigma^2/alpha^2)' [D]" 1e-7 lhs rhs ]))
        |> List.groupBy (fun c -> c.What) |> List.map (snd >> Check.worst)

/// PROC-07 control: x divided by alpha + sigma instead of sqrt(alpha^2 + sigma^2), as a process of F6's closed forms.
let wrongVpForm (_: NoiseProcess) (s: Schedule) =
    let c t = s.Alpha t + s.Sigma t
    let cDot t = s.AlphaDot t + s.SigmaDot t
    ScheduleProcess
        { s with
            Name = "VP form by alpha + sigma"
            Alpha = fun t -> s.Alpha t / c t
            AlphaDot = fun t -> (s.AlphaDot t * c t - s.Alpha t * cDot t) / c t ** 2.0
            Sigma = fun t -> s.Sigma t / c t
            SigmaDot = fun t -> (s.SigmaDot t * c t - s.Sigma t * cDot t) / c t ** 2.0 }
    :> NoiseProcess

let proc07 () =
    let coefficient = proc07Coefficients (fun p _ -> ProcessConversion.VpNormalForm p)
    // [O] the original PF-ODE and the VP-form ODE agree after scaling by c(t).
    let s = Schedule.vpCosine
    let c t = sqrt (s.Alpha t ** 2.0 + s.Sigma t ** 2.0)
    let x0 = [| 0.7; -1.2 |]
    let t0, t1 = 0.01, 0.97
    let xEnd = solveOde (pfVelocity s mixture2) t0 t1 x0 1e-10 1e-12
    let rkVp = ProcessConversion.VpNormalForm(VpCosine())
    let hatVelocityToolkit t (xh: float[]) =
        let betaHat = rkVp.DiffusionSquared t
        let scoreHat = (marginal mixture2 s t).Score(vec (xh |> Array.map ((*) (c t)))) * c t
        Array.init 2 (fun i -> -0.5 * betaHat * (xh[i] + scoreHat[i]))
    let xhEnd = solveOde hatVelocityToolkit t0 t1 (x0 |> Array.map (fun v -> v / c t0)) 1e-10 1e-12
    coefficient
    @ [ Check.close "[O] x^(t) = x(t)/c(t) (VP-cos, 2-D mixture)" 1e-7 (xhEnd[0]) (xEnd[0] / c t1)
        Check.close "[O] x^(t) = x(t)/c(t), 2nd coordinate" 1e-7 (xhEnd[1]) (xEnd[1] / c t1) ]

/// eps-hat(x^, varsigma) for a process at the time with that varsigma (PROC-08): depends on varsigma only.
let epsHatInVarsigma (s: Schedule) (p: NoiseProcess) (g: Gmm) (varsigma: float) (xHat: float[]) =
    let t = p.TimeAtVarsigma varsigma
    let m = marginal g s t
    (m.EpsHat(vec xHat * s.Alpha t)).ToArray()

let private veFormPairs = toolkitPairs |> List.filter (fun (s, _) -> List.contains s.Name [ "VP-lin"; "VP-cos"; "RF"; "VE-geo" ])

/// PROC-08's coefficient checks of a VE normal form (the toolkit's, or a control's).
let proc08Coefficients (veFormOf: NoiseProcess -> NoiseProcess) =
        veFormPairs
        |> List.collect (fun (s, p) ->
            let ve = veFormOf p
            sample 81 cases (timeBelow 0.98)
            |> List.collect (fun t ->
                let h = timeStep t
                [ Check.close "VE form: sigma^ = varsigma" 1e-12 (ve.Sigma t) (Schedule.varsigma s t)
                  Check.relClose "VE form: g^2 = (varsigma^2)' [D]" 1e-7 (ve.DiffusionSquared t) (derivative (fun u -> Schedule.varsigma s u ** 2.0) t h)
                  Check.close "VE form: f = 0" 1e-15 (ve.Drift t) 0.0
                  Check.close "TimeAtVarsigma inverts varsigma" 1e-10 (p.TimeAtVarsigma(Schedule.varsigma s t)) t ]))
        |> List.groupBy (fun c -> c.What) |> List.map (snd >> Check.worst)

/// PROC-08 control: the "VE form" that keeps sigma (x not divided by alpha): alpha = 1, sigma^ = sigma.
type private KeepSigma(p: NoiseProcess) =
    inherit NoiseProcess()
    override _.Name = "VE form keeping sigma"
    override _.Alpha _ = 1.0
    override _.AlphaPrime _ = 0.0
    override _.Sigma t = p.Sigma t
    override _.SigmaPrime t = p.SigmaPrime t
    override _.SigmaSquaredPrime t = p.SigmaSquaredPrime t

let keepSigmaVeForm (p: NoiseProcess) = KeepSigma p :> NoiseProcess

let proc08 () =
    let pairs = veFormPairs
    let coefficient = proc08Coefficients ProcessConversion.VeNormalForm
    let v0, v1 = 0.1, 8.0
    let xh0 = [| 0.4; -0.9 |]
    let ends = pairs |> List.map (fun (s, p) -> solveOde (fun v xh -> epsHatInVarsigma s p mixture2 v xh) v0 v1 xh0 1e-10 1e-12)
    let reference = ends.Head
    let sameOde = ends.Tail |> List.collect (fun e -> [ Check.close "[O] same varsigma path, same ODE in (x^, varsigma)" 1e-7 e[0] reference[0]; Check.close "[O] same ODE, 2nd coordinate" 1e-7 e[1] reference[1] ])
    // and with VP-lin's own PF-ODE in t, after conversion x^ = x/alpha.
    let s, p = pairs.Head
    let ta, tb = p.TimeAtVarsigma v0, p.TimeAtVarsigma v1
    let xEnd = solveOde (pfVelocity s mixture2) ta tb (xh0 |> Array.map ((*) (s.Alpha ta))) 1e-10 1e-12
    sameOde
    @ coefficient
    @ [ Check.close "[O] own PF-ODE in t after conversion" 1e-7 (xEnd[0] / s.Alpha tb) reference[0]
        Check.close "[O] own PF-ODE in t after conversion, 2nd coordinate" 1e-7 (xEnd[1] / s.Alpha tb) reference[1] ]

// ---------------------------------------------------------------------------------------------
// PROC-09

let predictions = [ Prediction.Eps; Prediction.X0; Prediction.Score; Prediction.V; Prediction.Velocity ]

/// PROC-09 (2): for every ordered pair of predictions, the toolkit maps the true value of a sample (x0, eps) to the
/// true value of the other, each written from its definition with F6's alpha, sigma, alpha', sigma'. A round trip
/// would pass with any invertible wrong coefficient; this does not. `alphaDot` is F6's, or a control's.
let conversionChecks (alphaDot: Schedule -> float -> float) seed =
    sample seed 30 (Gen.zip (Gen.zip pairAndTime (vector 2 -2.0 2.0)) (vector 2 -2.0 2.0))
    |> List.filter (fun ((((s, _), t), _), _) -> t < s.TMax)
    |> List.collect (fun ((((s, p), t), e), z) ->
        let pt = p.At t
        let x0, eps = vec z, vec e
        let a, sg = s.Alpha t, s.Sigma t
        let x = a * x0 + sg * eps
        let truth =
            function
            | Prediction.Eps -> eps
            | Prediction.X0 -> x0
            | Prediction.Score -> -eps / sg
            | Prediction.V -> a * eps - sg * x0
            | _ -> alphaDot s t * x0 + s.SigmaDot t * eps
        [ for from in predictions do
              for target in predictions ->
                  let got = Parameterization.Convert(pt, from, target, x, truth from)
                  let expected = truth target
                  Check.within "every conversion maps true values to true values" ((got - expected).AbsoluteMaximum() / max 1.0 (expected.AbsoluteMaximum())) 1e-9 ])
    |> Check.worst

let proc09 () =
    let velocity =
        sample 91 cases (Gen.zip pairAndTime (Gmm.generate 2))
        |> List.filter (fun ((_, t), _) -> t < 0.98)
        |> List.collect (fun (((s, p), t), g) ->
            let x = vec [| 0.3; -0.4 |]
            let m = marginal g s t
            let tk = GaussianMixture(g.Weights, g.Means, g.Covs).Diffuse(p, t)
            let fromScore = Parameterization.VelocityFromScore(p.At t, x, tk.Score x)
            let fromPosterior = s.AlphaDot t * m.PosteriorMean x + s.SigmaDot t * m.EpsHat x
            let scale = max 1.0 (fromPosterior.AbsoluteMaximum())
            [ Check.within "v from the score = E[alpha' x0 + sigma' eps | x] (F2 posterior)" ((fromScore - fromPosterior).AbsoluteMaximum() / scale) 1e-10 ])
        |> Check.worst
    let roundTrips = conversionChecks (fun (s: Schedule) t -> s.AlphaDot t) 92
    let vpOnly =
        sample 93 cases (Gen.zip time (vector 2 -2.0 2.0))
        |> List.map (fun (t, e) ->
            let p = VpCosine()
            let pt = p.At(min t 0.98)
            let x, eps = vec [| 0.5; -1.0 |], vec e
            let v = Parameterization.VFromEps(pt, x, eps)
            let x0 = Parameterization.X0FromEps(pt, x, eps)
            Check.within "VP: x0 = alpha x - sigma v" ((pt.Alpha * x - pt.Sigma * v - x0).AbsoluteMaximum()) 1e-12)
        |> Check.worst
    let rf = RectifiedFlow()
    let rfVelocity =
        sample 94 cases (Gen.zip (timeBelow 0.98) (vector 2 -2.0 2.0))
        |> List.map (fun (t, e) ->
            let x0 = vec [| 0.2; 0.9 |]
            let eps = vec e
            let x = (1.0 - t) * x0 + t * eps
            Check.within "RF: velocity = eps - x0" ((Parameterization.VelocityFromEps(rf.At t, x, eps) - (eps - x0)).AbsoluteMaximum()) 1e-12)
        |> Check.worst
    [ velocity; roundTrips; vpOnly; rfVelocity ]

/// PROC-09 control: the VP-only identity x0 = alpha x - sigma v applied to RF.
let vpFormulaOnRf () =
    let p = RectifiedFlow()
    sample 95 cases (Gen.zip (timeBelow 0.98) (vector 2 -2.0 2.0))
    |> List.map (fun (t, e) ->
        let pt = p.At t
        let x, eps = vec [| 0.5; -1.0 |], vec e
        let v = Parameterization.VFromEps(pt, x, eps)
        Check.within "x0 = alpha x - sigma v" ((pt.Alpha * x - pt.Sigma * v - Parameterization.X0FromEps(pt, x, eps)).AbsoluteMaximum()) 1e-12)

let claims =
    [ claim "PROC-01" "linear SDE => N(alpha x0, sigma^2 I); alpha, sigma from f, g" family proc01
      claim "PROC-02" "f = alpha'/alpha, g^2 = alpha^2 (sigma^2/alpha^2)'" family proc02
      claim "PROC-03" "sigma^2/alpha^2 non-decreasing, lambda' = -g^2/sigma^2" family proc03
      claim "PROC-04" "DDPM -> VP-SDE limit; VP sigma^2 = 1 - alpha^2" family proc04
      claim "PROC-05" "SD scaled-linear: continuous closed form vs discrete" family proc05
      claim "PROC-06" "VE / VP / sub-VP / RF classification table" family proc06
      claim "PROC-07" "conversion to the VP normal form (SDE and ODE)" family proc07
      claim "PROC-08" "conversion to the VE normal form; dx^/dvarsigma = eps^" family proc08
      claim "PROC-09" "PF-ODE in signal/noise form; parameterisation conversions" family proc09 ]

let controls =
    [ control "PROC-02" "g^2 with the factor 2 of 2 sigma sigma' dropped" family (fun () -> perCase 31 40 (proc02Checks g2DroppedFactor))
      control "PROC-05" "SD: exponent 1/(6a) used for alpha^2 (alpha for alpha^2)" family (fun () -> sdChecks sdAlphaAsAlphaSquared)
      control "PROC-05" "SD: alpha(T t) evaluated for alpha(t/T)" family (fun () -> sdChecks sdAlphaAtTt)
      control "PROC-06" "sub-VP with e^{-B} instead of e^{-2B}" family (fun () -> tableRelationChecks (tableRows 1.0))
      control "PROC-09" "v-prediction's VP identity applied to RF" family vpFormulaOnRf
      control "PROC-09" "alpha' with the wrong sign in the velocity" family (fun () -> [ conversionChecks (fun s t -> -(s.AlphaDot t)) 96 ])
      control "PROC-01" "variance ODE (sigma^2)' = f sigma^2 + g^2 (factor 2 dropped)" family (fun () -> proc01Arbitrary 1.0)
      control "PROC-03" "lambda' = -g^2/(2 sigma^2)" family (fun () -> proc03Derivatives (fun p t -> -(p.DiffusionSquared t) / (2.0 * p.Sigma t ** 2.0)))
      control "PROC-07" "VP form dividing by alpha + sigma" family (fun () -> proc07Coefficients wrongVpForm)
      control "PROC-08" "VE form keeping sigma (x not divided by alpha)" family (fun () -> proc08Coefficients keepSigmaVeForm)
      control "PROC-04" "VP-SDE with g^2 = beta/2 (f's factor 1/2 copied)" family (fun () -> [ proc04Variance 0.5 ]) ]
