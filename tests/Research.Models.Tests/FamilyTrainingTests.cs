using Research.Data;
using Research.Diffusion;
using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

/// <summary>The RealNVP and the energy model: derivatives against finite differences, the denoiser they hand to the
/// samplers, and tiny training runs through the shared trainer.</summary>
public class FamilyTrainingTests
{
    [Fact]
    public void The_energy_models_score_and_Laplacian_match_central_differences_of_its_energy()
    {
        using var scope = NewDisposeScope();
        using var model = new EnergyModel(2, 16, new VeGeometric(0.05, 2.0), options: new nn.LayerOptions(float64, generator: new Generator(1)));
        using var g = new Generator(2);
        var x = randn([5, 2], float64, generator: g);
        var sigma = full([1], 0.3, float64);
        var score = model.Score(x, sigma);
        var laplacian = model.EnergyLaplacian(x, sigma);
        Assert.Equal([5L, 2L], score.shape);
        Assert.Equal([5L], laplacian.shape);
        const double h = 1e-4;
        var fdLaplacian = zeros([5], float64);
        for (int i = 0; i < 2; i++)
        {
            var e = zeros([1, 2], float64);
            e[0, i] = full([1], h, float64)[0];
            Tensor E(Tensor p) { using var _ = no_grad(); return model.Energy(p, sigma); }
            var plus = E(x + e); var minus = E(x - e); var centre = E(x);
            // s = −∂E/∂x_i (central difference, error O(h²) ≈ 1e-8 here); ΔE = Σ ∂²E/∂x_i² (error O(h²) + round-off/h²).
            Assert.True((score.select(1, i) + (plus - minus) / (2 * h)).abs().max().ToDouble() < 1e-6);
            fdLaplacian = fdLaplacian + (plus - centre * 2.0 + minus) / (h * h);
        }
        Assert.True((laplacian - fdLaplacian).abs().max().ToDouble() < 1e-3, $"max |ΔE − FD| = {(laplacian - fdLaplacian).abs().max().ToDouble()}");
        // The denoiser the samplers see predicts ε̂ = −σ(t) s(x, σ(t)).
        double t = 0.4, sigmaT = model.Process.Sigma(t);
        var eps = model.Denoiser().Evaluate(x, t);
        Assert.True((eps + model.Score(x, full([1], sigmaT, float64)) * sigmaT).abs().max().ToDouble() < 1e-12);
    }

    [Fact]
    public void A_tiny_RealNVP_on_two_moons_trains_to_a_much_lower_NLL()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        using var model = new RealNvp(2, 4, 32, options: new nn.LayerOptions(generator: g));
        var moons = Toy2D.TwoMoons(2048, g);
        using var data = PointData.Of(moons);
        using var batches = new BatchStream(data, 128, 0);
        double Nll() { using var _ = no_grad(); return (-model.Flow.LogProb(moons)).mean().ToDouble(); }
        double before = Nll();
        using var trainer = model.Trainer(batches, new TrainerOptions(150, 0, Progress: false), g);
        trainer.Run();
        double after = Nll();
        // Untrained: about the N(0, I) cross-entropy of the moons, ≈ 2.5 nats; 150 steps reach ≈ 1.7.
        Assert.True(after < before - 0.5, $"NLL {before} → {after}");
    }

    [Fact]
    public void A_tiny_energy_model_trains_to_a_denoising_score_matching_loss_clearly_below_the_start()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(6);
        using var model = new EnergyModel(2, 32, new VeGeometric(0.05, 2.0), options: new nn.LayerOptions(generator: g));
        var ring = Toy2D.RingOfGaussians(2048, g, std: 0.1);
        using var data = PointData.Of(ring);
        using var batches = new BatchStream(data, 256, 0);
        double Loss() { using var eval = new Generator(7); return model.DenoisingScoreMatchingLoss(ring, eval).mean().ToDouble(); }
        double before = Loss();
        using var trainer = model.Trainer(batches, new TrainerOptions(150, 0, Progress: false), g);
        trainer.Run();
        double after = Loss();
        // A zero score scores E‖ε‖² = 2, as does the untrained net; 150 steps reach ≈ 1.7 (the loss has a floor above 0,
        // the noised data's own score variance). The evaluation's Monte Carlo SE is ≈ 1.5% of the loss.
        Assert.True(after < 0.9 * before, $"DSM loss {before} → {after}");
    }
}
