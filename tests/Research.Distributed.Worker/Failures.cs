using System.Diagnostics;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Worker;

/// <summary>A peer that dies and a peer that stays silent: rank 0's collective must end in a
/// DistributedException (exit code 3 in Program) within the group's timeout, never hang.</summary>
public static class Failures
{
    public static int Die()
    {
        using var t = ones([1000]);
        dist.all_reduce(t);
        if (dist.get_rank() == 1)
        {
            Console.Error.WriteLine("rank 1: killing itself (SIGKILL)");
            Process.GetCurrentProcess().Kill();
        }
        Thread.Sleep(500);
        for (int i = 0; i < 100; i++) dist.all_reduce(t);
        Console.Error.WriteLine($"rank {dist.get_rank()}: all-reduces went on without rank 1");
        return 0;
    }

    public static int Silent(TimeSpan timeout)
    {
        if (dist.get_rank() == 1)
        {
            Thread.Sleep(timeout * 3);
            return 0;
        }
        using var t = ones([10]);
        dist.all_reduce(t);
        Console.Error.WriteLine("rank 0: the all-reduce completed without rank 1");
        return 0;
    }
}
