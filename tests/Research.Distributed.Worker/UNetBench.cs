using System.Diagnostics;
using System.Globalization;
using Research.Models;
using Research.Torch;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Worker;

/// <summary>
/// Data-parallel training throughput of the U-Net (UNet28, 1.39 M parameters) on 28×28 noise images: an
/// ε-prediction MSE step with Adam, the global batch split over the ranks, 1 warm-up step then
/// <c>steps</c> timed ones. Rank 0 prints images/s and the median time of <c>average_gradients</c>
/// (the bucketed all-reduce of all gradients) as one JSON line. Compare
/// <c>--nproc 1 ... --threads 2</c> with <c>--nproc 2 ... --threads 1</c> on the same cores.
/// </summary>
public static class UNetBench
{
    public static int Run(int globalBatch, int steps)
    {
        int rank = dist.get_rank(), w = dist.get_world_size();
        if (globalBatch % w != 0) throw new ArgumentException($"--batch {globalBatch} must be a multiple of the world size {w}");
        int b = globalBatch / w;
        using var gen = new Generator(1 + (ulong)rank);
        using var model = new UNet(UNetConfig.UNet28, new nn.LayerOptions(float32, null, gen));
        var ddp = new nn.parallel.DistributedDataParallel(model);
        using var opt = new optim.Adam(model.parameters(), lr: 1e-4);
        var reduceMs = new List<double>();
        var total = new Stopwatch();
        for (int s = 0; s <= steps; s++)
        {
            using var scope = NewDisposeScope();
            if (s == 1) { dist.barrier(); total.Start(); }
            var x = randn([b, 1, 28, 28], float32, generator: gen);
            var t = rand([b], float32, generator: gen);
            var eps = randn([b, 1, 28, 28], float32, generator: gen);
            opt.zero_grad();
            nn.functional.mse_loss(model.forward(x, t), eps).backward();
            var sw = Stopwatch.StartNew();
            ddp.average_gradients();
            if (s > 0) reduceMs.Add(sw.Elapsed.TotalMilliseconds);
            opt.step();
        }
        dist.barrier();
        total.Stop();
        reduceMs.Sort();
        if (rank == 0)
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{{\"name\":\"unet28_ddp_train\",\"world_size\":{0},\"threads\":{1},\"global_batch\":{2},\"steps\":{3},\"parameters\":{4},\"buckets\":{5},\"images_per_s\":{6:F1},\"average_gradients_median_ms\":{7:F2}}}",
                w, get_num_threads(), globalBatch, steps, model.parameter_count(), ddp.bucket_count,
                globalBatch * steps / total.Elapsed.TotalSeconds, reduceMs[reduceMs.Count / 2]));
        return 0;
    }
}
