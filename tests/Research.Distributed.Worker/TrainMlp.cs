using System.Globalization;
using Research.Torch;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Worker;

/// <summary>
/// A small data-parallel training: an MLP regresses y = sin(3x₀)cos(2x₁) on a fixed set of points in
/// [−2, 2]², Adam, one global batch per step split evenly over the ranks.
/// Where randomness comes from, per rank: the data set from a generator seeded <c>seed</c> (the same
/// points on every rank); the epoch's order from the DistributedSampler (seed + epoch, the same
/// permutation on every rank, disjoint shares); initial weights from <c>seed + 1 + rank</c>, replaced by
/// rank 0's through the broadcast of DistributedDataParallel. Only rank 0 writes (metrics.csv,
/// checkpoint.safetensors); every rank reads the checkpoint on --resume, which needs the same world
/// size and, across machines, the checkpoint on every node.
/// Options: --steps 200 --batch 256 (global) --lr 1e-2 --width 64 --points 4096 --seed 0
/// --out results/ddp-mlp --checkpoint-every (steps) --log-every 50 --resume --float64.
/// </summary>
public static class TrainMlp
{
    public static int Run(Options o)
    {
        int rank = dist.get_rank(), w = dist.get_world_size();
        int steps = o.Int("steps", 200), batch = o.Int("batch", 256), points = o.Int("points", 4096);
        int logEvery = o.Int("log-every", 50), checkpointEvery = o.Int("checkpoint-every", steps);
        ulong seed = (ulong)o.Int("seed", 0);
        var dtype = o.Flag("float64") ? float64 : float32;
        var outDir = o.Text("out", "results/ddp-mlp");
        var checkpointPath = Path.Combine(outDir, "checkpoint.safetensors");
        if (batch % w != 0) throw new ArgumentException($"--batch {batch} must be a multiple of the world size {w}");
        int perRank = batch / w;

        using var dataGen = new Generator(seed);
        using var x = rand([points, 2], dtype, generator: dataGen) * 4 - 2;
        using var y = Mlp.Target(x);
        var sampler = new utils.data.DistributedSampler(points, shuffle: true, seed: seed, drop_last: true);
        long stepsPerEpoch = sampler.num_samples / perRank;
        if (stepsPerEpoch == 0) throw new ArgumentException($"--points {points} is too few for a global batch of {batch}");

        using var init = new Generator(seed + 1 + (ulong)rank);
        using var model = new Mlp(o.Int("width", 64), dtype, init);
        var ddp = new nn.parallel.DistributedDataParallel(model);
        using var opt = new optim.Adam(model.parameters(), lr: o.Real("lr", 1e-2));

        int start = 0;
        if (o.Flag("resume") && File.Exists(checkpointPath)) start = Load(checkpointPath, model, opt, w);
        if (rank == 0)
        {
            Directory.CreateDirectory(outDir);
            Console.WriteLine($"train-mlp: {w} ranks, global batch {batch} ({perRank} per rank), {model.parameter_count()} parameters, steps {start}..{steps}");
        }

        var inv = CultureInfo.InvariantCulture;
        long[] order = [];
        long orderEpoch = -1;
        double loss = double.NaN;
        for (int step = start; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            long epoch = step / stepsPerEpoch;
            if (epoch != orderEpoch)
            {
                sampler.set_epoch(epoch);
                (order, orderEpoch) = (sampler.indices(), epoch);
            }
            var idx = tensor(order.AsSpan((int)(step % stepsPerEpoch * perRank), perRank).ToArray());
            opt.zero_grad();
            var l = nn.functional.mse_loss(model.forward(x.index_select(0, idx)), y.index_select(0, idx));
            l.backward();
            ddp.average_gradients();
            opt.step();
            var global = l.detach().clone();
            dist.all_reduce(global, dist.ReduceOp.AVG);
            loss = global.ToDouble();

            if (rank == 0 && ((step + 1) % logEvery == 0 || step + 1 == steps))
            {
                Console.WriteLine(string.Format(inv, "step {0,5}  epoch {1,3}  loss {2:F6}", step + 1, epoch, loss));
                var metrics = Path.Combine(outDir, "metrics.csv");
                if (!File.Exists(metrics)) File.WriteAllText(metrics, "step,epoch,loss\n");
                File.AppendAllText(metrics, string.Format(inv, "{0},{1},{2:R}\n", step + 1, epoch, loss));
            }
            if ((step + 1) % checkpointEvery == 0 || step + 1 == steps)
            {
                if (rank == 0) Save(checkpointPath, model, opt, step + 1, w);
                dist.barrier();  // no rank reads a checkpoint before rank 0 has written it
            }
        }
        if (rank == 0) Console.WriteLine(string.Format(inv, "train-mlp: final loss {0:F6}, checkpoint {1}", loss, checkpointPath));
        return 0;
    }

    private static void Save(string path, nn.Module model, optim.Optimizer opt, int step, int worldSize)
    {
        var optState = opt.state_dict();
        var tensors = model.state_dict().ToDictionary(kv => "model." + kv.Key, kv => kv.Value);
        foreach (var (k, v) in optState) tensors["optim." + k] = v;
        try
        {
            safetensors.save(tensors, path, new Dictionary<string, string>
            {
                ["step"] = step.ToString(CultureInfo.InvariantCulture),
                ["world_size"] = worldSize.ToString(CultureInfo.InvariantCulture),
            });
        }
        finally
        {
            foreach (var t in optState.Values) t.Dispose();
        }
    }

    private static int Load(string path, nn.Module model, optim.Optimizer opt, int worldSize)
    {
        var (tensors, meta) = safetensors.load_with_metadata(path);
        try
        {
            if (meta.GetValueOrDefault("world_size") != worldSize.ToString(CultureInfo.InvariantCulture))
                throw new InvalidDataException($"{path} was written by {meta.GetValueOrDefault("world_size")} ranks; resume needs the same world size, not {worldSize}");
            Dictionary<string, Tensor> Part(string prefix) =>
                tensors.Where(kv => kv.Key.StartsWith(prefix)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
            model.load_state_dict(Part("model."));
            opt.load_state_dict(Part("optim."));
            return int.Parse(meta["step"], CultureInfo.InvariantCulture);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
