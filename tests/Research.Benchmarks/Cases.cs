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
    };

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
        using var ddpm = new DiscreteDdpm(DdpmSchedule.Linear());
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

    private static (double, string) Sample(long n = 10_000)
    {
        using var g = new Generator(2);
        using var model = new TimeConditionedMlp();
        using var ddpm = new DiscreteDdpm(DdpmSchedule.Linear());
        var sw = Stopwatch.StartNew();
        using var x = ddpm.Sample(model.forward, [n, 2], g);
        return (sw.Elapsed.TotalSeconds, "s");
    }
}
