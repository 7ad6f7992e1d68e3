using System.Diagnostics;
using System.Globalization;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Worker;

/// <summary>Wall time of one all-reduce (SUM) of <c>numel</c> float32 values: 3 warm-up rounds, then
/// <c>reps</c> timed ones, each after a barrier so that every rank starts together; rank 0 prints the
/// median and the extremes as one JSON line.</summary>
public static class AllReduceBench
{
    public static int Run(int numel, int reps)
    {
        using var t = randn([numel], float32);
        for (int i = 0; i < 3; i++) dist.all_reduce(t);
        var ms = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            dist.barrier();
            var sw = Stopwatch.StartNew();
            dist.all_reduce(t);
            ms[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(ms);
        if (dist.get_rank() == 0)
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{{\"name\":\"all_reduce_float32\",\"numel\":{0},\"world_size\":{1},\"reps\":{2},\"median_ms\":{3:F3},\"min_ms\":{4:F3},\"max_ms\":{5:F3},\"algbw_GBps\":{6:F3}}}",
                numel, dist.get_world_size(), reps, ms[reps / 2], ms[0], ms[^1], numel * 4.0 / (ms[reps / 2] * 1e-3) / 1e9));
        return 0;
    }
}
