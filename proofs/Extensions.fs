/// Extensions named in S3's table of contents (docs/claims.md): NG-01 (non-Gaussian noise) and
/// BITS-01 (analog bits). The toolkit side is Research.Diffusion's DdpmSchedule, DiffusedMixture and AnalogBits;
/// the independent side is simulation, the exact cumulant recursion, finite differences and quadrature.
module Research.Proofs.Extensions

open System
open Research.Torch
open Research.Diffusion
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Fixtures

let family = "Extensions"


// ---------------------------------------------------------------------------------------------
// NG-01 (1): the forward chain with non-Gaussian noise

/// sum_{s <= t} beta_s^2 prod_{s < r <= t} (1 - beta_r)^2, written as the sum (the claim's closed form).
let kurtosisWeight (table: DdpmSchedule) t =
    Seq.sum (seq { for s in 1..t -> table.Beta s ** 2.0 * Seq.fold (fun acc r -> acc * (1.0 - table.Beta r) ** 2.0) 1.0 (seq { s + 1 .. t }) })

/// Unit-variance noises with their fourth cumulants, drawn by inversion of a uniform.
let laplace = "Laplace", 3.0, (fun (u: float) -> let v = u - 0.5 in -float (sign v) / sqrt 2.0 * log (1.0 - 2.0 * abs v))
let uniformNoise = "uniform", -1.2, (fun (u: float) -> sqrt 3.0 * (2.0 * u - 1.0))

/// The unbiased fourth k-statistic.
let k4 (xs: float[]) =
    let n = float xs.Length
    let mean = Array.average xs
    let m2 = xs |> Array.averageBy (fun x -> (x - mean) ** 2.0)
    let m4 = xs |> Array.averageBy (fun x -> (x - mean) ** 4.0)
    n * n * ((n + 1.0) * m4 - 3.0 * (n - 1.0) * m2 * m2) / ((n - 1.0) * (n - 2.0) * (n - 3.0))

/// [M] N = 10^6 chains x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) n_t from x_0 = 0.7 under the SD table, to
/// step t (section 15.6: t <= 10, t <= 5 for uniform noise, where kappa_4 has >= 20 SE of power against 0).
let chainMonteCarlo (table: DdpmSchedule) (name, kappa4, draw: float -> float) t seed =
    let n, x0 = 1_000_000, 0.7
    let r = rng seed
    let xs = Array.create n x0
    for s in 1..t do
        let a, b = sqrt (1.0 - table.Beta s), sqrt (table.Beta s)
        for i in 0 .. n - 1 do
            xs[i] <- a * xs[i] + b * draw (r.NextDouble())
    let mo = moments xs
    let batches = Array.chunkBySize (n / 100) xs |> Array.map k4
    let k, kSe = meanAndSe batches
    let abar = table.AlphaBar t
    let label what = sprintf "[M] %s noise, t = %d: %s" name t what
    [ Check.monteCarlo (label "mean = sqrt(alpha-bar) x_0") mo.Mean mo.SeMean (sqrt abar * x0) 0.0
      Check.monteCarlo (label "variance = 1 - alpha-bar") mo.Variance mo.SeVariance (1.0 - abar) 0.0
      Check.monteCarlo (label "kappa_4 (k-statistic, 100 batch means) = kappa_4(n) sum beta^2 prod (1-beta)^2") k kSe (kappa4 * kurtosisWeight table t) 0.0
      Check.power (label "power: the Gaussian kappa_4 = 0 is >= 20 SE away") k kSe 0.0 ]

let ng01Chain () =
    let table = DdpmSchedule.ScaledLinear()
    let recursion =
        [ 1; 10; 100; 1000 ]
        |> List.collect (fun t ->
            let mutable var, weight = 0.0, 0.0
            for s in 1..t do
                var <- (1.0 - table.Beta s) * var + table.Beta s
                weight <- (1.0 - table.Beta s) ** 2.0 * weight + table.Beta s ** 2.0
            [ Check.close "[A] variance recursion = 1 - alpha-bar_t (toolkit table)" 1e-12 var (1.0 - table.AlphaBar t)
              Check.relClose "[A] kappa_4 recursion = the closed sum" 1e-12 weight (kurtosisWeight table t) ])
        |> Check.grouped
    let weightT = kurtosisWeight table 1000
    recursion
    @ [ Check.relClose "[A] SD table, t = T: sum beta^2 prod (1-beta)^2 = 0.005658393467052102" 1e-12 weightT 0.005658393467052102
        Check.relClose "[A] SD table, t = T: excess-kurtosis factor = 0.005711501754790445" 1e-12 (weightT / (1.0 - table.AlphaBar 1000) ** 2.0) 0.005711501754790445 ]
    @ chainMonteCarlo table laplace 10 501
    @ chainMonteCarlo table uniformNoise 5 502

// ---------------------------------------------------------------------------------------------
// NG-01 (2, 3): DSM and Tweedie with logistic noise on a Dirac mixture

/// Logistic noise of unit variance: scale sqrt 3 / pi.
let logisticScale = sqrt 3.0 / Math.PI
let logisticLogPdf u = let z = -u / logisticScale in z - 2.0 * (max z 0.0 + log (1.0 + exp (-(abs z)))) - log logisticScale
/// (log rho)'(u) = -tanh(u / (2a)) / a.
let logisticScore u = -tanh (u / (2.0 * logisticScale)) / logisticScale

let atoms = [| -1.0; 0.5; 2.0 |], [| 0.3; 0.2; 0.5 |]

/// p_rho(x~) = sum_k pi_k rho(x~ - m_k); the posterior weights of the atoms given x~.
let logisticLogDensity (x: float) = let m, w = atoms in logSumExp (Array.map2 (fun mk wk -> log wk + logisticLogPdf (x - mk)) m w)
let logisticPosterior (x: float) =
    let m, w = atoms
    let l = Array.map2 (fun mk wk -> log wk + logisticLogPdf (x - mk)) m w
    let z = logSumExp l
    l |> Array.map (fun v -> exp (v - z))

let probes = [ -3.0; -1.2; -0.3; 0.4; 1.1; 2.5; 4.0 ]

let ng01Dsm () =
    let m, w = atoms
    let variance = integrateLine (fun u -> u * u * exp (logisticLogPdf u)) [ -10.0; -3.0; 0.0; 3.0; 10.0 ]
    probes
    |> List.collect (fun x ->
        let r = logisticPosterior x
        let minimiser = Array.fold2 (fun acc rk mk -> acc + rk * logisticScore (x - mk)) 0.0 r m
        // grad p / p with p and p' summed directly (no log-sum-exp, no posterior)
        let dens = Array.map2 (fun mk wk -> wk * exp (logisticLogPdf (x - mk))) m w
        let gradP = Array.fold2 (fun acc d mk -> acc + d * logisticScore (x - mk)) 0.0 dens m
        let fd = derivative logisticLogDensity x 1e-5
        [ Check.close "[A] DSM minimiser E[(log rho)'(x~ - x) | x~] = grad p / p" 1e-12 minimiser (gradP / Array.sum dens)
          Check.relClose "[D] DSM minimiser = FD of log p_rho" 1e-7 minimiser fd ])
    |> Check.grouped
    |> List.append [ Check.relClose "[Q] logistic noise of scale sqrt 3/pi has variance 1" 1e-9 variance 1.0 ]

/// Tweedie E[x | x~] = x~ + sigma^2 grad log p(x~) (sigma^2 = 1) against the posterior mean of the atoms:
/// under Gaussian noise (toolkit DiffusedMixture, EDM at t = 1) and, for the control, under logistic noise.
let tweedieChecks logistic =
    let m, w = atoms
    probes
    |> List.map (fun x ->
        if logistic then
            let posteriorMean = Array.fold2 (fun acc rk mk -> acc + rk * mk) 0.0 (logisticPosterior x) m
            let score = Array.fold2 (fun acc rk mk -> acc + rk * logisticScore (x - mk)) 0.0 (logisticPosterior x) m
            Check.close "Tweedie: E[x | x~] = x~ + sigma^2 grad log p(x~)" 1e-10 posteriorMean (x + score)
        else
            let tk = GaussianMixture.OneDimensional(w, m, [| 0.0; 0.0; 0.0 |]).Diffuse(Edm(), 1.0)
            Check.close "Tweedie: E[x | x~] = x~ + sigma^2 grad log p(x~)" 1e-10 (tk.PosteriorMean x) (x + tk.Score x))
    |> Check.worst

let ng01 () =
    let tweedieError = (tweedieChecks true).Residual
    ng01Chain ()
    @ ng01Dsm ()
    @ [ tweedieChecks false
        Check.exceeds "Tweedie's error under logistic noise is >> the 1e-10 tolerance" tweedieError 1e-6 ]

// ---------------------------------------------------------------------------------------------
// BITS-01

/// The [M] bit error rate against `flip` s tau: the claim's Phi(-s/tau), or the control's Phi(-2s/tau) (a flip
/// taken to need noise across the whole gap 2s between the codes).
let bitErrorRate (flip: float -> float -> float) =
    use scope = torch.NewDisposeScope()
    let scale, tau, k = 0.7, 0.35, 16
    use generator = new Generator(503UL)
    let values = torch.randint(0L, 1L <<< k, [| 1L <<< 16 |], generator = generator)
    let x = AnalogBits.Encode(values, k, scale)
    let noisy = x + torch.randn(x.shape, ScalarType.Float64, generator = generator) * tau
    let flips = AnalogBits.Encode(AnalogBits.Decode noisy, k, scale).ne(x).``to``(ScalarType.Float64)
    let p = flip scale tau
    Check.monteCarlo "[M] 2^20 bits: bit error rate = Phi(-s/tau)" (flips.mean().ToDouble()) (sqrt (p * (1.0 - p) / float flips.numel)) p 0.0

let bits01 () =
    use scope = torch.NewDisposeScope()
    let scale = 0.7
    let roundTrip =
        [ 1..16 ]
        |> List.collect (fun k ->
            let values = torch.arange(1L <<< k)
            let x = AnalogBits.Encode(values, k, scale)
            let codes = ScoreMatching.values x
            let expansionErrors =
                Seq.sum (seq { for c in 0 .. (1 <<< k) - 1 do
                                 for j in 0 .. k - 1 -> if codes[c * k + j] = (if (c >>> (k - 1 - j)) &&& 1 = 1 then scale else -scale) then 0.0 else 1.0 })
            let decoded = AnalogBits.Decode(x).data<int64>()
            let mismatches = decoded |> Array.mapi (fun c v -> if v = int64 c then 0.0 else 1.0) |> Array.sum
            [ Check.within "codes are the binary expansion in {-s, s}, k = 1..16 (entries wrong)" expansionErrors 0.0
              Check.within "exhaustive round trip decode(encode(c)) = c, k = 1..16 (mismatches)" mismatches 0.0 ])
        |> Check.grouped
    // [M] 2^20 bits through x + tau u, decoded, re-encoded and compared bit by bit: the fraction flipped is the
    // library's BitErrorProbability, itself checked against Phi(-s/tau).
    let tau = 0.35
    roundTrip
    @ [ Check.relClose "toolkit BitErrorProbability = Phi(-s/tau)" 1e-12 (AnalogBits.BitErrorProbability(scale, tau)) (Phi(-scale / tau))
        bitErrorRate (fun s t -> AnalogBits.BitErrorProbability(s, t)) ]

let claims =
    [ claim "NG-01" "non-Gaussian noise: moments, kappa_4, DSM minimiser, no Tweedie" family ng01
      claim "BITS-01" "analog bits round trip and bit error rate" family bits01 ]

let controls =
    [ control "NG-01" "Tweedie's formula under logistic (non-Gaussian) noise" family (fun () -> [ tweedieChecks true ])
      control "BITS-01" "bit error rate Phi(-2s/tau) (noise across the whole gap 2s)" family (fun () -> [ bitErrorRate (fun s t -> Phi(-2.0 * s / t)) ]) ]
