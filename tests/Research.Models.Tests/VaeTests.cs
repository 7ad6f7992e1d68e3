using Research.Data;
using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

/// <summary>The VAE and the AE: shapes and gradients, the KL term (DIV-02), the ELBO ≤ IWAE_k ≤ log p(x) chain
/// (VAE-01, VAE-03) against log p(x) by quadrature over a 2-D latent, and tiny training.</summary>
public class VaeTests
{
    private static nn.LayerOptions Float64(ulong seed) => new(float64, generator: new Generator(seed));

    [Fact]
    public void The_KL_term_is_DIV_02s_closed_form_and_matches_Monte_Carlo()
    {
        using var scope = NewDisposeScope();
        // ½(μ² + σ² − 1 − ln σ²) per coordinate: (1, 0) with σ² = 1 gives ½; σ² = e, μ = 0 gives ½(e − 2).
        var kl = Vae.KlToStandardNormal(tensor(new[,] { { 1.0, 0.0 }, { 0.0, 0.0 } }), tensor(new[,] { { 0.0, 0.0 }, { 1.0, 0.0 } }));
        Assert.Equal(0.5, kl[0].ToDouble(), 12);
        Assert.Equal(0.5 * (Math.E - 2.0), kl[1].ToDouble(), 12);

        // E_q[log q(z) − log p(z)] by sampling, within 5 standard errors.
        using var g = new Generator(4);
        var mean = tensor(new[] { 0.7, -1.3, 0.2 });
        var logVar = tensor(new[] { -0.5, 0.8, -2.0 });
        const int n = 200_000;
        var eps = randn([n, 3], float64, generator: g);
        var z = mean + (logVar * 0.5).exp() * eps;
        var logRatio = (eps.square() * -0.5 - logVar * 0.5 + z.square() * 0.5).sum(1);
        double mc = logRatio.mean().ToDouble(), se = logRatio.std().ToDouble() / Math.Sqrt(n);
        var exact = Vae.KlToStandardNormal(mean.unsqueeze(0), logVar.unsqueeze(0))[0].ToDouble();
        Assert.InRange(mc, exact - 5 * se, exact + 5 * se);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Shapes_and_gradients_of_the_conditional_VAE_and_AE(bool variational)
    {
        using var scope = NewDisposeScope();
        using var model = new Vae(new VaeOptions(Latent: 2, Hidden: [32, 16], Classes: 10, Variational: variational), Float64(1));
        using var g = new Generator(2);
        var images = rand([4, 1, 28, 28], float64, generator: g) * 2.0 - 1.0;
        var labels = tensor(new long[] { 0, 3, 9, 3 });
        var (mean, logVar) = model.Encode(model.Targets(images), labels);
        Assert.Equal([4L, 2L], mean.shape);
        Assert.Equal(variational, logVar is not null);
        Assert.Equal([4L, 784L], model.Decode(mean, labels).shape);
        Assert.Equal([4L, 1L, 28L, 28L], model.DecodeImages(mean, labels).shape);
        using var terms = model.Elbo(images, g, labels);
        Assert.Equal([4L], terms.Elbo.shape);
        Assert.True(terms.Reconstruction.min().ToDouble() > 0.0);
        if (variational) Assert.True(terms.Kl.min().ToDouble() >= 0.0); else Assert.Equal(0.0, terms.Kl.abs().max().ToDouble());
        (-terms.Elbo).mean().backward();
        foreach (var p in model.parameters())
        {
            Assert.NotNull(p.grad);
            Assert.True(double.IsFinite(p.grad!.norm().ToDouble()) && p.grad!.norm().ToDouble() > 0.0);
        }
        Assert.Contains("needs labels", Assert.Throws<ArgumentException>(() => model.Elbo(images, g)).Message);
        Assert.Contains("784 pixels", Assert.Throws<ArgumentException>(() => model.Elbo(images.narrow(3, 0, 27), g, labels)).Message);
        if (!variational) Assert.Throws<InvalidOperationException>(() => model.ImportanceWeightedBound(images, 2, g, labels));
    }

    /// <summary>log p(x) = log ∫ p(x|z) N(z; 0, I) dz for a 2-D latent by the midpoint rule on [-10, 10]² (p(x|z) ≤ 1,
    /// so the prior's mass outside bounds the truncation by e^-50; the integrand is smooth on the 0.05 grid).</summary>
    private static double LogMarginal(Vae model, Tensor image)
    {
        using var scope = NewDisposeScope();
        const int m = 401;
        const double h = 20.0 / m;
        var axis = arange(0, m, 1, float64) * h + (-10.0 + h / 2);
        var z = stack([axis.unsqueeze(1).expand(m, m).reshape(-1), axis.unsqueeze(0).expand(m, m).reshape(-1)], 1);
        var x = model.Targets(image).expand(m * m, model.Options.Pixels);
        var logJoint = Vae.BernoulliLogLikelihood(model.Decode(z), x) + (z.square() * -0.5).sum(1) - Math.Log(2 * Math.PI);
        return logJoint.logsumexp(0).ToDouble() + 2 * Math.Log(h);
    }

    [Fact]
    public void ELBO_below_IWAE_k_non_decreasing_in_k_below_log_p_by_quadrature()
    {
        using var scope = NewDisposeScope();
        // 16-pixel "images" and a small untrained MLP: log p(x|z) is smooth in z, so the quadrature is exact to
        // round-off while q(z|x) is far from the posterior (a clear gap to close).
        using var model = new Vae(new VaeOptions(Latent: 2, Hidden: [16], Pixels: 16), Float64(7));
        using var g = new Generator(8);
        var images = rand([3, 16], float64, generator: g) * 2.0 - 1.0;
        const int repeats = 40;
        int[] ks = [1, 10, 100, 1000];
        for (int i = 0; i < 3; i++)
        {
            var image = images.narrow(0, i, 1);
            double logP = LogMarginal(model, image);
            var stats = ks.Select(k =>
            {
                var values = cat(Enumerable.Range(0, repeats).Select(_ => model.ImportanceWeightedBound(image, k, g)).ToArray(), 0);
                return (mean: values.mean().ToDouble(), se: values.std().ToDouble() / Math.Sqrt(repeats));
            }).ToArray();
            var elbo = cat(Enumerable.Range(0, 400).Select(_ => model.Elbo(image, g).Elbo).ToArray(), 0);
            double elboMean = elbo.mean().ToDouble(), elboSe = elbo.std().ToDouble() / Math.Sqrt(400);
            double gap = logP - elboMean;
            Assert.True(gap > 0.05, $"image {i}: the ELBO gap {gap} is too small for the test to say anything");
            // E IWAE_1 = ELBO (same estimator, one draw).
            Assert.InRange(stats[0].mean, elboMean - 4 * Math.Sqrt(elboSe * elboSe + stats[0].se * stats[0].se), elboMean + 4 * Math.Sqrt(elboSe * elboSe + stats[0].se * stats[0].se));
            for (int j = 1; j < ks.Length; j++)
            {
                double se = Math.Sqrt(stats[j].se * stats[j].se + stats[j - 1].se * stats[j - 1].se);
                Assert.True(stats[j].mean >= stats[j - 1].mean - 4 * se, $"image {i}: IWAE_{ks[j]} = {stats[j].mean} < IWAE_{ks[j - 1]} = {stats[j - 1].mean} (se {se})");
                Assert.True(stats[j].mean <= logP + 4 * stats[j].se, $"image {i}: IWAE_{ks[j]} = {stats[j].mean} exceeds log p = {logP}");
            }
            // The gap closes: IWAE_1000 is within 5% of the ELBO's gap of log p (a missing −log k would put it far above).
            Assert.True(logP - stats[^1].mean < 0.05 * gap + 4 * stats[^1].se, $"image {i}: log p − IWAE_1000 = {logP - stats[^1].mean}, ELBO gap {gap}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_tiny_VAE_and_AE_train_to_a_loss_clearly_below_the_start(bool variational)
    {
        var (before, after) = TrainTiny(new VaeOptions(Latent: 2, Hidden: [64], Variational: variational), seed: 11);
        Assert.True(after < 0.75 * before, $"loss {before} → {after}");
    }

    [Fact]
    public void The_continuous_Bernoulli_density_integrates_to_1_and_its_mean_matches_quadrature()
    {
        using var scope = NewDisposeScope();
        // Logits from the series branch (|ℓ| < 1e-3 and < 1e-2) to saturated ones.
        var logits = tensor(new[] { -30.0, -4.0, -0.5, -5e-3, -2e-4, 0.0, 3e-4, 7e-3, 0.9, 6.0, 25.0 });
        var logC = Vae.ContinuousBernoulliLogNormalizer(logits).data<double>().ToArray();
        using var model = new Vae(new VaeOptions(Latent: 2, Hidden: [4], Pixels: 16, ContinuousBernoulli: true), Float64(1));
        var mean = model.DecoderMean(logits).data<double>().ToArray();
        var l = logits.data<double>().ToArray();
        // Midpoint rule with 20000 nodes on [0, 1]: the integrand C λ^x (1 − λ)^(1−x) = C e^{x log λ + (1−x) log(1−λ)}
        // has |f''| ≤ ℓ² f, so the error is ≤ ℓ²/(24 n²) ≈ 7e-8 relative at ℓ = 30.
        const int n = 20000;
        for (int i = 0; i < l.Length; i++)
        {
            double logLambda = -Math.Log(1 + Math.Exp(-l[i])), log1mLambda = -Math.Log(1 + Math.Exp(l[i]));
            double mass = 0, first = 0;
            for (int j = 0; j < n; j++)
            {
                double x = (j + 0.5) / n, f = Math.Exp(logC[i] + x * logLambda + (1 - x) * log1mLambda) / n;
                mass += f;
                first += x * f;
            }
            Assert.True(Math.Abs(mass - 1) < 1e-6, $"logit {l[i]}: the density integrates to {mass}");
            Assert.True(Math.Abs(first - mean[i]) < 1e-6, $"logit {l[i]}: mean {mean[i]}, quadrature {first}");
        }
    }

    [Fact]
    public void Shapes_and_gradients_of_the_convolutional_VAE_with_a_16_D_latent()
    {
        using var scope = NewDisposeScope();
        using var model = new Vae(new VaeOptions(Latent: 16, ConvWidth: 4, ContinuousBernoulli: true), Float64(3));
        using var g = new Generator(4);
        var images = rand([3, 1, 28, 28], float64, generator: g) * 2.0 - 1.0;
        var (mean, logVar) = model.Encode(model.Targets(images));
        Assert.Equal([3L, 16L], mean.shape);
        Assert.Equal([3L, 16L], logVar!.shape);
        Assert.Equal([3L, 784L], model.Decode(mean).shape);
        var decoded = model.DecodeImages(mean);
        Assert.Equal([3L, 1L, 28L, 28L], decoded.shape);
        Assert.True(decoded.abs().max().ToDouble() <= 1.0);
        using var terms = model.Elbo(images, g);
        (-terms.Elbo).mean().backward();
        foreach (var p in model.parameters())
            Assert.True(p.grad is not null && double.IsFinite(p.grad.norm().ToDouble()) && p.grad.norm().ToDouble() > 0.0);
        Assert.Contains("unconditional 28×28", Assert.Throws<ArgumentException>(() => new Vae(new VaeOptions(ConvWidth: 4, Classes: 10))).Message);
    }

    [Fact]
    public void A_tiny_convolutional_VAE_trains_to_a_loss_clearly_below_the_start()
    {
        var (before, after) = TrainTiny(new VaeOptions(Latent: 16, ConvWidth: 8, ContinuousBernoulli: true), seed: 12);
        // The continuous-Bernoulli NLL can be negative (a density on [0, 1]); the drop is what is measured, in nats
        // per image: an untrained decoder is near uniform (≈ 0 nats), a trained one far below.
        Assert.True(after < before - 150, $"loss {before} → {after}");
    }

    /// <summary>The mean negative ELBO on 512 test images before and after 80 steps of 64 from the given seed.</summary>
    private static (double Before, double After) TrainTiny(VaeOptions options, ulong seed)
    {
        using var data = ImageDataset.FashionMnist(train: false, subset: 512);
        using var g = new Generator(seed);
        using var model = new Vae(options, new nn.LayerOptions(generator: g));
        double Loss()
        {
            using var scope = NewDisposeScope();
            using var eval = new Generator(99);
            using var _ = no_grad();
            using var terms = model.Elbo(data.Images, eval);
            return (-terms.Elbo).mean().ToDouble();
        }
        double before = Loss();
        using var batches = new BatchStream(data, 64, 3);
        using var trainer = model.Trainer(batches, new TrainerOptions(80, 3, Progress: false), g);
        trainer.Run();
        double after = Loss();
        return (before, after);
    }

    /// <summary>The importance weights do not depend on how the k·B codes are split into decoder chunks: chunks of 7
    /// (crossing image boundaries at k = 5) against one chunk, with class labels (a CVAE), in float64.</summary>
    [Fact]
    public void Importance_weights_are_the_same_for_any_chunk_size()
    {
        using var scope = NewDisposeScope();
        using var model = new Vae(new VaeOptions(Latent: 2, Hidden: [8], Classes: 3, Pixels: 9), new nn.LayerOptions(float64, generator: new Generator(11)));
        using var g = new Generator(12);
        var images = rand([4, 9], float64, generator: g) * 2.0 - 1.0;
        var labels = tensor(new long[] { 2, 0, 1, 2 });
        var whole = model.LogImportanceWeights(images, 5, new Generator(13), labels);
        var chunked = model.LogImportanceWeights(images, 5, new Generator(13), labels, chunk: 7);
        Assert.Equal(new long[] { 4, 5 }, chunked.shape);
        Assert.True((whole - chunked).abs().max().ToDouble() < 1e-12, $"largest difference {(whole - chunked).abs().max().ToDouble()}");
        // The labels matter (so the chunked rows really carry each image's own label).
        var relabelled = model.LogImportanceWeights(images, 5, new Generator(13), tensor(new long[] { 0, 1, 2, 0 }), chunk: 7);
        Assert.True((whole - relabelled).abs().max().ToDouble() > 1e-3);
    }
}
