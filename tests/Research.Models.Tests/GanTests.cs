using Research.Data;
using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

/// <summary>The GAN: the discriminator's loss has GAN-01's optimum, the DCGAN's shapes and two-optimizer
/// step, mode coverage, and a tiny ring GAN that learns the ring.</summary>
public class GanTests
{
    [Fact]
    public void The_discriminator_loss_is_optimised_by_D_star_equal_p_data_over_p_data_plus_p_g_on_1D_Gaussians()
    {
        // p_data = N(0, 1), p_g = N(1, 1): D* = p/(p + q) = sigmoid(log p − log q) = sigmoid(½ − x) (GAN-01), which a
        // logistic discriminator can represent exactly; fitting it by the GAN loss must find it.
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        using var d = new nn.Linear(1, 1, options: new nn.LayerOptions(float64, generator: g));
        using var opt = new optim.Adam(d.parameters(), 0.05);
        for (int step = 0; step < 400; step++)
        {
            using var inner = NewDisposeScope();
            var real = randn([4096, 1], float64, generator: g);
            var fake = randn([4096, 1], float64, generator: g) + 1.0;
            var loss = Gan.DiscriminatorLoss(d.forward(real).reshape(-1), d.forward(fake).reshape(-1));
            opt.zero_grad();
            loss.backward();
            opt.step();
        }
        var x = linspace(-2.0, 3.0, 26, float64).reshape(-1, 1);
        using var _ = no_grad();
        var learned = d.forward(x).reshape(-1).sigmoid();
        var optimal = (0.5 - x.reshape(-1)).sigmoid();
        Assert.True((learned - optimal).abs().max().ToDouble() < 0.03, $"max |D − D*| = {(learned - optimal).abs().max().ToDouble()}");
    }

    [Fact]
    public void DCGAN_shapes_and_one_trainer_step_updates_both_parts()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var o = new nn.LayerOptions(generator: g);
        using var gan = new Gan(Gan.DcganGenerator(16, 8, o), Gan.DcganDiscriminator(8, o), 16);
        var samples = gan.Sample(5, g);
        Assert.Equal([5L, 1L, 28L, 28L], samples.shape);
        Assert.True(samples.abs().max().ToDouble() <= 1.0);
        Assert.Equal([5L], gan.D.forward(samples).shape);
        using var data = new ImageDataset(rand([32, 1, 28, 28], generator: g) * 2.0 - 1.0, zeros([32], ScalarType.Int64), 1);
        using var batches = new BatchStream(data, 16, 0);
        var before = gan.G.parameters().Concat(gan.D.parameters()).Select(p => p.clone()).ToArray();
        using var trainer = gan.Trainer(batches, new TrainerOptions(1, 0, Progress: false), g);
        trainer.Run();
        var after = gan.G.parameters().Concat(gan.D.parameters()).ToArray();
        for (int i = 0; i < after.Length; i++) Assert.True((after[i] - before[i]).abs().max().ToDouble() > 0.0, $"parameter {i} did not move");
    }

    [Fact]
    public void Mode_coverage_counts_the_modes_a_sample_set_visits()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        var centres = Toy2D.RingCentres();
        var all = Toy2D.RingOfGaussians(4000, g, dtype: ScalarType.Float64);
        var full = ModeCoverage.Of(all, centres, 0.15);
        Assert.Equal(8, full.Covered);
        Assert.True(full.HighQualityFraction > 0.98);   // 3 sd of a 2-D Gaussian holds 1 − e^{−4.5} = 98.9%
        // Only the samples near the first two centres: two modes.
        var mask = (all - tensor(new[] { 2.0, 0.0 })).norm(2, [1]).lt(0.3) | (all - tensor(new[] { Math.Sqrt(2), Math.Sqrt(2) })).norm(2, [1]).lt(0.3);
        var near = all[mask];
        Assert.Equal(2, ModeCoverage.Of(near, centres, 0.15).Covered);
        var noise = randn([1000, 2], float64, generator: g) * 5.0;
        Assert.True(ModeCoverage.Of(noise, centres, 0.15).HighQualityFraction < 0.05);
    }

    [Fact]
    public void A_tiny_MLP_GAN_on_the_ring_moves_its_samples_onto_the_ring()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var o = new nn.LayerOptions(generator: g);
        using var gan = new Gan(Gan.Mlp(2, 64, 2, o: o), Gan.Mlp(2, 64, 1, leaky: true, o: o), 2, learningRate: 1e-3);
        using var data = PointData.Of(Toy2D.RingOfGaussians(4096, g));
        using var batches = new BatchStream(data, 128, 0);
        using var eval = new Generator(9);
        double OffRing() => (gan.Sample(2000, eval).norm(2, [1]) - 2.0).abs().mean().ToDouble();
        double start = OffRing();
        using var trainer = gan.Trainer(batches, new TrainerOptions(200, 0, Progress: false), g);
        trainer.Run();
        double end = OffRing();
        // The untrained generator sits near the origin (distance ≈ 2 from the ring).
        Assert.True(end < 0.3 * start, $"mean distance to the ring {start} → {end}");
    }
}
