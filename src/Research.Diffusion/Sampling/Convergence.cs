using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>One run of a convergence study: grid size, model evaluations, and the error at the final time.</summary>
public readonly record struct ErrorPoint(int Steps, int Nfe, double Error);

/// <summary>
/// Error against NFE of a deterministic sampler on the exact PF-ODE of a Gaussian mixture, and the empirical
/// order fitted to it: the measurements behind each sampler's declared <see cref="SamplerProperties.Order"/>.
/// </summary>
public static class Convergence
{
    /// <summary>
    /// For each step count n, runs <paramref name="sampler"/> with the exact mixture denoiser on grid(n) and returns
    /// max_j |x_j - x_j*| at the grid's final time (<see cref="ConvergenceStudy"/>). Every grid must share the first
    /// and the last time.
    /// </summary>
    public static IReadOnlyList<ErrorPoint> ErrorVersusNfe(Sampler sampler, GaussianMixture data, NoiseProcess process,
        IEnumerable<int> steps, Func<int, double[]> grid, int points = 32, int seed = 0)
    {
        var grids = steps.Select(n => (Steps: n, Times: grid(n))).ToArray();
        var (start, end) = (grids[0].Times[0], grids[0].Times[^1]);
        if (grids.Any(g => g.Times[0] != start || g.Times[^1] != end)) throw new ArgumentException("every grid must start and end at the same times");
        using var study = new ConvergenceStudy(data, process, start, end, points, seed);
        return grids.Select(g => study.Error(sampler, g.Steps, g.Times)).ToArray();
    }

    /// <summary>
    /// The empirical order: minus the least-squares slope of log(error) against log(NFE), or against log(steps) when
    /// <paramref name="inSteps"/> (the step size h ~ 1/steps; the two agree asymptotically, but a multistep method's
    /// fixed start-up cost makes NFE = steps + c and bends the NFE slope on coarse grids).
    /// </summary>
    public static double FitOrder(IReadOnlyList<ErrorPoint> points, bool inSteps = false)
    {
        if (points.Count < 2) throw new ArgumentException("a slope needs at least two points");
        var xs = points.Select(p => Math.Log(inSteps ? p.Steps : p.Nfe)).ToArray();
        var ys = points.Select(p => Math.Log(p.Error)).ToArray();
        var (mx, my) = (xs.Average(), ys.Average());
        var slope = xs.Zip(ys, (a, b) => (a - mx) * (b - my)).Sum() / xs.Sum(a => (a - mx) * (a - mx));
        return -slope;
    }
}

/// <summary>
/// The fixed problem of a convergence study: starting points x at time <c>start</c> and their exact PF-ODE images x* at
/// <c>end</c>, made once and shared by every sampler and grid measured against them. In 1-D the starting points and
/// x* are the quantiles F_t^-1(u_j) at u_j = (j + 1/2)/points of the two marginals, since the 1-D PF-ODE transports
/// quantiles (SDE-08): no reference solver is involved. In d &gt; 1 the starting points are a seeded sample of p_start
/// and x* comes from Dormand–Prince at rtol = atol = 1e-12.
/// </summary>
public sealed class ConvergenceStudy : IDisposable
{
    readonly TensorMixture mixture;
    readonly Denoiser model;
    readonly Tensor x, exact;

    /// <summary>
    /// Builds the study from noise time <paramref name="start"/> down to <paramref name="end"/> with
    /// <paramref name="points"/> starting points (the sample's seed is <paramref name="seed"/> when d &gt; 1). Throws
    /// ArgumentException unless start &gt; end and points &gt;= 1.
    /// </summary>
    public ConvergenceStudy(GaussianMixture data, NoiseProcess process, double start, double end, int points = 32, int seed = 0)
    {
        if (!(start > end)) throw new ArgumentException($"a study runs from noise to data: start {start} must exceed end {end}");
        if (points < 1) throw new ArgumentException("a study needs at least one point", nameof(points));
        (Process, Start, End) = (process, start, end);
        mixture = new TensorMixture(data);
        model = mixture.Denoiser(process);
        using var scope = NewDisposeScope();
        if (data.Dimension == 1)
        {
            var u = Enumerable.Range(0, points).Select(j => (j + 0.5) / points).ToArray();
            double[] Quantiles(double t) => u.Select(data.Diffuse(process, t).Marginal.Quantile).ToArray();
            x = tensor(Quantiles(start), [points, 1]);
            exact = tensor(Quantiles(end), [points, 1]);
        }
        else
        {
            var sample = data.Diffuse(process, start).Marginal.Sample(new Random(seed), points).SelectMany(v => v.ToArray()).ToArray();
            x = tensor(sample, [points, data.Dimension]);
            exact = Samplers.DormandPrince(1e-12, 1e-12).Sample(model, process, [start, end], x).X;
        }
        x.DetachFromDisposeScope();
        exact.DetachFromDisposeScope();
    }

    /// <summary>The process the samplers run under.</summary>
    public NoiseProcess Process { get; }
    /// <summary>The time of the starting points (the noisy end).</summary>
    public double Start { get; }
    /// <summary>The time at which errors are measured (the data end).</summary>
    public double End { get; }

    /// <summary>max_j |x_j - x_j*| of <paramref name="sampler"/> on <paramref name="times"/> (from Start to End), and its NFE.</summary>
    public ErrorPoint Error(Sampler sampler, int steps, double[] times)
    {
        if (sampler.Properties.Stochastic) throw new ArgumentException($"{sampler.Name} is stochastic: its error at a fixed seed is not an ODE error");
        if (times.Length == 0 || times[0] != Start || times[^1] != End) throw new ArgumentException($"the grid must run from {Start} to {End}");
        using var scope = NewDisposeScope();
        var result = sampler.Sample(model, Process, times, x);
        return new ErrorPoint(steps, result.Nfe, (result.X - exact).abs().max().ToDouble());
    }

    /// <summary>
    /// The fewest steps n &lt;= <paramref name="maxSteps"/> whose error on grid(n) is at most <paramref name="target"/>:
    /// doubling until the target is met, then bisection between the last miss and the first hit, so the error is
    /// assumed to fall monotonically with n in that bracket (the asymptotic range). Null if maxSteps does not reach it.
    /// </summary>
    public ErrorPoint? FewestSteps(Sampler sampler, double target, Func<int, double[]> grid, int maxSteps = 1 << 14)
    {
        if (!(target > 0.0)) throw new ArgumentException("the target error must be positive", nameof(target));
        ErrorPoint At(int n) => Error(sampler, n, grid(n));
        var (miss, n) = (0, 1);
        var hit = At(n);
        while (hit.Error > target)
        {
            if (n >= maxSteps) return null;
            (miss, n) = (n, Math.Min(2 * n, maxSteps));
            hit = At(n);
        }
        while (n - miss > 1)
        {
            var mid = (miss + n) / 2;
            var point = At(mid);
            if (point.Error <= target) (n, hit) = (mid, point);
            else miss = mid;
        }
        return hit;
    }

    /// <summary>Releases the starting points, the exact images and the mixture's tensors.</summary>
    public void Dispose()
    {
        x.Dispose();
        exact.Dispose();
        mixture.Dispose();
    }
}
