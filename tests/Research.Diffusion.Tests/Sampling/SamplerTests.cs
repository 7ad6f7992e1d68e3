using Research.Diffusion;
using Research.Torch;
using Xunit.Abstractions;
using static Research.Diffusion.Tests.Fixtures;
using static Research.Diffusion.Tests.TensorFixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

public class SamplerTests(ITestOutputHelper output)
{
    static readonly NoiseProcess VpCos = new VpCosine();

    /// <summary>
    /// [R], as a fitted slope: with the exact G1 score under VP-cosine, from t = 0.95 to 0.05 on a grid uniform in
    /// lambda, the PF-ODE error at the
    /// final time (exact end points by quantile transport, SDE-08) against NFE over four halvings has log-log slope
    /// -p. Step counts sit in each method's asymptotic range. Tolerance: |fitted - declared| &lt;= 0.15, the [R]
    /// policy's ±10% on the error ratio 2^p (log2 1.1 = 0.14) rounded up. Every sampler of <see cref="Samplers.All"/>
    /// with a fixed-grid order is here, so a new one cannot go unmeasured.
    /// </summary>
    public static TheoryData<string> DeterministicSamplers => new(FixedGridSamplers.Select(s => s.Name));

    internal static IEnumerable<Sampler> FixedGridSamplers => Samplers.All.Where(s => s.Properties.Order is not null && !s.Properties.Adaptive);

    static double[] OrderStudyGrid(int n) => TimeGrid.UniformLogSnr(VpCos, n, 0.95, 0.05);

    static int[] OrderStudySteps(int order) => order switch
    {
        1 => [64, 128, 256, 512], 2 or 3 => [32, 64, 128, 256], _ => [128, 256, 512, 1024],
    };

    [Theory, MemberData(nameof(DeterministicSamplers))]
    public void DDIM01_empirical_order_matches_declared_order(string name)
    {
        var sampler = Samplers.All.Single(s => s.Name == name);
        var declared = sampler.Properties.Order!.Value;
        var points = Convergence.ErrorVersusNfe(sampler, G1, VpCos, OrderStudySteps(declared), OrderStudyGrid);
        var fitted = Convergence.FitOrder(points);
        output.WriteLine($"{name}: declared {declared}, fitted {fitted:F3}; " + string.Join(", ", points.Select(p => $"NFE {p.Nfe}: {p.Error:E2}")));
        Assert.True(Math.Abs(fitted - declared) <= 0.15,
            $"{name}: declared order {declared}, fitted {fitted:F3}; " + string.Join(", ", points.Select(p => $"NFE {p.Nfe}: {p.Error:E2}")));
    }

    // The same study in 2-D (G4 under VP-linear, reference by Dormand–Prince at 1e-12) for the three DPM-Solver orders.
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void DPM_Solver_order_in_two_dimensions(int order)
    {
        var process = new VpLinear();
        var sampler = Samplers.DpmSolver(order);
        int[] steps = order == 3 ? [32, 64, 128, 256] : [64, 128, 256, 512];
        var points = Convergence.ErrorVersusNfe(sampler, G4, process, steps, n => TimeGrid.UniformLogSnr(process, n, 1.0, 0.1), points: 64);
        var fitted = Convergence.FitOrder(points);
        output.WriteLine($"{sampler.Name} (2-D): fitted {fitted:F3}");
        Assert.True(Math.Abs(fitted - sampler.Properties.Order!.Value) <= 0.15, $"{sampler.Name}: fitted {fitted:F3}; " + string.Join(", ", points.Select(p => $"NFE {p.Nfe}: {p.Error:E2}")));
    }

    // ConvergenceStudy.FewestSteps: the step count it returns meets the target and one step fewer misses it (G1, exact
    // end points); a target no grid up to maxSteps reaches gives null; a non-positive target is rejected.
    [Fact]
    public void FewestSteps_returns_the_smallest_grid_that_reaches_the_target()
    {
        using var study = new ConvergenceStudy(G1, VpCos, 0.95, 0.05);
        double[] Grid(int n) => TimeGrid.UniformLogSnr(VpCos, n, 0.95, 0.05);
        var target = study.Error(Samplers.Euler, 37, Grid(37)).Error;
        var hit = study.FewestSteps(Samplers.Euler, target, Grid)!.Value;
        output.WriteLine($"target {target:E3}: {hit.Steps} steps, error {hit.Error:E3}");
        Assert.True(hit.Steps <= 37 && hit.Error <= target, $"{hit.Steps} steps, error {hit.Error:E3}");
        Assert.True(study.Error(Samplers.Euler, hit.Steps - 1, Grid(hit.Steps - 1)).Error > target);
        Assert.Null(study.FewestSteps(Samplers.Euler, target / 1e6, Grid, maxSteps: 64));
        Assert.Throws<ArgumentException>(() => study.FewestSteps(Samplers.Euler, 0.0, Grid));
        Assert.Throws<ArgumentException>(() => study.Error(Samplers.DdpmAncestral, 4, Grid(4)));
    }

    // DDIM-01 [A]: DDIM (eta = 0) on VP-cosine is Euler on the PF-ODE of the VE normal form in varsigma-time, which is
    // the EDM process (alpha = 1, sigma = t) on the grid varsigma(t_i) with the model read under EDM (PROC-08). The
    // trajectories agree at every grid point (x = alpha x^); samplers are stateless, so prefix grids give the trajectory.
    [Fact]
    public void DDIM01_DDIM_is_Euler_on_the_VE_normal_form()
    {
        var edm = new Edm();
        using var mixture = new TensorMixture(G4);
        var model = mixture.Denoiser(VpCos);
        var times = TimeGrid.UniformTime(12, 0.98, 0.0);
        var varsigmas = times.Select(VpCos.Varsigma).ToArray();
        using var scope = NewDisposeScope();
        var x = Prior(32, 2, 7) * VpCos.Sigma(times[0]);
        for (var k = 1; k < times.Length; k++)
        {
            var ddim = Samplers.Ddim().Sample(model, VpCos, times[..(k + 1)], x);
            var euler = Samplers.Euler.Sample(model, edm, varsigmas[..(k + 1)], x / VpCos.Alpha(times[0]));
            Assert.True(ddim.X.allclose(euler.X * VpCos.Alpha(times[k]), rtol: 1e-10, atol: 1e-10), $"step {k}");
            Assert.Equal(k, ddim.Nfe);
        }
    }

    // DDIM-01 consequences: DPM-Solver-1 is DDIM (same update written in lambda), and DDIM is exact in one step for a
    // single point mass (check 3: eps^ is constant along the ray).
    [Fact]
    public void DDIM01_DPM_Solver_1_is_DDIM_and_DDIM_is_exact_for_a_point_mass()
    {
        using var mixture = new TensorMixture(G1);
        var model = mixture.Denoiser(VpCos);
        using var scope = NewDisposeScope();
        var x = Prior(16, 1, 3);
        var times = TimeGrid.UniformLogSnr(VpCos, 10, 0.98, 0.0);
        Assert.True(Samplers.DpmSolver(1).Sample(model, VpCos, times, x).X.allclose(Samplers.Ddim().Sample(model, VpCos, times, x).X, rtol: 1e-11, atol: 1e-11));

        var atom = new GaussianMixture([1.0], [Vec(1.5, -0.5)], [Matrix<double>.Build.Dense(2, 2)]);
        using var dirac = new TensorMixture(atom);
        var one = Samplers.Ddim().Sample(dirac.Denoiser(VpCos), VpCos, [0.98, 0.0], Prior(4, 2, 5));
        foreach (var i in Enumerable.Range(0, 4)) AssertClose(Vec(1.5, -0.5), Row(one.X, i), 1e-12, "DDIM from t = 0.98 in one step");
    }

    // DDPM-02 / DDIM-02 [A]: the DDPM ancestral sampler on the grid k/T equals Ho et al.'s Algorithm 2 written out on
    // the cosine table (alpha-bar_k = alpha(k/T)^2 exactly without the clip, which touches only k = T, so the run
    // starts at k = T - 1): x_{k-1} = (x_k - beta_k / sqrt(1 - alpha-bar_k) eps^) / sqrt(1 - beta_k) + sqrt(beta~_k) z, no
    // noise at k = 1, with the same generator stream.
    [Fact]
    public void DDPM02_ancestral_sampler_is_Ho_Algorithm_2()
    {
        const int T = 100;
        var table = DdpmSchedule.Cosine(T);
        using var mixture = new TensorMixture(G4);
        var model = mixture.Denoiser(VpCos);
        using var scope = NewDisposeScope();
        var start = Prior(64, 2, 11);
        var times = Enumerable.Range(0, T).Select(i => (double)(T - 1 - i) / T).ToArray();
        using var g1 = new Generator(99);
        var ours = Samplers.DdpmAncestral.Sample(model, VpCos, times, start, g1).X;

        using var g2 = new Generator(99);
        var x = start;
        for (var k = T - 1; k >= 1; k--)
        {
            var (beta, alphaBar, alphaBarPrevious) = (table.Beta(k), table.AlphaBar(k), table.AlphaBar(k - 1));
            var eps = model.Predict(Prediction.Eps, x, (double)k / T);
            x = (x - eps * (beta / Math.Sqrt(1 - alphaBar))) / Math.Sqrt(1 - beta);
            if (k > 1) x = x + randn(x.shape, ScalarType.Float64, generator: g2) * Math.Sqrt((1 - alphaBarPrevious) / (1 - alphaBar) * beta);
        }
        Assert.True(ours.allclose(x, rtol: 1e-9, atol: 1e-9), "DDPM ancestral vs Algorithm 2");
    }

    // SDE-05 with DDPM-02: the ancestral step is a discretisation of the reverse SDE. For F1 data N(0, 0.5^2) the exact
    // score is linear, so one step from t to t - h is x' = a x + b z for either method; a and b are read off two runs with
    // the same seed (x = 0 gives b z, x = 1 adds a). Ancestral and Euler–Maruyama differ by O(h^2) in a and in b^2
    // (local consistency, hence the same weak order-1 limit): halving h divides the differences by 4 (±20%).
    [Fact]
    public void SDE05_ancestral_step_agrees_with_reverse_Euler_Maruyama_to_second_order()
    {
        var process = new VpLinear();
        using var mixture = new TensorMixture(GaussianMixture.OneDimensional([1.0], [0.0], [0.25]));
        var model = mixture.Denoiser(process);
        const double t = 0.5;
        (double A, double B2) Step(Sampler sampler, double h)
        {
            using var scope = NewDisposeScope();
            using var g = new Generator(1);
            var outputs = Values(sampler.Sample(model, process, [t, t - h], tensor(new[] { 0.0, 1.0 }, [2, 1]), g).X);
            using var z = new Generator(1);
            var noise = Values(randn([2, 1], ScalarType.Float64, generator: z));
            var b = outputs[0] / noise[0];
            return (outputs[1] - outputs[0] - b * (noise[1] - noise[0]), b * b);
        }
        var differences = new[] { 0.02, 0.01, 0.005 }.Select(h =>
        {
            var (ancestral, em) = (Step(Samplers.DdpmAncestral, h), Step(Samplers.ReverseSde(), h));
            return (Math.Abs(ancestral.A - em.A), Math.Abs(ancestral.B2 - em.B2));
        }).ToArray();
        for (var i = 1; i < differences.Length; i++)
        {
            var (ratioA, ratioB) = (differences[i - 1].Item1 / differences[i].Item1, differences[i - 1].Item2 / differences[i].Item2);
            Assert.InRange(ratioA, 3.2, 4.8);
            Assert.InRange(ratioB, 3.2, 4.8);
        }
    }

    // DDIM-02 [A]: every ancestral split (DDIM with any eta, DDPM) keeps the noise level: varsigma_down^2 + varsigma_up^2 =
    // varsigma_next^2 on every step of uniform-t, uniform-lambda and Karras grids of several processes; at eta = 1,
    // varsigma_up is the DDPM posterior sd sigma_Q / alpha_s with sigma_Q^2 = sigma_s^2 sigma_{t|s}^2 / sigma_t^2.
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(1.7)]
    public void DDIM02_ancestral_split_preserves_the_noise_level(double eta)
    {
        foreach (var name in new[] { "VP-linear", "VP-cosine", "VE-geometric", "RF", "sub-VP", "EDM" })
        {
            var process = Processes[name];
            var tMax = name == "RF" ? 0.98 : process.TMax;
            var grids = new[]
            {
                TimeGrid.UniformTime(20, tMax, 0.0),
                TimeGrid.UniformLogSnr(process, 20, tMax, 0.0),
                TimeGrid.Karras(process, 20, 0.01, process.Varsigma(tMax)),
            };
            foreach (var grid in grids)
                for (var i = 0; i + 1 < grid.Length; i++)
                {
                    var (t, s) = (grid[i], grid[i + 1]);
                    var (level, next) = (process.Varsigma(t), process.Varsigma(s));
                    var split = AncestralSplit.Of(level, next, eta);
                    AssertClose(next * next, split.Down * split.Down + split.Up * split.Up, 1e-12, $"{name} step {i}");
                    if (eta == 1.0 && s > 0)
                    {
                        var (alphaT, sigmaT, alphaS, sigmaS) = (process.Alpha(t), process.Sigma(t), process.Alpha(s), process.Sigma(s));
                        var conditional = sigmaT * sigmaT - Math.Pow(alphaT / alphaS * sigmaS, 2); // sigma_{t|s}^2
                        AssertClose(sigmaS * Math.Sqrt(conditional) / sigmaT / alphaS, split.Up, 1e-10, $"{name} sigma_Q at step {i}");
                    }
                }
        }
    }
}

/// <summary>Tensor.LiveCount is process-wide: the test that reads it runs alone, after garbage of other tests is finalized.</summary>
[CollectionDefinition("LiveCount", DisableParallelization = true)]
public class LiveCountCollection;

[Collection("LiveCount")]
public class SamplerStatelessnessTests
{
    static long SettledLiveCount()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return Tensor.LiveCount;
    }

    // Samplers are stateless and seeded: the same inputs and seed reproduce the output bit for bit, a different seed
    // changes it, x is not modified, NFE follows the method (here on a Karras grid ending at t = 0), and every tensor
    // made during a call is freed except the result.
    [Fact]
    public void Samplers_are_seeded_stateless_count_evaluations_and_free_their_temporaries()
    {
        var process = new VpLinear();
        using var mixture = new TensorMixture(G4);
        var model = mixture.Denoiser(process);
        var times = TimeGrid.Karras(process, 10, 0.01, process.Varsigma(1.0));
        var expectedNfe = new Dictionary<string, int>
        {
            [Samplers.Euler.Name] = 10, [Samplers.Heun.Name] = 19, [Samplers.Rk4.Name] = 37, [Samplers.Ddim().Name] = 10,
            [Samplers.DdpmAncestral.Name] = 10, [Samplers.DpmSolver(2).Name] = 19, [Samplers.DpmSolver(3).Name] = 28,
            [Samplers.DpmSolverPlusPlus2M.Name] = 10, [Samplers.ReverseSde().Name] = 10, [Samplers.PredictorCorrector().Name] = 19,
            [Samplers.AnnealedLangevin().Name] = 1000, [Samplers.EdmStochastic().Name] = 19, [Samplers.Dpm2.Name] = 19,
            [Samplers.DpmSolverPlusPlus3M.Name] = 11, [Samplers.UniPc().Name] = 10, [Samplers.Lms().Name] = 16, [Samplers.Ipndm.Name] = 19,
            [Samplers.Deis().Name] = 11, [Samplers.DpmSolverPlusPlus2SAncestral().Name] = 19,
        };
        using var x = Prior(16, 2, 4);
        var before = Values(x);
        foreach (var sampler in Samplers.All)
        {
            // Langevin levels stop at varsigma_L = 1: its steps are stable only for eta < 2 varsigma_L^2
            var grid = sampler.Name.StartsWith("annealed") ? TimeGrid.Karras(process, 10, 1.0, 20.0)[..^1] : times;
            var live = SettledLiveCount();
            using var g1 = new Generator(3);
            using var g2 = new Generator(3);
            using var g3 = new Generator(4);
            var a = sampler.Sample(model, process, grid, x, g1);
            var b = sampler.Sample(model, process, grid, x, g2);
            var c = sampler.Sample(model, process, grid, x, g3);
            Assert.True(a.X.allclose(b.X, rtol: 0, atol: 0), $"{sampler.Name}: same seed, different output");
            Assert.Equal(sampler.Properties.Stochastic, !a.X.allclose(c.X, rtol: 0, atol: 0));
            if (expectedNfe.TryGetValue(sampler.Name, out var nfe)) Assert.True(nfe == a.Nfe, $"{sampler.Name}: NFE {a.Nfe}, expected {nfe}");
            Assert.Equal(a.Nfe, b.Nfe);
            foreach (var r in new[] { a, b, c }) r.X.Dispose();
            Assert.True(SettledLiveCount() == live, $"{sampler.Name}: {Tensor.LiveCount - live} tensors left alive");
        }
        Assert.Equal(before, Values(x));
    }
}
