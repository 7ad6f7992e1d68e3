/// Latent-variable models, VAE and the linear-Gaussian posterior (docs/claims.md):
/// LG-01, VAE-01 .. VAE-04. The toolkit side is Research.Diffusion's LinearGaussian (F5 and App. A.1);
/// the independent side is Schur-complement conditioning, DIV-02, Bayes' rule pointwise and Monte Carlo.
module Research.Proofs.Latent

open System
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Research.Diffusion
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Generators

let family = "Latent"

let private m2 (a: float[,]) = Matrix<float>.Build.DenseOfArray a
let private relDiff (a: V) (b: V) = (a - b).AbsoluteMaximum() / max 1.0 (max (a.AbsoluteMaximum()) (b.AbsoluteMaximum()))
let private relDiffM (a: M) (b: M) = (a - b).InfinityNorm() / max 1.0 (max (a.InfinityNorm()) (b.InfinityNorm()))

/// F5: z ~ N(0, I_k), x | z ~ N(W z + b, Psi), Psi diagonal; random W (D x k), b, Psi.
let f5 k =
    gen {
        let! w = vector (3 * k) -1.0 1.0
        let! b = vector 3 -1.0 1.0
        let! psi = vector 3 0.2 1.0
        let! x = vector 3 -2.0 2.0
        let model = LinearGaussian(Gaussian.Standard k, Matrix<float>.Build.DenseOfColumnMajor(3, k, w), vec b, Matrix<float>.Build.DenseOfDiagonalArray psi)
        return model, vec x
    }

// LG-01: prior N(mu, Lambda^{-1}) on R^3, likelihood N(A x + b, L^{-1}) on R^2; Schur-complement form.
/// schurSign -1 is the Schur complement; +1 (variance added by the observation) is LG-01's control.
let lg01With schurSign =
    sample 1501 cases (zip4 (Gen.zip (vector 3 -1.0 1.0) (spd 3)) (vector 6 -1.0 1.0) (Gen.zip (vector 2 -1.0 1.0) (spd 2)) (vector 2 -2.0 2.0))
    |> List.collect (fun ((mu, priorCov), a, (b, noiseCov), y) ->
        let prior = Gaussian(vec mu, m2 priorCov)
        let amat = Matrix<float>.Build.DenseOfColumnMajor(2, 3, a)
        let model = LinearGaussian(prior, amat, vec b, m2 noiseCov)
        let post = model.Posterior(vec y)
        let s = m2 noiseCov + amat * m2 priorCov * amat.Transpose()
        let gain = m2 priorCov * amat.Transpose() * s.Inverse()
        let schurMean = vec mu + gain * (vec y - amat * vec mu - vec b)
        let schurCov = m2 priorCov + schurSign * (gain * amat * m2 priorCov)
        let r = rng 1502
        let bayes =
            Array.init 100 (fun _ ->
                let x = vec (normals r 3)
                abs (post.LogDensity x - (model.Likelihood(x).LogDensity(vec y) + prior.LogDensity x - model.Evidence.LogDensity(vec y))))
            |> Array.max
        [ Check.within "posterior mean (information form) = Schur complement" (relDiff post.Mean schurMean) 1e-10
          Check.within "posterior covariance = Schur complement (Woodbury)" (relDiffM post.Covariance schurCov) 1e-10
          Check.within "evidence covariance = L^{-1} + A Lambda^{-1} A^T" (relDiffM model.Evidence.Covariance s) 1e-12
          Check.within "Bayes pointwise at 100 x: log p(x|y) = log p(y|x) + log p(x) - log p(y)" bayes 1e-10 ])
    |> Check.grouped

let lg01 () = lg01With -1.0

/// VAE-01's identity for a Gaussian q: log p(x) - ELBO(q) - KL(q || p(z|x)); `reverse` takes KL(p(z|x) || q) (the control).
let elboGapWith reverse (model: LinearGaussian) (x: V) (q: Gaussian) =
    let post = model.Posterior x
    model.Evidence.LogDensity x - model.Elbo(x, q),
    (if reverse then Divergences.gaussianKl post.Mean post.Covariance q.Mean q.Covariance
     else Divergences.gaussianKl q.Mean q.Covariance post.Mean post.Covariance)

let elboGap = elboGapWith false

let vae01With reverse =
    sample 1601 cases (Gen.zip (f5 2) (Gen.zip (vector 2 -0.5 0.5) (spd 2)))
    |> List.collect (fun ((model, x), (dm, s)) ->
        let post = model.Posterior x
        let q = Gaussian(post.Mean + vec dm, m2 s)
        let gap, kl = elboGapWith reverse model x q
        let gapPost, klPost = elboGap model x post
        let shifted = Gaussian(post.Mean + 0.5 * post.Covariance.Diagonal().PointwiseSqrt(), post.Covariance)
        let gapShift, _ = elboGap model x shifted
        [ Check.close "log p(x) - ELBO - KL(q || posterior) = 0" 1e-10 gap kl
          Check.close "q = posterior: ELBO = log p(x)" 1e-10 gapPost 0.0
          Check.close "q = posterior: KL = 0" 1e-10 klPost 0.0
          Check.exceeds "mean shifted by 0.5 sd: ELBO < log p(x) by >= 1e-3" gapShift 1e-3 ])
    |> Check.grouped

let vae01 () = vae01With false

let private vae02Case () =
    let (model, x), (dm, s) = (sample 1701 1 (Gen.zip (f5 2) (Gen.zip (vector 2 -0.5 0.5) (spd 2)))).Head
    let post = model.Posterior x
    let q = Gaussian(post.Mean + vec dm, m2 s)
    model, x, q, model.Elbo(x, q), Divergences.gaussianKl q.Mean q.Covariance (vec [| 0.0; 0.0 |]) (eye 2)

/// E_q log p(x|z) in closed form: log p(x | mean) - traceFactor tr(Psi^-1 W S W^T); the claim's factor is 1/2,
/// the control's 0 (the reconstruction read at q's mean, q's spread ignored).
let vae02ClosedForm traceFactor =
    let model, x, q, elbo, klPrior = vae02Case ()
    [ Check.close "E_q log p(x|z) - KL(q || p(z)) = ELBO (VAE-01 form)" 1e-10 (elbo + klPrior) (model.Likelihood(q.Mean).LogDensity x - traceFactor * (model.Noise.Solve(model.Weight * q.Covariance * model.Weight.Transpose())).Trace()) ]

let vae02 () =
    let model, x, q, elbo, klPrior = vae02Case ()
    let r = rng 1702
    let zs = mvnSample r q.Mean q.Covariance 100_000
    let recon = zs |> Array.map (fun z -> model.Likelihood(z).LogDensity x)
    let full = zs |> Array.map (fun z -> model.Likelihood(z).LogDensity x + model.Prior.LogDensity z - q.LogDensity z)
    let rm, rse = meanAndSe recon
    let fm, fse = meanAndSe full
    // Bernoulli decoder: sum over {0,1}^D of exp log p(x|z) is 1; log p = -BCE.
    let y = [| 0.1; 0.7; 0.45; 0.9; 0.3; 0.6; 0.2; 0.85 |]
    let logBernoulli (bits: int) = y |> Array.mapi (fun j yj -> if (bits >>> j) &&& 1 = 1 then log yj else log (1.0 - yj)) |> Array.sum
    let total = Seq.init 256 (fun b -> exp (logBernoulli b)) |> Seq.sum
    let bce (bits: int) = -(y |> Array.mapi (fun j yj -> let xj = float ((bits >>> j) &&& 1) in xj * log yj + (1.0 - xj) * log (1.0 - yj)) |> Array.sum)
    vae02ClosedForm 0.5
    @ [ Check.monteCarlo "[M] reparameterised E log p(x|z) - KL = ELBO" (rm - klPrior) rse elbo 0.0
        Check.monteCarlo "[M] fully-MC log p(x|z) + log p(z) - log q(z)" fm fse elbo 0.0
        Check.close "Bernoulli: sum over {0,1}^8 of p(x|z) = 1" 1e-13 total 1.0
        Check.close "Bernoulli: log p = -BCE" 1e-13 (logBernoulli 0b10110010) (-(bce 0b10110010)) ]

let private vae03Case () =
    let model, x = (sample 1801 1 (f5 2)).Head
    let post = model.Posterior x
    // A deliberately poor q: mean shifted by 1 posterior sd, covariance twice the posterior's.
    model, x, Gaussian(post.Mean + post.Covariance.Diagonal().PointwiseSqrt(), 2.0 * post.Covariance)

/// The M = 1 estimate against the ELBO; `withQ` false drops log q from the weights (the control: log p(x, z) alone).
let vae03Single withQ =
    let model, x, q = vae03Case ()
    let logW (z: V) = model.Likelihood(z).LogDensity x + model.Prior.LogDensity z - (if withQ then q.LogDensity z else 0.0)
    let m1, se1 = mvnSample (rng 1802) q.Mean q.Covariance 100_000 |> Array.map logW |> meanAndSe
    Check.monteCarlo "[M] M = 1: mean log w = ELBO" m1 se1 (model.Elbo(x, q)) 0.0, m1, se1

let vae03 () =
    let model, x, q = vae03Case ()
    let logW (z: V) = model.Likelihood(z).LogDensity x + model.Prior.LogDensity z - q.LogDensity z
    let single, m1, se1 = vae03Single true
    let r = rng 1803
    let logP = model.Evidence.LogDensity x
    let iwae m = Array.init 10_000 (fun _ -> mvnSample r q.Mean q.Covariance m |> Array.map logW |> fun ws -> logSumExp ws - log (float m)) |> meanAndSe
    let bounds = [ 1; 10; 100 ] |> List.map iwae
    [ single
      Check.power "[M] M = 1: more than 20 SE below log p(x)" m1 se1 logP ]
    @ (bounds |> List.pairwise |> List.map (fun ((a, _), (b, _)) -> Check.isTrue "E log mean w increases with M" (b > a)))
    @ (bounds |> List.map (fun (m, se) -> Check.within "E log mean w <= log p(x) + 5 SE" (max 0.0 (m - logP)) (5.0 * se)))

/// `marginal` true puts the posterior's marginal variances (Lambda^-1)_ii in the factors: VAE-04's control.
let vae04With marginal =
    [ 2; 4 ]
    |> List.collect (fun k ->
        sample (1900 + k) 6 (f5 k)
        |> List.collect (fun (model, x) ->
            let post = model.Posterior x
            let lambda = post.Covariance.Inverse()
            let mu = post.Mean
            let r = rng (1910 + k)
            let m = vec (normals r k)
            for _ in 1..2000 do
                for i in 0 .. k - 1 do
                    m[i] <- mu[i] - (Seq.sum (seq { for j in 0 .. k - 1 do if j <> i then yield lambda[i, j] * (m[j] - mu[j]) })) / lambda[i, i]
            let mfVar = Array.init k (fun i -> if marginal then post.Covariance[i, i] else 1.0 / lambda[i, i])
            let qmf = Gaussian(m, Matrix<float>.Build.DenseOfDiagonalArray mfVar)
            let gapFormula = 0.5 * ((Seq.sum (seq { for i in 0 .. k - 1 -> log lambda[i, i] })) - logDetSpd lambda)
            let kl = Divergences.gaussianKl qmf.Mean qmf.Covariance post.Mean post.Covariance
            let perturbed =
                Array.init 20 (fun _ ->
                    let dm = vec (normals r k) * 0.1
                    let dv = Array.init k (fun i -> mfVar[i] * exp (0.2 * (normals r 1)[0]))
                    Divergences.gaussianKl (m + dm) (Matrix<float>.Build.DenseOfDiagonalArray dv) post.Mean post.Covariance)
            [ Check.within "CAVI converges to the posterior mean" (relDiff m mu) 1e-12
              Check.isTrue "mean-field variance 1/Lambda_ii <= (Lambda^{-1})_ii" (Array.forall2 (fun v (c: float) -> v <= c + 1e-15) mfVar (post.Covariance.Diagonal().ToArray()))
              Check.close "gap formula = KL(q_MF || p) (DIV-02)" 1e-10 gapFormula kl
              Check.close "gap = log p(x) - ELBO(q_MF)" 1e-10 gapFormula (model.Evidence.LogDensity x - model.Elbo(x, qmf))
              Check.isTrue "perturbations of the factors increase the KL" (Array.forall (fun v -> v > kl) perturbed) ]))
    |> Check.grouped

let claims =
    [ claim "LG-01" "Gaussian prior + linear-Gaussian likelihood posterior" family lg01
      claim "VAE-01" "log p = ELBO + KL(q || posterior)" family vae01
      claim "VAE-02" "VAE form of the ELBO; Bernoulli/Gaussian decoders" family vae02
      claim "VAE-03" "MC ELBO is unbiased for the bound, not for log p" family vae03
      claim "VAE-04" "mean-field VI for a Gaussian posterior" family (fun () -> vae04With false) ]

let controls =
    [ control "LG-01" "posterior covariance with + gain A Sigma (observation adds variance)" family (fun () -> lg01With 1.0)
      control "VAE-01" "KL(posterior || q) in place of KL(q || posterior)" family (fun () -> vae01With true)
      control "VAE-02" "reconstruction term read at q's mean (trace term dropped)" family (fun () -> vae02ClosedForm 0.0)
      control "VAE-03" "importance weight log p(x, z) without - log q(z)" family (fun () -> let c, _, _ = vae03Single false in [ c ])
      control "VAE-04" "mean-field factors with the marginal variances (Lambda^-1)_ii" family (fun () -> vae04With true) ]
