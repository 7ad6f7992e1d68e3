using System.Diagnostics;
using Research.Torch;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Worker;

/// <summary>A peer that dies and a peer that stays silent: rank 0's all-reduce must end in a
/// DistributedException within the group's timeout, never hang. Rank 0 reports how long the failing
/// all-reduce took and c10d's message, and exits with code 3. The collectives run in a second group with
/// the short timeout under test, joined once both ranks are up (so a slow start is not what times out).</summary>
public static class Failures
{
    public static int Die(TimeSpan timeout)
    {
        using var g = ShortGroup(timeout);
        using var t = ones([1000]);
        g.all_reduce(t);
        if (dist.get_rank() == 1)
        {
            Console.Error.WriteLine("rank 1: killing itself (SIGKILL)");
            Process.GetCurrentProcess().Kill();
        }
        Thread.Sleep(500);
        return ExpectFailure(() => { for (int i = 0; i < 100; i++) g.all_reduce(t); });
    }

    public static int Silent(TimeSpan timeout)
    {
        using var g = ShortGroup(timeout);
        if (dist.get_rank() == 1)
        {
            Thread.Sleep(timeout * 3);
            return 0;
        }
        using var t = ones([10]);
        return ExpectFailure(() => g.all_reduce(t));
    }

    // A group over a fresh file store whose name rank 0 draws and broadcasts over the default group.
    private static dist.ProcessGroup ShortGroup(TimeSpan timeout)
    {
        using var id = tensor(new[] { dist.get_rank() == 0 ? Random.Shared.NextInt64(1, long.MaxValue) : 0L });
        dist.broadcast(id, 0);
        var path = Path.Combine(Path.GetTempPath(), $"research-distributed-{id.item<long>()}");
        var g = dist.new_group("gloo", "file://" + path, dist.get_rank(), dist.get_world_size(), timeout);
        dist.barrier();  // every rank has opened the store file
        if (dist.get_rank() == 0) File.Delete(path);
        return g;
    }

    private static int ExpectFailure(Action collectives)
    {
        var sw = Stopwatch.StartNew();
        try { collectives(); }
        catch (DistributedException e)
        {
            Console.Error.WriteLine($"rank {dist.get_rank()}: all-reduce failed after {sw.Elapsed.TotalSeconds:F2} s: {e.Message}");
            return 3;
        }
        Console.Error.WriteLine($"rank {dist.get_rank()}: the all-reduces completed without rank 1");
        return 0;
    }
}
