using Research.Diffusion;
using Research.Torch;
using Xunit.Abstractions;
using static Research.Diffusion.Tests.Fixtures;
using static Research.Diffusion.Tests.TensorFixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

public class LikelihoodTests(ITestOutputHelper output)
{
    static readonly NoiseProcess Vp = new VpLinear();
    const double T0 = 1e-3;

    // SDE-07 check 1 [O]: a random 2-D mixture under VP-linear, the exact score, Dormand–Prince at rtol = atol = 1e-10,
    // exact divergence by autograd and the exact log p_1 as the prior: the PF-ODE log-likelihood equals the exact
    // log p_t0(x) at t0 = 1e-3 within 1e-7 (absolute; |log p| is of order 1-10). Negative control: with the sign of
    // the divergence flipped the error would be 2 |int div v|, asserted above 1e4 times the tolerance.
    [Fact]
    public void SDE07_PF_ODE_log_likelihood_with_exact_divergence_equals_exact_log_density()
    {
        var data = RandomMixture(new Random(31), 3, 2);
        using var mixture = new TensorMixture(data);
        var marginal = data.Diffuse(Vp, T0).Marginal;
        var points = marginal.Sample(new Random(32), 12);
        using var scope = NewDisposeScope();
        var x = Rows(points);
        var result = Likelihood.LogDensity(mixture.Denoiser(Vp), Vp, x, T0, 1.0, y => mixture.LogDensity(y, Vp.At(1.0)), new Divergence.Exact(), rtol: 1e-10, atol: 1e-10);
        var logDensity = Values(result.LogDensity);
        // the same solve with a zero prior returns the integral of the divergence alone
        var integrals = Values(Likelihood.LogDensity(mixture.Denoiser(Vp), Vp, x, T0, 1.0, y => zeros([y.size(0)], y.dtype), new Divergence.Exact(), rtol: 1e-10, atol: 1e-10).LogDensity);
        var worst = 0.0;
        for (var i = 0; i < points.Length; i++)
        {
            var exact = marginal.LogDensity(points[i]);
            worst = Math.Max(worst, Math.Abs(exact - logDensity[i]));
            Assert.True(Math.Abs(exact - logDensity[i]) <= 1e-7, $"point {i}: exact {exact:R}, PF-ODE {logDensity[i]:R}");
            Assert.True(2 * Math.Abs(integrals[i]) > 1e4 * 1e-7, $"negative control: |int div v| = {Math.Abs(integrals[i]):E2}");
        }
        output.WriteLine($"max |residual| {worst:E2}, NFE {result.Nfe}");
    }

    // SDE-07 check 2 [M]: Hutchinson's estimate (Rademacher and Gaussian probes, one probe per trajectory, 2000
    // trajectories per point) has mean within 5 SE of the exact log p_t0(x): the estimator is unbiased given the ODE.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SDE07_Hutchinson_estimate_is_unbiased(bool rademacher)
    {
        const int repeats = 2000;
        var data = RandomMixture(new Random(41), 3, 2);
        using var mixture = new TensorMixture(data);
        var marginal = data.Diffuse(Vp, T0).Marginal;
        var points = marginal.Sample(new Random(42), 3);
        using var scope = NewDisposeScope();
        var x = Rows(points.SelectMany(p => Enumerable.Repeat(p, repeats)).ToArray());
        using var g = new Generator(43);
        var result = Likelihood.LogDensity(mixture.Denoiser(Vp), Vp, x, T0, 1.0, y => mixture.LogDensity(y, Vp.At(1.0)),
            new Divergence.Hutchinson(rademacher), g, rtol: 1e-7, atol: 1e-7);
        var estimates = Values(result.LogDensity);
        for (var i = 0; i < points.Length; i++)
        {
            var sample = estimates.Skip(i * repeats).Take(repeats).ToArray();
            var mean = sample.Average();
            var se = Math.Sqrt(sample.Sum(v => (v - mean) * (v - mean)) / (repeats - 1) / repeats);
            var exact = marginal.LogDensity(points[i]);
            output.WriteLine($"point {i}: exact {exact:F6}, Hutchinson {mean:F6} ± {se:E2}");
            Assert.True(Math.Abs(mean - exact) <= 5 * se, $"point {i}: exact {exact:R}, mean {mean:R}, SE {se:E2}");
        }
    }

    // Bits/dim offset: a model uniform on the data range [low, high]^D has log p_x = -D log(high - low), and the
    // dequantized 8-bit data then cost exactly log2 256 = 8 bits per dimension whatever the range: the change of
    // variables from [0, 256) to [low, high] cancels (Likelihood.BitsPerDim's derivation).
    [Theory]
    [InlineData(-1.0, 1.0)]
    [InlineData(0.0, 1.0)]
    [InlineData(0.0, 255.0)]
    public void Bits_per_dim_of_a_uniform_model_is_8(double low, double high)
    {
        const long dims = 12;
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        var counts = randint(0, 256, [6, dims], generator: g);
        var x = Likelihood.Dequantize(counts, low, high, g);
        var width = (high - low) / 256.0;
        var k = counts.to(ScalarType.Float64);
        Assert.True(x.ge(k * width + low).all().ToBoolean() && x.lt((k + 1.0) * width + low).all().ToBoolean(), "dequantized values leave their bins");
        var logDensity = full([6], -dims * Math.Log(high - low), ScalarType.Float64);
        foreach (var bits in Values(Likelihood.BitsPerDim(logDensity, dims, low, high))) AssertClose(8.0, bits, 1e-12, "bits/dim");
    }

    // The Gaussian prior is log N(x; 0, v I).
    [Fact]
    public void Gaussian_prior_is_the_isotropic_normal_log_density()
    {
        var point = Gaussian.Standard(3).Sample(new Random(1));
        Vector<double>[] points = [point, 2.0 * point];
        using var scope = NewDisposeScope();
        var values = Values(Likelihood.GaussianPrior(2.5)(Rows(points)));
        for (var i = 0; i < 2; i++) AssertClose(Gaussian.Isotropic(Vector<double>.Build.Dense(3), 2.5).LogDensity(points[i]), values[i], 1e-12);
    }
}
