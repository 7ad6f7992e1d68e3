using System.Globalization;
using Research.Torch;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Worker;

/// <summary>
/// Data-parallel Adam steps, each rank on its share of a 64-point batch, against one process that takes
/// the same steps on the whole batch (rank 0 computes it alongside). With equal shares, the mean of the
/// ranks' mean losses (and of their gradients) is the whole batch's, so weights, optimizer state and loss
/// must agree to float64 round-off: 1e-12 is about 10⁴ ulps of values of order 1, far below what a wrong
/// scaling (sum instead of mean: a factor of the world size) or a skipped average would produce. Ranks
/// start from different weights, so the broadcast from rank 0 is part of what is checked.
/// </summary>
public static class DdpStep
{
    public const int Batch = 64;
    public const double Tolerance = 1e-12;

    public static int Run(int steps)
    {
        int rank = dist.get_rank(), w = dist.get_world_size();
        if (Batch % w != 0) throw new ArgumentException($"the world size must divide {Batch}");
        using var data = new Generator(7);
        using var x = randn([Batch, 2], float64, generator: data);
        using var y = Mlp.Target(x);
        long share = Batch / w;
        using var xr = x.narrow(0, rank * share, share);
        using var yr = y.narrow(0, rank * share, share);

        using var init = new Generator(100 + (ulong)rank);
        using var model = new Mlp(32, float64, init);
        var ddp = new nn.parallel.DistributedDataParallel(model);
        using var opt = new optim.Adam(model.parameters(), lr: 1e-2);

        // The single-process reference starts from rank 0's weights (seed 100), which the broadcast gave every rank.
        using var refInit = new Generator(100);
        using var reference = rank == 0 ? new Mlp(32, float64, refInit) : null;
        using var refOpt = reference is null ? null : new optim.Adam(reference.parameters(), lr: 1e-2);

        double lossDiff = 0;
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = nn.functional.mse_loss(model.forward(xr), yr);
            loss.backward();
            ddp.average_gradients();
            opt.step();
            var global = loss.detach().clone();
            dist.all_reduce(global, dist.ReduceOp.AVG);

            if (reference is not null)
            {
                refOpt!.zero_grad();
                var refLoss = nn.functional.mse_loss(reference.forward(x), y);
                refLoss.backward();
                refOpt.step();
                lossDiff = Math.Max(lossDiff, Math.Abs(global.ToDouble() - refLoss.ToDouble()));
            }
        }

        // Every rank must hold the same weights afterwards.
        using var flat = Flatten(model.parameters());
        var replicas = Enumerable.Range(0, w).Select(_ => zeros_like(flat)).ToArray();
        dist.all_gather(replicas, flat);
        double replicaDiff = replicas.Max(r => (r - flat).abs().max().ToDouble());
        foreach (var r in replicas) r.Dispose();
        if (reference is null) return replicaDiff == 0 ? 0 : Fail($"rank {rank}: replicas differ by {replicaDiff:E2}");

        using var refFlat = Flatten(reference.parameters());
        double weightDiff = (flat - refFlat).abs().max().ToDouble();
        var state = opt.state_dict();
        var refState = refOpt!.state_dict();
        double stateDiff = 0;
        foreach (var (k, v) in state)
        {
            if (!refState.TryGetValue(k, out var rv)) return Fail($"optimizer state '{k}' missing in the reference");
            stateDiff = Math.Max(stateDiff, (v.to(float64) - rv.to(float64)).abs().max().ToDouble());
        }
        if (state.Count != refState.Count) return Fail($"optimizer states have {state.Count} and {refState.Count} entries");
        foreach (var t in state.Values.Concat(refState.Values)) t.Dispose();

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Format(inv,
            "ddp-step: {0} ranks, {1} Adam steps, max |difference| to one process: weights {2:E3}, optimizer state {3:E3}, loss {4:E3}; between replicas {5:E3}",
            w, steps, weightDiff, stateDiff, lossDiff, replicaDiff));
        double worst = new[] { weightDiff, stateDiff, lossDiff, replicaDiff }.Max();
        return worst <= Tolerance ? 0 : Fail($"difference {worst:E3} exceeds {Tolerance:E0}");
    }

    private static Tensor Flatten(Tensor[] ps)
    {
        using var scope = NewDisposeScope();
        return cat(ps.Select(p => p.detach().reshape(-1)).ToArray()).MoveToOuterScope();
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }
}
