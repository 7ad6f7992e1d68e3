using Research.Data;
using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

/// <summary>The image RealNVP (squeeze, checkerboard and channel couplings, factoring out, logit transform) in
/// float64 on small images: log-det against the full autograd Jacobian (NF-01 .. NF-03), inverses, shapes and
/// gradients, and tiny training on Fashion-MNIST.</summary>
public class ImageFlowTests
{
    /// <summary>A 1×4×4 flow: logit, 2 checkerboard couplings, squeeze to 4×2×2, 2 channel couplings, half factored
    /// out, 2 checkerboard couplings on 2×2×2; every weight redrawn N(0, 0.3²) so that s and t are far from 0.</summary>
    private static ImageRealNvp Small(ulong seed)
    {
        var model = new ImageRealNvp(new ImageRealNvpOptions(new ImageShape(1, 4, 4), Scales: 1, Hidden: 4, Couplings: 2, FinalCouplings: 2),
            new nn.LayerOptions(float64, generator: new Generator(seed)));
        using var g = new Generator(seed + 1);
        foreach (var p in model.Flow.parameters()) nn.init.normal_(p, 0, 0.3, g);
        return model;
    }

    [Fact]
    public void Log_det_of_the_image_flow_equals_log_abs_det_of_the_autograd_Jacobian()
    {
        using var scope = NewDisposeScope();
        using var model = Small(1);
        var flow = model.Flow;
        Assert.IsType<LogitTransform>(flow.Layers[0]);
        var x = rand([3, 16], float64, generator: new Generator(2)) * 1.8 - 0.9;
        var (_, logDet) = flow.Forward(x);
        double spread = 0;
        for (int i = 0; i < 3; i++)
        {
            var leaf = x.narrow(0, i, 1).detach().requires_grad_();
            var y = flow.Forward(leaf).y.reshape(-1);
            var jacobian = stack(Enumerable.Range(0, 16).Select(r => autograd.grad([y[r]], [leaf], retain_graph: true)[0]!.reshape(-1)).ToArray(), 0);
            double expected = linalg.slogdet(jacobian).logabsdet.ToDouble();
            Assert.True(Math.Abs(logDet[i].ToDouble() - expected) < 1e-10, $"point {i}: log-det {logDet[i].ToDouble()}, autograd {expected}");
            spread = Math.Max(spread, Math.Abs(expected - logDet[0].ToDouble()));
        }
        // The log-dets differ between points (the couplings are not volume preserving), so the check is not vacuous.
        Assert.True(spread > 1e-3);
        // The inverse undoes the forward map and reports the opposite log-det.
        var (z, forwardLogDet) = flow.Forward(x);
        var (back, inverseLogDet) = flow.Inverse(z);
        Assert.True((back - x).abs().max().ToDouble() < 1e-12);
        Assert.True((forwardLogDet + inverseLogDet).abs().max().ToDouble() < 1e-10);
    }

    [Fact]
    public void Squeeze_moves_each_2x2_block_into_4_channels_and_back()
    {
        using var scope = NewDisposeScope();
        var squeeze = new Squeeze(new ImageShape(1, 2, 4));
        Assert.Equal(new ImageShape(4, 1, 2), squeeze.Output);
        // Pixels (row, col) numbered 10·row + col: block (0, 0) holds 0, 1, 10, 11.
        var x = tensor(new double[] { 0, 1, 2, 3, 10, 11, 12, 13 }).reshape(1, 8);
        var (y, logDet) = squeeze.Forward(x);
        Assert.Equal(new double[] { 0, 2, 1, 3, 10, 12, 11, 13 }, y.reshape(-1).data<double>().ToArray());
        Assert.Equal(0.0, logDet.abs().max().ToDouble());
        Assert.Equal(x.data<double>().ToArray(), squeeze.Inverse(y).x.data<double>().ToArray());
        Assert.Contains("even height and width", Assert.Throws<ArgumentException>(() => new Squeeze(new ImageShape(1, 3, 4))).Message);
    }

    [Fact]
    public void Shapes_and_gradients_of_the_28x28_image_flow_and_samples_in_range()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        using var model = new ImageRealNvp(new ImageRealNvpOptions(new ImageShape(1, 28, 28), Hidden: 4, Couplings: 1, FinalCouplings: 1),
            new nn.LayerOptions(generator: g));
        var images = rand([2, 1, 28, 28], generator: g) * 2.0 - 1.0;
        var x = ImageRealNvp.Dequantize(images, g);
        Assert.True(x.min().ToDouble() >= -1.0 && x.max().ToDouble() < 1.0);
        var bpd = model.BitsPerDim(x);
        Assert.Equal([2L], bpd.shape);
        bpd.mean().backward();
        // At initialisation only the zero-started last convolutions and the scales see a gradient (the couplings are the identity).
        var norms = model.Flow.parameters().Select(p => p.grad is null ? 0.0 : p.grad.norm().ToDouble()).ToArray();
        Assert.All(norms, n => Assert.True(double.IsFinite(n)));
        Assert.True(norms.Count(n => n > 0) >= 8, $"{norms.Count(n => n > 0)} parameters have a gradient");
        var samples = model.Sample(3, g);
        Assert.Equal([3L, 1L, 28L, 28L], samples.shape);
        Assert.True(samples.abs().max().ToDouble() <= 1.0);
    }

    [Fact]
    public void A_tiny_image_RealNVP_trains_to_bits_per_dim_clearly_below_the_start()
    {
        using var data = ImageDataset.FashionMnist(train: false, subset: 512);
        using var g = new Generator(13);
        using var model = new ImageRealNvp(new ImageRealNvpOptions(new ImageShape(1, 28, 28), Hidden: 8, Couplings: 2, FinalCouplings: 2),
            new nn.LayerOptions(generator: g));
        double Bpd()
        {
            using var scope = NewDisposeScope();
            using var eval = new Generator(99);
            using var _ = no_grad();
            return model.BitsPerDim(ImageRealNvp.Dequantize(data.Images.narrow(0, 0, 128), eval)).mean().ToDouble();
        }
        double before = Bpd();
        using var batches = new BatchStream(data, 32, 3);
        using var trainer = model.Trainer(batches, new TrainerOptions(60, 3, Progress: false), g);
        trainer.Run();
        double after = Bpd();
        Assert.True(after < before - 1.0, $"bits/dim {before} → {after}");
    }
}
