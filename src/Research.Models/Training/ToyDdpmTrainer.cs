using Research.Data;
using Research.Diffusion;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// The proof-of-life model: a <see cref="TimeConditionedMlp"/> trained as a DDPM (ε-prediction, Ho et
/// al.'s linear VP table) on a 2-D toy distribution, with every random draw (initial weights, data,
/// time steps, noise) from one seeded generator, so a run resumed from a checkpoint continues
/// bit-identically on CPU.
/// </summary>
public sealed class ToyDdpmTrainer : IDisposable
{
    private readonly Func<long, Generator, Tensor> data;
    private readonly int batchSize;

    /// <summary>A trainer whose every random draw comes from one generator seeded with <paramref name="seed"/>.</summary>
    /// <param name="data">Draws a batch [n, 2] from the data distribution.</param>
    /// <param name="seed">The seed of <see cref="Generator"/>.</param>
    /// <param name="batchSize">Points per step.</param>
    /// <param name="lr">Adam's learning rate.</param>
    /// <param name="width">Hidden width of the MLP.</param>
    /// <param name="depth">Number of hidden layers of the MLP.</param>
    /// <param name="steps">T of the linear DDPM table.</param>
    public ToyDdpmTrainer(Func<long, Generator, Tensor> data, ulong seed, int batchSize = 512, double lr = 1e-3,
        int width = 256, int depth = 3, int steps = 1000)
    {
        this.data = data;
        this.batchSize = batchSize;
        Generator = new Generator(seed);
        Model = new TimeConditionedMlp(2, 64, width, depth, new nn.LayerOptions(generator: Generator));
        Optimizer = new optim.Adam(Model.parameters(), lr);
        Ddpm = new DiscreteDdpm(DdpmSchedule.Linear(steps));
    }

    /// <summary>The ring of 8 Gaussians (radius 2, sd 0.05).</summary>
    public static ToyDdpmTrainer Ring(ulong seed, int batchSize = 512, int width = 256, int depth = 3) =>
        new((n, g) => Toy2D.RingOfGaussians(n, g), seed, batchSize, width: width, depth: depth);

    /// <summary>The ε-network.</summary>
    public TimeConditionedMlp Model { get; }
    /// <summary>Adam over the network's parameters.</summary>
    public optim.Adam Optimizer { get; }
    /// <summary>The one seeded generator behind every random draw.</summary>
    public Generator Generator { get; }
    /// <summary>The DDPM on the linear table.</summary>
    public DiscreteDdpm Ddpm { get; }
    /// <summary>The number of optimizer steps taken.</summary>
    public long Step => Optimizer.step_count;

    /// <summary>One Adam step on a fresh batch; returns the loss.</summary>
    public double TrainStep()
    {
        using var scope = NewDisposeScope();
        var x0 = data(batchSize, Generator);
        Optimizer.zero_grad();
        var loss = Ddpm.Loss(Model.forward, x0, Generator);
        loss.backward();
        Optimizer.step();
        return loss.ToDouble();
    }

    /// <summary>
    /// <paramref name="n"/> samples [n, 2] by ancestral sampling from noise, drawn with <paramref name="generator"/>.
    /// </summary>
    public Tensor Sample(long n, Generator generator) => Ddpm.Sample(Model.forward, [n, 2], generator);

    private TrainedPart[] Parts => [new("model", Model, Optimizer)];

    /// <summary>Saves weights, optimizer state and the generator's state to <paramref name="path"/>.</summary>
    public void Save(string path) => Checkpoint.Save(path, Parts, Generator);

    /// <summary>Restores a checkpoint written by <see cref="Save"/>.</summary>
    public void Resume(string path) => Checkpoint.Load(path, Parts, Generator);

    /// <summary>Releases the network, the optimizer state and the generator.</summary>
    public void Dispose()
    {
        Model.Dispose();
        Optimizer.Dispose();
        Generator.Dispose();
    }
}
