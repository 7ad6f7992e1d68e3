using System.Diagnostics;
using System.Globalization;
using Research.Torch;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Worker;

/// <summary>
/// One rank of a distributed job. Rank, world size and master come from the environment (env://), as
/// <c>./run.sh launch</c> sets them. Scenarios:
///   collectives        every collective on float32, float64 and int64, checked against closed forms
///   die                rank 1 kills itself after one all-reduce; rank 0's next all-reduce must fail
///   silent             rank 1 never joins the collective; rank 0's must time out
///   ddp-step           data-parallel Adam steps on half-batches against one process on the whole batch
///   train-mlp          a small data-parallel training of a 2-D MLP regression (checkpoints, resume)
///   trainer            the Trainer's data-parallel path (DataParallel, sharded BatchStream), float64
///   allreduce-bench    time of one all-reduce of N float32 values
///   unet-bench         data-parallel U-Net training images/s and gradient all-reduce time
/// Options: --timeout-ms T (the default group's timeout), --collective-timeout-ms T (die, silent), --steps, --out, --resume, --numel, --reps.
/// A failure prints its reason on stderr and exits non-zero.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: Research.Distributed.Worker collectives|die|silent|ddp-step|train-mlp|trainer|allreduce-bench|unet-bench [options]");
            return 2;
        }
        var options = Options.Parse(args.Skip(1).ToArray());
        torch.set_num_threads(options.Int("threads", 1));
        var timeout = TimeSpan.FromMilliseconds(options.Int("timeout-ms", 60_000));
        var collectiveTimeout = TimeSpan.FromMilliseconds(options.Int("collective-timeout-ms", 5_000));
        var sw = Stopwatch.StartNew();
        try
        {
            dist.init_process_group("gloo", timeout: timeout);
            return args[0] switch
            {
                "collectives" => Collectives.Run(),
                "die" => Failures.Die(collectiveTimeout),
                "silent" => Failures.Silent(collectiveTimeout),
                "ddp-step" => DdpStep.Run(options.Int("steps", 3)),
                "train-mlp" => TrainMlp.Run(options),
                "trainer" => TrainerRun.Run(options),
                "allreduce-bench" => AllReduceBench.Run(options.Int("numel", 1_390_000), options.Int("reps", 20)),
                "unet-bench" => UNetBench.Run(options.Int("batch", 32), options.Int("steps", 5)),
                _ => throw new ArgumentException($"unknown scenario '{args[0]}'"),
            };
        }
        catch (DistributedException e)
        {
            Console.Error.WriteLine($"rank {Environment.GetEnvironmentVariable("RANK")}: collective failed after {sw.Elapsed.TotalSeconds:F1} s: {e.Message}");
            return 3;
        }
        finally
        {
            dist.destroy_process_group();
        }
    }
}

/// <summary>--name value pairs; a flag without a value is "true".</summary>
public sealed class Options(Dictionary<string, string> values)
{
    public static Options Parse(string[] args)
    {
        var d = new Dictionary<string, string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--")) throw new ArgumentException($"unexpected argument '{args[i]}'");
            var name = args[i][2..];
            d[name] = i + 1 < args.Length && !args[i + 1].StartsWith("--") ? args[++i] : "true";
        }
        return new Options(d);
    }

    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    public double Real(string name, double fallback) => values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
    public string Text(string name, string fallback) => values.TryGetValue(name, out var v) ? v : fallback;
    public bool Flag(string name) => values.ContainsKey(name);
}
