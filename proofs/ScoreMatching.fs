/// Score matching and Langevin dynamics (docs/claims.md): SM-02, SM-03, LD-01, LD-02.
/// The toolkit side is Research.Diffusion's GaussianMixture / DiffusedMixture (quadrature sides), TensorMixture
/// (scores on tensors for the Monte Carlo sides) and the AnnealedLangevin sampler; the independent side is
/// adaptive Gauss–Kronrod, the exact ULA recursions of a Gaussian target, and the F2 fixtures.
module Research.Proofs.ScoreMatching

open System
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Research.Torch
open Research.Diffusion
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Generators
open Research.Proofs.Fixtures

let family = "ScoreMatching"


// ---------------------------------------------------------------------------------------------
// Tensor helpers (Monte Carlo on float64 tensors through Research.Torch)

let values (x: Tensor) = use c = x.contiguous() in c.data<float>()

/// Mean and SE s / sqrt N of the entries of a tensor.
let tensorMeanAndSe (x: Tensor) =
    use scope = torch.NewDisposeScope()
    x.mean().ToDouble(), x.std().ToDouble() / sqrt (float x.numel)

/// N draws of an F2 mixture with isotropic components (S_k = v_k I; v_k = 0 is a Dirac atom), as [n, d].
let sampleTensor (g: Gmm) (n: int64) (generator: Generator) =
    let sd =
        g.Covs |> Array.map (fun c ->
            let v = c[0, 0]
            if (c - v * eye g.Dim).InfinityNorm() > 0.0 then invalidArg "g" "sampleTensor needs isotropic components"
            sqrt v)
    use scope = torch.NewDisposeScope()
    let k = torch.multinomial(torch.tensor g.Weights, n, true, generator)
    let means = torch.tensor(g.Means |> Array.collect (fun m -> m.ToArray()), [| int64 g.K; int64 g.Dim |])
    let noise = torch.randn([| n; int64 g.Dim |], ScalarType.Float64, generator = generator)
    (means.index_select(0L, k) + noise * torch.tensor(sd).index_select(0L, k).unsqueeze(-1L)).MoveToOuterScope()

/// The clean data (alpha = 1, sigma = 0) and its convolution with N(0, sigma^2 I) (alpha = 1, the VE form).
let clean = ProcessPoint(1.0, 0.0, 0.0, 0.0)
let smoothed sigma = ProcessPoint(1.0, sigma, 0.0, 1.0)

// ---------------------------------------------------------------------------------------------
// Models s_theta(x) = W2 tanh(W1 x + b1) - A (x - c), with tr grad s = sum_j (1 - h_j^2) (W1 W2)_jj - tr A

type Model =
    { W1: M
      B1: V
      W2: M
      A: M
      C: V }

module Model =
    let generate d =
        gen {
            let! h = Gen.choose (2, 4)
            let! w1 = vector (h * d) -1.5 1.5
            let! b1 = vector h -1.0 1.0
            let! w2 = vector (d * h) -1.0 1.0
            let! a = spd d
            let! c = vector d -1.0 1.0
            return
                { W1 = Matrix<float>.Build.DenseOfRowMajor(h, d, w1)
                  B1 = vec b1
                  W2 = Matrix<float>.Build.DenseOfRowMajor(d, h, w2)
                  A = Matrix<float>.Build.DenseOfArray a
                  C = vec c }
        }

    let value (m: Model) (x: V) = m.W2 * (m.W1 * x + m.B1).PointwiseTanh() - m.A * (x - m.C)

    let divergence (m: Model) (x: V) =
        let h = (m.W1 * x + m.B1).PointwiseTanh()
        let w = m.W1 * m.W2
        Seq.sum (Seq.init h.Count (fun j -> (1.0 - h[j] * h[j]) * w[j, j])) - m.A.Trace()

    let scalar (m: Model) x = (value m (vec [| x |]))[0]
    let scalarDivergence (m: Model) x = divergence m (vec [| x |])

    /// The same model on a batch [n, d].
    let valueTensor (m: Model) (x: Tensor) =
        use scope = torch.NewDisposeScope()
        let h = (x.matmul(torch.tensor(m.W1.Transpose().ToArray())) + torch.tensor(m.B1.ToArray())).tanh()
        (h.matmul(torch.tensor(m.W2.Transpose().ToArray())) - (x - torch.tensor(m.C.ToArray())).matmul(torch.tensor(m.A.Transpose().ToArray()))).MoveToOuterScope()

    let divergenceTensor (m: Model) (x: Tensor) =
        use scope = torch.NewDisposeScope()
        let h = (x.matmul(torch.tensor(m.W1.Transpose().ToArray())) + torch.tensor(m.B1.ToArray())).tanh()
        let w = m.W1 * m.W2
        let diag = torch.tensor(Array.init w.RowCount (fun j -> w[j, j]))
        (((1.0 - h.square()) * diag).sum(1L) - m.A.Trace()).MoveToOuterScope()

// ---------------------------------------------------------------------------------------------
// SM-02 implicit (Hyvärinen) score matching

/// [Q] on G1 for random models: 1/2 E|s - grad log p|^2 = J + 1/2 E|grad log p|^2 with
/// J = E[1/2 s^2 + traceSign tr grad s]; traceSign 1 is the claim, 0 and -1 the controls.
let sm02Quadrature traceSign =
    let tk = Score.toolkit Gmm.g1
    let density (x: float) = exp (tk.LogDensity x)
    let bps = List.ofSeq (Marginal(Gmm.g1, 1.0, 0.0).Breakpoints)
    sample 401 cases (Model.generate 1)
    |> List.map (fun m ->
        let s = Model.scalar m
        let lhs = 0.5 * integrateLine (fun x -> density x * (s x - tk.Score x) ** 2.0) bps
        let j = integrateLine (fun x -> density x * (0.5 * s x ** 2.0 + traceSign * Model.scalarDivergence m x)) bps
        let fisher = 0.5 * integrateLine (fun x -> density x * tk.Score x ** 2.0) bps
        Check.relClose "[Q] G1: 1/2 E|s - grad log p|^2 = J + 1/2 E|grad log p|^2" 1e-9 lhs (j + fisher))
    |> Check.worst

/// [M] on G4 (2-D): the paired difference of the two sides, per sample, has mean 0 within 5 SE.
let sm02MonteCarlo traceSign =
    use scope = torch.NewDisposeScope()
    use generator = new Generator(402UL)
    use mixture = new TensorMixture(Score.toolkit Gmm.g4)
    let m = (sample 403 1 (Model.generate 2)).Head
    let x = sampleTensor Gmm.g4 200_000L generator
    let score = mixture.Score(x, clean)
    let s = Model.valueTensor m x
    let difference = 0.5 * (s - score).square().sum(1L) - (0.5 * s.square().sum(1L) + traceSign * Model.divergenceTensor m x + 0.5 * score.square().sum(1L))
    let mean, se = tensorMeanAndSe difference
    Check.monteCarlo "[M] G4, N = 2e5: paired difference of the two sides = 0" mean se 0.0 0.0

let sm02Checks traceSign = [ sm02Quadrature traceSign; sm02MonteCarlo traceSign ]

// ---------------------------------------------------------------------------------------------
// SM-03 denoising score matching (Vincent)

/// Two atoms: DSM's claim holds for data without a density.
let diracPair = Gmm.oneD [| 0.4; 0.6 |] [| -1.0; 1.5 |] [| 0.0; 0.0 |]
/// G1 with its first component collapsed to an atom.
let g1WithAtom = Gmm.oneD [| 0.3; 0.7 |] [| -1.0; 1.0 |] [| 0.0; 0.5 ** 2.0 |]

/// For data g smoothed at sigma: [Q] the two forms of C_sigma (sigma^-4 E tr Cov[x|x~] and
/// E|(x~ - x)/sigma^2|^2 - E|grad log p_sigma|^2), and [M] the paired identity
/// E|s + (x~ - x)/sigma^2 ... |^2 - C_sigma = E|s - grad log p_sigma|^2 for a model and for the minimiser.
/// `targetPower` is 2 (the claim) or 1 (the control's target (x~ - x)/sigma).
let sm03Checks targetPower =
    let model = (sample 404 1 (Model.generate 1)).Head
    [ "G1", Gmm.g1; "two atoms", diracPair; "G1 with an atom", g1WithAtom ]
    |> List.indexed
    |> List.collect (fun (i, (name, g)) ->
        [ 0.3; 0.8 ]
        |> List.collect (fun sigma ->
            let tk = (Score.toolkit g).Diffuse(Edm(), sigma)
            let density (x: float) = exp (tk.LogDensity x)
            let bps = List.ofSeq (Marginal(g, 1.0, sigma).Breakpoints)
            let trace = integrateLine (fun x -> density x * tk.PosteriorCovariance(vec [| x |]).[0, 0]) bps / sigma ** 4.0
            let fisher = 1.0 / (sigma * sigma) - integrateLine (fun x -> density x * tk.Score x ** 2.0) bps
            use scope = torch.NewDisposeScope()
            use generator = new Generator(uint64 (405 + 10 * i) + uint64 (sigma * 10.0))
            use mixture = new TensorMixture(Score.toolkit g)
            let x = sampleTensor g 200_000L generator
            let noisy = x + torch.randn(x.shape, ScalarType.Float64, generator = generator) * sigma
            let score = mixture.Score(noisy, smoothed sigma)
            let target = (noisy - x) / sigma ** targetPower
            let paired what (s: Tensor) =
                let mean, se = tensorMeanAndSe ((s + target).square().sum(1L) - (s - score).square().sum(1L))
                Check.monteCarlo what mean se trace 0.0
            [ Check.relClose "[Q] C_sigma = sigma^-4 E tr Cov[x|x~] = E|(x~-x)/sigma^2|^2 - E|grad log p_sigma|^2" 1e-9 trace fisher
              Check.exceeds "C_sigma > 0" trace 0.0
              paired "[M] N = 2e5, model: E_DSM - C_sigma = E|s - grad log p_sigma|^2 (paired)" (Model.valueTensor model noisy)
              paired "[M] N = 2e5, minimiser s* = grad log p_sigma: E_DSM = C_sigma" score ]))
    |> Check.grouped

// ---------------------------------------------------------------------------------------------
// LD-01 Langevin dynamics

/// The exact stationary variance of ULA on N(m, s^2): s^2 / (1 - alpha / (2 s^2)) (0 < alpha < 2 s^2).
let ulaVariance s2 alpha = s2 / (1.0 - alpha / (2.0 * s2))

/// The exact mean and variance after k ULA steps on N(m, s^2): the chain is linear with contraction 1 - alpha/s^2.
let ulaMoments m s2 alpha (m0, v0) k =
    let c = 1.0 - alpha / s2
    let mutable mean, var = m0, v0
    for _ in 1..k do
        mean <- m + c * (mean - m)
        var <- c * c * var + 2.0 * alpha
    mean, var

/// [M] the toolkit's Langevin sampler (one level, step a = eta) on N(0, 1) = N(0, 0.75) smoothed at 0.5.
/// K = 50 instead of 2000: from x_0 ~ N(0, 1) the variance error is 0.81^K (v* - 1) = 1.4e-6, which the exact
/// recursion gives as the bias budget (section 0.3, F1 data). Run once, shared by the claim and its control.
let ulaSimulation =
    lazy
        (let alpha, k, n = 0.1, 50, 400_000L
         use scope = torch.NewDisposeScope()
         use generator = new Generator(407UL)
         use mixture = new TensorMixture(GaussianMixture.OneDimensional([| 1.0 |], [| 0.0 |], [| 0.75 |]))
         let edm = Edm()
         let start = torch.randn([| n; 1L |], ScalarType.Float64, generator = generator)
         let x = Samplers.AnnealedLangevin(k, alpha).Sample(mixture.Denoiser(edm), edm, [| 0.5 |], start, generator).X
         let exactMean, exactVar = ulaMoments 0.0 1.0 alpha (0.0, 1.0) k
         moments (values x), exactMean, exactVar, alpha)

/// `variance` is the stationary-variance formula under test (ulaVariance; the control: the target's s^2).
let ld01Checks (variance: float -> float -> float) =
    let recursion =
        sample 406 cases (zip4 (uniform -2.0 2.0) (uniform 0.2 3.0) (uniform 0.01 0.9) (uniform -1.0 1.0))
        |> List.collect (fun (m, s2, fraction, start) ->
            let alpha = fraction * 2.0 * s2
            let mean, var = ulaMoments m s2 alpha (start, 0.5) 50_000
            [ Check.close "[A] mean recursion -> m" 1e-12 mean m
              Check.close "[A] variance recursion -> s^2 / (1 - alpha/(2 s^2))" 1e-12 var (variance s2 alpha) ])
        |> Check.grouped
    let mo, exactMean, exactVar, alpha = ulaSimulation.Force()
    recursion
    @ [ Check.monteCarlo "[M] toolkit ULA, alpha = 0.1, N = 4e5: mean 0" mo.Mean mo.SeMean 0.0 (abs exactMean)
        Check.monteCarlo "[M] toolkit ULA, alpha = 0.1, N = 4e5: variance = 1/(1 - 0.05)" mo.Variance mo.SeVariance (variance 1.0 alpha) (abs (exactVar - ulaVariance 1.0 alpha))
        Check.power "power: the target variance 1.0 is >= 20 SE away" mo.Variance mo.SeVariance 1.0 ]

/// [M] G1 with the exact score (the toolkit's sampler at level 1e-3, where p_sigma differs from G1 by 1e-6 in
/// variance), started at x_0 ~ p: after K steps the mean, variance and P(x > 0) are p's within 5 SE + 0.01.
/// alpha = 1e-2, K = 200 (k alpha = 2, four relaxation times of the wider mode) instead of 1e-3, 2 10^4, to
/// stay within seconds: the ULA variance bias, sum_k pi_k s_k^2 alpha/(2 s_k^2) = alpha/2 = 0.005, fits the budget.
let ld01Stationarity () =
    let alpha, k, n = 1e-2, 200, 50_000L
    use scope = torch.NewDisposeScope()
    use generator = new Generator(408UL)
    use mixture = new TensorMixture(Score.toolkit Gmm.g1)
    let edm = Edm()
    let start = sampleTensor Gmm.g1 n generator
    let x = values (Samplers.AnnealedLangevin(k, alpha).Sample(mixture.Denoiser(edm), edm, [| 1e-3 |], start, generator).X)
    let mo = moments x
    let positive, positiveSe = meanAndSe (x |> Array.map (fun v -> if v > 0.0 then 1.0 else 0.0))
    [ Check.monteCarlo "[M] G1 ULA from p, alpha = 1e-2, K = 200: mean" mo.Mean mo.SeMean (Gmm.mean Gmm.g1).[0] 0.01
      Check.monteCarlo "[M] G1 ULA from p: variance" mo.Variance mo.SeVariance (Gmm.covariance Gmm.g1).[0, 0] 0.01
      Check.monteCarlo "[M] G1 ULA from p: P(x > 0)" positive positiveSe (1.0 - Marginal(Gmm.g1, 1.0, 0.0).Cdf 0.0) 0.01 ]

// ---------------------------------------------------------------------------------------------
// LD-02 annealed Langevin dynamics

/// GSE from U([-8, 8]^2), N = 5000 (SE 0.0057; the entry's 10^4 doubles the time for power it does not need): the toolkit's annealed Langevin (L = 10 geometric levels 20 -> 1, eta = 0.1,
/// K = 100) reaches the heavy mode's weight 0.8; plain Langevin at the clean target (level 1e-3, step 0.01,
/// K = 1000) keeps the initial 0.5 and does not reach 0.8. The per-mode variance sub-check is dropped
/// (section 15.8: 1.6 SE of power at this N; LD-01 checks the ULA variance with 22 SE).
/// The annealed run's fraction of the heavy mode against 0.8; `annealed` false runs plain Langevin at the target
/// (sigma = 1e-3) in its place (LD-02's control: annealing dropped).
let ld02Annealed annealed =
    let n = 5000L
    use scope = torch.NewDisposeScope()
    use generator = new Generator(409UL)
    use mixture = new TensorMixture(Score.toolkit Gmm.gse)
    let edm = Edm()
    let start = torch.rand([| n; 2L |], ScalarType.Float64, generator = generator) * 16.0 - 8.0
    let levels = if annealed then Array.init 10 (fun i -> 20.0 * (1.0 / 20.0) ** (float i / 9.0)) else [| 1e-3 |]
    let sampler = if annealed then Samplers.AnnealedLangevin(100, 0.1) else Samplers.AnnealedLangevin(1000, 0.01)
    let heavy (x: Tensor) = x.sum(1L).gt(0.0).``to``(ScalarType.Float64).mean().ToDouble()
    let fraction = heavy (sampler.Sample(mixture.Denoiser(edm), edm, levels, start, generator).X)
    [ Check.monteCarlo "[M] annealed: fraction with x1 + x2 > 0 = 0.8" fraction (sqrt (0.16 / float n)) 0.8 0.02 ]

let ld02 () =
    let n = 5000L
    use scope = torch.NewDisposeScope()
    use generator = new Generator(409UL)
    use mixture = new TensorMixture(Score.toolkit Gmm.gse)
    let edm = Edm()
    let start = torch.rand([| n; 2L |], ScalarType.Float64, generator = generator) * 16.0 - 8.0
    let levels = Array.init 10 (fun i -> 20.0 * (1.0 / 20.0) ** (float i / 9.0))
    let heavy (x: Tensor) = x.sum(1L).gt(0.0).``to``(ScalarType.Float64).mean().ToDouble()
    let annealed = heavy (Samplers.AnnealedLangevin(100, 0.1).Sample(mixture.Denoiser(edm), edm, levels, start, generator).X)
    let plain = heavy (Samplers.AnnealedLangevin(1000, 0.01).Sample(mixture.Denoiser(edm), edm, [| 1e-3 |], start, generator).X)
    let se = sqrt (0.16 / float n)
    let initial = heavy start
    [ Check.monteCarlo "[M] annealed: fraction with x1 + x2 > 0 = 0.8" annealed se 0.8 0.02
      Check.monteCarlo "[M] plain Langevin keeps the initial basin fraction" plain (sqrt (0.25 / float n)) initial 0.02
      Check.exceeds "plain Langevin does not reach 0.8 (|fraction - 0.8| > 5 SE + 0.02)" (abs (plain - 0.8)) (5.0 * se + 0.02) ]

let claims =
    [ claim "SM-02" "implicit (Hyvarinen) score matching" family (fun () -> sm02Checks 1.0)
      claim "SM-03" "denoising score matching (Vincent)" family (fun () -> sm03Checks 2.0)
      claim "LD-01" "Langevin dynamics: stationary law and step-size bias" family (fun () -> ld01Checks ulaVariance @ ld01Stationarity ())
      claim "LD-02" "annealed Langevin; multimodal weights" family ld02 ]

let controls =
    [ control "SM-02" "J without its trace term" family (fun () -> sm02Checks 0.0)
      control "SM-02" "J with -tr grad s" family (fun () -> sm02Checks -1.0)
      control "SM-03" "DSM target (x~ - x)/sigma in place of /sigma^2" family (fun () -> sm03Checks 1.0)
      control "LD-01" "stationary variance = the target's 1.0 (no step-size bias)" family (fun () -> ld01Checks (fun s2 _ -> s2))
      control "LD-02" "plain Langevin at sigma = 1e-3 in place of the annealed levels" family (fun () -> ld02Annealed false) ]
