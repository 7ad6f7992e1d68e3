using Research.Diffusion;
using Research.Torch;
using static Research.Diffusion.Tests.Fixtures;
using static Research.Diffusion.Tests.TensorFixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

public class DenoiserTests
{
    // F2 [A]: the tensor mixture (eigenbasis of S_k) reproduces the MathNet DiffusedMixture's log-density, score and
    // posterior mean, Dirac atoms included, for every process at t in [0.01, 0.98].
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void F2_tensor_mixture_matches_DiffusedMixture(string name)
    {
        var process = Processes[name];
        var random = new Random(5);
        var data = RandomMixture(random, 3, 2, withAtom: true);
        using var mixture = new TensorMixture(data);
        foreach (var t in new[] { 0.01, 0.3, 0.98 }.Select(u => u * process.TMax))
        {
            var exact = data.Diffuse(process, t);
            var points = exact.Marginal.Sample(random, 8);
            using var scope = NewDisposeScope();
            var x = Rows(points);
            var (logDensity, score, mean) = (Values(mixture.LogDensity(x, process.At(t))), mixture.Score(x, process.At(t)), mixture.PosteriorMean(x, process.At(t)));
            for (var i = 0; i < points.Length; i++)
            {
                AssertClose(exact.LogDensity(points[i]), logDensity[i], 1e-10, $"{name} t={t} log p");
                AssertClose(exact.Score(points[i]), Row(score, i), 1e-10, $"{name} t={t} score");
                AssertClose(exact.PosteriorMean(points[i]), Row(mean, i), 1e-10, $"{name} t={t} E[x0|x]");
            }
        }
    }

    // PROC-09 [A]: Denoiser.Predict converts the x0 output to every parameterization exactly as the MathNet
    // DiffusedMixture.Predict does (one conversion module on both sides).
    [Theory]
    [InlineData(Prediction.Eps)]
    [InlineData(Prediction.Score)]
    [InlineData(Prediction.V)]
    [InlineData(Prediction.Velocity)]
    public void PROC09_denoiser_predictions_match_exact_conversions(Prediction prediction)
    {
        var process = new VpCosine();
        var data = RandomMixture(new Random(2), 2, 2);
        using var mixture = new TensorMixture(data);
        var model = mixture.Denoiser(process);
        const double t = 0.4;
        var exact = data.Diffuse(process, t);
        var points = exact.Marginal.Sample(new Random(3), 6);
        using var scope = NewDisposeScope();
        var predicted = model.Predict(prediction, Rows(points), t);
        for (var i = 0; i < points.Length; i++)
            AssertClose(exact.Predict(prediction, points[i]), Row(predicted, i), 1e-10, prediction.ToString());
    }

    // PROC-08 [A]: a VP-cosine model read under the EDM process (Denoiser.Under, matching varsigma) predicts the same
    // x0 as the exact denoiser built for EDM directly: the two processes' data are the same.
    [Fact]
    public void PROC08_model_read_under_another_process_is_that_process_exact_denoiser()
    {
        var (vp, edm) = (new VpCosine(), new Edm());
        var data = RandomMixture(new Random(4), 3, 2);
        using var mixture = new TensorMixture(data);
        var converted = mixture.Denoiser(vp).Under(edm);
        var direct = mixture.Denoiser(edm);
        using var scope = NewDisposeScope();
        foreach (var sigma in new[] { 0.05, 1.0, 30.0 })
        {
            var x = Rows(data.Diffuse(edm, sigma).Marginal.Sample(new Random(1), 5));
            Assert.True(converted.Predict(Prediction.X0, x, sigma).allclose(direct.Predict(Prediction.X0, x, sigma), rtol: 1e-9, atol: 1e-10), $"sigma={sigma}");
        }
    }

    // A trained network plugs in as a Func of (x, t as a [batch] tensor): an eps-network that happens to be exact
    // gives the sampler the same result as the exact x0 denoiser (the conversion is the only difference).
    [Fact]
    public void A_network_in_eps_form_samples_like_the_exact_denoiser()
    {
        var process = new VpLinear();
        using var mixture = new TensorMixture(G1);
        Tensor Network(Tensor x, Tensor t)
        {
            var time = t[0].ToDouble();
            Assert.True(t.shape.SequenceEqual(new[] { x.size(0) }));
            return mixture.Denoiser(process).Predict(Prediction.Eps, x, time);
        }
        var network = Denoiser.FromNetwork(process, Prediction.Eps, Network);
        using var scope = NewDisposeScope();
        var x = Prior(64, 1, 1);
        var times = TimeGrid.UniformLogSnr(process, 20, 1.0, 0.0);
        var a = Samplers.DpmSolver(2).Sample(network, process, times, x).X;
        var b = Samplers.DpmSolver(2).Sample(mixture.Denoiser(process), process, times, x).X;
        Assert.True(a.allclose(b, rtol: 1e-9, atol: 1e-9));
    }

    // GUIDE-02 / GUIDE-03 [D]: with a two-class mixture, the classifier-free guided score (1 + w) s(x|c) - w s(x) is the
    // score of the tilted density p_t(x) p_t(c|x)^(1+w) at the same t, p_t(c|x) = pi_c p_t(x|c) / p_t(x), checked
    // against central differences of that log-density (step 1e-5 sigma_t, section 15.1).
    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void GUIDE03_guided_score_is_the_score_of_the_tilted_density(double w)
    {
        var process = new VpLinear();
        const double t = 0.3;
        var data = RandomMixture(new Random(8), 4, 2);
        int[] classes = [0, 1, 0, 1];
        using var mixture = new TensorMixture(data, classes);
        SubMixture(data, classes, 0); // both classes must be non-empty
        var diffused = data.Diffuse(process, t);
        var classOne = SubMixture(data, classes, 1).Diffuse(process, t);
        var priorOne = classes.Select((c, k) => c == 1 ? data.Weights[k] : 0.0).Sum();
        double LogTilted(Vector<double> x) =>
            diffused.LogDensity(x) + (1.0 + w) * (Math.Log(priorOne) + classOne.LogDensity(x) - diffused.LogDensity(x));
        var points = diffused.Marginal.Sample(new Random(9), 10);
        using var scope = NewDisposeScope();
        var labels = tensor(Enumerable.Repeat(1L, points.Length).ToArray());
        var guided = mixture.ConditionalDenoiser(process).Guided(labels, w).Predict(Prediction.Score, Rows(points), t);
        var h = 1e-5 * process.Sigma(t);
        for (var i = 0; i < points.Length; i++)
        {
            var row = Row(guided, i);
            for (var j = 0; j < 2; j++)
            {
                var e = Vector<double>.Build.Dense(2, k => k == j ? h : 0.0);
                var fd = (LogTilted(points[i] + e) - LogTilted(points[i] - e)) / (2 * h);
                Assert.True(Math.Abs(fd - row[j]) <= 1e-7 * Math.Max(Math.Abs(row[j]), 1.0 / process.Sigma(t)), $"w={w} point {i}[{j}]: guided {row[j]:R}, FD {fd:R}");
            }
        }
    }

    // GUIDE-03 [A]: the guidance combination is the same in every parameterization: the guided eps equals
    // (1 + w) eps(x|c) - w eps(x) formed from the converted conditional and unconditional predictions.
    [Fact]
    public void GUIDE03_guidance_commutes_with_conversion_to_eps()
    {
        var process = new RectifiedFlow();
        const double t = 0.6, w = 2.5;
        var data = RandomMixture(new Random(12), 3, 2);
        using var mixture = new TensorMixture(data, [0, 1, 1]);
        var model = mixture.ConditionalDenoiser(process);
        using var scope = NewDisposeScope();
        var x = Rows(data.Diffuse(process, t).Marginal.Sample(new Random(13), 7));
        var labels = tensor(new long[] { 0, 1, 0, 1, 1, 0, 1 });
        var guided = model.Guided(labels, w).Predict(Prediction.Eps, x, t);
        var combined = model.Given(labels).Predict(Prediction.Eps, x, t) * (1 + w) - model.Unconditional().Predict(Prediction.Eps, x, t) * w;
        Assert.True(guided.allclose(combined, rtol: 1e-12, atol: 1e-12));
    }

    static GaussianMixture SubMixture(GaussianMixture data, int[] classes, int label)
    {
        var members = Enumerable.Range(0, classes.Length).Where(k => classes[k] == label).ToArray();
        if (members.Length == 0) throw new ArgumentException($"class {label} is empty");
        return new GaussianMixture(members.Select(k => data.Weights[k]).ToArray(), members.Select(k => data.Components[k]).ToArray());
    }
}
