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
    /// <summary>
    /// Timed cases: name -> run(quick). A quick run (driver --quick) does a fraction of the work of the long cases and
    /// reports the value the whole work would take at that speed (the time scaled up, or the same throughput), so quick
    /// and full values are comparable; the driver marks quick lines. Every sampling case first makes one short untimed
    /// call (<see cref="Warmup"/>), on both sides, so that it times the steady state: a fresh process's first calls
    /// cost about 0.1 s more on either side (libtorch's first dispatches, our JIT), a constant that would otherwise be
    /// a tenth of a 1.3 s case.
    /// </summary>
    public static readonly Dictionary<string, Func<bool, (double value, string unit)>> All = new()
    {
        ["tiny_add_2x2"] = quick => Tiny(add: true, quick),
        ["tiny_mul_add_2x2"] = quick => Tiny(add: false, quick),
        ["matmul_1024"] = quick => Matmul(1024, quick ? 3 : 7),
        ["matmul_2048"] = quick => Matmul(2048, quick ? 3 : 7),
        ["ddpm_train_step"] = quick => TrainStep(quick ? 10 : 30),
        // Every ancestral step is one network evaluation at the same batch: the full mode times 200 of the 1000 steps
        // (all 1000 cost PyTorch's default configuration 2.5 minutes a round) and scales the time.
        ["ddpm_sample_1000"] = quick => Sample(run: quick ? 100 : 200),
        // 200 steps, timed on a grid of half (quick: a quarter) as many and scaled: every step costs the same.
        ["sampler_ddpm_ancestral"] = quick => Scaled(LibrarySampler(Samplers.DdpmAncestral, AncestralSteps / (quick ? 4 : 2)).Seconds, quick ? 4 : 2),
        ["sampler_dpmpp_2m"] = quick => LibrarySampler(Samplers.DpmSolverPlusPlus2M, DpmSolverSteps).Seconds,
        ["unet28_train_step"] = quick => UNetTrainStep(UNetBatch, warmup: quick ? 1 : 2, steps: quick ? 2 : 5).Throughput,
        // Every DDIM step costs one network evaluation at the same batch, so both modes time the first tenth of the
        // 50 steps and scale the rate to all of them (PyTorch's default configuration takes 4 s a step).
        ["unet28_sample"] = _ => UNetSample(UNetSampleBatch, DdimSteps, run: DdimSteps / 10).Throughput,
    };

    static (double, string) Scaled((double value, string unit) r, double factor) => (r.value * factor, r.unit);

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
        ["unet28_train_step"] = () => UNetTrainStep(4, warmup: 0, steps: 4).Losses,
        ["unet28_sample"] = () => UNetSample(2, 5, 5).Values,
    };

    // Step counts of the library-sampler cases: one run of ours or PyTorch's well under a minute on 2 cores
    // (1000 network passes on 10,000 points take 25-134 s there, DESIGN.md); 50 steps is a usual DPM-Solver++ budget.
    const int AncestralSteps = 200, DpmSolverSteps = 50;

    // The U-Net cases of the image-diffusion issue: batch 128 for a training step, DDIM with 50 steps on 256 images.
    const int UNetBatch = 128, UNetSampleBatch = 256, DdimSteps = 50;

    /// <summary>
    /// Repeats <paramref name="call"/> (untimed, on a batch of 2, with its own generator, seed 4, so that the timed run's
    /// generator and the --check values are untouched) until a call and the 200 ms after it compile no method. The
    /// managed code path does not depend on the batch, so these cheap calls take every method on it through .NET's
    /// tiers (recompiled optimised on a background thread after 30 calls, twice with PGO), and that compilation no
    /// longer takes a core from libtorch's threads inside the timed run (measured without: 0.09 CPU s of JIT during a
    /// 1.34 s sampler_dpmpp_2m, 7% of it). reference.py has no JIT: its sampling cases make one such call.
    /// </summary>
    static void UntilJitIdle(Action<Generator> call)
    {
        using var g = new Generator(4);
        for (int i = 0; i < 20; i++)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            call(g);
            Thread.Sleep(200);
            if (System.Runtime.JitInfo.GetCompiledMethodCount() == compiled)
            {
                Console.Error.WriteLine($"warm-up: {i + 1} calls until the JIT was idle");
                return;
            }
        }
        Console.Error.WriteLine("warm-up: the JIT was still compiling after 20 calls");
    }

    /// <summary><see cref="UntilJitIdle"/> for a sampler on <paramref name="grid"/>, 2 rows of <paramref name="shape"/>.</summary>
    static void Warmup(Sampler sampler, Denoiser denoiser, NoiseProcess process, double[] grid, long[] shape) =>
        UntilJitIdle(g =>
        {
            using var x = randn([2, .. shape[1..]], generator: g);
            sampler.Sample(denoiser, process, grid, x, g).X.Dispose();
        });

    private static double Median(List<double> xs)
    {
        xs.Sort();
        return xs[xs.Count / 2];
    }

    private static (double, string) Tiny(bool add, bool quick)
    {
        var (iterations, repeats) = quick ? (50_000, 3) : (200_000, 5);
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

    private static (double, string) Matmul(long n, int repeats)
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

    private static (double, string) TrainStep(int steps, int batch = 4096)
    {
        using var g = new Generator(1);
        using var model = new TimeConditionedMlp();
        using var opt = new optim.Adam(model.parameters(), 1e-3);
        var ddpm = new DiscreteDdpm(DdpmSchedule.Linear());
        static void Step(TimeConditionedMlp model, optim.Adam opt, DiscreteDdpm ddpm, long batch, Generator g)
        {
            using var scope = NewDisposeScope();
            var x0 = Toy2D.RingOfGaussians(batch, g);
            opt.zero_grad();
            var loss = ddpm.Loss(model.forward, x0, g);
            loss.backward();
            opt.step();
            loss.ToDouble();
        }
        UntilJitIdle(g =>
        {
            using var spare = new TimeConditionedMlp(options: new nn.LayerOptions(generator: g));
            using var spareOpt = new optim.Adam(spare.parameters(), 1e-3);
            for (int i = 0; i < 10; i++) Step(spare, spareOpt, ddpm, 2, g);
        });
        for (int i = 0; i < 5; i++) Step(model, opt, ddpm, batch, g);
        var times = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var sw = Stopwatch.StartNew();
            Step(model, opt, ddpm, batch, g);
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
        Warmup(sampler, denoiser, process, times, [n, 2]);
        static Dictionary<string, double> Threads()
        {
            var d = new Dictionary<string, double>();
            foreach (var dir in Directory.GetDirectories("/proc/self/task"))
            {
                var st = File.ReadAllText(dir + "/stat");
                var name = st[(st.IndexOf('(') + 1)..st.LastIndexOf(')')];
                var f = st[(st.LastIndexOf(')') + 2)..].Split(' ');
                var cpu = (double.Parse(f[11]) + double.Parse(f[12])) / 100.0;
                d[name + ":" + Path.GetFileName(dir)] = cpu;
            }
            return d;
        }
        var before = Threads();
        using var g = new Generator(2);
        var sw = Stopwatch.StartNew();
        using var x = randn([n, 2], generator: g);
        using var result = sampler.Sample(denoiser, process, times, x, g).X;
        var seconds = sw.Elapsed.TotalSeconds;
        if (Environment.GetEnvironmentVariable("TMP_THREADS") is not null)
            foreach (var (k, v) in Threads()) { var dv = v - before.GetValueOrDefault(k); if (dv > 0) Console.Error.WriteLine($"thread {k} {dv:F2}s"); }
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

    /// <summary>
    /// Ancestral sampling with the 2-D MLP on the linear table: what DiscreteDdpm.Sample does (x_T ~ N(0, I), then
    /// Samplers.DdpmAncestral on the grid k/T), over the first <paramref name="run"/> of the T = 1000 steps; the time
    /// is scaled to the 1000 steps.
    /// </summary>
    private static (double, string) Sample(int run, long n = 10_000)
    {
        using var g = new Generator(2);
        using var model = new TimeConditionedMlp();
        var ddpm = new DiscreteDdpm(DdpmSchedule.Linear());
        var denoiser = ddpm.Objective.Denoiser((x, t, _) => model.forward(x, t)).Unconditional();
        var grid = ddpm.Grid()[..(run + 1)];
        Warmup(Samplers.DdpmAncestral, denoiser, ddpm.Process, grid, [n, 2]);
        var sw = Stopwatch.StartNew();
        using var x = randn([n, 2], generator: g);
        using var result = Samplers.DdpmAncestral.Sample(denoiser, ddpm.Process, grid, x, g).X;
        return (sw.Elapsed.TotalSeconds * ddpm.Steps / run, "s");
    }

    /// <summary>
    /// One Adam step (lr 1e-3) of the DDPM eps-objective on the linear table (DiffusionObjective.Ddpm: k uniform in
    /// 1..1000, eps-MSE) for UNet28 without class embedding, its weights from Generator(3) (PyTorch's default init in
    /// construction order, so reference.py gets the same network from torch.manual_seed(3)). The data are uniform
    /// images in [-1, 1) from Generator(1), drawn before k and eps as a data loader would hand them over; the timing is
    /// the median step after <paramref name="warmup"/> steps, reported as images per second. Also returns every
    /// step's loss (the --check values).
    /// </summary>
    private static ((double, string) Throughput, double[] Losses) UNetTrainStep(int batch, int warmup, int steps)
    {
        using var weights = new Generator(3);
        using var model = new UNet(UNetConfig.UNet28, new nn.LayerOptions(generator: weights));
        using var opt = new optim.Adam(model.parameters(), 1e-3);
        var objective = DiffusionObjective.Ddpm(DdpmSchedule.Linear());
        using var g = new Generator(1);
        static double Step(UNet model, optim.Adam opt, DiffusionObjective objective, long batch, Generator g)
        {
            using var scope = NewDisposeScope();
            var x0 = rand([batch, 1, 28, 28], generator: g) * 2.0 - 1.0;
            opt.zero_grad();
            var loss = objective.Loss((x, t, labels) => model.forward(x, t, labels), x0, g).mean();
            loss.backward();
            opt.step();
            return loss.ToDouble();
        }
        if (warmup > 0)
            UntilJitIdle(g =>
            {
                using var spare = new UNet(UNetConfig.UNet28, new nn.LayerOptions(generator: g));
                using var spareOpt = new optim.Adam(spare.parameters(), 1e-3);
                for (int i = 0; i < 10; i++) Step(spare, spareOpt, objective, 2, g);
            });
        for (int i = 0; i < warmup; i++) Step(model, opt, objective, batch, g);
        var times = new List<double>();
        var losses = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            var sw = Stopwatch.StartNew();
            losses[i] = Step(model, opt, objective, batch, g);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        return ((batch / Median(times), "images/s"), losses);
    }

    /// <summary>
    /// The library's DDIM (Samplers.Ddim(), eta = 0) on the DDPM linear table's process (DdpmTableProcess) with UNet28
    /// as its eps-model (weights from Generator(3), as in the training case), grid uniform in t from 1 to 0 (k = 1000,
    /// 980, ..., 20, then the denoising step to 0), x_1 ~ N(0, I) from Generator(2); images per second over the whole
    /// call; a quick run takes the first <paramref name="run"/> steps of the grid and reports the rate of the whole.
    /// </summary>
    private static ((double, string) Throughput, double[] Values) UNetSample(int batch, int steps, int run)
    {
        using var weights = new Generator(3);
        using var model = new UNet(UNetConfig.UNet28, new nn.LayerOptions(generator: weights));
        var objective = DiffusionObjective.Ddpm(DdpmSchedule.Linear());
        var denoiser = objective.Denoiser((x, t, labels) => model.forward(x, t, labels)).Unconditional();
        var grid = TimeGrid.UniformTime(steps, 1.0, 0.0);
        Warmup(Samplers.Ddim(), denoiser, objective.Process, grid, [batch, 1, 28, 28]);
        var times = grid[..(run + 1)];
        using var g = new Generator(2);
        var sw = Stopwatch.StartNew();
        using var x = randn([batch, 1, 28, 28], generator: g);
        using var result = Samplers.Ddim().Sample(denoiser, objective.Process, times, x, g).X;
        var seconds = sw.Elapsed.TotalSeconds * steps / run;
        using var flat = result.to(ScalarType.Float64).reshape(-1);
        return ((batch / seconds, "images/s"), batch <= 8 ? flat.contiguous().data<double>() : []);
    }
}
