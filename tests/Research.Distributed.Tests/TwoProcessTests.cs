using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Research.Torch;
using Xunit;
using Xunit.Abstractions;

namespace Research.Distributed.Tests;

/// <summary>Two ranks on loopback, each a separate process running the worker program.</summary>
public class TwoProcessTests(ITestOutputHelper output)
{
    private static string Describe(Ranks.Result r) =>
        $"exit {r.ExitCode} after {r.Elapsed.TotalSeconds:F1} s\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}";

    [Fact]
    public void Collectives_are_exact_for_float32_float64_and_int64()
    {
        var r = Ranks.Launch("--nproc 2", "collectives --timeout-ms 30000");
        output.WriteLine(Describe(r));
        Assert.Equal(0, r.ExitCode);
        // 8 checks per dtype: SUM, MAX, MIN, AVG (or its rejection for int64), broadcast, 2 gathered, reduce_scatter.
        Assert.Contains("rank 0: 24 collective checks passed", r.Stdout);
        Assert.Contains("rank 1: 24 collective checks passed", r.Stdout);
    }

    [Fact]
    public void Data_parallel_Adam_steps_on_half_batches_equal_one_process_on_the_whole_batch()
    {
        var r = Ranks.Launch("--nproc 2", "ddp-step --steps 3");
        output.WriteLine(Describe(r));
        Assert.Equal(0, r.ExitCode);
        var m = Regex.Match(r.Stdout, @"weights (\S+), optimizer state (\S+), loss (\S+); between replicas (\S+)");
        Assert.True(m.Success, "no result line");
        double[] diffs = Enumerable.Range(1, 4).Select(i => double.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture)).ToArray();
        foreach (var d in diffs) Assert.InRange(d, 0, 1e-12);
        Assert.Equal(0, diffs[3]);  // the replicas apply identical updates to identical weights
    }

    [Fact]
    public void A_killed_rank_makes_the_other_fail_with_a_clear_error_within_the_timeout()
    {
        const int timeoutMs = 10_000;
        int port = Ranks.FreePort();
        var sw = Stopwatch.StartNew();
        using var rank0 = Ranks.StartRank(0, 2, port, $"die --collective-timeout-ms {timeoutMs}");
        using var rank1 = Ranks.StartRank(1, 2, port, $"die --collective-timeout-ms {timeoutMs}");
        var r1 = Ranks.Finish(rank1, sw, 60);
        var r0 = Ranks.Finish(rank0, sw, 60);
        output.WriteLine("rank 0: " + Describe(r0));
        output.WriteLine("rank 1: " + Describe(r1));
        Assert.Equal(137, r1.ExitCode);  // SIGKILL
        Assert.Equal(3, r0.ExitCode);    // DistributedException
        var m = Regex.Match(r0.Stderr, @"rank 0: all-reduce failed after ([0-9.]+) s: (.+)");
        Assert.True(m.Success, "rank 0 did not report a failed all-reduce");
        Assert.True(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) < timeoutMs / 1000.0, "rank 0 failed only after the timeout");
        Assert.Matches("(?i)(closed|reset) by peer", m.Groups[2].Value);  // Gloo's own message
    }

    [Fact]
    public void A_silent_rank_makes_the_collective_time_out_with_c10d_message()
    {
        const int timeoutMs = 2_000;
        int port = Ranks.FreePort();
        var sw = Stopwatch.StartNew();
        using var rank0 = Ranks.StartRank(0, 2, port, $"silent --collective-timeout-ms {timeoutMs}");
        using var rank1 = Ranks.StartRank(1, 2, port, $"silent --collective-timeout-ms {timeoutMs}");
        var r0 = Ranks.Finish(rank0, sw, 60);
        rank1.Kill();
        output.WriteLine("rank 0: " + Describe(r0));
        Assert.Equal(3, r0.ExitCode);
        var m = Regex.Match(r0.Stderr, @"rank 0: all-reduce failed after ([0-9.]+) s: (.+)");
        Assert.True(m.Success, "rank 0 did not report a failed all-reduce");
        // It waited the timeout, and not much longer (a loaded machine may add a little).
        Assert.InRange(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), timeoutMs / 1000.0 - 0.05, timeoutMs / 1000.0 + 3);
        Assert.Contains($"Timed out waiting {timeoutMs}ms", m.Groups[2].Value);
    }

    [Fact]
    public void A_two_rank_checkpoint_resumes_to_the_same_weights_as_an_uninterrupted_run()
    {
        var root = Directory.CreateTempSubdirectory("ddp-resume").FullName;
        try
        {
            string whole = Path.Combine(root, "whole"), split = Path.Combine(root, "split");
            const string common = "train-mlp --float64 --width 16 --points 512 --batch 64 --log-every 12";
            var a = Ranks.Launch("--nproc 2", $"{common} --steps 24 --out {whole}");
            output.WriteLine(Describe(a));
            Assert.Equal(0, a.ExitCode);
            var b1 = Ranks.Launch("--nproc 2", $"{common} --steps 12 --out {split}");
            Assert.Equal(0, b1.ExitCode);
            File.Copy(Path.Combine(split, "checkpoint.safetensors"), Path.Combine(root, "half.safetensors"));
            var b2 = Ranks.Launch("--nproc 2", $"{common} --steps 24 --out {split} --resume");
            output.WriteLine(Describe(b2));
            Assert.Equal(0, b2.ExitCode);
            Assert.Contains("steps 12..24", b2.Stdout);  // it did resume

            double resumed = MaxDifference(Path.Combine(whole, "checkpoint.safetensors"), Path.Combine(split, "checkpoint.safetensors"));
            double halfway = MaxDifference(Path.Combine(whole, "checkpoint.safetensors"), Path.Combine(root, "half.safetensors"));
            output.WriteLine($"max |difference| resumed vs uninterrupted: {resumed:E3}; halfway vs end: {halfway:E3}");
            Assert.Equal(0, resumed);          // the same operations in the same order: bit-identical
            Assert.True(halfway > 1e-6);       // and the comparison can tell checkpoints apart
            Assert.Equal(File.ReadAllLines(Path.Combine(whole, "metrics.csv")), File.ReadAllLines(Path.Combine(split, "metrics.csv")));
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void The_trainer_on_two_ranks_equals_one_process_on_the_whole_batch_and_only_rank_0_writes()
    {
        var root = Directory.CreateTempSubdirectory("ddp-trainer").FullName;
        try
        {
            // 2 ranks × 6 against 1 × 12: 50 images give 4 batches an epoch either way, so 5 steps cross an epoch.
            var two = Ranks.Launch("--nproc 2", $"trainer --steps 5 --batch 6 --out {root}/two/rank{{rank}}");
            output.WriteLine(Describe(two));
            Assert.Equal(0, two.ExitCode);
            var one = Ranks.Launch("--nproc 1", $"trainer --steps 5 --batch 12 --out {root}/one/rank{{rank}}");
            output.WriteLine(Describe(one));
            Assert.Equal(0, one.ExitCode);

            double[] Losses(string stdout, int rank, int world)
            {
                var m = Regex.Match(stdout, $@"rank {rank} of {world} losses: (.+)");
                Assert.True(m.Success, $"no losses from rank {rank} of {world}");
                return m.Groups[1].Value.Trim().Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            }
            double[] r0 = Losses(two.Stdout, 0, 2), r1 = Losses(two.Stdout, 1, 2), whole = Losses(one.Stdout, 0, 1);
            Assert.Equal(5, whole.Length);
            // Equal halves: the whole batch's mean loss is the mean of the ranks' mean losses.
            double lossDiff = whole.Select((l, i) => Math.Abs(l - (r0[i] + r1[i]) / 2)).Max();
            double stateDiff = MaxDifference(Path.Combine(root, "one", "rank0", "checkpoint.safetensors"), Path.Combine(root, "two", "rank0", "checkpoint.safetensors"));
            output.WriteLine($"largest difference, 2 ranks vs 1 process: loss {lossDiff:E2}, weights/optimizer/EMA {stateDiff:E2}");
            Assert.InRange(lossDiff, 0, 1e-12);
            Assert.InRange(stateDiff, 0, 1e-12);
            Assert.True(r0.Zip(r1).Any(p => Math.Abs(p.First - p.Second) > 1e-6), "the ranks saw the same batches");

            Assert.True(File.Exists(Path.Combine(root, "two", "rank0", "metrics.csv")));
            Assert.Equal(6, File.ReadAllLines(Path.Combine(root, "two", "rank0", "metrics.csv")).Length);   // header + 5 steps
            Assert.False(Directory.Exists(Path.Combine(root, "two", "rank1")), "rank 1 wrote files");
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    // Largest difference over every tensor of two checkpoints with the same names and shapes.
    private static double MaxDifference(string pathA, string pathB)
    {
        var a = safetensors.load(pathA);
        var b = safetensors.load(pathB);
        try
        {
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            return a.Keys.Max(k => (a[k].to(torch.float64) - b[k].to(torch.float64)).abs().max().ToDouble());
        }
        finally
        {
            foreach (var t in a.Values.Concat(b.Values)) t.Dispose();
        }
    }
}
