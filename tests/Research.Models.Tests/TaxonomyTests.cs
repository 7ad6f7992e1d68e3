using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

/// <summary>FIG-06's cells, each on the classes the taxonomy metadata names: an exact-likelihood model's density
/// integrates to 1 (NF-02); a bound model's bound stays below log p (VAE-01; the diffusion bound is proof DDPM-04);
/// an implicit model exposes no density.</summary>
public class TaxonomyTests
{
    private static IEnumerable<Type> OfKind(LikelihoodKind kind) => Taxonomy.Models().Where(m => m.Family.Likelihood == kind).Select(m => m.Type);

    [Fact]
    public void The_metadata_names_every_family_of_the_toolkit_once()
    {
        var kinds = Taxonomy.Models().ToDictionary(m => m.Type, m => m.Family.Likelihood);
        Assert.Equal(LikelihoodKind.ExplicitExact, kinds[typeof(RealNvp)]);
        Assert.Equal(LikelihoodKind.ExplicitExact, kinds[typeof(ImageRealNvp)]);
        Assert.Equal(LikelihoodKind.ExplicitBound, kinds[typeof(Vae)]);
        Assert.Equal(LikelihoodKind.ExplicitBound, kinds[typeof(ImageDiffusion)]);
        Assert.Equal(LikelihoodKind.Implicit, kinds[typeof(Gan)]);
        Assert.Equal(LikelihoodKind.ExplicitUnnormalised, kinds[typeof(EnergyModel)]);
    }

    /// <summary>∫ p = 1 for each exact-likelihood class at random weights: the 2-D RealNVP by the midpoint rule on
    /// [-8, 8]² (400² nodes) plus the sampled mass outside, the image RealNVP (logit and two checkerboard couplings) on
    /// 1×2×2 pixels over its support by Monte Carlo with a uniform proposal (5 standard errors).</summary>
    [Fact]
    public void Exact_likelihood_models_integrate_to_1()
    {
        var checks = new Dictionary<Type, Func<(double mass, double tolerance)>>
        {
            [typeof(RealNvp)] = () =>
            {
                using var scope = NewDisposeScope();
                using var model = new RealNvp(2, 4, 8, options: new nn.LayerOptions(float64, generator: new Generator(1)));
                using var g = new Generator(2);
                foreach (var p in model.Flow.parameters()) nn.init.normal_(p, 0, 0.2, g);
                const int m = 400;
                const double h = 16.0 / m;
                var axis = arange(0, m, 1, float64) * h + (-8.0 + h / 2);
                var x = stack([axis.unsqueeze(1).expand(m, m).reshape(-1), axis.unsqueeze(0).expand(m, m).reshape(-1)], 1);
                using var _ = no_grad();
                double inside = model.Flow.LogProb(x).exp().sum().ToDouble() * h * h;
                // The mass outside the box, from the flow's own samples (SE of a 1e5-sample fraction ≤ 0.0016).
                var samples = model.Flow.Sample(100000, g);
                double outside = samples.abs().amax([1]).gt(8.0).to(float64).mean().ToDouble();
                return (inside + outside, 0.008);
            },
            [typeof(ImageRealNvp)] = () =>
            {
                using var scope = NewDisposeScope();
                using var model = new ImageRealNvp(new ImageRealNvpOptions(new ImageShape(1, 2, 2), Scales: 0, Hidden: 4, FinalCouplings: 2),
                    new nn.LayerOptions(float64, generator: new Generator(3)));
                using var g = new Generator(4);
                foreach (var p in model.Flow.parameters()) nn.init.normal_(p, 0, 0.3, g);
                using var _ = no_grad();
                // The logit transform maps p ∈ (0, 1) back to x ∈ (−b, b), b = 1 + 2α/(1 − 2α): the flow's support, a little
                // wider than the pixel cube (on the cube alone it holds 0.94 of the mass here; bits/dim are conservative).
                double b = 1 + 2 * 0.05 / (1 - 2 * 0.05);
                var density = model.LogProb((rand([1 << 17, 4], float64, generator: g) * 2.0 - 1.0) * b).exp() * Math.Pow(2 * b, 4);
                double mass = density.mean().ToDouble(), se = density.std().ToDouble() / Math.Sqrt(1 << 17);
                return (mass, 5 * se);
            },
        };
        foreach (var type in OfKind(LikelihoodKind.ExplicitExact))
        {
            Assert.True(checks.ContainsKey(type), $"{type.Name} claims an exact likelihood but has no integration check");
            var (mass, tolerance) = checks[type]();
            Assert.True(Math.Abs(mass - 1) <= tolerance, $"{type.Name}: ∫ p = {mass} (tolerance {tolerance})");
            Assert.NotEmpty(Taxonomy.DensityMembers(type));
        }
    }

    /// <summary>The VAE's ELBO is below log p(x) by quadrature over its 2-D latent (VaeTests checks the whole chain
    /// ELBO ≤ IWAE_k ≤ log p); the diffusion model's discrete bound is proof DDPM-04 (log p − ELBO = KL ≥ 0), run as a
    /// property by the F# tests.</summary>
    [Fact]
    public void Bound_models_have_an_ELBO_below_log_p()
    {
        Assert.Equal([typeof(ImageDiffusion), typeof(Vae)], OfKind(LikelihoodKind.ExplicitBound).OrderBy(t => t.Name));
        using var scope = NewDisposeScope();
        using var model = new Vae(new VaeOptions(Latent: 2, Hidden: [8], Pixels: 9), new nn.LayerOptions(float64, generator: new Generator(5)));
        using var g = new Generator(6);
        var image = rand([1, 9], float64, generator: g) * 2.0 - 1.0;
        const int m = 401;
        const double h = 20.0 / m;
        var axis = arange(0, m, 1, float64) * h + (-10.0 + h / 2);
        var z = stack([axis.unsqueeze(1).expand(m, m).reshape(-1), axis.unsqueeze(0).expand(m, m).reshape(-1)], 1);
        var logJoint = model.DecoderLogLikelihood(model.Decode(z), model.Targets(image).expand(m * m, 9)) + (z.square() * -0.5).sum(1) - Math.Log(2 * Math.PI);
        double logP = logJoint.logsumexp(0).ToDouble() + 2 * Math.Log(h);
        var elbo = cat(Enumerable.Range(0, 2000).Select(_ => model.Elbo(image, g).Elbo).ToArray(), 0);
        double mean = elbo.mean().ToDouble(), se = elbo.std().ToDouble() / Math.Sqrt(2000);
        Assert.True(mean <= logP + 4 * se, $"ELBO {mean} ± {se} above log p {logP}");
        // Deterministic under the seeds: a gap of 6.4 standard errors (0.017 nats, SE 0.0027).
        Assert.True(logP - mean > 4 * se, $"the gap {logP - mean} is within noise ({se}): the check says nothing");
        Assert.Contains("Elbo", Taxonomy.DensityMembers(typeof(Vae)));
    }

    [Fact]
    public void Implicit_models_expose_no_density()
    {
        var implicitTypes = OfKind(LikelihoodKind.Implicit).ToArray();
        Assert.Contains(typeof(Gan), implicitTypes);
        foreach (var type in implicitTypes)
            Assert.True(Taxonomy.DensityMembers(type).Count == 0, $"{type.Name} exposes {string.Join(", ", Taxonomy.DensityMembers(type))}");
        // The same search finds the flows' and the VAE's densities, so an empty answer for the GAN is not vacuous.
        Assert.Contains("Flow.LogProb", Taxonomy.DensityMembers(typeof(RealNvp)));
        Assert.Contains("ImportanceWeightedBound", Taxonomy.DensityMembers(typeof(Vae)));
    }
}
