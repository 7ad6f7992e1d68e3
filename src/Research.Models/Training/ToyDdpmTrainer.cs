using Research.Data;
using Research.Diffusion;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// The proof-of-life model: a <see cref="TimeConditionedMlp"/> trained as a DDPM (ε-prediction, Ho et
/// al.'s linear VP table) on a 2-D toy distribution, with every random draw (initial weights, data,
/// time steps, noise) from one seeded generator, so a run resumed from a checkpoint continues
/// bit-identically on CPU. The model, its optimizer state and every batch live on <see cref="Device"/>; the
/// generator stays on the CPU (a draw for another device is made there and copied), so the run's numbers
/// start from the same weights and data whatever the device.
/// </summary>
public sealed class ToyDdpmTrainer : IDisposable
{
    private readonly Func<long, Generator, Device, Tensor> data;
    private readonly int batchSize;

    /// <param name="data">Draws a batch [n, 2] from the data distribution on the given device.</param>
    public ToyDdpmTrainer(Func<long, Generator, Device, Tensor> data, ulong seed, int batchSize = 512, double lr = 1e-3,
        int width = 256, int depth = 3, int steps = 1000, Device? device = null)
    {
        this.data = data;
        this.batchSize = batchSize;
        Device = device ?? torch.CPU;
        Generator = new Generator(seed);
        Model = new TimeConditionedMlp(2, 64, width, depth, new nn.LayerOptions(device: Device, generator: Generator));
        Optimizer = new optim.Adam(Model.parameters(), lr);
        Ddpm = new DiscreteDdpm(DdpmSchedule.Linear(steps));
    }

    /// <summary>The ring of 8 Gaussians (radius 2, sd 0.05).</summary>
    public static ToyDdpmTrainer Ring(ulong seed, int batchSize = 512, int width = 256, int depth = 3, Device? device = null) =>
        new((n, g, d) => Toy2D.RingOfGaussians(n, g, device: d), seed, batchSize, width: width, depth: depth, device: device);

    public Device Device { get; }
    public TimeConditionedMlp Model { get; }
    public optim.Adam Optimizer { get; }
    public Generator Generator { get; }
    public DiscreteDdpm Ddpm { get; }
    public long Step => Optimizer.step_count;

    /// <summary>One Adam step on a fresh batch; returns the loss.</summary>
    public double TrainStep()
    {
        using var scope = NewDisposeScope();
        var x0 = data(batchSize, Generator, Device);
        Optimizer.zero_grad();
        var loss = Ddpm.Loss(Model.forward, x0, Generator);
        loss.backward();
        Optimizer.step();
        return loss.ToDouble();
    }

    /// <summary>n samples [n, 2] on <see cref="Device"/>.</summary>
    public Tensor Sample(long n, Generator generator) => Ddpm.Sample(Model.forward, [n, 2], generator, device: Device);

    private TrainedPart[] Parts => [new("model", Model, Optimizer)];

    public void Save(string path) => Checkpoint.Save(path, Parts, Generator);

    public void Resume(string path) => Checkpoint.Load(path, Parts, Generator);

    public void Dispose()
    {
        Model.Dispose();
        Optimizer.Dispose();
        Generator.Dispose();
    }
}
