using Research.Torch;

namespace Research.Data;

/// <summary>Two-dimensional toy distributions for proof-of-life training, sampled from a generator. Points are
/// made on <c>device</c> (the CPU by default); the numbers depend only on the generator (a CPU generator gives the
/// same points on every device).</summary>
public static class Toy2D
{
    /// <summary>An equal-weight mixture of <paramref name="modes"/> isotropic Gaussians with standard deviation
    /// <paramref name="std"/>, centred on a circle of radius <paramref name="radius"/>; returns [n, 2].</summary>
    public static Tensor RingOfGaussians(long n, Generator generator, int modes = 8, double radius = 2.0, double std = 0.05,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var angle = torch.randint(0, modes, [n], device, generator).to(ScalarType.Float64) * (2 * Math.PI / modes);
        var centres = torch.stack([angle.cos(), angle.sin()], 1) * radius;
        var x = centres + torch.randn([n, 2], ScalarType.Float64, device, generator) * std;
        return x.to(dtype).MoveToOuterScope();
    }

    /// <summary>The centres of <see cref="RingOfGaussians"/>, [modes, 2].</summary>
    public static double[,] RingCentres(int modes = 8, double radius = 2.0)
    {
        var c = new double[modes, 2];
        for (int k = 0; k < modes; k++)
        {
            c[k, 0] = radius * Math.Cos(2 * Math.PI * k / modes);
            c[k, 1] = radius * Math.Sin(2 * Math.PI * k / modes);
        }
        return c;
    }

    /// <summary>Two interleaved half circles (upper centred at 0, lower at (1, 0.5)) with Gaussian noise.</summary>
    public static Tensor TwoMoons(long n, Generator generator, double noise = 0.05, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var s = torch.rand([n], ScalarType.Float64, device, generator) * Math.PI;
        var upper = torch.rand([n], ScalarType.Float64, device, generator).lt(0.5).to(ScalarType.Float64);
        var lower = 1.0 - upper;
        var x = upper * s.cos() + lower * (1.0 - s.cos());
        var y = upper * s.sin() + lower * (0.5 - s.sin());
        var points = torch.stack([x, y], 1) + torch.randn([n, 2], ScalarType.Float64, device, generator) * noise;
        return points.to(dtype).MoveToOuterScope();
    }
}
