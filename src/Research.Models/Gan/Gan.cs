using Research.Data;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// A generative adversarial network (Goodfellow et al. 2014) with the non-saturating generator loss: a generator
/// network G: z ~ N(0, I) ↦ x and a discriminator D giving a logit, D(x) = sigmoid(logit). The discriminator
/// maximises E_data log D + E_G log(1 − D), whose optimum for a fixed G is D* = p_data / (p_data + p_G) (GAN-01);
/// the generator minimises −E log D(G(z)) rather than E log(1 − D(G(z))), which has the same fixed point but
/// does not vanish when D rejects the samples. Two optimizers (Adam, β₁ = 0.5 as in DCGAN), two updates per
/// trainer step. A GAN defines no density: it has samples and nothing to evaluate log p with.
/// </summary>
[GenerativeFamily("GAN", LikelihoodKind.Implicit, "adversarial")]
public sealed class Gan : IDisposable
{
    /// <summary>One training step's computation (FIG-08): <see cref="TrainStep"/>, the discriminator's update on
    /// detached fakes, then the generator's through D.</summary>
    public static ComputationGraph TrainingGraph { get; } = ComputationGraph.Of(
        [
            new("z", GraphNodeKind.Random, "z ~ N(0, I)"),
            new("G", GraphNodeKind.Network, "generator G<sub>θ</sub>: x̂ = G(z)"),
            new("x", GraphNodeKind.Data, "x ~ data"),
            new("D", GraphNodeKind.Network, "discriminator D<sub>φ</sub>:<br>logits of x and x̂"),
            new("d_loss", GraphNodeKind.Objective, "D's loss: −log D(x) − log(1 − D(x̂))<br>(x̂ detached)"),
            new("g_loss", GraphNodeKind.Objective, "G's loss (non-saturating):<br>−log D(G(z))"),
        ],
        "z -> G -> D -> d_loss", "x -> D", "D -> g_loss");

    /// <summary>
    /// A GAN of <paramref name="generator"/> (z [B, latent] → x) and <paramref name="discriminator"/> (x → logits [B]),
    /// each with its own Adam (learning rate, β₁). Throws ArgumentException for latent &lt; 1.
    /// </summary>
    public Gan(nn.Module<Tensor, Tensor> generator, nn.Module<Tensor, Tensor> discriminator, int latent,
        double learningRate = 2e-4, double beta1 = 0.5)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(discriminator);
        if (latent < 1) throw new ArgumentException($"the latent width must be positive, got {latent}");
        G = generator;
        D = discriminator;
        Latent = latent;
        GeneratorPart = new TrainedPart("generator", G, new optim.Adam(G.parameters(), learningRate, beta1));
        DiscriminatorPart = new TrainedPart("discriminator", D, new optim.Adam(D.parameters(), learningRate, beta1));
    }

    /// <summary>The generator G: z [B, latent] → x.</summary>
    public nn.Module<Tensor, Tensor> G { get; }
    /// <summary>The discriminator D: x → one logit per sample [B].</summary>
    public nn.Module<Tensor, Tensor> D { get; }
    /// <summary>The width of the latent z ~ N(0, I).</summary>
    public int Latent { get; }
    /// <summary>G and its Adam as the checkpoint part "generator".</summary>
    public TrainedPart GeneratorPart { get; }
    /// <summary>D and its Adam as the checkpoint part "discriminator".</summary>
    public TrainedPart DiscriminatorPart { get; }

    /// <summary>The discriminator's loss −E_data log D − E_G log(1 − D) from logits: softplus(−ℓ_real) + softplus(ℓ_fake).</summary>
    public static Tensor DiscriminatorLoss(Tensor realLogits, Tensor fakeLogits)
    {
        using var scope = NewDisposeScope();
        return (nn.functional.softplus(-realLogits).mean() + nn.functional.softplus(fakeLogits).mean()).MoveToOuterScope();
    }

    /// <summary>The non-saturating generator loss −E log D(G(z)) = softplus(−ℓ_fake).</summary>
    public static Tensor GeneratorLoss(Tensor fakeLogits) => nn.functional.softplus(-fakeLogits).mean();

    /// <summary>n samples G(z), z ~ N(0, I) of the parameters' dtype, without a graph.</summary>
    public Tensor Sample(long n, Generator generator)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return G.forward(Noise(n, generator)).MoveToOuterScope();
    }

    private Tensor Noise(long n, Generator generator)
    {
        var reference = G.parameters().First();
        return randn([n, Latent], reference.dtype, reference.device, generator);
    }

    /// <summary>One step: a discriminator update on the batch against detached fakes, then a generator update
    /// through the (just updated) discriminator. Records D's accuracy on real and fake data.</summary>
    public void TrainStep(StepContext c)
    {
        var real = c.Inputs;
        long n = real.size(0);
        Tensor fake;
        using (no_grad()) fake = G.forward(Noise(n, c.Generator));
        var realLogits = D.forward(real);
        var fakeLogits = D.forward(fake);
        c.Update(DiscriminatorPart, DiscriminatorLoss(realLogits, fakeLogits), "d_loss");
        using (no_grad())
            c.Record("d_accuracy", 0.5 * (realLogits.gt(0.0).to(ScalarType.Float64).mean().ToDouble() + fakeLogits.lt(0.0).to(ScalarType.Float64).mean().ToDouble()));
        c.Update(GeneratorPart, GeneratorLoss(D.forward(G.forward(Noise(n, c.Generator)))), "g_loss");
    }

    /// <summary>A trainer over <paramref name="data"/>; <paramref name="afterStep"/> (optional) runs after every
    /// step's two updates (an evaluation that records into the metrics).</summary>
    public Trainer Trainer(IBatchSource data, TrainerOptions options, Generator generator, Action<StepContext>? afterStep = null) =>
        new([GeneratorPart, DiscriminatorPart], data, afterStep is null ? TrainStep : c => { TrainStep(c); afterStep(c); }, options, generator);

    /// <summary>Releases both optimizers' state and both networks.</summary>
    public void Dispose()
    {
        GeneratorPart.Optimizer.Dispose();
        DiscriminatorPart.Optimizer.Dispose();
        G.Dispose();
        D.Dispose();
    }

    /// <summary>max(x, 0.2 x): DCGAN's discriminator activation.</summary>
    public static nn.Module<Tensor, Tensor> LeakyReLU(double slope = 0.2) => new nn.Activation(x => x.maximum(x * slope));

    /// <summary>DCGAN's generator for 28×28 (Radford et al. 2016, with GroupNorm where they use BatchNorm):
    /// z → Linear → 4w×7×7 → ConvT(4w → 2w) 14×14 → ConvT(2w → 1) 28×28 → tanh, data in [-1, 1].</summary>
    public static nn.Sequential DcganGenerator(int latent = 64, int width = 32, nn.LayerOptions? o = null) =>
        new(new nn.Linear(latent, 4 * width * 7 * 7, options: o),
            new nn.Activation(h => h.reshape(h.size(0), 4 * width, 7, 7)),
            new nn.GroupNorm(8, 4 * width, options: o), nn.ReLU(),
            new nn.ConvTranspose2d(4 * width, 2 * width, 4, stride: 2, padding: 1, options: o),
            new nn.GroupNorm(8, 2 * width, options: o), nn.ReLU(),
            new nn.ConvTranspose2d(2 * width, 1, 4, stride: 2, padding: 1, options: o),
            nn.Tanh());

    /// <summary>DCGAN's discriminator for 28×28: Conv(1 → 2w, stride 2) 14×14 → Conv(2w → 4w, stride 2) 7×7,
    /// leaky ReLU, → Linear → one logit per image.</summary>
    public static nn.Sequential DcganDiscriminator(int width = 32, nn.LayerOptions? o = null) =>
        new(new nn.Conv2d(1, 2 * width, 4, stride: 2, padding: 1, options: o), LeakyReLU(),
            new nn.Conv2d(2 * width, 4 * width, 4, stride: 2, padding: 1, options: o), LeakyReLU(),
            new nn.Activation(h => h.reshape(h.size(0), -1)),
            new nn.Linear(4 * width * 7 * 7, 1, options: o),
            new nn.Activation(h => h.reshape(-1)));

    /// <summary>An MLP in → hidden → hidden → out with ReLU (leaky for a discriminator) on inputs flattened to
    /// [B, in] (points stored as [B, d, 1, 1] by <see cref="PointData"/>); a scalar output is flattened to [B].</summary>
    public static nn.Sequential Mlp(int input, int hidden, int output, bool leaky = false, nn.LayerOptions? o = null)
    {
        nn.Module<Tensor, Tensor> Act() => leaky ? LeakyReLU() : nn.ReLU();
        var layers = new List<nn.Module<Tensor, Tensor>>
        {
            new nn.Activation(h => h.reshape(h.size(0), -1)),
            new nn.Linear(input, hidden, options: o), Act(), new nn.Linear(hidden, hidden, options: o), Act(), new nn.Linear(hidden, output, options: o),
        };
        if (output == 1) layers.Add(new nn.Activation(h => h.reshape(-1)));
        return new nn.Sequential(layers.ToArray());
    }
}

/// <summary>Points [N, d] as a dataset of d×1×1 "images" with one class, so that 2-D training runs through
/// <see cref="BatchStream"/> and the trainer like images do; a step reads them back with <c>Inputs.flatten(1)</c>.</summary>
public static class PointData
{
    /// <summary>
    /// The points [N, d] as a one-class dataset of [N, d, 1, 1] (copied); throws ArgumentException unless points are
    /// 2-D.
    /// </summary>
    public static ImageDataset Of(Tensor points)
    {
        if (points.dim != 2) throw new ArgumentException($"points must be [N, d], got [{string.Join(", ", points.shape)}]");
        using var scope = NewDisposeScope();
        return new ImageDataset(points.reshape(points.size(0), points.size(1), 1, 1).clone().MoveToOuterScope(),
            zeros([points.size(0)], ScalarType.Int64, points.device).MoveToOuterScope(), 1);
    }
}
