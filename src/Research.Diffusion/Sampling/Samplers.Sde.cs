using MathNet.Numerics.LinearAlgebra;
using Research.Torch;

namespace Research.Diffusion;

public static partial class Samplers
{
    // ---- reverse SDE (SDE-05) and predictor–corrector ----------------------------------------------------------

    /// <summary>
    /// Euler–Maruyama on the reverse-time member of the h-family with h = noiseScale g (SDE-04, SDE-05; noiseScale = 1
    /// is Anderson's reverse SDE): x_s = x_t + (s - t)[f x - (g^2 + h^2)/2 score] + h(t) sqrt(t - s) z. Weak order 1. The
    /// noise is additive (h depends on t only), so its strong order is 1 too; that is not declared as data, because the
    /// noise of two grids is not coupled and no test could measure it.
    /// </summary>
    public static Sampler ReverseSde(double noiseScale = 1.0) =>
        new(noiseScale == 1.0 ? "reverse SDE Euler–Maruyama" : $"reverse SDE Euler–Maruyama (h = {noiseScale:G3} g)", new(WeakOrder: 1.0),
            (c, times, x) =>
            {
                var sde = LinearSde.Of(c.Process);
                return c.Loop(x, times, (i, y) => ReverseEulerMaruyamaStep(c, sde, y, times[i], times[i + 1], noiseScale));
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
        new($"predictor–corrector (EM + {correctorSteps} Langevin, snr {snr:G3})", new(WeakOrder: 1.0), (c, times, x) =>
        {
            var sde = LinearSde.Of(c.Process);
            return c.Loop(x, times, (i, y) =>
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
            });
        });

    /// <summary>Euclidean norm of each sample, [batch].</summary>
    static Tensor RowNorm(Tensor x) => x.reshape(x.size(0), -1).norm(2, [1]);

    // ---- annealed Langevin (LD-02) ----------------------------------------------------------------------------

    /// <summary>
    /// Annealed Langevin dynamics (Song &amp; Ermon 2019, Algorithm 1; LD-02) in the VE normal form: the grid's times
    /// are the noise levels varsigma_1 &gt; ... &gt; varsigma_L (all &gt; 0); at each, K steps
    /// x^ += a_i score^ + sqrt(2 a_i) z with a_i = eta varsigma_i^2 / varsigma_L^2 and score^ = -eps^ / varsigma_i, the
    /// score of x^ = x / alpha. The state is kept as x = alpha(t_i) x^ at the current level, so the callback sees
    /// the process's own state after each of the L K steps. Weak order 1 in the step a: the stationary bias is O(a)
    /// (LD-01). Stability: near a mode of variance v the chain contracts by 1 - a_i / (v + varsigma_i^2) (LD-01), so the
    /// step must satisfy a_i &lt; 2 (v + varsigma_i^2); for narrow modes that is eta &lt; 2 varsigma_L^2 (LD-02 uses
    /// varsigma_L = 1, eta = 0.1).
    /// </summary>
    public static Sampler AnnealedLangevin(int stepsPerLevel = 100, double eta = 0.1) =>
        new($"annealed Langevin (K {stepsPerLevel}, eta {eta:G3})", new(WeakOrder: 1.0), (c, times, x) =>
        {
            var lastLevel = c.Varsigma(times[^1]);
            if (!(lastLevel > 0.0)) throw new ArgumentException("annealed Langevin needs sigma > 0 at every level");
            return c.Loop(x, times.Length * stepsPerLevel, (n, y) =>
            {
                var level = n / stepsPerLevel;
                var t = times[level];
                var alpha = c.Alpha(t);
                // entering a new level keeps x^ and changes its scale alpha
                if (n > 0 && n % stepsPerLevel == 0) y = y * (alpha / c.Alpha(times[level - 1]));
                var varsigma = c.Varsigma(t);
                var a = eta * varsigma * varsigma / (lastLevel * lastLevel);
                var scoreHat = c.Eps(y, t) / -varsigma;
                return y + (scoreHat * a + c.Noise(y) * Math.Sqrt(2.0 * a)) * alpha;
            }, n => times[n / stepsPerLevel]);
        });
}
