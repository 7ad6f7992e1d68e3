using System.Diagnostics;
using Research.Data;
using Research.Diffusion;
using Research.Models;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Benchmarks;

/// <summary>Our side of each benchmark; reference.py does the same work in PyTorch, case by case.</summary>
public static class Cases
{
    public static readonly Dictionary<string, Func<(double value, string unit)>> All = new()
    {
        ["tiny_add_2x2"] = () => Tiny(add: true),
        ["tiny_mul_add_2x2"] = () => Tiny(add: false),
        ["matmul_1024"] = () => Matmul(1024),
        ["matmul_2048"] = () => Matmul(2048),
        ["ddpm_train_step"] = () => TrainStep(),
        ["ddpm_sample_1000"] = () => Sample(),
        ["sampler_ddpm_ancestral"] = () => LibrarySampler(Samplers.DdpmAncestral, AncestralSteps).Seconds,
        ["sampler_dpmpp_2m"] = () => LibrarySampler(Samplers.DpmSolverPlusPlus2M, DpmSolverSteps).Seconds,
    };

    /// <summary>
    /// Cases that count rather than time, ours only (no PyTorch side): each prints one line per sampler in the
    /// driver's format, with unit "nfe". Deterministic, so run once whatever the rounds and configurations.
    /// </summary>
    public static readonly Dictionary<string, Func<IEnumerable<Count>>> Counts = new()
    {
        ["nfe_to_euler1000"] = NfeToEuler1000,
    };

    /// <summary>Our result of a counting case against its reference count; Detail goes into the JSON line as is.</summary>
    public sealed record Count(string Name, double Ours, double Reference, string Unit, object Detail);

    /// <summary>
    /// Cases whose output both sides can print at a tiny size on the same weights and noise (driver --check):
    /// name -> the flattened result.
    /// </summary>
    public static readonly Dictionary<string, Func<double[]>> Checks = new()
    {
        ["sampler_ddpm_ancestral"] = () => LibrarySampler(Samplers.DdpmAncestral, 10, 8).Values,
        ["sampler_dpmpp_2m"] = () => LibrarySampler(Samplers.DpmSolverPlusPlus2M, 10, 8).Values,
    };

    // Step counts of the library-sampler cases: one run of ours or PyTorch's well under a minute on 2 cores
    // (1000 network passes on 10,000 points take 25-134 s there, DESIGN.md); 50 steps is a usual DPM-Solver++ budget.
    const int AncestralSteps = 200, DpmSolverSteps = 50;

    private static double Median(List<double> xs)
    {
        xs.Sort();
        return xs[xs.Count / 2];
    }

    private static (double, string) Tiny(bool add, int iterations = 200_000, int repeats = 5)
    {
        var (a, b, c) = (rand([2, 2]), rand([2, 2]), rand([2, 2]));
        void Once()
        {
            if (add)
            {
                using var r = a + b;
            }
            else
            {
                using var p = a * b;
                using var r = p + c;
            }
        }
        for (int i = 0; i < 20_000; i++) Once();
        var times = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++) Once();
            times.Add(sw.Elapsed.TotalMicroseconds / iterations);
        }
        return (Median(times), "us");
    }

    private static (double, string) Matmul(long n, int repeats = 7)
    {
        var (a, b) = (randn([n, n]), randn([n, n]));
        for (int i = 0; i < 2; i++) a.matmul(b).Dispose();
        var times = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            a.matmul(b).Dispose();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return (Median(times), "ms");
    }

    private static (double, string) TrainStep(int steps = 30, int batch = 4096)
    {
        using var g = new Generator(1);
        using var model = new TimeConditionedMlp();
        using var opt = new optim.Adam(model.parameters(), 1e-3);
        var ddpm = new DiscreteDdpm(DdpmSchedule.Linear());
        void Step()
        {
            using var scope = NewDisposeScope();
            var x0 = Toy2D.RingOfGaussians(batch, g);
            opt.zero_grad();
            var loss = ddpm.Loss(model.forward, x0, g);
            loss.backward();
            opt.step();
            loss.ToDouble();
        }
        for (int i = 0; i < 5; i++) Step();
        var times = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var sw = Stopwatch.StartNew();
            Step();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return (Median(times), "ms");
    }

    /// <summary>
    /// A library sampler (Samplers.cs) through the Denoiser abstraction: the benchmark MLP, its weights drawn from a
    /// seeded generator (PyTorch's default init in PyTorch's order, so reference.py gets the same weights from
    /// torch.manual_seed), read as an eps-model of VP-linear, the continuous limit of the linear DDPM table, on the grid
    /// uniform in t from 1 to 0; x_1 ~ N(0, I) on 10,000 2-D points, float32. The time covers x_1 and the sampling.
    /// </summary>
    private static ((double, string) Seconds, double[] Values) LibrarySampler(Sampler sampler, int steps, long n = 10_000)
    {
        using var weights = new Generator(3);
        using var model = new TimeConditionedMlp(options: new nn.LayerOptions(generator: weights));
        var process = DdpmSchedule.Linear().ContinuousLimit!;
        var denoiser = Denoiser.FromNetwork(process, Prediction.Eps, model.forward);
        var times = TimeGrid.UniformTime(steps, 1.0, 0.0);
        using var g = new Generator(2);
        var sw = Stopwatch.StartNew();
        using var x = randn([n, 2], generator: g);
        using var result = sampler.Sample(denoiser, process, times, x, g).X;
        var seconds = sw.Elapsed.TotalSeconds;
        using var flat = result.to(ScalarType.Float64).reshape(-1);
        return ((seconds, "s"), n <= 64 ? flat.contiguous().data<double>() : []);
    }

    /// <summary>
    /// With the exact G4 denoiser under VP-linear (no network), 64 seeded points from t = 1 to t = 1e-3 on grids uniform
    /// in log SNR: the error of 1000-step PF-ODE Euler at t = 1e-3 against Dormand–Prince at 1e-12 (ConvergenceStudy) is
    /// the target, and each ODE sampler reports the fewest NFE that reaches it (Dormand–Prince: the loosest tolerance
    /// 10^(-k/2) that does).
    /// </summary>
    private static IEnumerable<Count> NfeToEuler1000()
    {
        const int eulerSteps = 1000;
        var process = new VpLinear();
        using var study = new ConvergenceStudy(CatalogueMixtures.G4, process, 1.0, 1e-3, points: 64, seed: 1);
        double[] Grid(int steps) => TimeGrid.UniformLogSnr(process, steps, 1.0, 1e-3);
        var target = study.Error(Samplers.Euler, eulerSteps, Grid(eulerSteps)).Error;
        Count Line(string name, int nfe, object detail) => new($"nfe_to_euler1000/{name}", nfe, eulerSteps, "nfe", detail);
        foreach (var sampler in new[]
                 {
                     Samplers.Euler, Samplers.Ddim(), Samplers.Heun, Samplers.DpmSolver(2), Samplers.DpmSolverPlusPlus2M,
                     Samplers.EdmStochastic(churn: 0.0), Samplers.DpmSolver(3), Samplers.Rk4,
                 })
        {
            var hit = study.FewestSteps(sampler, target, Grid, maxSteps: 4 * eulerSteps)
                ?? throw new InvalidOperationException($"{sampler.Name} does not reach {target:E3} in {4 * eulerSteps} steps");
            yield return Line(sampler.Name, hit.Nfe, new { steps = hit.Steps, error = hit.Error, target });
        }
        for (var k = 4; k <= 24; k++)
        {
            var tolerance = Math.Pow(10, -k / 2.0);
            var run = study.Error(Samplers.DormandPrince(tolerance, tolerance), 1, [1.0, 1e-3]);
            if (run.Error > target) continue;
            yield return Line("PF-ODE Dormand–Prince", run.Nfe, new { tolerance, error = run.Error, target });
            break;
        }
    }

    private static (double, string) Sample(long n = 10_000)
    {
        using var g = new Generator(2);
        using var model = new TimeConditionedMlp();
        var ddpm = new DiscreteDdpm(DdpmSchedule.Linear());
        var sw = Stopwatch.StartNew();
        using var x = ddpm.Sample(model.forward, [n, 2], g);
        return (sw.Elapsed.TotalSeconds, "s");
    }
}
