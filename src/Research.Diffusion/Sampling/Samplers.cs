using MathNet.Numerics.LinearAlgebra;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>
/// An ancestral step from noise level varsigma to varsigma_next &lt; varsigma of the VE normal form (PROC-08):
/// move deterministically to varsigma_down, then add fresh noise of scale varsigma_up, with
/// varsigma_down^2 + varsigma_up^2 = varsigma_next^2 so the marginal noise level is right (DDIM-02).
/// </summary>
public readonly record struct AncestralSplit(double Down, double Up)
{
    /// <summary>
    /// varsigma_up = eta varsigma_Q with varsigma_Q^2 = varsigma_next^2 (varsigma^2 - varsigma_next^2) / varsigma^2, the
    /// posterior standard deviation of DDIM-02 in the VE form (sigma_Q / alpha_next); eta = 1 is DDPM, eta = 0 DDIM.
    /// Capped at varsigma_next (eta &gt; 1).
    /// </summary>
    public static AncestralSplit Of(double varsigma, double varsigmaNext, double eta)
    {
        if (varsigmaNext == 0.0) return new(0.0, 0.0);
        var up = Math.Min(varsigmaNext, eta * varsigmaNext * Math.Sqrt(Math.Max(0.0, 1.0 - varsigmaNext * varsigmaNext / (varsigma * varsigma))));
        return new(Math.Sqrt(Math.Max(0.0, varsigmaNext * varsigmaNext - up * up)), up);
    }
}

/// <summary>
/// The samplers. Each is a stateless <see cref="Sampler"/> value (or a factory of one, for methods with
/// parameters) that works for every process and every <see cref="Denoiser"/>. Shared conventions:
/// <list type="bullet">
/// <item>A step that ends at sigma = 0 cannot evaluate the model there; deterministic methods take it as the
/// denoising step x = alpha(0) D(x_t, t), the Euler step of the VE normal form dx^/dvarsigma = eps^ (DDIM-01),
/// and multi-stage methods drop to it (EDM, k-diffusion and DPM-Solver do the same).</item>
/// <item>Every model call counts one function evaluation (a guided model is one call that costs two network passes).</item>
/// </list>
/// </summary>
public static class Samplers
{
    // ---- probability-flow ODE (SDE-03, PROC-09): dx/dt = v(x, t) = alpha' x0^ + sigma' eps^ ----------------

    /// <summary>PF-ODE with the explicit Runge–Kutta method <paramref name="tableau"/> on the grid, in the process's own t.</summary>
    public static Sampler ProbabilityFlow(ButcherTableau tableau) =>
        new($"PF-ODE {tableau.Name}", new(Order: tableau.Order), (model, process, times, x, generator) =>
        {
            var c = new SamplerContext(model, process, generator);
            VectorField velocity = (t, y) => c.Predict(Prediction.Velocity, y, t);
            var result = c.Loop(x, times.Length - 1, (i, y) =>
                c.Sigma(times[i + 1]) == 0.0
                    ? Denoise(c, y, times[i], times[i + 1])
                    : tableau.Step(velocity, times[i], times[i + 1] - times[i], y).Y);
            return c.Result(result);
        });

    public static Sampler Euler { get; } = ProbabilityFlow(ButcherTableau.Euler);
    public static Sampler Heun { get; } = ProbabilityFlow(ButcherTableau.Heun);
    public static Sampler Rk4 { get; } = ProbabilityFlow(ButcherTableau.Rk4);

    /// <summary>
    /// Adaptive Dormand–Prince RK5(4) on the PF-ODE from the grid's first time to its last (intermediate grid
    /// times are ignored; the method chooses its own steps), then the denoising step if the grid ends at sigma = 0.
    /// Declared order 5, the order of the propagated solution.
    /// </summary>
    public static Sampler DormandPrince(double rtol = 1e-6, double atol = 1e-6) =>
        new($"PF-ODE Dormand–Prince (rtol {rtol:G3}, atol {atol:G3})", new(Order: ButcherTableau.DormandPrince.Order), (model, process, times, x, generator) =>
        {
            var c = new SamplerContext(model, process, generator);
            if (times.Length == 1) return c.Result(x.clone());
            var toZero = c.Sigma(times[^1]) == 0.0;
            var end = toZero ? times[^2] : times[^1];
            var (y, _) = RungeKutta.Adaptive(ButcherTableau.DormandPrince, (t, y) => c.Predict(Prediction.Velocity, y, t), x, times[0], end, rtol, atol);
            if (!toZero) return new(y, c.Nfe);
            var result = c.Loop(y, 1, (_, z) => Denoise(c, z, end, times[^1]));
            y.Dispose();
            return c.Result(result);
        });

    // ---- DDIM family (DDIM-01, DDIM-02) ----------------------------------------------------------------------

    /// <summary>
    /// DDIM with stochasticity eta (Song, Meng &amp; Ermon 2021): in the VE normal form x^ = x / alpha,
    /// x^_s = D + varsigma_down eps^ + varsigma_up z with the <see cref="AncestralSplit"/> of (varsigma_t, varsigma_s, eta),
    /// which is q_eta of DDIM-02 with its x_0 replaced by D(x_t). eta = 0 is one Euler step of
    /// dx^/dvarsigma = eps^ (DDIM-01), first order; eta &gt; 0 is a discretisation of a reverse SDE (weak order 1).
    /// </summary>
    public static Sampler Ddim(double eta = 0.0) =>
        new(eta == 0.0 ? "DDIM" : $"DDIM (eta {eta:G3})", eta == 0.0 ? new(Order: 1) : new(WeakOrder: 1.0), (model, process, times, x, generator) =>
        {
            var c = new SamplerContext(model, process, generator);
            return c.Result(c.Loop(x, times.Length - 1, (i, y) => AncestralStep(c, y, times[i], times[i + 1], eta)));
        });

    /// <summary>
    /// DDPM ancestral sampling (Ho et al. 2020, Algorithm 2) on any grid: x_s ~ q(x_s | x_t, x_0 = D(x_t)), the
    /// posterior of DDPM-02, which is DDIM with eta = 1 (DDIM-02). On the grid k/T of a table whose alpha-bar_k
    /// equals alpha(k/T)^2 it is Ho's algorithm exactly; as the grid refines it is a weak-order-1 discretisation of
    /// the reverse SDE (SDE-05).
    /// </summary>
    public static Sampler DdpmAncestral { get; } = Ddim(1.0) with { Name = "DDPM ancestral" };

    internal static Tensor AncestralStep(SamplerContext c, Tensor x, double t, double s, double eta)
    {
        var (alphaT, sigmaT, alphaS) = (c.Alpha(t), c.Sigma(t), c.Alpha(s));
        var denoised = c.Denoised(x, t);
        var split = AncestralSplit.Of(c.Varsigma(t), c.Varsigma(s), eta);
        var next = denoised * alphaS;
        if (split.Down != 0.0) next = next + (x - denoised * alphaT) * (alphaS * split.Down / sigmaT); // alpha_s varsigma_down eps^
        if (split.Up != 0.0) next = next + c.Noise(x) * (alphaS * split.Up);
        return next;
    }

    /// <summary>x = alpha(s) D(x, t): the step to sigma(s) = 0 (DDIM-01 with varsigma_s = 0).</summary>
    static Tensor Denoise(SamplerContext c, Tensor x, double t, double s) => c.Denoised(x, t) * c.Alpha(s);

    // ---- DPM-Solver (Lu et al. 2022, 2022b) -----------------------------------------------------------------

    /// <summary>
    /// Singlestep DPM-Solver-k, k = 1, 2, 3 (Lu et al. 2022, eqs. (3.7)-(3.9) with r1 = 1/2 for k = 2 and
    /// r1 = 1/3, r2 = 2/3 for k = 3), on the noise prediction, with lambda = log(alpha/sigma) and h = lambda_s - lambda_t.
    /// DPM-Solver-1 is DDIM. A step to sigma = 0 (h = inf) is taken at first order.
    /// </summary>
    public static Sampler DpmSolver(int order)
    {
        if (order is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(order), "DPM-Solver has orders 1, 2 and 3");
        return new($"DPM-Solver-{order}", new(Order: order), (model, process, times, x, generator) =>
        {
            var c = new SamplerContext(model, process, generator);
            return c.Result(c.Loop(x, times.Length - 1, (i, y) =>
                c.Sigma(times[i + 1]) == 0.0 ? Denoise(c, y, times[i], times[i + 1]) : DpmSolverStep(c, y, times[i], times[i + 1], order)));
        });
    }

    static Tensor DpmSolverStep(SamplerContext c, Tensor x, double t, double s, int order)
    {
        var (lambdaT, lambdaS) = (c.HalfLogSnr(t), c.HalfLogSnr(s));
        var h = lambdaS - lambdaT;
        var epsT = c.Eps(x, t);
        // x_u = (alpha_u / alpha_t) x - sigma_u (e^{h_u} - 1) eps_t: the first-order (DDIM) move to u
        Tensor FirstOrder(double u, double hu) => x * (c.Alpha(u) / c.Alpha(t)) - epsT * (c.Sigma(u) * Elementary.ExpM1(hu));
        var sigmaS = c.Sigma(s);
        switch (order)
        {
            case 1:
                return FirstOrder(s, h);
            case 2:
            {
                const double r1 = 0.5;
                var s1 = c.TimeAtHalfLogSnr(lambdaT + r1 * h);
                var d1 = c.Eps(FirstOrder(s1, r1 * h), s1) - epsT;
                return FirstOrder(s, h) - d1 * (sigmaS / (2.0 * r1) * Elementary.ExpM1(h));
            }
            default:
            {
                const double r1 = 1.0 / 3.0, r2 = 2.0 / 3.0;
                var (s1, s2) = (c.TimeAtHalfLogSnr(lambdaT + r1 * h), c.TimeAtHalfLogSnr(lambdaT + r2 * h));
                var d1 = c.Eps(FirstOrder(s1, r1 * h), s1) - epsT;
                var u2 = FirstOrder(s2, r2 * h) - d1 * (c.Sigma(s2) * r2 / r1 * (Elementary.ExpM1(r2 * h) / (r2 * h) - 1.0));
                var d2 = c.Eps(u2, s2) - epsT;
                return FirstOrder(s, h) - d2 * (sigmaS / r2 * (Elementary.ExpM1(h) / h - 1.0));
            }
        }
    }

    /// <summary>
    /// DPM-Solver++(2M) (Lu et al. 2022b, Algorithm 2), multistep on the data prediction D:
    /// x_s = (sigma_s / sigma_t) x - alpha_s (e^{-h} - 1) D', with D' = (1 + 1/(2r)) D_t - 1/(2r) D_prev and
    /// r = h_prev / h. Second order; the first step (no history) and a step to sigma = 0 use D' = D_t (first order).
    /// </summary>
    public static Sampler DpmSolverPlusPlus2M { get; } = new("DPM-Solver++(2M)", new(Order: 2), (model, process, times, x, generator) =>
    {
        var c = new SamplerContext(model, process, generator);
        Tensor? previous = null;
        var previousH = double.NaN;
        var result = c.Loop(x, times.Length - 1, (i, y) =>
        {
            var (t, s) = (times[i], times[i + 1]);
            var h = c.HalfLogSnr(s) - c.HalfLogSnr(t); // +inf when sigma_s = 0
            var denoised = c.Denoised(y, t);
            var combined = denoised;
            if (previous is not null && c.Sigma(s) != 0.0)
            {
                var r = previousH / h;
                combined = denoised * (1.0 + 0.5 / r) - previous * (0.5 / r);
            }
            var next = y * (c.Sigma(s) / c.Sigma(t)) - combined * (c.Alpha(s) * Elementary.ExpM1(-h));
            previous?.Dispose();
            previous = denoised.MoveToOuterScope();
            previousH = h;
            return next;
        });
        previous?.Dispose();
        return c.Result(result);
    });

    // ---- reverse SDE (SDE-05) and predictor–corrector ----------------------------------------------------------

    /// <summary>
    /// Euler–Maruyama on the reverse-time member of the h-family with h = noiseScale g (SDE-04, SDE-05; noiseScale = 1
    /// is Anderson's reverse SDE): x_s = x_t + (s - t)[f x - (g^2 + h^2)/2 score] + h(t) sqrt(t - s) z. The noise is
    /// additive (h depends on t only), so Euler–Maruyama has strong order 1 and weak order 1.
    /// </summary>
    public static Sampler ReverseSde(double noiseScale = 1.0) =>
        new(noiseScale == 1.0 ? "reverse SDE Euler–Maruyama" : $"reverse SDE Euler–Maruyama (h = {noiseScale:G3} g)", new(StrongOrder: 1.0, WeakOrder: 1.0),
            (model, process, times, x, generator) =>
            {
                var c = new SamplerContext(model, process, generator);
                var sde = LinearSde.Of(process);
                return c.Result(c.Loop(x, times.Length - 1, (i, y) => ReverseEulerMaruyamaStep(c, sde, y, times[i], times[i + 1], noiseScale)));
            });

    static Tensor ReverseEulerMaruyamaStep(SamplerContext c, LinearSde sde, Tensor x, double t, double s, double noiseScale)
    {
        var h = noiseScale * sde.G(t);
        var drift = DriftMap(sde, t, h).Apply(x, c.Predict(Prediction.Score, x, t));
        var next = x + drift * (s - t);
        return h == 0.0 ? next : next + c.Noise(x) * (h * Math.Sqrt(t - s));
    }

    /// <summary>
    /// The reverse drift f x - (g^2 + h^2)/2 score is affine in (x, score); its two coefficients are read off
    /// <see cref="LinearSde.GeneralizedDrift"/> so the formula lives in one place (SDE-04).
    /// </summary>
    static AffineMap DriftMap(LinearSde sde, double t, double h)
    {
        var (one, zero) = (Vector<double>.Build.Dense(1, 1.0), Vector<double>.Build.Dense(1, 0.0));
        return new(sde.GeneralizedDrift(t, one, zero, h, reverse: true)[0], sde.GeneralizedDrift(t, zero, one, h, reverse: true)[0]);
    }

    /// <summary>
    /// Predictor–corrector (Song et al. 2021, Algorithm 1 and the corrector of Algorithm 4): a reverse Euler–Maruyama
    /// predictor step, then <paramref name="correctorSteps"/> Langevin steps at the new time (LD-01 with p = p_s),
    /// x += e score + sqrt(2 e) z with e = 2 (snr mean|z| / mean|score|)^2, the norms per sample averaged over the
    /// batch as in score_sde: per-sample norms make e explode where the score vanishes between modes. Song's VP
    /// variant also multiplies e by alpha_i = 1 - beta_i; that factor is not used here. Weak order 1 is the predictor's.
    /// </summary>
    public static Sampler PredictorCorrector(int correctorSteps = 1, double snr = 0.16) =>
        new($"predictor–corrector (EM + {correctorSteps} Langevin, snr {snr:G3})", new(WeakOrder: 1.0), (model, process, times, x, generator) =>
        {
            var c = new SamplerContext(model, process, generator);
            var sde = LinearSde.Of(process);
            return c.Result(c.Loop(x, times.Length - 1, (i, y) =>
            {
                var s = times[i + 1];
                var next = ReverseEulerMaruyamaStep(c, sde, y, times[i], s, 1.0);
                if (c.Sigma(s) == 0.0) return next;
                for (var j = 0; j < correctorSteps; j++)
                {
                    var score = c.Predict(Prediction.Score, next, s);
                    var z = c.Noise(next);
                    var step = 2.0 * Math.Pow(snr * RowNorm(z).mean().ToDouble() / RowNorm(score).mean().ToDouble(), 2);
                    next = next + score * step + z * Math.Sqrt(2.0 * step);
                }
                return next;
            }));
        });

    /// <summary>Euclidean norm of each sample, [batch].</summary>
    static Tensor RowNorm(Tensor x) => x.reshape(x.size(0), -1).norm(2, [1]);

    // ---- annealed Langevin (LD-02) ----------------------------------------------------------------------------

    /// <summary>
    /// Annealed Langevin dynamics (Song &amp; Ermon 2019, Algorithm 1; LD-02) in the VE normal form: the grid's times
    /// are the noise levels varsigma_1 &gt; ... &gt; varsigma_L (all &gt; 0); at each, K steps
    /// x^ += a_i score^ + sqrt(2 a_i) z with a_i = eta varsigma_i^2 / varsigma_L^2 and score^ = -eps^ / varsigma_i, the
    /// score of x^ = x / alpha. Returns alpha(t_L) x^. Weak order 1: the stationary bias is O(a) (LD-01).
    /// Stability: near a mode of variance v the chain contracts by 1 - a_i / (v + varsigma_i^2) (LD-01), so the
    /// step must satisfy a_i &lt; 2 (v + varsigma_i^2); for narrow modes that is eta &lt; 2 varsigma_L^2 (LD-02 uses
    /// varsigma_L = 1, eta = 0.1).
    /// </summary>
    public static Sampler AnnealedLangevin(int stepsPerLevel = 100, double eta = 0.1) =>
        new($"annealed Langevin (K {stepsPerLevel}, eta {eta:G3})", new(WeakOrder: 1.0), (model, process, times, x, generator) =>
        {
            var c = new SamplerContext(model, process, generator);
            var lastLevel = c.Varsigma(times[^1]);
            if (!(lastLevel > 0.0)) throw new ArgumentException("annealed Langevin needs sigma > 0 at every level");
            var hat = x / c.Alpha(times[0]);
            var result = c.Loop(hat, times.Length * stepsPerLevel, (n, y) =>
            {
                var t = times[n / stepsPerLevel];
                var (alpha, level) = (c.Alpha(t), c.Varsigma(t));
                var a = eta * level * level / (lastLevel * lastLevel);
                var score = c.Eps(y * alpha, t) / -level;
                var next = y + score * a + c.Noise(y) * Math.Sqrt(2.0 * a);
                return n == times.Length * stepsPerLevel - 1 ? next * alpha : next;
            });
            hat.Dispose();
            return c.Result(result);
        });

    // ---- EDM (Karras et al. 2022, Algorithm 2) ----------------------------------------------------------------

    /// <summary>
    /// The EDM stochastic sampler in the VE normal form (x^ = x / alpha, varsigma): at each level varsigma_i in
    /// [sMin, sMax] raise the noise to varsigma^ = (1 + gamma) varsigma_i, gamma = min(churn / N, sqrt 2 - 1), by adding
    /// sqrt(varsigma^2 - varsigma_i^2) sNoise z; then a Heun step of dx^/dvarsigma = eps^ to varsigma_{i+1} (Euler on the
    /// step to 0). With churn = 0 it is Heun's method in varsigma: declared order 2. With churn &gt; 0 the injected
    /// noise per step scales as churn / N, so it is not the discretisation of one fixed SDE; no weak order is claimed.
    /// </summary>
    public static Sampler EdmStochastic(double churn = 0.0, double sMin = 0.0, double sMax = double.PositiveInfinity, double sNoise = 1.0) =>
        new($"EDM stochastic (churn {churn:G3})", new(Order: 2), (model, process, times, x, generator) =>
        {
            var c = new SamplerContext(model, process, generator);
            var steps = times.Length - 1;
            var gammaMax = Math.Min(churn / steps, Math.Sqrt(2.0) - 1.0);
            return c.Result(c.Loop(x, steps, (i, y) =>
            {
                var (t, next) = (times[i], times[i + 1]);
                var (level, levelNext) = (c.Varsigma(t), c.Varsigma(next));
                var hat = y / c.Alpha(t);
                var gamma = level >= sMin && level <= sMax ? gammaMax : 0.0;
                var (raised, tRaised) = (level, t);
                if (gamma > 0.0)
                {
                    raised = level * (1.0 + gamma);
                    tRaised = process.TimeAtVarsigma(raised);
                    hat = hat + c.Noise(hat) * (Math.Sqrt(raised * raised - level * level) * sNoise);
                }
                var slope = EpsHat(c, hat, tRaised);
                var euler = hat + slope * (levelNext - raised);
                if (levelNext == 0.0) return euler * c.Alpha(next);
                var slopeNext = EpsHat(c, euler, next);
                return (hat + (slope + slopeNext) * (0.5 * (levelNext - raised))) * c.Alpha(next);
            }));
        });

    /// <summary>dx^/dvarsigma = eps^(alpha x^, t) in the VE normal form (PROC-08).</summary>
    static Tensor EpsHat(SamplerContext c, Tensor hat, double t) => c.Eps(hat * c.Alpha(t), t);

    /// <summary>Every sampler with default settings, for tests and experiments that sweep them.</summary>
    public static IReadOnlyList<Sampler> All { get; } =
    [
        Euler, Heun, Rk4, DormandPrince(), Ddim(), DdpmAncestral, DpmSolver(1), DpmSolver(2), DpmSolver(3), DpmSolverPlusPlus2M,
        ReverseSde(), PredictorCorrector(), AnnealedLangevin(), EdmStochastic(),
    ];
}
