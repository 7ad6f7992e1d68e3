using Research.Torch;
using DDP = Research.Torch.torch.nn.parallel.DistributedDataParallel;

namespace Research.Models;

/// <summary>
/// Data-parallel training for the <see cref="Trainer"/>, over libtorch's c10d (torch.distributed). Each rank
/// reads its shard of every epoch (<see cref="Research.Data.BatchStream"/> with rank and world size), computes
/// the loss of its local batch, and <see cref="DDP.average_gradients"/> replaces each gradient by the mean over
/// ranks before clipping and the optimizer step, so the replicas stay identical: the global batch is
/// world size × the local batch. Parameters and buffers are broadcast from rank 0 when a part is wrapped. Only
/// rank 0 writes checkpoints, metrics and progress; every rank reads the checkpoint on resume (same world size).
/// Random streams: rank r draws its noise and times from a generator seeded by (seed, r, step at start), so
/// ranks never share draws; the EMA is the same on every rank because the parameters are.
/// </summary>
public sealed class DataParallel : IDisposable
{
    private readonly Dictionary<string, DDP> wrapped = new();
    private readonly bool ownsGroup;

    private DataParallel(int rank, int worldSize, bool ownsGroup) => (Rank, WorldSize, this.ownsGroup) = (rank, worldSize, ownsGroup);

    /// <summary>This process's rank, 0..WorldSize − 1.</summary>
    public int Rank { get; }
    /// <summary>The number of processes (1 without distributed training).</summary>
    public int WorldSize { get; }
    /// <summary>True on rank 0, the only rank that writes checkpoints, metrics and progress.</summary>
    public bool IsWriter => Rank == 0;

    /// <summary>One process (WORLD_SIZE unset or 1), or the default process group joined from the environment
    /// that <c>./run.sh launch</c> (or torchrun) sets: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT.</summary>
    public static DataParallel FromEnvironment()
    {
        var world = Environment.GetEnvironmentVariable("WORLD_SIZE");
        if (string.IsNullOrEmpty(world) || world == "1") return new DataParallel(0, 1, false);
        var group = torch.distributed.is_initialized() ? null : torch.distributed.init_process_group("gloo", "env://");
        return new DataParallel(torch.distributed.get_rank(), torch.distributed.get_world_size(), group is not null);
    }

    /// <summary>The trainer options of this rank: gradient averaging of every part after backward, writing on
    /// rank 0 only, and this rank's random stream.</summary>
    public TrainerOptions Apply(TrainerOptions options, IEnumerable<TrainedPart> parts)
    {
        if (WorldSize == 1) return options;
        foreach (var part in parts) wrapped[part.Name] = new DDP(part.Module);
        var previous = options.AfterBackward;
        return options with
        {
            AfterBackward = part => { previous?.Invoke(part); wrapped[part.Name].average_gradients(); },
            Writes = options.Writes && IsWriter,
            RngStream = Rank,
        };
    }

    /// <summary>Leaves the process group if this object joined it.</summary>
    public void Dispose()
    {
        if (ownsGroup) torch.distributed.destroy_process_group();
    }
}
