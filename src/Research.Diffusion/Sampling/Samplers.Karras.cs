using Research.Torch;

namespace Research.Diffusion;

/// <summary>
/// k-diffusion's samplers (Crowson), EDM's (Karras et al. 2022) and the Adams-type multistep methods (LMS, DEIS,
/// iPNDM), all written in the VE normal form of PROC-08: x^ = x / alpha, noise level varsigma, and the PF-ODE
/// dx^/dvarsigma = eps^(x^) = (x^ - D) / varsigma. The loop state stays x, so callbacks see the process's own state.
/// </summary>
public static partial class Samplers
{
    // ---- DPM-2 (k-diffusion's sample_dpm_2 and sample_dpm_2_ancestral) --------------------------------------

    /// <summary>
    /// DPM-2: the midpoint method in varsigma with the geometric midpoint varsigma_m = sqrt(varsigma varsigma_next):
    /// x^_m = x^ + eps^(x^) (varsigma_m - varsigma), x^_next = x^ + eps^(x^_m) (varsigma_next - varsigma). Second order,
    /// 2 NFE a step. varsigma_m is the lambda-midpoint, and the update is DPM-Solver-2 (r1 = 1/2) written in varsigma,
    /// so it is that sampler under k-diffusion's name (the ancestral variant below needs the step on its own).
    /// </summary>
    public static Sampler Dpm2 { get; } = DpmSolver(2) with { Name = "DPM-2" };

    /// <summary>
    /// DPM-2 ancestral: a DPM-2 step down to varsigma_down, then noise of scale varsigma_up (<see cref="AncestralSplit"/>).
    /// Weak order 1.
    /// </summary>
    public static Sampler Dpm2Ancestral(double eta = 1.0) =>
        new(eta == 1.0 ? "DPM-2 ancestral" : $"DPM-2 ancestral (eta {eta:G3})", new(WeakOrder: 1.0), (c, times, x) =>
            c.Loop(x, times, (i, y) =>
            {
                var (t, s) = (times[i], times[i + 1]);
                var split = AncestralSplit.Of(c.Varsigma(t), c.Varsigma(s), eta);
                var hat = y / c.Alpha(t);
                var down = split.Down == 0.0 ? c.Denoised(y, t) : Dpm2Step(c, hat, t, split.Down);
                return (split.Up == 0.0 ? down : down + c.Noise(y) * split.Up) * c.Alpha(s);
            }));

    /// <summary>One DPM-2 step of x^ from time t to the noise level <paramref name="levelNext"/> &gt; 0.</summary>
    static Tensor Dpm2Step(SamplerContext c, Tensor hat, double t, double levelNext)
    {
        var level = c.Varsigma(t);
        var middle = Math.Sqrt(level * levelNext);
        var halfway = hat + c.EpsHat(hat, t) * (middle - level);
        return hat + c.EpsHat(halfway, c.TimeAtVarsigma(middle)) * (levelNext - level);
    }

    // ---- Adams-type multistep methods in varsigma ---------------------------------------------------------------

    /// <summary>
    /// Linear multistep (k-diffusion's sample_lms): variable-step Adams–Bashforth of order <paramref name="order"/> on
    /// dx^/dvarsigma = eps^: x^_{i+1} = x^_i + sum_j c_j eps^_{i-j}, c_j the integral over [varsigma_i, varsigma_{i+1}] of
    /// the Lagrange polynomial in varsigma through the last <paramref name="order"/> levels. One NFE a step.
    /// </summary>
    public static Sampler Lms(int order = 4) => AdamsBashforth($"LMS (order {order})", order, level => level);

    /// <summary>
    /// DEIS (Zhang &amp; Chen 2023, the "log rho" variant of diffusers' DEISMultistepScheduler): the same Adams step, with
    /// eps^ interpolated by a polynomial in log varsigma, which follows eps^ more closely where the levels spread over
    /// decades. One NFE a step.
    /// </summary>
    public static Sampler Deis(int order = 3) => AdamsBashforth($"DEIS (order {order})", order, Math.Log);

    static Sampler AdamsBashforth(string name, int order, Func<double, double> variable)
    {
        if (order is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(order), order, "orders 1 to 4");
        return new(name, new(Order: order), (c, times, x) =>
        {
            var history = new History(order - 1);
            var result = c.Loop(x, times, (i, y) =>
            {
                var (t, s) = (times[i], times[i + 1]);
                if (c.Sigma(s) == 0.0) return Denoise(c, y, t, s);
                var hat = y / c.Alpha(t);
                var (level, next) = (c.Varsigma(t), c.Varsigma(s));
                if (i < order - 2) return StartStep(c, history, hat, level, next, order) * c.Alpha(s);
                var slope = c.EpsHat(hat, t);
                var levels = history.Levels.Prepend(level).ToArray();
                var slopes = history.Values.Prepend(slope).ToArray();
                var step = hat;
                for (var j = 0; j < levels.Length; j++)
                    step = step + slopes[j] * LagrangeIntegral(levels.Select(variable).ToArray(), j, level, next, variable);
                history.Push(level, slope);
                return step * c.Alpha(s);
            });
            history.Dispose();
            return result;
        });
    }

    /// <summary>
    /// The integral over [a, b] of the j-th Lagrange basis polynomial through the nodes (in the interpolation
    /// variable u = variable(varsigma)), by 8-point Gauss–Legendre in varsigma: exact for polynomials in varsigma of
    /// degree &lt;= 15, and for the log variable accurate to rounding on the steps used here.
    /// </summary>
    static double LagrangeIntegral(double[] nodes, int j, double a, double b, Func<double, double> variable)
    {
        var (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
        var sum = 0.0;
        for (var q = 0; q < GaussLegendre8.Nodes.Length; q++)
        {
            var u = variable(mid + half * GaussLegendre8.Nodes[q]);
            var basis = 1.0;
            for (var k = 0; k < nodes.Length; k++)
                if (k != j) basis *= (u - nodes[k]) / (nodes[j] - nodes[k]);
            sum += GaussLegendre8.Weights[q] * basis;
        }
        return half * sum;
    }

    static class GaussLegendre8
    {
        public static readonly double[] Nodes =
        [
            -0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498,
            0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363,
        ];
        public static readonly double[] Weights =
        [
            0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620,
            0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763,
        ];
    }

    /// <summary>
    /// iPNDM (Zhang &amp; Chen 2023; k-diffusion's sample_ipndm): Adams–Bashforth 4 with its constant-step weights,
    /// y_{i+1} = y_i + dlambda (55 f_i - 59 f_{i-1} + 37 f_{i-2} - 9 f_{i-3}) / 24, started by three RK4 steps as PNDM
    /// starts with Runge–Kutta steps. Constant weights assume equal steps: on a grid of unequal steps they leave a
    /// second-order error. The paper and k-diffusion apply them in varsigma; here they are applied to the same ODE
    /// written in lambda = -log varsigma, dx^/dlambda = f = -varsigma eps^ = D - x^, so that the declared order 4
    /// holds on the library's default grid, uniform in log SNR (on a grid uniform in varsigma it is order 2).
    /// </summary>
    public static Sampler Ipndm { get; } = new("iPNDM (in lambda)", new(Order: 4), (c, times, x) =>
    {
        var history = new History(3);
        Tensor Slope(Tensor hat, double lambda) => c.EpsHat(hat, c.TimeAtHalfLogSnr(lambda)) * -Math.Exp(-lambda);
        var result = c.Loop(x, times, (i, y) =>
        {
            var (t, s) = (times[i], times[i + 1]);
            if (c.Sigma(s) == 0.0) return Denoise(c, y, t, s);
            var hat = y / c.Alpha(t);
            var (lambda, next) = (c.HalfLogSnr(t), c.HalfLogSnr(s));
            if (i < 3)
            {
                var (start, k, _) = ButcherTableau.Rk4.Step((l, z) => l == lambda ? c.EpsHat(z, t) * -Math.Exp(-l) : Slope(z, l), lambda, next - lambda, hat);
                history.Push(lambda, k[0]);
                return start * c.Alpha(s);
            }
            var slope = Slope(hat, lambda);
            var e = history.Values;
            var combined = (slope * 55.0 - e[0] * 59.0 + e[1] * 37.0 - e[2] * 9.0) / 24.0;
            history.Push(lambda, slope);
            return (hat + combined * (next - lambda)) * c.Alpha(s);
        });
        history.Dispose();
        return result;
    });

    /// <summary>
    /// The first p - 2 steps of an Adams method of order p: a Runge–Kutta step in varsigma of order at least p - 1
    /// (Heun for p = 3, RK4 for p = 4), whose first stage eps^(x^_i) joins the history; from step p - 2 on the Adams
    /// step of order min(i + 1, p) has local error O(h^p) or better, which keeps the global order p.
    /// </summary>
    static Tensor StartStep(SamplerContext c, History history, Tensor hat, double level, double next, int order)
    {
        var tableau = order >= 4 ? ButcherTableau.Rk4 : ButcherTableau.Heun;
        var (y, k, _) = tableau.Step((v, z) => c.EpsHat(z, c.TimeAtVarsigma(v)), level, next - level, hat);
        history.Push(level, k[0]);
        return y;
    }

    /// <summary>The last few (level, value) pairs of a multistep method, newest first; owns its tensors.</summary>
    sealed class History(int capacity) : IDisposable
    {
        readonly List<(double Level, Tensor Value)> items = [];
        public double[] Levels => items.Select(p => p.Level).ToArray();
        public Tensor[] Values => items.Select(p => p.Value).ToArray();
        public int Count => items.Count;

        public void Push(double level, Tensor value)
        {
            if (capacity == 0) return;
            items.Insert(0, (level, value.MoveToOuterScope()));
            if (items.Count <= capacity) return;
            items[^1].Value.Dispose();
            items.RemoveAt(items.Count - 1);
        }

        public void Dispose()
        {
            foreach (var (_, value) in items) value.Dispose();
            items.Clear();
        }
    }

    // ---- EDM (Karras et al. 2022, Algorithm 2) ----------------------------------------------------------------

    /// <summary>
    /// The EDM stochastic sampler in the VE normal form (x^ = x / alpha, varsigma): at each level varsigma_i in
    /// [sMin, sMax] raise the noise to varsigma^ = (1 + gamma) varsigma_i, gamma = min(churn / N, sqrt 2 - 1), by adding
    /// sqrt(varsigma^2 - varsigma_i^2) sNoise z; then a Heun step of dx^/dvarsigma = eps^ to varsigma_{i+1} (Euler on the
    /// step to 0). With churn = 0 it is Heun's method in varsigma: declared order 2. With churn &gt; 0 the injected
    /// noise per step scales as churn / N, so it is not the discretisation of one fixed SDE; no weak order is claimed.
    /// </summary>
    public static Sampler EdmStochastic(double churn = 0.0, double sMin = 0.0, double sMax = double.PositiveInfinity, double sNoise = 1.0) =>
        new($"EDM stochastic (churn {churn:G3})", churn == 0.0 ? new(Order: 2) : new(InjectsNoise: true), (c, times, x) =>
        {
            var steps = times.Length - 1;
            var gammaMax = Math.Min(churn / steps, Math.Sqrt(2.0) - 1.0);
            return c.Loop(x, times, (i, y) =>
            {
                var (t, next) = (times[i], times[i + 1]);
                var (level, levelNext) = (c.Varsigma(t), c.Varsigma(next));
                var hat = y / c.Alpha(t);
                var gamma = level >= sMin && level <= sMax ? gammaMax : 0.0;
                var (raised, tRaised) = (level, t);
                if (gamma > 0.0)
                {
                    raised = level * (1.0 + gamma);
                    tRaised = c.TimeAtVarsigma(raised);
                    hat = hat + c.Noise(hat) * (Math.Sqrt(raised * raised - level * level) * sNoise);
                }
                var slope = c.EpsHat(hat, tRaised);
                var euler = hat + slope * (levelNext - raised);
                if (levelNext == 0.0) return euler * c.Alpha(next);
                var slopeNext = c.EpsHat(euler, next);
                return (hat + (slope + slopeNext) * (0.5 * (levelNext - raised))) * c.Alpha(next);
            });
        });
}
