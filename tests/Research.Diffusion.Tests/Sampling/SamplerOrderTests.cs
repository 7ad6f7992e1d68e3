using System.Reflection;
using Research.Diffusion;
using Research.Torch;
using Xunit.Abstractions;
using static Research.Diffusion.Tests.Fixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

/// <summary>
/// Every order a sampler declares is measured: fixed-grid orders by <see cref="SamplerTests"/>' fit, weak orders here
/// on a Gaussian target, adaptive methods by their tolerance, and a census that fails when a sampler's declared
/// order has no test.
/// </summary>
public class SamplerOrderTests(ITestOutputHelper output)
{
    static bool IsLangevin(Sampler s) => s.Name.StartsWith("annealed Langevin");

    public static TheoryData<string> WeakOrderSamplers => new(GridWeakOrderSamplers.Select(s => s.Name));

    static IEnumerable<Sampler> GridWeakOrderSamplers => Samplers.All.Where(s => s.Properties.WeakOrder is not null && !IsLangevin(s));

    /// <summary>
    /// Weak order by moment errors: F1-like data N(0.5, 0.3^2) under VP-linear, 2^17 draws of p_1 (standardised to
    /// its exact mean and variance) sampled down
    /// to t = 0.05 on grids uniform in log SNR with N = 8, 16, 32, 64 steps (N = 4 is outside the asymptotic range:
    /// Euler–Maruyama is unstable there); the error is the relative error of the variance of the sample (the mean's
    /// error is below Monte Carlo noise for all of them). Points within 3 SE of the Monte Carlo floor (sqrt(2/n)
    /// relative, from the sampler's own noise) are dropped (the seeds are fixed, so the test is deterministic); the slope over the rest must be at least the declared
    /// weak order minus 0.25 (a weak order is a guaranteed rate: on a linear problem some methods do better, e.g.
    /// SDE-DPM-Solver++(2M) shows about 2), and the coarsest error must shrink by at least 2x over the sweep.
    /// </summary>
    [Theory, MemberData(nameof(WeakOrderSamplers))]
    public void Weak_order_on_a_Gaussian_target_by_the_error_of_the_moments(string name)
    {
        var sampler = Samplers.All.Single(s => s.Name == name);
        var process = new VpLinear();
        var (m, s2) = (0.5, 0.09);
        using var mixture = new TensorMixture(GaussianMixture.OneDimensional([1.0], [m], [s2]));
        var model = mixture.Denoiser(process);
        var (start, end) = (1.0, 0.05);
        double Var(double t) => Math.Pow(process.Alpha(t), 2) * s2 + Math.Pow(process.Sigma(t), 2);
        const int n = 1 << 17;
        var floor = 3.0 * Math.Sqrt(2.0 / n);
        var points = new List<ErrorPoint>();
        foreach (var steps in new[] { 8, 16, 32, 64 })
        {
            using var scope = NewDisposeScope();
            using var g = new Generator(5);
            // standardised, so that its sample moments are exact and only the sampler's own noise is Monte Carlo error
            var z = randn([n, 1], ScalarType.Float64, generator: g);
            var x0 = (z - z.mean()) / z.std() * Math.Sqrt(Var(start)) + process.Alpha(start) * m;
            using var g2 = new Generator(6);
            var result = sampler.Sample(model, process, TimeGrid.UniformLogSnr(process, steps, start, end), x0, g2);
            points.Add(new ErrorPoint(steps, result.Nfe, Math.Abs(result.X.var().ToDouble() / Var(end) - 1.0)));
        }
        var measured = points.Where(p => p.Error > floor).ToList();
        output.WriteLine($"{name}: " + string.Join(", ", points.Select(p => $"N {p.Steps}: {p.Error:E2}")));
        Assert.True(measured.Count >= 2, $"{name}: fewer than two errors above the Monte Carlo floor {floor:E2}");
        var fitted = Convergence.FitOrder(measured);
        output.WriteLine($"{name}: declared weak order {sampler.Properties.WeakOrder}, fitted {fitted:F2}");
        Assert.True(fitted >= sampler.Properties.WeakOrder!.Value - 0.25, $"{name}: weak order {sampler.Properties.WeakOrder} declared, {fitted:F2} measured");
        Assert.True(points[0].Error >= 2.0 * measured[^1].Error, $"{name}: the error does not fall");
    }

    /// <summary>
    /// Annealed Langevin's weak order 1 is in its step a (LD-01): on one level with N(0, v) as p_t, the chain
    /// x += a score + sqrt(2a) z has stationary variance v / (1 - a / (2v)), a bias of about a/2. With a = eta v and
    /// eta = 0.2 and 0.1, the sample variance after 200 steps (stationary to 1e-9) has that bias within 5 SE, and
    /// halving eta halves it.
    /// </summary>
    [Fact]
    public void Annealed_Langevin_weak_order_one_in_the_step()
    {
        var process = new VeGeometric();
        var level = 1.0;
        var t = process.TimeAtVarsigma(level);
        using var mixture = new TensorMixture(GaussianMixture.OneDimensional([1.0], [0.0], [0.0]));
        var model = mixture.Denoiser(process); // p_t = N(0, level^2): v = 1
        const int n = 1 << 16;
        var biases = new List<double>();
        foreach (var eta in new[] { 0.2, 0.1 })
        {
            using var scope = NewDisposeScope();
            using var g = new Generator(9);
            var x0 = randn([n, 1], ScalarType.Float64, generator: g);
            var y = Samplers.AnnealedLangevin(200, eta).Sample(model, process, [t], x0, g).X;
            var variance = y.var().ToDouble();
            var expected = 1.0 / (1.0 - eta / 2.0);
            Assert.True(Math.Abs(variance - expected) <= 5 * expected * Math.Sqrt(2.0 / n), $"eta {eta}: variance {variance}, expected {expected}");
            biases.Add(variance - 1.0);
        }
        Assert.InRange(biases[0] / biases[1], 1.6, 2.6);
    }

    /// <summary>
    /// Adaptive samplers pick their own steps: their error must follow the tolerance (within 20x of rtol = atol on
    /// the G1 study of <see cref="SamplerTests"/>, tolerances a decade apart for the third-order DPM-Solver pair and
    /// two decades for Dormand–Prince) and cost more NFE as it tightens.
    /// </summary>
    [Theory]
    [InlineData("DormandPrince", 2)]
    [InlineData("DpmSolverAdaptive", 1)]
    public void Adaptive_sampler_error_follows_its_tolerance(string method, int decades)
    {
        var vp = new VpCosine();
        var tolerances = Enumerable.Range(0, 3).Select(i => Math.Pow(10, -4 - decades * i)).ToArray();
        var errors = tolerances.Select(tol =>
        {
            var sampler = method == "DormandPrince" ? Samplers.DormandPrince(tol, tol) : Samplers.DpmSolverAdaptive(tol, tol);
            return Convergence.ErrorVersusNfe(sampler, G1, vp, [1], _ => [0.95, 0.05]).Single();
        }).ToArray();
        output.WriteLine(string.Join(", ", errors.Select(e => $"NFE {e.Nfe}: {e.Error:E2}")));
        for (var i = 0; i < errors.Length; i++)
            Assert.True(errors[i].Error <= 20 * tolerances[i], $"tol {tolerances[i]:E0}: error {errors[i].Error:E2}");
        Assert.True(errors[0].Nfe < errors[1].Nfe && errors[1].Nfe < errors[2].Nfe, string.Join(", ", errors.Select(e => e.Nfe)));
    }

    /// <summary>
    /// The census: every sampler the library offers (each public member of <see cref="Samplers"/> returning a
    /// <see cref="Sampler"/>, called with its defaults) is in <see cref="Samplers.All"/>, and each one in All has a
    /// declared property that one of the tests above or <see cref="SamplerTests"/>' order fit measures.
    /// </summary>
    [Fact]
    public void Every_declared_order_is_tested()
    {
        var names = Samplers.All.Select(s => s.Name).ToHashSet();
        var members = typeof(Samplers).GetMembers(BindingFlags.Public | BindingFlags.Static);
        foreach (var member in members)
        {
            Sampler? sampler = member switch
            {
                PropertyInfo p when p.PropertyType == typeof(Sampler) => (Sampler)p.GetValue(null)!,
                MethodInfo mi when mi.ReturnType == typeof(Sampler) && mi.GetParameters().All(a => a.IsOptional) =>
                    (Sampler)mi.Invoke(null, mi.GetParameters().Select(a => a.DefaultValue).ToArray())!,
                _ => null,
            };
            if (sampler is not null) Assert.True(names.Contains(sampler.Name), $"{member.Name} ({sampler.Name}) is not in Samplers.All");
        }
        // Factories with required parameters: covered through their instances in All.
        Assert.Contains("DPM-Solver-3", names);
        Assert.Contains("PF-ODE RK4", names);

        var fixedGrid = SamplerTests.FixedGridSamplers.Select(s => s.Name).ToHashSet();
        var weak = GridWeakOrderSamplers.Select(s => s.Name).ToHashSet();
        foreach (var s in Samplers.All)
        {
            var p = s.Properties;
            var tested = p switch
            {
                { Adaptive: true } => s.Name.StartsWith("PF-ODE Dormand–Prince") || s.Name.StartsWith("DPM-Solver adaptive"),
                { Order: not null } => fixedGrid.Contains(s.Name),
                { WeakOrder: not null } => weak.Contains(s.Name) || IsLangevin(s),
                { InjectsNoise: true } => true, // no order claimed
                _ => false,
            };
            Assert.True(tested, $"{s.Name}: declared {p} but no test measures it");
            // A strong order needs Brownian paths coupled across grids, which a sampler's generator does not give: no
            // test could measure one, so none is claimed.
            Assert.Null(p.StrongOrder);
        }
    }
}
