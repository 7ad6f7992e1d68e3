using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Research.Torch.Tests;

/// <summary>Loops inside dispose scopes keep a flat resident memory; tensors outside scopes are freed by
/// their finalizers.</summary>
public class MemoryTests(ITestOutputHelper output)
{
    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    /// <summary>Lets the finalizers of earlier tests' garbage run, so live counts start from a settled state.</summary>
    private static long SettledLiveCount()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return Tensor.LiveCount;
    }

    [Fact]
    public void A_million_small_ops_in_scopes_keep_memory_flat()
    {
        var a = torch.ones([4, 4]);
        var b = torch.ones([4, 4]);
        long live = SettledLiveCount();
        void Run(int iterations)
        {
            for (int i = 0; i < iterations; i++)
            {
                using var scope = torch.NewDisposeScope();
                var c = a * b + 1.0;
                var d = (c - a).relu();
                var e = d.sum();
                _ = e;
            }
        }
        Run(20_000);  // warm up allocator pools and JIT
        long before = ResidentBytes();
        Run(250_000);  // 4 ops each: a million ops
        long after = ResidentBytes();
        output.WriteLine($"resident before {before >> 20} MiB, after {after >> 20} MiB");
        Assert.Equal(live, Tensor.LiveCount);
        // A leak of one 64-byte tensor per op would add 64 MB; 16 MiB allows for GC heap growth.
        Assert.True(after - before < 16L << 20, $"resident memory grew by {(after - before) >> 20} MiB");
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void Thousands_of_large_ops_in_scopes_keep_memory_flat()
    {
        var w = torch.randn([256, 256]);
        long live = SettledLiveCount();
        void Run(int iterations)
        {
            for (int i = 0; i < iterations; i++)
            {
                using var scope = torch.NewDisposeScope();
                var x = torch.randn([512, 256]);
                var y = x.matmul(w).tanh().matmul(w.T).sum(0);  // 512 KiB intermediates
                _ = y;
            }
        }
        Run(200);
        long before = ResidentBytes();
        Run(3000);
        long after = ResidentBytes();
        output.WriteLine($"resident before {before >> 20} MiB, after {after >> 20} MiB");
        Assert.Equal(live, Tensor.LiveCount);
        // Leaking one 512 KiB tensor per iteration would add 1.5 GiB; 64 MiB is allocator slack.
        Assert.True(after - before < 64L << 20, $"resident memory grew by {(after - before) >> 20} MiB");
        w.Dispose();
    }

    [Fact]
    public void Tensors_outside_scopes_are_freed_by_finalizers()
    {
        long live = SettledLiveCount();
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void Abandon()
        {
            for (int i = 0; i < 10_000; i++) _ = torch.ones([8]) * 2.0;
        }
        Abandon();
        Assert.True(Tensor.LiveCount >= live);  // some may already be collected
        for (int i = 0; i < 5 && Tensor.LiveCount > live; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.Equal(live, Tensor.LiveCount);
    }

    [Fact]
    public void Moved_results_survive_their_scope_and_the_rest_is_freed()
    {
        long live = SettledLiveCount();
        Tensor kept;
        using (var outer = torch.NewDisposeScope())
        {
            Tensor fromInner;
            using (var inner = torch.NewDisposeScope())
            {
                var t = torch.ones([3]) * 2.0 + 1.0;
                fromInner = t.MoveToOuterScope();
                Assert.Equal(2, inner.Count);  // ones and the intermediate product; `t` moved out
            }
            Assert.False(fromInner.IsDisposed);
            Assert.Equal(live + 1, Tensor.LiveCount);
            kept = (fromInner * 2.0).MoveToOuterScope();
        }
        Assert.Equal(live + 1, Tensor.LiveCount);
        using (var total = kept.sum()) Assert.Equal(18.0, total.ToDouble());
        kept.Dispose();
        Assert.Equal(live, Tensor.LiveCount);
    }

    /// <summary>Runs <see cref="Program.MlpLoop"/> in a fresh process; returns its (step, RSS) readings.</summary>
    private static List<(int step, long rss)> MlpLoopInFreshProcess(string mode, int steps)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { typeof(Program).Assembly.Location, "mlp-rss", mode, steps.ToString() }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{mode} loop failed: {stderr.Result}");
        return lines.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).Select(p => (int.Parse(p[0]), long.Parse(p[1]))).ToList();
    }

    [Fact]
    public void A_training_loop_without_scopes_stays_flat_within_twice_the_memory_of_the_scoped_loop()
    {
        // Without the GC budget the unscoped loop grew to 4x the scoped loop's memory (830 vs 207 MiB),
        // still climbing 130 MiB between steps 400 and 1200.
        const int steps = 1200;
        var scoped = MlpLoopInFreshProcess("scoped", steps);
        var unscoped = MlpLoopInFreshProcess("unscoped", steps);
        long scopedFinal = scoped[^1].rss, unscopedFinal = unscoped[^1].rss;
        long unscopedAtThird = unscoped.First(r => r.step >= steps / 3).rss;
        output.WriteLine($"resident after {steps} steps: scoped {scopedFinal >> 20} MiB, unscoped {unscopedFinal >> 20} MiB (at step {steps / 3}: {unscopedAtThird >> 20} MiB)");
        Assert.True(unscopedFinal <= 2 * scopedFinal, $"unscoped {unscopedFinal >> 20} MiB > 2 x scoped {scopedFinal >> 20} MiB");
        // Flat: the last two thirds add less than a quarter of the 64 MiB budget (allocator and GC heap slack).
        Assert.True(unscopedFinal - unscopedAtThird < 16L << 20, $"unscoped loop grew {(unscopedFinal - unscopedAtThird) >> 20} MiB after step {steps / 3}");
    }
}
