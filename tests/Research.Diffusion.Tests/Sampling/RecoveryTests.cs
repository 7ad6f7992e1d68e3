using Research.Diffusion;
using Research.Torch;
using Xunit.Abstractions;
using static Research.Diffusion.Tests.TensorFixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

/// <summary>
/// Samplers started from the prior N(0, I) of VP-linear (p_1 differs from it by alpha(1)^2 Var(data) = 5e-5 in
/// variance) recover the 2-D mixture G4. The distance is MMD^2 to the exact law at the grid's last time, with the
/// Gaussian kernel of lengthscale 1 and its expectations under the mixture in closed form; the bound is 5 standard
/// errors of the estimator at this sample size (n = 2000, SE ~ 1/n under the true law). Negative control: the same
/// sampler with the score's sign flipped lands at least 20 SE away (the power rule of section 0.3).
/// </summary>
public class RecoveryTests(ITestOutputHelper output)
{
    const int N = 2000;
    const double Lengthscale = 1.0;
    static readonly NoiseProcess Vp = new VpLinear();

    public static TheoryData<string> Cases => new(["PF-ODE Heun", "DPM-Solver++(2M)", "reverse SDE", "DDPM ancestral", "predictor–corrector", "EDM churn"]);

    static (Sampler Sampler, double[] Times) Case(string name) => name switch
    {
        "PF-ODE Heun" => (Samplers.Heun, TimeGrid.Karras(Vp, 40, 0.002, Vp.Varsigma(1.0))),
        "DPM-Solver++(2M)" => (Samplers.DpmSolverPlusPlus2M, TimeGrid.UniformLogSnr(Vp, 40, 1.0, 0.0)),
        "reverse SDE" => (Samplers.ReverseSde(), TimeGrid.UniformTime(1000, 1.0, 1e-3)),
        "DDPM ancestral" => (Samplers.DdpmAncestral, TimeGrid.UniformTime(500, 1.0, 0.0)),
        "predictor–corrector" => (Samplers.PredictorCorrector(), TimeGrid.UniformTime(500, 1.0, 1e-3)),
        "EDM churn" => (Samplers.EdmStochastic(churn: 20, sMin: 0.05, sMax: 10), TimeGrid.Karras(Vp, 60, 0.002, Vp.Varsigma(1.0))),
        _ => throw new ArgumentException(name),
    };

    [Theory, MemberData(nameof(Cases))]
    public void SDE03_SDE05_samplers_recover_a_2D_mixture_from_the_prior(string name)
    {
        var (sampler, times) = Case(name);
        var data = G4;
        using var mixture = new TensorMixture(data);
        var exact = mixture.Denoiser(Vp);
        var flipped = new Denoiser(Vp, Prediction.Score, (x, t) => -exact.Predict(Prediction.Score, x, t));
        var target = data.Diffuse(Vp, times[^1]).Marginal;
        using var scope = NewDisposeScope();
        var prior = Prior(N, 2, 21);
        using var g1 = new Generator(1);
        using var g2 = new Generator(1);
        var good = Distances.MmdSquared(sampler.Sample(exact, Vp, times, prior, g1).X, target, Lengthscale);
        var wrong = Distances.MmdSquared(sampler.Sample(flipped, Vp, times, prior, g2).X, target, Lengthscale);
        output.WriteLine($"{name}: MMD^2 {good.Value:E2} (SE {good.StandardError:E2}); flipped score {wrong.Value:E2} (SE {wrong.StandardError:E2})");
        Assert.True(Math.Abs(good.Value) <= 5 * good.StandardError, $"{name}: MMD^2 {good.Value:E3} exceeds 5 SE = {5 * good.StandardError:E3}");
        Assert.True(wrong.Value >= 20 * good.StandardError, $"{name}: the flipped score gives MMD^2 {wrong.Value:E3}, under 20 SE = {20 * good.StandardError:E3}");
    }

    // LD-02 check 1: annealed Langevin (L = 10 geometric levels 20 -> 1, eta = 0.1, K = 100) from U([-8, 8]^2) puts
    // 0.8 of the mass of GSE in the heavy mode (within 5 SE + the 0.02 bias budget; section 15.8: 0.7885 by simulation);
    // plain Langevin at the clean target keeps the initial 0.5 (negative control, the claim that it does NOT reach 0.8).
    [Fact]
    public void LD02_annealed_Langevin_finds_mode_weights_plain_Langevin_does_not()
    {
        const int n = 10_000;
        var gse = new GaussianMixture([0.2, 0.8], [Gaussian.Isotropic(Fixtures.Vec(-5, -5), 1.0), Gaussian.Isotropic(Fixtures.Vec(5, 5), 1.0)]);
        var edm = new Edm();
        using var mixture = new TensorMixture(gse);
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        var start = rand([n, 2], ScalarType.Float64, generator: g) * 16.0 - 8.0;
        var levels = Enumerable.Range(0, 10).Select(i => 20.0 * Math.Pow(1.0 / 20.0, i / 9.0)).ToArray();
        var annealed = Samplers.AnnealedLangevin(100, 0.1).Sample(mixture.Denoiser(edm), edm, levels, start, g).X;
        double HeavyFraction(Tensor x) => x.sum(1).gt(0.0).to(ScalarType.Float64).mean().ToDouble();
        var se = Math.Sqrt(0.16 / n);
        var fraction = HeavyFraction(annealed);
        Assert.True(Math.Abs(fraction - 0.8) <= 5 * se + 0.02, $"annealed: {fraction}");
        // plain Langevin: one level at (nearly) the clean data, varsigma = 1e-3, where a_1 = eta = 0.01
        var plain = Samplers.AnnealedLangevin(1000, 0.01).Sample(mixture.Denoiser(edm), edm, [1e-3], start, g).X;
        var plainFraction = HeavyFraction(plain);
        Assert.True(Math.Abs(plainFraction - 0.5) <= 5 * se + 0.02, $"plain: {plainFraction}");
    }
}
