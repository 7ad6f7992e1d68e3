using System.Globalization;
using Research.Data;
using Research.Models;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Distributed.Worker;

/// <summary>
/// The trainer's data-parallel path as an experiment uses it: <see cref="DataParallel.FromEnvironment"/>, its
/// <see cref="DataParallel.Apply"/> on the <see cref="TrainerOptions"/>, and a <see cref="BatchStream"/> sharded by
/// rank. A float64 classifier (16 → 12 → 3, SiLU) on 50 fixed random 1×4×4 "images" with Adam, a cosine learning
/// rate, gradient clipping and an EMA; the step draws nothing, so W ranks with batch B must equal one process with
/// batch W·B (the ranks' batches are, as sets, the single process's batch). Ranks start from different weights
/// (seed + 1 + rank): the broadcast at Apply is part of what is checked. Every rank prints its per-step losses;
/// the checkpoint and metrics go to --out with "{rank}" replaced by the rank, so the test sees who wrote what.
/// Options: --steps 5 --batch 6 (per rank) --seed 0 --out DIR.
/// </summary>
public static class TrainerRun
{
    public static int Run(Options o)
    {
        using var dp = DataParallel.FromEnvironment();
        int steps = o.Int("steps", 5), batch = o.Int("batch", 6);
        ulong seed = (ulong)o.Int("seed", 0);
        var dir = o.Text("out", "results/ddp-trainer/rank{rank}").Replace("{rank}", dp.Rank.ToString(CultureInfo.InvariantCulture));

        using var dataGen = new Generator(seed);
        using var data = new ImageDataset(randn([50, 1, 4, 4], float64, generator: dataGen), randint(0, 3, [50], generator: dataGen), 3);
        using var init = new Generator(seed + 1 + (ulong)dp.Rank);
        var options = new nn.LayerOptions(float64, null, init);
        using var model = new nn.Sequential(new nn.Linear(16, 12, options: options), new nn.Activation(nn.functional.silu), new nn.Linear(12, 3, options: options));
        using var optimizer = new optim.Adam(model.parameters(), 0.05);
        using var ema = new optim.EMA(model, 0.9);
        var part = new TrainedPart("net", model, optimizer, ema);
        var trainerOptions = dp.Apply(new TrainerOptions(steps, seed, dir, new optim.CosineLR(0.05, steps), ClipGradNorm: 1.0, LogEvery: 1, Progress: false), [part]);

        using var batches = new BatchStream(data, batch, seed, rank: dp.Rank, worldSize: dp.WorldSize);
        var losses = new List<double>();
        using var trainer = new Trainer([part], batches, c =>
        {
            var loss = nn.functional.cross_entropy(model.forward(c.Inputs.flatten(1)), c.Labels);
            losses.Add(loss.ToDouble());
            c.Update(part, loss);
        }, trainerOptions);
        trainer.Run();
        Console.WriteLine($"rank {dp.Rank} of {dp.WorldSize} losses: " + string.Join(" ", losses.Select(l => l.ToString("R", CultureInfo.InvariantCulture))));
        return 0;
    }
}
