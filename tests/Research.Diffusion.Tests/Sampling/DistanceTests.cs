using MathNet.Numerics.Distributions;
using Research.Diffusion;
using Research.Torch;
using static Research.Diffusion.Tests.Fixtures;
using static Research.Diffusion.Tests.TensorFixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

public class DistanceTests
{
    // W2 between Gaussians [A]: in 1-D W2^2 = (m1 - m2)^2 + (s1 - s2)^2; for commuting covariances the trace term is
    // sum (sqrt(a_i) - sqrt(b_i))^2; W2(p, p) = 0 for a general covariance.
    [Fact]
    public void W2_between_Gaussians_has_its_closed_forms()
    {
        var (a, b) = (Gaussian.Isotropic(Vec(1.0), 0.25), Gaussian.Isotropic(Vec(-0.5), 4.0));
        AssertClose(Math.Sqrt(1.5 * 1.5 + 1.5 * 1.5), Distances.WassersteinGaussian(a, b), 1e-12, "1-D");
        var (c, d) = (new Gaussian(Vec(0, 0), Matrix<double>.Build.DenseOfDiagonalArray([1.0, 9.0])), new Gaussian(Vec(3, 4), Matrix<double>.Build.DenseOfDiagonalArray([4.0, 1.0])));
        AssertClose(Math.Sqrt(25 + 1 + 4), Distances.WassersteinGaussian(c, d), 1e-12, "diagonal");
        var e = RandomMixture(new Random(1), 1, 3).Components[0];
        Assert.True(Distances.WassersteinGaussian(e, e) < 1e-7);
    }

    // DIV-02 [A]: KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2/s1) + (s1^2 + (m1 - m2)^2)/(2 s2^2) - 1/2; the 1-D mixture KL by
    // quadrature [Q] reproduces it for one-component mixtures, vanishes for KL(p || p), and is asymmetric for G1 vs G3.
    [Fact]
    public void KL_between_Gaussians_and_1D_mixtures()
    {
        var (q, p) = (Gaussian.Isotropic(Vec(0.3), 0.5), Gaussian.Isotropic(Vec(-1.0), 2.0));
        var closed = Math.Log(Math.Sqrt(2.0 / 0.5)) + (0.5 + 1.69) / (2 * 2.0) - 0.5;
        AssertClose(closed, Distances.KullbackLeibler(q, p), 1e-12, "Gaussian KL");
        var (mq, mp) = (GaussianMixture.OneDimensional([1.0], [0.3], [0.5]), GaussianMixture.OneDimensional([1.0], [-1.0], [2.0]));
        AssertRelative(closed, Distances.KullbackLeibler(mq, mp), 1e-9, "quadrature KL");
        Assert.True(Math.Abs(Distances.KullbackLeibler(G1, G1)) < 1e-12);
        var (forward, backward) = (Distances.KullbackLeibler(G1, G3), Distances.KullbackLeibler(G3, G1));
        Assert.True(forward > 0 && backward > 0 && Math.Abs(forward - backward) > 0.01, $"{forward} vs {backward}");
    }

    // In 1-D every projection is +-1, so sliced W2 is the W2 of the two empirical laws: for y = 2x + 1 (a monotone map)
    // it pairs x_i with y_i and equals sqrt(mean (x_i + 1)^2).
    [Fact]
    public void Sliced_Wasserstein_in_1D_is_the_empirical_W2()
    {
        using var scope = NewDisposeScope();
        var x = Prior(500, 1, 2);
        var y = x * 2.0 + 1.0;
        var expected = Math.Sqrt((x + 1.0).square().mean().ToDouble());
        using var g = new Generator(1);
        AssertClose(expected, Distances.SlicedWasserstein(x, y, 8, g), 1e-12, "SW2");
    }

    // MMD^2 against a mixture in closed form: the mean embedding mu(y) = E_p k(x, y) agrees with Monte Carlo
    // (10^5 draws, 5 SE); exact samples give MMD^2 within 5 of the estimator's SEs; a shifted sample is >20 SE away;
    // and the two-sample unbiased estimate between two exact samples is within 5 one-sample SEs of 0.
    [Fact]
    public void MMD_against_a_mixture_is_unbiased_and_has_power()
    {
        const int n = 1000;
        var data = G4;
        var random = new Random(3);
        var draws = data.Sample(random, 100_000);
        var y = Vec(0.7, -0.4);
        var kernel = draws.Select(x => Math.Exp(-(x - y).DotProduct(x - y) / 2.0)).ToArray();
        var (mean, se) = (kernel.Average(), Math.Sqrt(kernel.Select(k => k * k).Average() - kernel.Average() * kernel.Average()) / Math.Sqrt(kernel.Length));
        using var mixture = new TensorMixture(data);
        using var scope = NewDisposeScope();
        var mu = mixture.LogDensity(Rows([y]), new ProcessPoint(1.0, 1.0, 0.0, 0.0)).exp().ToDouble() * 2 * Math.PI;
        Assert.True(Math.Abs(mu - mean) <= 5 * se, $"mu {mu} vs MC {mean} ± {se}");

        var sample = Rows(data.Sample(random, n));
        var exact = Distances.MmdSquared(sample, data, 1.0);
        Assert.True(Math.Abs(exact.Value) <= 5 * exact.StandardError, $"{exact}");
        var shifted = Distances.MmdSquared(sample + 0.3, data, 1.0);
        Assert.True(shifted.Value >= 20 * exact.StandardError, $"{shifted} vs SE {exact.StandardError}");
        var twoSample = Distances.MmdSquared(sample, Rows(data.Sample(random, n)), 1.0);
        Assert.True(Math.Abs(twoSample) <= 5 * 2 * exact.StandardError, $"two-sample {twoSample}");
    }
}
