using MathNet.Numerics.Integration;
using Research.Diffusion;
using static Research.Diffusion.Tests.Fixtures;

namespace Research.Diffusion.Tests;

public class MixtureTests
{
    static readonly NoiseProcess Vp = new VpLinear();

    // SCORE-01 check 1 / SM-01 [D]: the F2 score against central differences of the log-density, x-step scaled by
    // sigma_t (section 15.1), including Dirac atoms at small t.
    [Theory]
    [InlineData(1, 0.02, true)]
    [InlineData(2, 0.3, false)]
    [InlineData(3, 0.7, true)]
    public void SCORE01_score_matches_finite_differences_of_log_density(int dimension, double t, bool withAtom)
    {
        var random = new Random(11 + dimension);
        var mixture = RandomMixture(random, 3, dimension, withAtom).Diffuse(Vp, t);
        var h = 1e-5 * Vp.Sigma(t);
        for (var n = 0; n < 20; n++)
        {
            var x = mixture.Marginal.Sample(random);
            var score = mixture.Score(x);
            for (var i = 0; i < dimension; i++)
            {
                var e = Vector<double>.Build.Dense(dimension, j => j == i ? h : 0.0);
                var fd = (mixture.LogDensity(x + e) - mixture.LogDensity(x - e)) / (2 * h);
                Assert.True(Math.Abs(fd - score[i]) <= 1e-7 * Math.Max(Math.Abs(score[i]), 1.0 / Vp.Sigma(t)), $"d={dimension} i={i}: {score[i]:R} vs FD {fd:R}");
            }
        }
    }

    // SCORE-01 [A]: Tweedie, E[x0 | x_t] = (x + sigma^2 score)/alpha, with the left side from the F2 posterior
    // (responsibilities and per-component Gaussian conditioning) and the right side from the marginal's score.
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void SCORE01_Tweedie_posterior_mean_equals_score_form(string name)
    {
        var p = Processes[name];
        var random = new Random(5);
        var mixture = RandomMixture(random, 4, 3, withAtom: true);
        foreach (var t in new[] { 0.05, 0.4, 0.9 })
        {
            var diffused = mixture.Diffuse(p, t);
            var x = diffused.Marginal.Sample(random);
            var (alpha, sigma) = (p.Alpha(t), p.Sigma(t));
            AssertClose(diffused.PosteriorMean(x), (x + sigma * sigma * diffused.Score(x)) / alpha, 1e-9, $"{name} t={t}");
            AssertClose(diffused.Predict(Prediction.Score, x), diffused.Score(x), 1e-9, $"{name} eps-hat = -sigma score");
        }
    }

    // SCORE-01 second order [A] at 1e-9: Cov[x0 | x_t] = (sigma^2/alpha^2)(I + sigma^2 Hessian log p_t).
    [Fact]
    public void SCORE01_second_order_Tweedie()
    {
        var random = new Random(6);
        var mixture = RandomMixture(random, 3, 2, withAtom: true);
        foreach (var t in new[] { 0.1, 0.5 })
        {
            var diffused = mixture.Diffuse(Vp, t);
            var x = diffused.Marginal.Sample(random);
            var (alpha, sigma) = (Vp.Alpha(t), Vp.Sigma(t));
            var expected = sigma * sigma / (alpha * alpha) * (Matrix<double>.Build.DenseIdentity(2) + sigma * sigma * diffused.Marginal.LogDensityHessian(x));
            var actual = diffused.PosteriorCovariance(x);
            for (var i = 0; i < 2; i++)
                for (var j = 0; j < 2; j++)
                    AssertClose(expected[i, j], actual[i, j], 1e-9, $"t={t} [{i},{j}]");
        }
    }

    // F2: the marginal is a density: integral 1 by [Q] with breakpoints at the component means; and the log-density
    // stays finite far out where exp underflows (log-sum-exp).
    [Fact]
    public void F2_marginal_density_integrates_to_one_and_log_density_is_stable()
    {
        var diffused = G3.Diffuse(Vp, 0.2);
        var means = diffused.Marginal.Components.Select(c => c.Mean[0]).Order().ToArray();
        var edges = new[] { -12.0 }.Concat(means).Append(12.0).ToArray();
        var mass = edges.Zip(edges.Skip(1), (a, b) => GaussKronrodRule.Integrate(x => Math.Exp(diffused.LogDensity(x)), a, b, out _, out _, 1e-13)).Sum();
        AssertClose(1.0, mass, 1e-9, "mass");
        var far = diffused.LogDensity(200.0);
        Assert.True(double.IsFinite(far) && far < -1e3, $"log p(200) = {far}");
        Assert.True(double.IsFinite(diffused.Score(200.0)));
    }

    // F2 1-D: cdf and quantile invert each other, and the cdf is the integral of the density.
    [Fact]
    public void F2_cdf_and_quantile_round_trip()
    {
        var g3 = G3;
        foreach (var u in new[] { 1.0 / 11, 0.3, 0.5, 0.9, 10.0 / 11 })
            AssertClose(u, g3.Cdf(g3.Quantile(u)), 1e-12, $"u={u}");
        var integral = GaussKronrodRule.Integrate(x => Math.Exp(g3.LogDensity(x)), -8.0, 0.5, out _, out _, 1e-13);
        AssertClose(g3.Cdf(0.5), integral, 1e-9, "cdf(0.5)");
    }

    // [M] sampling with a seeded System.Random: mean and variance within 5 SE (N = 1e5); SE of the variance from
    // the fourth moment (section 0.3). Negative control: the unweighted mean (0.0 for G1) is 0.4 away, > 100 SE.
    [Fact]
    public void F2_sampling_matches_moments_within_5_SE()
    {
        var g1 = G1;
        var samples = g1.Sample(new Random(123), 100_000).Select(v => v[0]).ToArray();
        var n = samples.Length;
        var mean = samples.Average();
        var variance = samples.Sum(x => (x - mean) * (x - mean)) / (n - 1);
        var m4 = samples.Sum(x => Math.Pow(x - mean, 4)) / n;
        Assert.True(Math.Abs(mean - g1.Mean[0]) <= 5 * Math.Sqrt(variance / n), $"mean {mean} vs {g1.Mean[0]}");
        Assert.True(Math.Abs(variance - g1.Covariance[0, 0]) <= 5 * Math.Sqrt((m4 - variance * variance) / n), $"var {variance} vs {g1.Covariance[0, 0]}");
        AssertClose(0.4, g1.Mean[0], 1e-15, "G1 mean");
        Assert.Equal(samples, g1.Sample(new Random(123), 100_000).Select(v => v[0]).ToArray());
    }

    // LG-01 [A] at 1e-10: the information-form posterior equals Schur-complement conditioning of the joint Gaussian.
    [Fact]
    public void LG01_posterior_equals_joint_Gaussian_conditioning()
    {
        var random = new Random(7);
        Matrix<double> Spd(int n)
        {
            var l = Matrix<double>.Build.Dense(n, n, (_, _) => random.NextDouble() - 0.5);
            return l * l.Transpose() + 0.3 * Matrix<double>.Build.DenseIdentity(n);
        }
        var prior = new Gaussian(Vec(0.5, -1.0, 2.0), Spd(3));
        var a = Matrix<double>.Build.Dense(2, 3, (_, _) => random.NextDouble() - 0.5);
        var model = new LinearGaussian(prior, a, Vec(0.1, -0.2), Spd(2));
        var y = Vec(1.3, -0.7);
        var evidence = model.Evidence;
        var gain = prior.Covariance * a.Transpose() * evidence.Covariance.Inverse();
        var mean = prior.Mean + gain * (y - evidence.Mean);
        var covariance = prior.Covariance - gain * a * prior.Covariance;
        var posterior = model.Posterior(y);
        AssertClose(mean, posterior.Mean, 1e-10, "mean");
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                AssertClose(covariance[i, j], posterior.Covariance[i, j], 1e-10, $"cov[{i},{j}]");
        // LG-01 check 2: Bayes pointwise, log p(z|y) = log p(y|z) + log p(z) - log p(y).
        for (var n = 0; n < 100; n++)
        {
            var z = prior.Sample(random);
            AssertClose(posterior.LogDensity(z), model.Likelihood(z).LogDensity(y) + prior.LogDensity(z) - evidence.LogDensity(y), 1e-10, "Bayes");
        }
    }

    // VAE-01 on F5 (PPCA, k = 2, D = 3): ELBO(x, posterior) = log p(x) exactly; any other q gives ELBO = log p - KL < log p.
    [Fact]
    public void VAE01_ELBO_is_tight_at_the_exact_posterior_of_the_latent_model()
    {
        var random = new Random(8);
        var w = Matrix<double>.Build.Dense(3, 2, (_, _) => random.NextDouble() * 2 - 1);
        var model = LinearGaussian.LatentModel(w, Vec(0.2, 0.0, -0.3), 0.25);
        var x = Vec(0.5, -1.0, 0.8);
        var logEvidence = model.Evidence.LogDensity(x);
        AssertClose(logEvidence, model.Elbo(x, model.Posterior(x)), 1e-12, "ELBO at posterior");
        var off = new Gaussian(model.Posterior(x).Mean + Vec(0.3, -0.2), model.Posterior(x).Covariance * 1.5);
        Assert.True(model.Elbo(x, off) < logEvidence - 1e-3);
        // Evidence of the latent model: N(b, W W^T + s^2 I) (F5).
        var expected = w * w.Transpose() + 0.25 * Matrix<double>.Build.DenseIdentity(3);
        for (var i = 0; i < 3; i++) AssertClose(expected[i, i], model.Evidence.Covariance[i, i], 1e-12);
    }
}
