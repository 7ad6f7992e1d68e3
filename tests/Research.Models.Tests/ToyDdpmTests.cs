using Research.Data;
using Research.Torch;
using Xunit;
using Xunit.Abstractions;
using static Research.Torch.torch;

namespace Research.Models.Tests;

public class ToyDdpmTests(ITestOutputHelper output)
{
    /// <summary>Mean distance from each sample to the nearest ring centre, and the fraction of samples
    /// nearest to each centre.</summary>
    private static (double meanDistance, double[] modeFractions) RingFit(Tensor samples)
    {
        using var scope = NewDisposeScope();
        var centres = tensor(Toy2D.RingCentres(), ScalarType.Float32);
        var distances = (samples.unsqueeze(1) - centres.unsqueeze(0)).square().sum(2).sqrt();  // [n, 8]
        var (nearest, index) = distances.min(1);
        var counts = new double[8];
        foreach (var k in index.data<long>()) counts[k]++;
        return (nearest.mean().ToDouble(), counts.Select(c => c / samples.size(0)).ToArray());
    }

    private const int TrainingSteps = 3000;

    [Fact]
    public void A_trained_DDPM_reproduces_the_ring_of_Gaussians_and_an_untrained_one_does_not()
    {
        using var trainer = ToyDdpmTrainer.Ring(seed: 1, batchSize: 256, width: 128);
        using var sampling = new Generator(2);
        using var scope = NewDisposeScope();
        var (untrainedDistance, _) = RingFit(trainer.Sample(2000, sampling));

        double loss = 0;
        var schedule = new optim.CosineLR(3e-3, TrainingSteps);  // decaying the rate sharpens the modes
        for (int i = 0; i < TrainingSteps; i++)
        {
            schedule.apply(trainer.Optimizer);
            loss = trainer.TrainStep();
        }
        var (distance, fractions) = RingFit(trainer.Sample(2000, sampling));
        output.WriteLine($"final loss {loss:F3}; mean distance to nearest centre: untrained {untrainedDistance:F3}, trained {distance:F3}; modes {string.Join(" ", fractions.Select(f => f.ToString("F3")))}");

        // Data: the distance to the centre of a 2-D N(0, 0.05² I) is Rayleigh with mean 0.05·√(π/2) = 0.063.
        // A trained model lands within 0.15 (points between modes are about 0.77 away); an untrained
        // one scatters its samples.
        Assert.True(distance < 0.15, $"trained samples lie {distance:F3} from the modes on average");
        Assert.True(untrainedDistance > 0.3, $"untrained samples lie {untrainedDistance:F3} from the modes on average");
        // Every mode is found with roughly its weight 1/8 (binomial sd over 2000 samples is 0.0074).
        Assert.All(fractions, f => Assert.InRange(f, 0.125 - 0.06, 0.125 + 0.06));
    }

    [Fact]
    public void Training_resumed_from_a_checkpoint_continues_bit_identically()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ddpm-").FullName, "checkpoint.safetensors");
        byte[][] Parameters(ToyDdpmTrainer t) => t.Model.parameters().Select(p => p.data<float>().SelectMany(BitConverter.GetBytes).ToArray()).ToArray();

        using var straight = ToyDdpmTrainer.Ring(seed: 7, batchSize: 64, width: 32, depth: 2);
        for (int i = 0; i < 40; i++) straight.TrainStep();

        using (var first = ToyDdpmTrainer.Ring(seed: 7, batchSize: 64, width: 32, depth: 2))
        {
            for (int i = 0; i < 20; i++) first.TrainStep();
            first.Save(path);
        }
        using var resumed = ToyDdpmTrainer.Ring(seed: 99, batchSize: 64, width: 32, depth: 2);  // other weights and stream until restored
        resumed.Resume(path);
        Assert.Equal(20, resumed.Step);
        for (int i = 0; i < 20; i++) resumed.TrainStep();

        Assert.Equal(Parameters(straight), Parameters(resumed));
        var moments = straight.Optimizer.state_dict();
        var resumedMoments = resumed.Optimizer.state_dict();
        foreach (var (k, v) in moments) Assert.True(v.allclose(resumedMoments[k], 0, 0), k);
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }
}
