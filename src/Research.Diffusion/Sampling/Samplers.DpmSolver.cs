using MathNet.Numerics.LinearAlgebra;
using Research.Torch;

namespace Research.Diffusion;

/// <summary>
/// Exponential integrators in lambda = log(alpha/sigma) (half the log SNR): DPM-Solver on the noise prediction (Lu et
/// al. 2022), DPM-Solver++ on the data prediction (Lu et al. 2022b) and its SDE variants, and UniPC (Zhao et al.
/// 2023). With h = lambda_s - lambda_t, the exact data-prediction solution is
/// x_s = (sigma_s/sigma_t) x_t + alpha_s int_0^h e^{-(h - u)} D(lambda_t + u) du; each method approximates D in it.
/// </summary>
public static partial class Samplers
{
    // ---- DPM-Solver (noise prediction) ------------------------------------------------------------------------

    /// <summary>
    /// Singlestep DPM-Solver-k, k = 1, 2, 3 (Lu et al. 2022, eqs. (3.7)-(3.9) with r1 = 1/2 for k = 2 and
    /// r1 = 1/3, r2 = 2/3 for k = 3), on the noise prediction, with lambda = log(alpha/sigma) and h = lambda_s - lambda_t.
    /// DPM-Solver-1 is DDIM. A step to sigma = 0 (h = inf) is taken at first order.
    /// </summary>
    public static Sampler DpmSolver(int order)
    {
        if (order is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(order), "DPM-Solver has orders 1, 2 and 3");
        return new($"DPM-Solver-{order}", new(Order: order), (c, times, x) =>
            c.Loop(x, times, (i, y) =>
            {
                var (t, s) = (times[i], times[i + 1]);
                if (c.Sigma(s) == 0.0) return Denoise(c, y, t, s);
                var step = new DpmSolverStep(c, y, t, s, c.Eps(y, t));
                return order switch { 1 => step.FirstOrder(s, step.H), 2 => step.Second(0.5).X, _ => step.Third() };
            }));
    }

    /// <summary>
    /// The pieces of one singlestep DPM-Solver step from (x, t) to s, sharing eps_t and the evaluation at r1 = 1/3
    /// between the second- and third-order solutions (the adaptive pair of Lu et al. 2022, Sec. 4).
    /// </summary>
    sealed class DpmSolverStep(SamplerContext c, Tensor x, double t, double s, Tensor epsT)
    {
        readonly double lambdaT = c.HalfLogSnr(t);
        public double H { get; } = c.HalfLogSnr(s) - c.HalfLogSnr(t);

        /// <summary>x_u = (alpha_u/alpha_t) x - sigma_u (e^{h_u} - 1) eps_t: the first-order (DDIM) move to u.</summary>
        public Tensor FirstOrder(double u, double hu) => x * (c.Alpha(u) / c.Alpha(t)) - epsT * (c.Sigma(u) * Elementary.ExpM1(hu));

        /// <summary>DPM-Solver-2 with intermediate point r1: returns the solution and D1 = eps(u1) - eps_t.</summary>
        public (Tensor X, Tensor D1) Second(double r1)
        {
            var s1 = c.TimeAtHalfLogSnr(lambdaT + r1 * H);
            var d1 = c.Eps(FirstOrder(s1, r1 * H), s1) - epsT;
            return (FirstOrder(s, H) - d1 * (c.Sigma(s) / (2.0 * r1) * Elementary.ExpM1(H)), d1);
        }

        /// <summary>DPM-Solver-3 (r1 = 1/3, r2 = 2/3), reusing D1 of <see cref="Second"/> at r1 = 1/3 when given.</summary>
        public Tensor Third(Tensor? d1AtThird = null)
        {
            const double r1 = 1.0 / 3.0, r2 = 2.0 / 3.0;
            var d1 = d1AtThird ?? Second(r1).D1;
            var s2 = c.TimeAtHalfLogSnr(lambdaT + r2 * H);
            var u2 = FirstOrder(s2, r2 * H) - d1 * (c.Sigma(s2) * r2 / r1 * (Elementary.ExpM1(r2 * H) / (r2 * H) - 1.0));
            var d2 = c.Eps(u2, s2) - epsT;
            return FirstOrder(s, H) - d2 * (c.Sigma(s) / r2 * (Elementary.ExpM1(H) / H - 1.0));
        }
    }

    /// <summary>
    /// Adaptive DPM-Solver-23 (Lu et al. 2022, Algorithm 4; k-diffusion's sample_dpm_adaptive): from the grid's first
    /// time to its last it picks its own steps in lambda, each giving the second-order (r1 = 1/3) and third-order
    /// solutions for 3 NFE; a step is accepted when the error factor 1 + atan(E^{-1/3} - 1) is at least 0.81, with
    /// E the RMS of (x2 - x3) / max(atol, rtol max(|x2|, |x_prev|)), and h is scaled by that factor. Declared order 3,
    /// of the propagated solution; the error follows the tolerance rather than a grid. Intermediate grid times are
    /// ignored; a grid that ends at sigma = 0 ends with the denoising step.
    /// </summary>
    public static Sampler DpmSolverAdaptive(double rtol = 0.05, double atol = 0.0078, double initialStep = 0.05) =>
        new($"DPM-Solver adaptive (rtol {rtol:G3}, atol {atol:G3})", new(Order: 3, Adaptive: true), (c, times, x) =>
        {
            if (times.Length == 1) return x.clone();
            var toZero = c.Sigma(times[^1]) == 0.0;
            var end = toZero ? times[^2] : times[^1];
            var (lambda, lambdaEnd) = (c.HalfLogSnr(times[0]), c.HalfLogSnr(end));
            var h = initialStep;
            var (y, previous) = (x.clone(), x.clone());
            Tensor? epsAtLambda = null;
            for (var attempt = 0; lambda < lambdaEnd - 1e-5; attempt++)
            {
                if (attempt == 100_000) throw new InvalidOperationException($"adaptive DPM-Solver: no convergence at lambda = {lambda}");
                var next = Math.Min(lambdaEnd, lambda + h);
                var (t, s) = (c.TimeAtHalfLogSnr(lambda), next == lambdaEnd ? end : c.TimeAtHalfLogSnr(next));
                using var scope = torch.NewDisposeScope();
                epsAtLambda ??= c.Eps(y, t).MoveToOuterScope();
                var step = new DpmSolverStep(c, y, t, s, epsAtLambda);
                var (low, d1) = step.Second(1.0 / 3.0);
                var high = step.Third(d1);
                var tolerance = (low.abs().maximum(previous.abs()) * rtol).clamp_min(atol);
                var error = ((low - high) / tolerance).square().mean().sqrt().ToDouble();
                var factor = double.IsFinite(error) ? 1.0 + Math.Atan(Math.Pow(1.0 / (error + 1e-8), 1.0 / 3.0) - 1.0) : 0.2;
                if (factor >= 0.81)
                {
                    (previous, y) = (Replace(previous, low), Replace(y, high));
                    epsAtLambda.Dispose();
                    epsAtLambda = null;
                    lambda = next;
                }
                h *= factor;
            }
            epsAtLambda?.Dispose();
            previous.Dispose();
            if (!toZero) return y;
            var result = c.Loop(y, 1, (_, z) => Denoise(c, z, end, times[^1]), _ => times[^1]);
            y.Dispose();
            return result;
        });

    /// <summary>Disposes <paramref name="old"/> and keeps <paramref name="value"/> beyond the current scope.</summary>
    static Tensor Replace(Tensor old, Tensor value)
    {
        old.Dispose();
        return value.MoveToOuterScope();
    }

    // ---- DPM-Solver++ (data prediction) and its SDE variants -----------------------------------------------------

    /// <summary>
    /// DPM-Solver++(2M) (Lu et al. 2022b, Algorithm 2), multistep on the data prediction D:
    /// x_s = (sigma_s / sigma_t) x - alpha_s (e^{-h} - 1) D', with D' = (1 + 1/(2r)) D_t - 1/(2r) D_prev and
    /// r = h_prev / h. Second order; the first step (no history) and a step to sigma = 0 use D' = D_t (first order).
    /// </summary>
    public static Sampler DpmSolverPlusPlus2M { get; } = DpmSolverPlusPlusMultistep("DPM-Solver++(2M)", 2, 0.0);

    /// <summary>
    /// DPM-Solver++(3M): D interpolated by the quadratic through the last three data predictions, integrated exactly
    /// against e^{-(h - u)}: x_s = first order + alpha_s (phi2 d1 - 2 phi3 d2), with d1 ~ h D' and d2 ~ h^2 D''/2 the
    /// divided differences, phi2 = (e^{-h} - 1)/h + 1 and phi3 = phi2/h - 1/2 (int_0^h e^{-(h-u)} u^2 du = -2 h^2 phi3;
    /// Lu et al.'s released code and k-diffusion weight d2 by phi3 alone, which is exact only up to D' and fits order 2
    /// here). Third order; the first step is a DPM-Solver++(2S) step (2 NFE) so that the order holds.
    /// </summary>
    public static Sampler DpmSolverPlusPlus3M { get; } = DpmSolverPlusPlusMultistep("DPM-Solver++(3M)", 3, 0.0);

    /// <summary>
    /// SDE-DPM-Solver++(2M) (Lu et al. 2022b; k-diffusion's sample_dpmpp_2m_sde, midpoint form): the data-prediction
    /// exponential integrator of the reverse SDE whose noise is eta times that of Anderson's: x_s = (sigma_s/sigma_t)
    /// e^{-eta h} x + alpha_s (1 - e^{-(1+eta) h}) D + the 2M correction + sigma_s sqrt(1 - e^{-2 eta h}) z. Weak order 1.
    /// </summary>
    public static Sampler DpmSolverPlusPlus2MSde(double eta = 1.0) => DpmSolverPlusPlusMultistep($"DPM-Solver++(2M) SDE (eta {eta:G3})", 2, eta);

    /// <summary>SDE-DPM-Solver++(3M): the same with the third-order correction of <see cref="DpmSolverPlusPlus3M"/>. Weak order 1.</summary>
    public static Sampler DpmSolverPlusPlus3MSde(double eta = 1.0) => DpmSolverPlusPlusMultistep($"DPM-Solver++(3M) SDE (eta {eta:G3})", 3, eta);

    static Sampler DpmSolverPlusPlusMultistep(string name, int order, double eta)
    {
        if (!(eta >= 0.0)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be non-negative");
        var properties = eta == 0.0 ? new SamplerProperties(Order: order) : new SamplerProperties(WeakOrder: 1.0);
        return new(name, properties, (c, times, x) =>
        {
            var history = new History(order - 1); // (lambda, D) of the previous grid points, newest first
            var result = c.Loop(x, times, (i, y) =>
            {
                var (t, s) = (times[i], times[i + 1]);
                if (c.Sigma(s) == 0.0) return Denoise(c, y, t, s);
                var (lambda, lambdaNext) = (c.HalfLogSnr(t), c.HalfLogSnr(s));
                var h = lambdaNext - lambda;
                if (eta == 0.0 && order == 3 && i == 0)
                {
                    var (start, denoisedAtStart) = SinglestepPlusPlus(c, y, t, lambda, h);
                    history.Push(lambda, denoisedAtStart);
                    return start;
                }
                var hEta = (1.0 + eta) * h;
                var denoised = c.Denoised(y, t);
                var next = y * (c.Sigma(s) / c.Sigma(t) * Math.Exp(-eta * h)) - denoised * (c.Alpha(s) * Elementary.ExpM1(-hEta));
                var (levels, values) = (history.Levels, history.Values);
                var phi2 = Elementary.ExpM1(-hEta) / hEta + 1.0;
                if (history.Count >= 1 && (order == 2 || history.Count == 1))
                {
                    var r = (lambda - levels[0]) / h;
                    var d = (denoised - values[0]) / r;
                    // 2M: k-diffusion's midpoint form 0.5 (1 - e^{-h_eta}) d; the second step of 3M: phi2 d. Both second order.
                    next = next + d * (c.Alpha(s) * (order == 2 ? -0.5 * Elementary.ExpM1(-hEta) : phi2));
                }
                else if (history.Count == 2)
                {
                    var (r0, r1) = ((lambda - levels[0]) / h, (levels[0] - levels[1]) / h);
                    var d10 = (denoised - values[0]) / r0;
                    var d11 = (values[0] - values[1]) / r1;
                    var d1 = d10 + (d10 - d11) * (r0 / (r0 + r1));
                    var d2 = (d10 - d11) / (r0 + r1);
                    var phi3 = phi2 / hEta - 0.5;
                    next = next + d1 * (c.Alpha(s) * phi2) - d2 * (c.Alpha(s) * 2.0 * phi3);
                }
                if (eta > 0.0) next = next + c.Noise(y) * (c.Sigma(s) * Math.Sqrt(-Elementary.ExpM1(-2.0 * eta * h)));
                history.Push(lambda, denoised);
                return next;
            });
            history.Dispose();
            return result;
        });
    }

    /// <summary>
    /// DPM-Solver++(2S) (Lu et al. 2022b, Algorithm 1, r = 1/2): D at the lambda-midpoint of the first-order move
    /// replaces D_t. Returns x_s and D_t. Second order, 2 NFE.
    /// </summary>
    static (Tensor X, Tensor DenoisedAtStart) SinglestepPlusPlus(SamplerContext c, Tensor x, double t, double lambda, double h)
    {
        var s = c.TimeAtHalfLogSnr(lambda + h);
        var middle = c.TimeAtHalfLogSnr(lambda + 0.5 * h);
        var denoised = c.Denoised(x, t);
        var halfway = x * (c.Sigma(middle) / c.Sigma(t)) - denoised * (c.Alpha(middle) * Elementary.ExpM1(-0.5 * h));
        var denoisedMiddle = c.Denoised(halfway, middle);
        return (x * (c.Sigma(s) / c.Sigma(t)) - denoisedMiddle * (c.Alpha(s) * Elementary.ExpM1(-h)), denoised);
    }

    /// <summary>
    /// DPM-Solver++(2S) ancestral (k-diffusion's sample_dpmpp_2s_ancestral): in the VE normal form, a DPM-Solver++(2S)
    /// step down to varsigma_down, then noise of scale varsigma_up (<see cref="AncestralSplit"/>). Weak order 1.
    /// </summary>
    public static Sampler DpmSolverPlusPlus2SAncestral(double eta = 1.0) =>
        new(eta == 1.0 ? "DPM-Solver++(2S) ancestral" : $"DPM-Solver++(2S) ancestral (eta {eta:G3})", new(WeakOrder: 1.0), (c, times, x) =>
            c.Loop(x, times, (i, y) =>
            {
                var (t, s) = (times[i], times[i + 1]);
                var split = AncestralSplit.Of(c.Varsigma(t), c.Varsigma(s), eta);
                Tensor down;
                if (split.Down == 0.0) down = c.Denoised(y, t);
                else
                {
                    var lambda = c.HalfLogSnr(t);
                    var (step, _) = SinglestepPlusPlus(c, y, t, lambda, -Math.Log(split.Down) - lambda);
                    down = step / c.Alpha(c.TimeAtVarsigma(split.Down));
                }
                return (split.Up == 0.0 ? down : down + c.Noise(y) * split.Up) * c.Alpha(s);
            }));

    // ---- UniPC (Zhao et al. 2023) ------------------------------------------------------------------------------

    /// <summary>
    /// UniPC with the B(h) = e^{h} - 1 variant ("bh2") on the data prediction, as diffusers' UniPCMultistepScheduler:
    /// a multistep predictor UniP-p, then, once the model has been evaluated at the predicted point (an evaluation the
    /// next step needs anyway), the corrector UniC-p, which raises the order to p + 1 at no extra NFE. The predictor's
    /// order ramps up from 1 over the first steps (the corrector keeps their local error at O(h^3)); the last step
    /// is not corrected. Declared order p + 1, for p = 1, 2.
    /// </summary>
    public static Sampler UniPc(int order = 2)
    {
        if (order is < 1 or > 2) throw new ArgumentOutOfRangeException(nameof(order), order, "UniPC here has predictor orders 1 and 2");
        return new($"UniPC-{order} (bh2)", new(Order: order + 1), (c, times, x) =>
        {
            var history = new History(order);       // (lambda, D) at the last grid points, newest first
            Tensor? lastSample = null;              // the corrected state at the previous grid point
            var lastOrder = 0;
            var result = c.Loop(x, times, (i, y) =>
            {
                var (t, s) = (times[i], times[i + 1]);
                var lambda = c.HalfLogSnr(t);
                var denoised = c.Denoised(y, t);
                var current = y;
                if (lastSample is not null)
                    current = UniPcUpdate(c, times[i - 1], t, lastSample, history, lastOrder, denoised);
                history.Push(lambda, denoised);
                lastSample?.Dispose();
                lastSample = current.alias().MoveToOuterScope();
                if (c.Sigma(s) == 0.0) return denoised * c.Alpha(s);
                lastOrder = Math.Min(order, i + 1);
                return UniPcUpdate(c, t, s, current, history, lastOrder, null);
            });
            lastSample?.Dispose();
            history.Dispose();
            return result;
        });
    }

    /// <summary>
    /// One UniPC update from (x, t) with data predictions <paramref name="history"/> (newest first, the newest at t)
    /// to time s: the predictor when <paramref name="modelAtTarget"/> is null, else the corrector with D at the
    /// predicted point. x_s = (sigma_s/sigma_t) x - alpha_s (e^{-h} - 1) D_t - alpha_s B(h) sum_k rho_k D1_k, with
    /// D1_k = (D_k - D_t) / r_k and the rho of the order conditions R rho = b (Zhao et al. 2023, Algorithm 2).
    /// </summary>
    static Tensor UniPcUpdate(SamplerContext c, double t, double s, Tensor x, History history, int order, Tensor? modelAtTarget)
    {
        var h = c.HalfLogSnr(s) - c.HalfLogSnr(t);
        var (levels, values) = (history.Levels, history.Values);
        var m0 = values[0];
        var rks = new List<double>();
        var differences = new List<Tensor>();
        for (var k = 1; k < order; k++)
        {
            var rk = (levels[k] - levels[0]) / h;
            rks.Add(rk);
            differences.Add((values[k] - m0) / rk);
        }
        rks.Add(1.0);
        var hh = -h;
        var hPhi1 = Elementary.ExpM1(hh);
        var bh = hPhi1;
        var hPhiK = hPhi1 / hh - 1.0;
        var factorial = 1.0;
        var rows = new double[order][];
        var b = new double[order];
        for (var k = 1; k <= order; k++)
        {
            rows[k - 1] = rks.Select(r => Math.Pow(r, k - 1)).ToArray();
            b[k - 1] = hPhiK * factorial / bh;
            factorial *= k + 1;
            hPhiK = hPhiK / hh - 1.0 / factorial;
        }
        var next = x * (c.Sigma(s) / c.Sigma(t)) - m0 * (c.Alpha(s) * hPhi1);
        if (modelAtTarget is null)
        {
            if (order == 1) return next;
            var rhos = order == 2 ? [0.5] : Solve(rows, b, order - 1);
            var residual = differences[0] * rhos[0];
            for (var k = 1; k < differences.Count; k++) residual = residual + differences[k] * rhos[k];
            return next - residual * (c.Alpha(s) * bh);
        }
        var rhosC = order == 1 ? [0.5] : Solve(rows, b, order);
        var correction = (modelAtTarget - m0) * rhosC[^1];
        for (var k = 0; k < differences.Count; k++) correction = correction + differences[k] * rhosC[k];
        return next - correction * (c.Alpha(s) * bh);
    }

    /// <summary>The leading n x n block of the system rows · rho = b, solved (n &lt;= 3).</summary>
    static double[] Solve(double[][] rows, double[] b, int n)
    {
        var matrix = Matrix<double>.Build.Dense(n, n, (i, j) => rows[i][j]);
        return matrix.Solve(Vector<double>.Build.Dense(n, i => b[i])).ToArray();
    }
}
