using Research.Diffusion;
using Research.Torch;
using static Research.Diffusion.Tests.Fixtures;
using static Research.Diffusion.Tests.TensorFixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

/// <summary>
/// The sample distances sum their pairwise terms in tiles (memory linear in n); at small n in float64 they equal the
/// dense formulas, written here from whole kernel matrices, to round-off. Blocks of 7 against n = 50 and 37 leave
/// partial tiles at both edges, off-diagonal tiles counted twice and diagonal tiles split; a relative tolerance of 1e-12
/// is float64 summation error over 2,500 terms, far below any factor or sign error (one misplaced tile of 49 kernel
/// values moves the result by about 2%).
/// </summary>
public class BlockedDistanceTests
{
    const double Lengthscale = 1.0;

    static double DenseOffDiagonalMean(Tensor kernel)
    {
        var n = kernel.size(0);
        return (kernel.sum().ToDouble() - kernel.diagonal().sum().ToDouble()) / (n * (n - 1.0));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(50)]
    [InlineData(1024)]
    public void Two_sample_MMD_in_tiles_equals_the_dense_estimator(int block)
    {
        using var scope = NewDisposeScope();
        var x = Prior(50, 2, 1);
        var y = Prior(37, 2, 2) * 1.5 + 0.3;
        var dense = DenseOffDiagonalMean(Distances.GaussianKernel(x, x, Lengthscale))
            + DenseOffDiagonalMean(Distances.GaussianKernel(y, y, Lengthscale))
            - 2.0 * Distances.GaussianKernel(x, y, Lengthscale).mean().ToDouble();
        Assert.True(dense > 0.01, $"the two laws differ, so MMD^2 is clearly positive: {dense}");
        AssertRelative(dense, Distances.MmdSquared(x, y, Lengthscale, block), 1e-12, $"block {block}");
    }

    // Against the mixture: h = k(y_i, y_j) - mu(y_i) - mu(y_j) + E_pp k with mu and E_pp k in closed form from MathNet
    // densities (independent of the tensor code), zero diagonal; value = mean h, SE from zeta_1 and zeta_2.
    [Theory]
    [InlineData(7)]
    [InlineData(1024)]
    public void MMD_against_a_mixture_in_tiles_equals_the_dense_U_statistic(int block)
    {
        using var scope = NewDisposeScope();
        var p = G4;
        var y = Prior(50, 2, 3) * 1.3;
        const int n = 50;
        var points = y.data<double>();
        var l2 = Lengthscale * Lengthscale;
        var normaliser = 2.0 * Math.PI * l2;   // (2 pi l^2)^(d/2), d = 2
        var identity = Matrix<double>.Build.DenseIdentity(2);
        double Mu(int i) => Enumerable.Range(0, p.Components.Count).Sum(k =>
            p.Weights[k] * normaliser * Math.Exp(new Gaussian(p.Components[k].Mean, p.Components[k].Covariance + l2 * identity)
                .LogDensity(Vector<double>.Build.Dense([points[2 * i], points[2 * i + 1]]))));
        var expected = 0.0;
        for (var j = 0; j < p.Components.Count; j++)
            for (var k = 0; k < p.Components.Count; k++)
                expected += p.Weights[j] * p.Weights[k] * normaliser * Math.Exp(
                    new Gaussian(p.Components[k].Mean, p.Components[j].Covariance + p.Components[k].Covariance + l2 * identity).LogDensity(p.Components[j].Mean));
        var mu = Enumerable.Range(0, n).Select(Mu).ToArray();
        var kernel = Distances.GaussianKernel(y, y, Lengthscale).data<double>();
        double sum = 0, squares = 0;
        var rowMeans = new double[n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                if (i == j) continue;
                var h = kernel[i * n + j] - mu[i] - mu[j] + expected;
                sum += h;
                squares += h * h;
                rowMeans[i] += h / (n - 1.0);
            }
        var value = sum / (n * (n - 1.0));
        var zeta1 = MathNet.Numerics.Statistics.Statistics.Variance(rowMeans);
        var se = Math.Sqrt(4.0 * zeta1 / n + 2.0 * (squares / (n * (n - 1.0))) / (n * (n - 1.0)));

        var blocked = Distances.MmdSquared(y, p, Lengthscale, block);
        AssertRelative(value, blocked.Value, 1e-10, $"value, block {block}");
        AssertRelative(se, blocked.StandardError, 1e-10, $"standard error, block {block}");
    }

    // The directions are one draw of [d, projections] from the generator, as before blocking, so the same seed gives the
    // same directions; the dense formula projects on all of them at once.
    [Theory]
    [InlineData(3)]
    [InlineData(64)]
    public void Sliced_Wasserstein_in_blocks_equals_the_dense_formula(int block)
    {
        using var scope = NewDisposeScope();
        var x = Prior(200, 3, 4);
        var y = Prior(200, 3, 5) * 0.5 + 1.0;
        const int projections = 20;
        using var g1 = new Generator(9);
        var directions = randn([3, projections], ScalarType.Float64, generator: g1);
        directions = directions / directions.norm(2, [0], keepdim: true);
        var (px, _) = x.matmul(directions).sort(0);
        var (py, _) = y.matmul(directions).sort(0);
        var dense = Math.Sqrt((px - py).square().mean().ToDouble());
        using var g2 = new Generator(9);
        AssertRelative(dense, Distances.SlicedWasserstein(x, y, projections, g2, block: block), 1e-12, $"block {block}");
    }

    [Fact]
    public void Block_sizes_must_be_positive()
    {
        using var scope = NewDisposeScope();
        var x = Prior(10, 2, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Distances.MmdSquared(x, x, 1.0, block: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Distances.SlicedWasserstein(x, x, 4, block: 0));
    }
}
