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
    /// max_j |x_j - x_j*| at the grid's final time. The starting points and the exact end points x* are, in 1-D, the
    /// quantiles F_t^-1(u_j) at u_j = (j + 1/2)/points of the two marginals, since the 1-D PF-ODE transports quantiles
    /// (SDE-08): no reference solver is involved. In d &gt; 1 the starting points are a seeded sample of p_t and x*
    /// comes from Dormand–Prince at rtol = atol = 1e-12. Every grid must share the first and the last time.
    /// </summary>
    public static IReadOnlyList<ErrorPoint> ErrorVersusNfe(Sampler sampler, GaussianMixture data, NoiseProcess process,
        IEnumerable<int> steps, Func<int, double[]> grid, int points = 32, int seed = 0)
    {
        if (sampler.Properties.Stochastic) throw new ArgumentException($"{sampler.Name} is stochastic: its error at a fixed seed is not an ODE error");
        var grids = steps.Select(n => (Steps: n, Times: grid(n))).ToArray();
        var (start, end) = (grids[0].Times[0], grids[0].Times[^1]);
        if (grids.Any(g => g.Times[0] != start || g.Times[^1] != end)) throw new ArgumentException("every grid must start and end at the same times");
        using var mixture = new TensorMixture(data);
        var model = mixture.Denoiser(process);
        using var scope = NewDisposeScope();
        var (x, exact) = EndPoints(data, process, start, end, points, seed);
        return grids.Select(g =>
        {
            using var inner = NewDisposeScope();
            var result = sampler.Sample(model, process, g.Times, x);
            return new ErrorPoint(g.Steps, result.Nfe, (result.X - exact).abs().max().ToDouble());
        }).ToArray();
    }

    static (Tensor Start, Tensor End) EndPoints(GaussianMixture data, NoiseProcess process, double start, double end, int points, int seed)
    {
        if (data.Dimension == 1)
        {
            var u = Enumerable.Range(0, points).Select(j => (j + 0.5) / points).ToArray();
            double[] Quantiles(double t) => u.Select(data.Diffuse(process, t).Marginal.Quantile).ToArray();
            return (tensor(Quantiles(start), [points, 1]), tensor(Quantiles(end), [points, 1]));
        }
        var marginal = data.Diffuse(process, start).Marginal;
        var sample = marginal.Sample(new Random(seed), points).SelectMany(v => v.ToArray()).ToArray();
        var x = tensor(sample, [points, data.Dimension]);
        using var mixture = new TensorMixture(data);
        var reference = Samplers.DormandPrince(1e-12, 1e-12).Sample(mixture.Denoiser(process), process, [start, end], x);
        return (x, reference.X);
    }

    /// <summary>The empirical order: minus the least-squares slope of log(error) against log(NFE).</summary>
    public static double FitOrder(IReadOnlyList<ErrorPoint> points)
    {
        var xs = points.Select(p => Math.Log(p.Nfe)).ToArray();
        var ys = points.Select(p => Math.Log(p.Error)).ToArray();
        var (mx, my) = (xs.Average(), ys.Average());
        var slope = xs.Zip(ys, (a, b) => (a - mx) * (b - my)).Sum() / xs.Sum(a => (a - mx) * (a - mx));
        return -slope;
    }
}
