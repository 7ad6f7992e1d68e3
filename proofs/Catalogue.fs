/// The project's own catalogue of claims: for every id that proofs/ and the comments of src/ cite, its statement
/// (in this project's words), its source in the seed documents, and the documents themselves. `./run.sh proofs
/// --markdown` renders it, with how each claim is checked, to docs/claims.md; a test keeps that file current.
module Research.Proofs.Catalogue

/// One claim: id, statement and source (document and lines: "S1 L95–L118" is lines 95 to 118 of S1).
type Entry = { Id: string; Statement: string; Source: string }

/// The seed documents the sources cite.
let documents =
    [ "S0", "slides \"Generative Deep Learning\" (Japanese): maximum likelihood, autoencoders and VAEs, GANs, normalising flows and RealNVP, DDPM"
      "S1", "article on the stochastic differential equations of diffusion models (Japanese): Wiener process, Fokker–Planck, probability-flow ODE, reverse SDE, linear SDEs, the DDPM limit, the Stable Diffusion schedule, VE / VP / sub-VP / RF"
      "S2", "monograph, chapter 1: forward KL and maximum likelihood, Fisher and f-divergences, energy-based and autoregressive models, VAEs, flows, GANs"
      "S3", "support page of Okanohara's book on diffusion models: its table of contents (TOC) and errata (P.n is the erratum for page n); results named only by the table of contents follow the primary papers"
      "S4", "notes on chapter 1 of that book: energy-based models, the partition function, products of experts, maximum likelihood" ]

/// The closed-form fixtures the checks and comments name (F1–F8) and the tolerance classes of the checks.
let fixtures =
    [ "F1", "Gaussian data N(m, S): under any linear process p_t = N(alpha m, alpha^2 S + sigma^2 I), with closed-form score and posterior."
      "F2", "Gaussian mixtures, the main test bench: exact marginals, score, Hessian, posterior and time derivative under any linear process; named instances G1 = 0.3 N(-1, 0.3^2) + 0.7 N(1, 0.5^2), G3 (three 1-D components), GSE = N((-5,-5), I)/5 + 4 N((5,5), I)/5 and G4 = four N(2 e_j, 0.3^2 I) on the axes; random mixtures from an FsCheck generator."
      "F3", "Ornstein–Uhlenbeck dx = -theta x dt + c dw with its closed-form mean, variance and covariance."
      "F4", "Geometric Brownian motion, whose log is Gaussian: a state-dependent diffusion with a closed form."
      "F5", "Linear-Gaussian latent model (PPCA / factor analysis) with closed-form evidence and posterior."
      "F6", "Continuous schedules in closed form: VP-linear (beta 0.1 to 20), VP-cosine (s = 0.008), Stable Diffusion's scaled-linear, sub-VP, VE-geometric (sigma 0.01 to 50, shifted to sigma(0) = 0), rectified flow, EDM."
      "F7", "Discrete DDPM tables with T = 1000: linear (1e-4 to 0.02), scaled-linear, cosine (clipped at 0.999)."
      "F8", "Schedules written in lambda = log SNR, from 10 down to -10 along t, t^2 or sin(pi t/2), realised as VP or VE."
      "[A]", "closed form against closed form: relative 1e-12 (1e-10 where the formula cancels)."
      "[Q]", "adaptive Gauss–Kronrod quadrature at 1e-13, split at the components: relative 1e-9."
      "[D]", "central finite difference, the independent side of a derivative: relative 1e-7 (first), 1e-5 (second)."
      "[O]", "Dormand–Prince at rtol 1e-10, atol 1e-12: relative 1e-7 on end states."
      "[M]", "Monte Carlo: within 5 standard errors plus any stated discretisation bias; a negative control must be at least 20 SE away."
      "[R]", "convergence rate: successive error ratios within 10% of 2^p for the claimed order p." ]

/// Every claim, in the order of the catalogue.
let entries =
    [ { Id = "MLE-01"; Statement = "For i.i.d. draws from N(mu, s^2) the log-likelihood is -n log(sqrt(2 pi) s) - sum (x - mu)^2 / (2 s^2); it is maximised by the sample mean and the biased sample variance, where its value is -n/2 (log(2 pi s^2) + 1) and its Hessian in (mu, s) is diag(-n/s^2, -2n/s^2)."; Source = "S0 L79–L102" }
      { Id = "DIV-01"; Statement = "KL(p || q) = H(p, q) - H(p); since H(p_data) does not depend on the model, minimising the forward KL is maximising the expected log-likelihood, and within the Gaussian family its minimiser matches the first two moments."; Source = "S2 L38–L78" }
      { Id = "DIV-02"; Statement = "KL between N(m1, S1) and N(m2, S2) is (tr(S2^-1 S1) + (m2 - m1)^T S2^-1 (m2 - m1) - d + log det S2 / det S1) / 2."; Source = "S0 L254, S2 L174" }
      { Id = "DIV-03"; Statement = "KL is not symmetric; it is infinite when p puts mass where q has none; fitting one Gaussian to a mixture, the forward KL covers all modes and the reverse KL locks onto one."; Source = "S2 L50–L56, S0 L340–L349" }
      { Id = "DIV-04"; Statement = "The Fisher divergence E_p |grad log p - grad log q|^2 is non-negative, zero iff p = q, and unchanged when q is rescaled, so it needs no normalising constant."; Source = "S2 L80–L88" }
      { Id = "DIV-05"; Statement = "The f-divergence D_f(p || q) = E_q f(p/q) gives KL with f(u) = u log u, Jensen–Shannon with f(u) = (u log u - (1 + u) log((1 + u)/2))/2 and total variation with f(u) = |u - 1|/2."; Source = "S2 L89–L115" }
      { Id = "DIV-06"; Statement = "Total variation equals the largest difference of probabilities over events, sup_A |P(A) - Q(A)|, attained on the set where p > q."; Source = "S2 L111–L113" }
      { Id = "DIV-07"; Statement = "For two point masses at distance theta, KL is infinite and JS is log 2 for every theta != 0, while the Wasserstein distance is |theta|, continuous in theta."; Source = "S2 L116" }
      { Id = "VAE-01"; Statement = "For any q(z | x), log p(x) = ELBO(q) + KL(q(z | x) || p(z | x)), so the ELBO is a lower bound, tight iff q is the posterior."; Source = "S0 L227–L247, S2 L171–L175" }
      { Id = "VAE-02"; Statement = "The ELBO is E_q log p(x | z) - KL(q(z | x) || p(z)); with a Gaussian encoder the KL term has a closed form, and Bernoulli and Gaussian decoders give cross-entropy and scaled squared-error reconstruction terms."; Source = "S0 L249–L259, S2 L173–L177" }
      { Id = "VAE-03"; Statement = "The Monte Carlo ELBO is an unbiased estimate of the ELBO but, by Jensen, its exponential is not an unbiased estimate of p(x); importance-weighted bounds increase towards log p(x)."; Source = "S3 errata P.112–P.113" }
      { Id = "VAE-04"; Statement = "Mean-field variational inference for a Gaussian target gives factor means equal to the true mean and factor variances equal to the inverse diagonal of the precision, underestimating the marginal variances."; Source = "S0 L243–L247" }
      { Id = "LG-01"; Statement = "With a Gaussian prior and a linear-Gaussian likelihood, the evidence is Gaussian with covariance W W^T + Psi and the posterior is Gaussian with precision I + W^T Psi^-1 W."; Source = "S3 L91" }
      { Id = "GAN-01"; Statement = "For fixed generator the discriminator maximising E_p log D + E_q log(1 - D) is D*(x) = p(x) / (p(x) + q(x))."; Source = "S0 L317, S2 L199–L204" }
      { Id = "GAN-02"; Statement = "At the optimal discriminator the GAN value is 2 JS(p || q) - log 4, and the generator's gradient of the value equals the gradient of that JS term (envelope theorem)."; Source = "S2 L205–L214" }
      { Id = "GAN-03"; Statement = "At the optimal discriminator, the combination of the two generator losses (saturating and non-saturating) equals KL(q || p), the reverse KL."; Source = "S0 L295–L319" }
      { Id = "NF-01"; Statement = "For an invertible smooth map x = f(z), log p_x(x) = log p_z(f^-1(x)) + log |det d f^-1 / dx|."; Source = "S0 L364–L370, S2 L183–L186" }
      { Id = "NF-02"; Statement = "For a composition of invertible maps the log-determinants add."; Source = "S0 L372–L376" }
      { Id = "NF-03"; Statement = "An affine coupling layer is inverted in closed form, its Jacobian is triangular, and its log-determinant is the sum of the log-scales."; Source = "S0 L379–L408" }
      { Id = "EBM-01"; Statement = "An energy-based model p = exp(-E)/Z is normalised by Z = int exp(-E); its score -grad E does not depend on Z."; Source = "S2 L121–L157, S4 L78–L108" }
      { Id = "EBM-02"; Statement = "Summing energies multiplies the unnormalised densities: a product of experts."; Source = "S4 L111–L121" }
      { Id = "EBM-03"; Statement = "The gradient of the EBM log-likelihood is -E_data grad E + E_model grad E, the positive phase minus the negative phase."; Source = "S4 L146–L154" }
      { Id = "AR-01"; Statement = "The chain rule p(x) = prod_i p(x_i | x_<i) gives a normalised density whenever each conditional is normalised."; Source = "S2 L158–L170" }
      { Id = "SM-01"; Statement = "The score is grad p / p, the gradient of log p."; Source = "S0 L426–L437" }
      { Id = "SM-02"; Statement = "Hyvarinen's implicit score matching: E_p |s - grad log p|^2 / 2 equals E_p (tr grad s + |s|^2 / 2) plus a constant, so it can be minimised without the true score."; Source = "S3 TOC 1.5, errata P.17–P.18" }
      { Id = "SM-03"; Statement = "Vincent's denoising score matching: regressing s(x~) on the score of the noising kernel grad log q(x~ | x) has the same minimiser as regressing on the score of the noisy marginal."; Source = "S3 L108, TOC 2.2" }
      { Id = "LD-01"; Statement = "Langevin dynamics x <- x + a grad log p + sqrt(2a) z has p as stationary law in the limit a -> 0; for a Gaussian target the discrete chain's stationary variance is v / (1 - a/(2v)), a bias of order a."; Source = "S3 L109, errata P.15" }
      { Id = "LD-02"; Statement = "Annealed Langevin through decreasing noise levels recovers the weights of well-separated modes, which plain Langevin at the target keeps at the initial proportions."; Source = "S3 TOC 1.4, 2.2, errata P.37, P.39" }
      { Id = "DDPM-01"; Statement = "The forward chain with steps beta_t has marginal q(x_t | x_0) = N(sqrt(alpha-bar_t) x_0, (1 - alpha-bar_t) I), alpha-bar_t the product of 1 - beta_s."; Source = "S0 L453–L460, S3 errata P.56" }
      { Id = "DDPM-02"; Statement = "The posterior q(x_{t-1} | x_t, x_0) is Gaussian with mean a combination of x_0 and x_t and variance beta-tilde_t = (1 - alpha-bar_{t-1}) beta_t / (1 - alpha-bar_t)."; Source = "S0 L501" }
      { Id = "DDPM-03"; Statement = "With the posterior variance fixed, the KL term L_{t-1} is a weighted squared error between the true and predicted noise."; Source = "S0 L497–L503" }
      { Id = "DDPM-04"; Statement = "The negative ELBO of a DDPM splits into a prior term, the sum of the KL terms L_{t-1} and a decoder term, and the sum equals the ELBO computed directly."; Source = "S0 L492–L499, S3 TOC A.2, errata P.51, P.119" }
      { Id = "DDPM-05"; Statement = "For small beta_t the true reverse kernel q(x_{t-1} | x_t) is close to Gaussian; the error shrinks with beta_t."; Source = "S0 L478" }
      { Id = "DDPM-06"; Statement = "The discretised Gaussian decoder over k + 1 levels assigns probabilities that sum to one."; Source = "S3 errata P.46" }
      { Id = "SDE-01"; Statement = "Wiener increments over disjoint intervals are independent and N(0, dt); their squares sum to the elapsed time."; Source = "S1 L8–L20" }
      { Id = "SDE-02"; Statement = "The density of dx = f dt + g dw solves the Fokker–Planck equation dp/dt = -div(f p) + (g^2 / 2) Laplacian p (with state-dependent g, the Laplacian acts on g^2 p)."; Source = "S1 L27–L48" }
      { Id = "SDE-03"; Statement = "The probability-flow ODE dx/dt = f - (g^2 / 2) grad log p_t (with a state-dependent g, also minus grad g^2 / 2) has the same marginals as the SDE."; Source = "S1 L49–L64" }
      { Id = "SDE-04"; Statement = "For any h(t), dx = [f - (g^2 - h^2)/2 grad log p_t] dt + h dw has the marginals of the SDE; h = g is the SDE and h = 0 the PF-ODE."; Source = "S1 L65–L70" }
      { Id = "SDE-05"; Statement = "Anderson's reverse-time SDE dx = [f - g^2 grad log p_t] dt + g dw-bar, run from p_T backwards, has the forward marginals."; Source = "S1 L76–L94" }
      { Id = "SDE-06"; Statement = "Processes with the same marginals can have different path laws: the SDE and its PF-ODE differ in two-time covariances."; Source = "S1 L59" }
      { Id = "SDE-07"; Statement = "Along the PF-ODE, d log p_t(x_t)/dt = -div v, so log p_0 follows from log p_T and the integrated divergence (instantaneous change of variables)."; Source = "S3 L110, TOC 3.6" }
      { Id = "SDE-08"; Statement = "In one dimension the PF-ODE maps each quantile of p_T to the same quantile of p_t."; Source = "S1 L71–L75" }
      { Id = "PROC-01"; Statement = "A linear SDE dx = f x dt + g dw gives x_t | x_0 ~ N(alpha x_0, sigma^2 I) with alpha = exp(int f) and sigma^2 = alpha^2 int g^2 / alpha^2."; Source = "S1 L95–L118" }
      { Id = "PROC-02"; Statement = "Conversely, f = alpha'/alpha and g^2 = alpha^2 (sigma^2/alpha^2)' recover the SDE from alpha and sigma."; Source = "S1 L122–L127" }
      { Id = "PROC-03"; Statement = "varsigma^2 = sigma^2/alpha^2 is non-decreasing, so the SNR is non-increasing, and lambda' = -g^2/sigma^2."; Source = "S1 L119–L121, S3 errata P.61" }
      { Id = "PROC-04"; Statement = "The DDPM chain with beta_k tends to the VP-SDE with beta(t) = T beta_{Tt}, where sigma^2 = 1 - alpha^2; the gap between alpha-bar and alpha^2 shrinks like 1/T."; Source = "S1 L128–L155" }
      { Id = "PROC-05"; Statement = "Stable Diffusion's scaled-linear table has the continuous closed form alpha(t) = exp(-((a t + b)^3 - b^3)/(6a)) with sqrt(beta(t)) = a t + b; the discrete product stays slightly below it."; Source = "S1 L139–L161" }
      { Id = "PROC-06"; Statement = "VE, VP, sub-VP and rectified flow are linear processes with the tabulated f, g^2, relations between alpha and sigma, and alpha, sigma as functions of varsigma."; Source = "S1 L174–L217" }
      { Id = "PROC-07"; Statement = "Dividing x by sqrt(alpha^2 + sigma^2) turns any process into a VP one with beta = d/dt log(1 + varsigma^2); the ODEs agree after the scaling."; Source = "S1 L218–L230" }
      { Id = "PROC-08"; Statement = "Dividing x by alpha turns any process into a VE one with noise level varsigma, and dx^/dvarsigma = eps^: processes with the same varsigma path share one ODE."; Source = "S1 L231–L238" }
      { Id = "PROC-09"; Statement = "The PF-ODE velocity is E[alpha' x_0 + sigma' eps | x_t]; eps, x_0, score, v and velocity predictions convert into one another by affine maps given (alpha, sigma, alpha', sigma')."; Source = "S3 TOC A.3, S1 L162–L173" }
      { Id = "SCORE-01"; Statement = "Tweedie: grad log p_t = -E[eps | x_t] / sigma = (alpha E[x_0 | x_t] - x_t) / sigma^2, and the Hessian gives the posterior covariance."; Source = "S1 L162–L173" }
      { Id = "SCORE-02"; Statement = "The eps-prediction loss E |eps - eps_theta|^2 equals sigma^2 times the score-matching loss plus a constant independent of the model."; Source = "S1 L165–L171" }
      { Id = "SNR-01"; Statement = "Score-based (VE) and DDPM (VP) models are the same model up to a rescaling of x and a change of time, matched through the SNR; their objectives coincide."; Source = "S3 TOC 2.4, S0 L426–L431" }
      { Id = "SNR-02"; Statement = "The discrete KL term is (SNR(s) - SNR(t))/2 times the squared x_0 error; VDM's sigmoid parameterisation writes alpha^2 = sigmoid(lambda)."; Source = "S3 errata P.57, P.59, P.60, P.63" }
      { Id = "SNR-03"; Statement = "The continuous-time VDM loss depends on the schedule only through its SNR endpoints."; Source = "S3 TOC 2.4, errata P.54" }
      { Id = "SNR-04"; Statement = "Refining the discrete-time VDM loss decreases it: L_T >= L_2T >= L_infinity."; Source = "S3 TOC 2.4" }
      { Id = "DDIM-01"; Statement = "Deterministic DDIM is one Euler step of dx^/dvarsigma = eps^ in the VE normal form."; Source = "S3 TOC A.5, S1 L238" }
      { Id = "DDIM-02"; Statement = "The DDIM family with noise eta keeps the marginals of the forward process; eta equal to the posterior standard deviation gives DDPM."; Source = "S3 TOC A.5" }
      { Id = "GUIDE-01"; Statement = "The conditional score is the unconditional score plus the gradient of log p_t(y | x_t) of a classifier on noisy inputs."; Source = "S3 TOC 4.1, errata P.87, TOC A.4" }
      { Id = "GUIDE-02"; Statement = "Classifier guidance with scale gamma samples the tilted law proportional to p_t(x) p_t(y | x)^gamma at each noise level."; Source = "S3 TOC 4.2, L104" }
      { Id = "GUIDE-03"; Statement = "Classifier-free guidance combines (1 + w) conditional minus w unconditional predictions; for w != 0 the result is not the score of a diffused tilted law."; Source = "S3 TOC 4.3" }
      { Id = "SUB-01"; Statement = "When the data lie in a subspace, the score splits into a part within the subspace and an orthogonal part that is that of pure Gaussian noise."; Source = "S3 TOC 4.4, errata P.91–P.92" }
      { Id = "SYM-01"; Statement = "If the data law is invariant under an orthogonal group, so are the marginals p_t, and the score is equivariant."; Source = "S3 TOC 4.5, errata P.101–P.102" }
      { Id = "NG-01"; Statement = "With non-Gaussian (e.g. Laplace) noise the denoising minimiser is still the conditional mean, but Tweedie's link to the score of the marginal no longer holds; fourth moments (kappa_4) tell the noises apart."; Source = "S3 TOC A.7" }
      { Id = "BITS-01"; Statement = "Analog bits: integers encoded as +-s bit vectors decode exactly, and under Gaussian noise tau each bit flips with probability Phi(-s/tau)."; Source = "S3 TOC A.8" } ]

let ids = entries |> List.map (fun e -> e.Id)
