/// Energy-based and autoregressive models (docs/claims.md): EBM-01 .. EBM-03 and AR-01.
/// These are identities of densities, so both sides are independent computations: adaptive Gauss–Kronrod
/// against a trapezoid rule or closed forms, finite differences, inverse-cdf Monte Carlo, brute-force
/// marginalisation over a finite state space, and Schur complements against MathNet's Gaussian.
module Research.Proofs.Energy

open System
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Research.Torch
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Generators

let family = "Energy"


/// A 1-D EBM q = e^{-f} / Z with Z by [Q] (GK split at the given breakpoints).
type Ebm1 =
    { Energy: float -> float
      Z: float
      Breakpoints: float list }
    member e.LogQ x = -e.Energy x - log e.Z
    member e.Q x = exp (e.LogQ x)

let private unitBreaks = [ -6.0 .. 1.0 .. 6.0 ]
let ebm (f: float -> float) breaks = { Energy = f; Z = integrateLine (fun x -> exp -(f x)) breaks; Breakpoints = breaks }

// ---------------------------------------------------------------------------------------------
// EBM-01: double well f(x) = x^4/4 - x^2

let doubleWell x = x ** 4.0 / 4.0 - x * x
let private wellBreaks = unitBreaks @ [ -sqrt 2.0; sqrt 2.0 ]

/// The ordering claim with `lowerIsLikelier`: true is the claim, false S4 L105's reading.
let ebm01Ordering lowerIsLikelier =
    let q = ebm doubleWell wellBreaks
    let r = rng 4101
    let pairs = Array.init 1000 (fun _ -> 6.0 * r.NextDouble() - 3.0, 6.0 * r.NextDouble() - 3.0)
    let agrees = pairs |> Array.forall (fun (a, b) -> (doubleWell a < doubleWell b) = ((q.Q a > q.Q b) = lowerIsLikelier))
    Check.isTrue "lower energy <=> higher density at 1000 random pairs" agrees

/// [D] the score without Z, -f'(x) (sign -1), against FD of log q.
let ebm01Score sign =
    let q = ebm doubleWell wellBreaks
    [ -2.5; -1.3; -0.4; 0.2; 0.9; 1.6; 2.7 ]
    |> List.map (fun x ->
        let h = 1e-5 * max 1.0 (abs x)
        let fd = derivative q.LogQ x h
        Check.close "[D] score -f'(x) = d/dx log q (Z-free)" 1e-7 (sign * (x ** 3.0 - 2.0 * x)) fd)
    |> Check.worst

/// EBM-01 in the library: Research.Models.EnergyModel's score (autograd of its energy, sign `-1` as claimed: s = -grad E)
/// and its energy Laplacian, against central differences of its own E(x, sigma), for a seeded float64 network.
let ebm01Library sign =
    use scope = torch.NewDisposeScope()
    use model = new Research.Models.EnergyModel(2, 16, Research.Diffusion.VeGeometric(), options = torch.nn.LayerOptions(torch.float64))
    use g = new Generator(1234UL)
    for p in model.Network.parameters () do
        torch.nn.init.normal_ (p, 0.0, 0.5, g) |> ignore
    let sigma = torch.tensor [| 0.7 |]
    let data (x: Tensor) = use c = x.contiguous () in c.data<float> ()
    let energy (x: float[]) = use s = torch.NewDisposeScope() in model.Energy(torch.tensor (x, [| 1L; 2L |]), sigma).ToDouble()
    let points = Array.init 8 (fun i -> [| -1.5 + 0.4 * float i; 1.0 - 0.3 * float i |])
    let xs = torch.tensor (Array.concat points, [| 8L; 2L |])
    let score = data (model.Score(xs, sigma))
    let laplacian = data (model.EnergyLaplacian(xs, sigma))
    let h1, h2 = 1e-5, 1e-4
    let shifted (x: float[]) j d = Array.mapi (fun k v -> if k = j then v + d else v) x
    points
    |> Array.mapi (fun i x ->
        let grad j = (energy (shifted x j h1) - energy (shifted x j -h1)) / (2.0 * h1)
        let fdLaplacian = Seq.sum (seq { for j in 0..1 -> (energy (shifted x j h2) - 2.0 * energy x + energy (shifted x j -h2)) / (h2 * h2) })
        [ Check.close "[D] library EnergyModel.Score = -grad E (FD of its energy)" 1e-7 score[2 * i] (sign * grad 0)
          Check.close "[D] library EnergyModel.Score = -grad E (FD of its energy)" 1e-7 score[2 * i + 1] (sign * grad 1)
          Check.close "[D] library EnergyModel.EnergyLaplacian = FD Laplacian of E" 1e-5 laplacian[i] fdLaplacian ])
    |> List.concat
    |> Check.grouped

let ebm01 () =
    let q = ebm doubleWell wellBreaks
    // The trapezoid rule on [-7, 7], h = 0.005, is spectrally accurate for this entire, fast-decaying integrand.
    let trapezoid = 0.005 * Seq.sum (seq { for i in -1400 .. 1400 -> exp -(doubleWell (float i * 0.005)) })
    let shifted = ebm (fun x -> doubleWell x + 5.0) wellBreaks
    let narrow = ebm (fun x -> x * x / (2.0 * 0.01)) (List.ofSeq (breakpointsAround [ (0.0, 0.1) ]))
    [ Check.close "[Q] Z by Gauss-Kronrod = Z by the trapezoid rule" 1e-9 q.Z trapezoid
      Check.close "[Q] integral of q = 1" 1e-9 (integrateLine q.Q wellBreaks) 1.0
      ebm01Ordering true
      ebm01Score -1.0
      Check.close "[A] Z(f + 5) = e^{-5} Z(f)" 1e-12 shifted.Z (exp -5.0 * q.Z)
      Check.worst [ for x in -3.0 .. 0.25 .. 3.0 -> Check.close "[A] f + 5 gives the same q" 1e-12 (shifted.Q x) (q.Q x) ]
      Check.close "[A] golden: N(0, 0.1^2) peaks at 3.989422804014327" 1e-12 (normalPdf 0.0 0.01 0.0) 3.989422804014327
      Check.close "[Q] the EBM x^2/(2 0.1^2), normalised by quadrature, peaks at the golden (> 1)" 1e-9 (narrow.Q 0.0) 3.989422804014327 ]
    @ ebm01Library -1.0

// ---------------------------------------------------------------------------------------------
// EBM-02: sum of energies = product of experts

let private gaussianEnergy m s x = (x - m) * (x - m) / (2.0 * s * s)

let productCase = zip4 (uniform -2.0 2.0) (uniform -2.0 2.0) (Gen.zip (uniform 0.3 2.0) (uniform 0.3 2.0)) (uniform -3.0 3.0)

/// q12 = e^{-f1-f2}/Z12 against q1 q2 / `normaliser`: the claim divides by int q1 q2, S4 L116 by 1.
let ebm02Pointwise (normaliser: Ebm1 -> Ebm1 -> float) =
    let q1 = ebm doubleWell wellBreaks
    let q2 = ebm (gaussianEnergy 1.0 1.0) unitBreaks
    let q12 = ebm (fun x -> doubleWell x + gaussianEnergy 1.0 1.0 x) wellBreaks
    let c = normaliser q1 q2
    Check.worst [ for x in -2.5 .. 0.25 .. 2.5 -> Check.close "[Q] q12 = q1 q2 / int q1 q2 (double well x N(1, 1))" 1e-9 (q12.Q x) (q1.Q x * q2.Q x / c) ]

let private overlap (q1: Ebm1) (q2: Ebm1) = integrateLine (fun x -> q1.Q x * q2.Q x) (q1.Breakpoints @ q2.Breakpoints)

let ebm02 () =
    let pointwise =
        sample 4201 cases productCase
        |> List.collect (fun (m1, m2, (s1, s2), x) ->
            let s2p = 1.0 / (1.0 / (s1 * s1) + 1.0 / (s2 * s2))
            let m = s2p * (m1 / (s1 * s1) + m2 / (s2 * s2))
            let z1, z2 = sqrt (2.0 * Math.PI) * s1, sqrt (2.0 * Math.PI) * s2
            let bps = List.ofSeq (breakpointsAround [ m1, s1; m2, s2 ])
            let z12 = integrateLine (fun y -> exp -(gaussianEnergy m1 s1 y + gaussianEnergy m2 s2 y)) bps
            [ Check.close "[A] N(x; m1, s1^2) N(x; m2, s2^2) = N(m1; m2, s1^2 + s2^2) N(x; m, s^2) (log)" 1e-12
                  (normalLogPdf m1 (s1 * s1) x + normalLogPdf m2 (s2 * s2) x) (normalLogPdf m2 (s1 * s1 + s2 * s2) m1 + normalLogPdf m s2p x)
              Check.close "[Q] Z12 = Z1 Z2 N(m1; m2, s1^2 + s2^2)" 1e-9 z12 (z1 * z2 * normalPdf m2 (s1 * s1 + s2 * s2) m1) ])
        |> Check.grouped
    let q1 = ebm doubleWell wellBreaks
    let q2 = ebm (gaussianEnergy 1.0 1.0) unitBreaks
    let q12 = ebm (fun x -> doubleWell x + gaussianEnergy 1.0 1.0 x) wellBreaks
    let g1, g2 = ebm (gaussianEnergy 0.0 1.0) unitBreaks, ebm (gaussianEnergy 1.0 1.0) unitBreaks
    pointwise
    @ [ Check.close "[Q] double well x N(1, 1): Z12 = Z1 Z2 int q1 q2" 1e-9 q12.Z (q1.Z * q2.Z * overlap q1 q2)
        ebm02Pointwise overlap
        Check.close "[Q] golden int q1 q2 = phi(1/sqrt 2)/sqrt 2 = 0.2196956447338612 (not 1)" 1e-9 (overlap g1 g2) 0.2196956447338612 ]

// ---------------------------------------------------------------------------------------------
// EBM-03: log-likelihood and its gradient for f = t1 x^2/2 + t2 x + t3 x^4/4

let energy3 (t: float[]) x = t[0] * x * x / 2.0 + t[1] * x + t[2] * x ** 4.0 / 4.0
let private energyGradient (x: float) = [| x * x / 2.0; x; x ** 4.0 / 4.0 |]

/// The data: 400 draws of 0.8 z + 0.3 (fixed seed).
let private data = normals (rng 4301) 400 |> Array.map (fun z -> 0.8 * z + 0.3)

let logLikelihood (t: float[]) = -(Array.averageBy (energy3 t) data) - log (ebm (energy3 t) unitBreaks).Z

/// grad L = -mean grad f(x^i) + E_q grad f, the expectation by [Q].
let gradientFormula (t: float[]) =
    let q = ebm (energy3 t) unitBreaks
    Array.init 3 (fun k -> -(Array.averageBy (fun x -> (energyGradient x)[k]) data) + integrateLine (fun x -> q.Q x * (energyGradient x)[k]) unitBreaks)

/// theta with t3 >= 0, and t1 > 0 where t3 = 0 (half of the cases).
let thetaCase =
    gen {
        let! t1 = uniform -1.0 2.0
        let! t2 = uniform -1.0 1.0
        let! t3 = uniform 0.1 1.0
        let! quartic = Gen.elements [ true; false ]
        return if quartic then [| t1; t2; t3 |] else [| abs t1 + 0.3; t2; 0.0 |]
    }

/// [D] with the negative phase E_q grad f either kept (the claim) or replaced by the data average.
let ebm03Gradient negativePhase =
    sample 4302 8 thetaCase
    |> List.collect (fun t ->
        let g = if negativePhase then gradientFormula t else Array.zeroCreate 3
        let fd = gradient logLikelihood t (1e-5 * max 1.0 (Array.map abs t |> Array.max))
        // At t3 = 0 the two-sided step in t3 leaves the integrable set, so only t1, t2 are differenced there.
        List.init (if t[2] = 0.0 then 2 else 3) (fun k -> Check.close "[D] FD of the quadrature L = -mean grad f + E_q grad f" 1e-7 g[k] fd[k]))
    |> Check.worst

/// Inverse-cdf sampling of q: the cdf tabulated at nodes by GK, then Brent inside the node interval.
let inverseCdfSamples (q: Ebm1) (r: Random) n =
    let nodes = [| -8.0 .. 0.25 .. 8.0 |]
    let cdf = Array.scan (+) 0.0 (Array.pairwise nodes |> Array.map (fun (a, b) -> integrate q.Q a b))
    let total = cdf[cdf.Length - 1]  // the mass outside [-8, 8] is below 1e-20 for these energies
    Array.init n (fun _ ->
        let u = r.NextDouble() * total
        let i = min (nodes.Length - 2) (max 0 (Array.findIndexBack (fun c -> c <= u) cdf))
        findRoot (fun x -> cdf[i] + integrate q.Q nodes[i] x - u) nodes[i] nodes[i + 1])

let ebm03 () =
    // A double well far from the data's fit, so the negative phase differs from the data average (power).
    let t = [| -1.0; 0.5; 0.5 |]
    let q = ebm (energy3 t) unitBreaks
    let xs = inverseCdfSamples q (rng 4303) 100_000
    let phase k = integrateLine (fun x -> q.Q x * (energyGradient x)[k]) unitBreaks
    let mc = List.init 3 (fun k -> meanAndSe (xs |> Array.map (fun x -> (energyGradient x)[k])))
    let positive k = Array.averageBy (fun x -> (energyGradient x)[k]) data
    // theta3 = 0: the maximiser is the Gaussian MLE (MLE-01), theta1 = 1/var, theta2 = -mean/var.
    let mu = Array.average data
    let var = data |> Array.averageBy (fun x -> (x - mu) ** 2.0)
    let star = [| 1.0 / var; -mu / var; 0.0 |]
    let fitted = minimise (fun p -> -(logLikelihood [| p[0]; p[1]; 0.0 |])) [| 1.0; 0.0 |]
    [ ebm03Gradient true ]
    @ (mc |> List.mapi (fun k (m, se) -> Check.monteCarlo "[M] E_q grad f from 1e5 inverse-cdf samples, within 5 SE" m se (phase k) 0.0))
    @ (mc |> List.mapi (fun k (m, se) -> Check.power "[M] power: the negative phase is >= 20 SE from the data average" m se (positive k)))
    @ [ Check.within "[Q] theta3 = 0: grad L vanishes at the Gaussian MLE" (gradientFormula star |> Array.take 2 |> Array.map abs |> Array.max) 1e-9
        Check.close "maximiser over (theta1, theta2) = 1/var" 1e-6 fitted[0] star[0]
        Check.close "maximiser over (theta1, theta2) = -mean/var" 1e-6 fitted[1] star[1] ]

// ---------------------------------------------------------------------------------------------
// AR-01: autoregressive factorisation on {0,1,2}^4 and for a Gaussian in R^4

let private states = [| for a in 0..2 do for b in 0..2 do for c in 0..2 do for d in 0..2 -> [| a; b; c; d |] |]

let private permutations (xs: int list) =
    let rec perms = function
        | [] -> [ [] ]
        | l -> l |> List.collect (fun x -> perms (List.filter ((<>) x) l) |> List.map (fun p -> x :: p))
    perms xs

/// A random pmf on {0,1,2}^4 (positive, normalised).
let private randomPmf seed =
    let r = rng seed
    let w = states |> Array.map (fun _ -> 0.05 + r.NextDouble())
    let s = Array.sum w
    Array.map (fun v -> v / s) w

/// Marginal of the coordinates `fixedCoords` at the values of `x`, by summing the pmf.
let private marginal (pmf: float[]) (fixedCoords: int list) (x: int[]) =
    Array.fold2 (fun acc (s: int[]) p -> if fixedCoords |> List.forall (fun i -> s[i] = x[i]) then acc + p else acc) 0.0 states pmf

/// Softmax conditionals p(x_i | x_<i) with logits from a random table indexed by the prefix.
let private softmaxModel seed =
    let r = rng seed
    let table = Collections.Generic.Dictionary<string, float[]>()
    fun (prefix: int[]) (v: int) ->
        let key = String.Join(",", prefix)
        if not (table.ContainsKey key) then table[key] <- Array.init 3 (fun _ -> 3.0 * (r.NextDouble() - 0.5))
        let logits = table[key]
        exp (logits[v] - logSumExp logits)

let private modelJoint (cond: int[] -> int -> float) (x: int[]) = Seq.init 4 (fun i -> cond x[0 .. i - 1] x[i]) |> Seq.reduce (*)

/// S2 L161's statement: the model's product of conditionals equals p_data (the claim compares it with
/// the model's own joint, which is the product by construction, so the control uses a data pmf).
let ar01DataIsProduct () =
    let pData = randomPmf 4402
    let cond = softmaxModel 4403
    states |> Array.mapi (fun i x -> Check.close "[A] p_data(x) = product of the model's conditionals" 1e-12 (log pData[i]) (log (modelJoint cond x))) |> Check.worst

/// Schur-complement conditionals; `schur = false` uses the marginal variance Sigma_ii (the control).
let ar01Gaussian schur =
    sample 4404 cases (Gen.zip (Gen.zip (vector 4 -1.0 1.0) (spd 4)) (Gen.arrayOfLength 5 (vector 4 -2.0 2.0)))
    |> List.collect (fun ((mu, s), xs) ->
        let sigma = Matrix<float>.Build.DenseOfArray s
        xs
        |> Array.toList
        |> List.map (fun x ->
            let conditional i =
                if i = 0 then normalLogPdf mu[0] sigma[0, 0] x[0]
                else
                    let sPrev = sigma.SubMatrix(0, i, 0, i)
                    let sCross = sigma.SubMatrix(i, 1, 0, i).Row(0)
                    let w = sPrev.Solve sCross
                    let mean = mu[i] + w * (vec x[0 .. i - 1] - vec mu[0 .. i - 1])
                    let variance = if schur then sigma[i, i] - w * sCross else sigma[i, i]
                    normalLogPdf mean variance x[i]
            Check.close "[A] Gaussian: sum of Schur-complement conditional log-densities = log N(x; mu, Sigma)" 1e-10
                (List.sumBy conditional [ 0..3 ]) (mvnLogPdf (vec mu) sigma (vec x))))
    |> Check.worst

let ar01 () =
    let pmf = randomPmf 4401
    let chain =
        permutations [ 0..3 ]
        |> List.map (fun order ->
            states
            |> Array.mapi (fun k x ->
                // p(x_{o_j} | x_{o_<j}) = marginal(o_<=j) / marginal(o_<j), by summing the pmf.
                let product = List.init 4 (fun j -> marginal pmf (List.take (j + 1) order) x / marginal pmf (List.take j order) x) |> List.reduce (*)
                Check.close "[A] chain rule: product of conditionals = joint, all 24 orderings of {0,1,2}^4" 1e-12 (log product) (log pmf[k]))
            |> Check.worst)
        |> Check.worst
    let cond = softmaxModel 4403
    let total = states |> Array.sumBy (modelJoint cond)
    let x = [| 2; 0; 1; 1 |]
    [ chain
      Check.close "[A] normalised softmax conditionals: sum over the 81 states = 1" 1e-13 total 1.0
      Check.close "[A] NLL = -sum log p(x_i | x_<i)" 1e-13 (-(log (modelJoint cond x))) (-(Seq.init 4 (fun i -> log (cond x[0 .. i - 1] x[i])) |> Seq.sum))
      ar01Gaussian true ]

let claims =
    [ claim "EBM-01" "normalised EBM, sign convention, Z-free score" family ebm01
      claim "EBM-02" "sum of energies = product of experts" family ebm02
      claim "EBM-03" "EBM log-likelihood and its gradient" family ebm03
      claim "AR-01" "autoregressive factorisation and normalisation" family ar01 ]

let controls =
    [ control "EBM-01" "S4 L105: low energy means unlikely" family (fun () -> [ ebm01Ordering false ])
      control "EBM-01" "score +f' (S2 Step 1's exp(+E))" family (fun () -> [ ebm01Score 1.0 ])
      control "EBM-01" "library EnergyModel score compared with +grad E" family (fun () -> ebm01Library 1.0)
      control "EBM-02" "S4 L116: exp(-f1 - f2) / Z12 = q1 q2" family (fun () -> [ ebm02Pointwise (fun _ _ -> 1.0) ])
      control "EBM-03" "negative phase E_q grad f dropped" family (fun () -> [ ebm03Gradient false ])
      control "AR-01" "S2 L161: p_data = product of model conditionals" family (fun () -> [ ar01DataIsProduct () ])
      control "AR-01" "Gaussian conditionals with the marginal variance" family (fun () -> [ ar01Gaussian false ]) ]
