using Research.Data;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// The sizes of a <see cref="Vae"/>: image pixels D, latent width, the MLP's hidden widths (the encoder
/// D → h_1 → … → latent, the decoder its mirror), classes (&gt; 0: class-conditional, the one-hot label
/// concatenated to the encoder's and the decoder's inputs) and whether it is variational. With
/// <see cref="Variational"/> false it is the plain autoencoder of S0: the encoder gives one code, no noise and
/// no KL term, the loss is the reconstruction BCE alone. <see cref="ConvWidth"/> &gt; 0 makes encoder and decoder
/// convolutional on 28×28 images (the hidden widths are then unused): Conv(1 → w, stride 2) 14×14 → Conv(w → 2w,
/// stride 2) 7×7 → Linear, and its mirror with transposed convolutions. <see cref="ContinuousBernoulli"/> normalises
/// the decoder on [0, 1] (Loaiza-Ganem &amp; Cunningham 2019), so that the ELBO bounds the log of a density and converts
/// to bits/dim; the plain Bernoulli "likelihood" of grey values is not normalised.
/// </summary>
public sealed record VaeOptions(int Latent = 2, int[]? Hidden = null, int Classes = 0, bool Variational = true, int Pixels = 784,
    double LearningRate = 1e-3, int ConvWidth = 0, bool ContinuousBernoulli = false)
{
    /// <summary>The hidden widths, [512, 256] when <see cref="Hidden"/> is null.</summary>
    public int[] HiddenWidths => Hidden ?? [512, 256];
}

/// <summary>A VAE's bound per sample, in nats: ELBO = −Reconstruction − Kl, Reconstruction = −E_q log p(x|z).</summary>
public sealed record ElboTerms(Tensor Elbo, Tensor Reconstruction, Tensor Kl) : IDisposable
{
    /// <summary>Releases the three tensors.</summary>
    public void Dispose()
    {
        Elbo.Dispose();
        Reconstruction.Dispose();
        Kl.Dispose();
    }
}

/// <summary>
/// A variational autoencoder with MLP encoder and decoder on flattened images (Kingma &amp; Welling 2014):
/// q(z|x) = N(μ(x), diag σ²(x)), prior N(0, I), and a Bernoulli decoder p(x|z) = Π_j Bern(x_j; sigmoid(ℓ_j(z)))
/// on grey values in [0, 1] (the data's [-1, 1] mapped by (x + 1)/2; the BCE of a grey value is the usual
/// continuous relaxation). ELBO(x) = E_q log p(x|z) − KL(q(z|x) ‖ N(0, I)) ≤ log p(x) (VAE-01/02), the KL in
/// closed form (DIV-02), the expectation by one reparameterised draw z = μ + σ ε. The importance-weighted bound
/// (VAE-03) IWAE_k = E log (1/k) Σ_i p(x, z_i)/q(z_i|x) rises to log p(x) as k grows. With
/// <see cref="VaeOptions.Variational"/> false it is a deterministic autoencoder (z = μ(x)).
/// </summary>
[GenerativeFamily("VAE", LikelihoodKind.ExplicitBound, "ELBO", Note = "IWAE_k tightens the bound towards log p as k grows")]
public sealed class Vae : nn.Module
{
    private readonly nn.Sequential encoder, decoder;

    /// <summary>One training step's computation (FIG-08): <see cref="Elbo"/>; an AE takes z = μ and has no KL term.</summary>
    public static ComputationGraph TrainingGraph { get; } = ComputationGraph.Of(
        [
            new("x", GraphNodeKind.Data, "x ~ data (and y for the CVAE)"),
            new("encoder", GraphNodeKind.Network, "encoder q<sub>φ</sub>(z | x):<br>μ, log σ²"),
            new("eps", GraphNodeKind.Random, "ε ~ N(0, I)"),
            new("z", GraphNodeKind.Operation, "z = μ + σ ε"),
            new("decoder", GraphNodeKind.Network, "decoder p<sub>θ</sub>(x | z): logits"),
            new("reconstruction", GraphNodeKind.Objective, "log p<sub>θ</sub>(x | z): Bernoulli, or continuous<br>Bernoulli on dequantized x"),
            new("kl", GraphNodeKind.Objective, "KL(q<sub>φ</sub>(z | x) ‖ N(0, I)),<br>closed form"),
            new("elbo", GraphNodeKind.Objective, "ELBO = log p<sub>θ</sub>(x | z) − KL"),
        ],
        "x -> encoder -> z -> decoder -> reconstruction -> elbo", "eps -> z", "x -> reconstruction", "encoder -> kl -> elbo");

    /// <summary>
    /// A VAE (or autoencoder) of shape <paramref name="options"/>, its layers initialised from
    /// <paramref name="layers"/>. Throws ArgumentException for a non-positive latent width, negative classes or empty or
    /// non-positive hidden widths.
    /// </summary>
    public Vae(VaeOptions options, nn.LayerOptions? layers = null)
    {
        if (options.Latent < 1) throw new ArgumentException($"the latent width must be positive, got {options.Latent}");
        if (options.Classes < 0) throw new ArgumentException($"classes must be >= 0, got {options.Classes}");
        if (options.HiddenWidths.Length == 0 || options.HiddenWidths.Any(h => h < 1))
            throw new ArgumentException("the hidden widths must be a non-empty list of positive numbers");
        if (options.ConvWidth < 0) throw new ArgumentException($"the convolution width must be >= 0, got {options.ConvWidth}");
        if (options.ConvWidth > 0 && (options.Pixels != 784 || options.Classes > 0))
            throw new ArgumentException("the convolutional VAE is for unconditional 28×28 images (784 pixels, no classes)");
        Options = options;
        int c = options.Classes, codes = options.Variational ? 2 * options.Latent : options.Latent;
        encoder = register_module("encoder", options.ConvWidth > 0 ? ConvEncoder(options.ConvWidth, codes, layers)
            : Mlp([options.Pixels + c, .. options.HiddenWidths, codes], layers));
        decoder = register_module("decoder", options.ConvWidth > 0 ? ConvDecoder(options.ConvWidth, options.Latent, layers)
            : Mlp([options.Latent + c, .. options.HiddenWidths.Reverse(), options.Pixels], layers));
        Optimizer = new optim.Adam(parameters(), options.LearningRate);
        Part = new TrainedPart(options.Variational ? "vae" : "ae", this, Optimizer);
    }

    /// <summary>Adam over the encoder's and decoder's parameters.</summary>
    public optim.Adam Optimizer { get; }
    /// <summary>The model and its optimizer as the checkpoint part "vae" (or "ae").</summary>
    public TrainedPart Part { get; }

    /// <summary>Linear layers of the given widths with ReLU between them (none after the last).</summary>
    private static nn.Sequential Mlp(int[] widths, nn.LayerOptions? layers)
    {
        var modules = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i + 1 < widths.Length; i++)
        {
            if (i > 0) modules.Add(nn.ReLU());
            modules.Add(new nn.Linear(widths[i], widths[i + 1], options: layers));
        }
        return new nn.Sequential(modules.ToArray());
    }

    /// <summary>[B, 784] → Conv(1 → w, 4, stride 2) 14×14 → Conv(w → 2w, 4, stride 2) 7×7 → Linear → [B, codes].</summary>
    private static nn.Sequential ConvEncoder(int w, int codes, nn.LayerOptions? o) =>
        new(new nn.Activation(x => x.reshape(x.size(0), 1, 28, 28)),
            new nn.Conv2d(1, w, 4, stride: 2, padding: 1, options: o), nn.ReLU(),
            new nn.Conv2d(w, 2 * w, 4, stride: 2, padding: 1, options: o), nn.ReLU(),
            new nn.Activation(h => h.reshape(h.size(0), -1)),
            new nn.Linear(2 * w * 49, codes, options: o));

    /// <summary>The encoder's mirror: [B, latent] → Linear → 2w×7×7 → ConvT 14×14 → ConvT 28×28 → logits [B, 784].</summary>
    private static nn.Sequential ConvDecoder(int w, int latent, nn.LayerOptions? o) =>
        new(new nn.Linear(latent, 2 * w * 49, options: o), nn.ReLU(),
            new nn.Activation(h => h.reshape(h.size(0), 2 * w, 7, 7)),
            new nn.ConvTranspose2d(2 * w, w, 4, stride: 2, padding: 1, options: o), nn.ReLU(),
            new nn.ConvTranspose2d(w, 1, 4, stride: 2, padding: 1, options: o),
            new nn.Activation(h => h.reshape(h.size(0), 784)));

    /// <summary>The sizes this model was built with.</summary>
    public VaeOptions Options { get; }

    /// <summary>Images [B, …] in [-1, 1] as Bernoulli targets [B, D] in [0, 1].</summary>
    public Tensor Targets(Tensor images)
    {
        if (images.numel != images.size(0) * Options.Pixels)
            throw new ArgumentException($"expected images of {Options.Pixels} pixels each, got [{string.Join(", ", images.shape)}]");
        return (images.reshape(images.size(0), Options.Pixels) + 1.0) * 0.5;
    }

    private Tensor WithLabels(Tensor h, Tensor? labels)
    {
        if (Options.Classes == 0) return h;
        if (labels is null) throw new ArgumentException("a class-conditional VAE needs labels");
        if (labels.dim != 1 || labels.size(0) != h.size(0)) throw new ArgumentException($"labels must be [{h.size(0)}], got [{string.Join(", ", labels.shape)}]");
        return cat([h, nn.functional.one_hot(labels, Options.Classes).to(h.dtype)], 1);
    }

    /// <summary>q(z|x): the mean and log-variance [B, latent] of targets [B, D] (the log-variance is null for an AE).</summary>
    public (Tensor mean, Tensor? logVar) Encode(Tensor targets, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        var h = encoder.forward(WithLabels(targets, labels));
        if (!Options.Variational) return (h.MoveToOuterScope(), null);
        var parts = h.chunk(2, 1);
        return (parts[0].MoveToOuterScope(), parts[1].MoveToOuterScope());
    }

    /// <summary>The decoder's Bernoulli logits [B, D] at codes z [B, latent].</summary>
    public Tensor Decode(Tensor z, Tensor? labels = null)
    {
        if (z.dim != 2 || z.size(1) != Options.Latent)
            throw new ArgumentException($"codes must be [B, {Options.Latent}], got [{string.Join(", ", z.shape)}]");
        return decoder.forward(WithLabels(z, labels));
    }

    /// <summary>Decoded images [B, 1, 28, 28] in [-1, 1] (the decoder's means mapped back) at codes z.</summary>
    public Tensor DecodeImages(Tensor z, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        var side = (long)Math.Round(Math.Sqrt(Options.Pixels));
        return (DecoderMean(Decode(z, labels)) * 2.0 - 1.0).reshape(z.size(0), 1, side, Options.Pixels / side).MoveToOuterScope();
    }

    /// <summary>KL(N(μ, diag e^v) ‖ N(0, I)) = ½ Σ_j (μ_j² + e^{v_j} − 1 − v_j) per row (DIV-02).</summary>
    public static Tensor KlToStandardNormal(Tensor mean, Tensor logVar)
    {
        using var scope = NewDisposeScope();
        return ((mean.square() + logVar.exp() - 1.0 - logVar) * 0.5).sum(1).MoveToOuterScope();
    }

    /// <summary>log p(x|z) = −BCE summed over pixels, per row, for logits and targets [B, D].</summary>
    public static Tensor BernoulliLogLikelihood(Tensor logits, Tensor targets) =>
        -nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None).sum(1);

    /// <summary>
    /// log C(λ) of the continuous Bernoulli p(x|λ) = C(λ) λ^x (1 − λ)^(1−x) on [0, 1], elementwise from the logit ℓ of λ:
    /// C = 2 artanh(1 − 2λ)/(1 − 2λ) = ℓ / tanh(ℓ/2) (since 1 − 2λ = −tanh(ℓ/2)), → 2 as ℓ → 0, where the series
    /// log 2 + ℓ²/12 replaces the 0/0.
    /// </summary>
    public static Tensor ContinuousBernoulliLogNormalizer(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var small = logits.abs().lt(1e-3);
        var safe = where(small, ones_like(logits), logits);
        var exact = safe.abs().log() - (safe * 0.5).tanh().abs().log();
        return where(small, logits.square() / 12.0 + Math.Log(2.0), exact).MoveToOuterScope();
    }

    /// <summary>E[x|z] from logits: λ = sigmoid(ℓ) for the Bernoulli; for the continuous Bernoulli
    /// λ/(2λ − 1) + 1/(2 artanh(1 − 2λ)) = λ/tanh(ℓ/2) − 1/ℓ, whose 0/0 at ℓ = 0 the series 1/2 + ℓ/12 replaces.</summary>
    public Tensor DecoderMean(Tensor logits)
    {
        if (!Options.ContinuousBernoulli) return logits.sigmoid();
        using var scope = NewDisposeScope();
        var small = logits.abs().lt(1e-2);
        var safe = where(small, ones_like(logits), logits);
        return where(small, logits / 12.0 + 0.5, safe.sigmoid() / (safe * 0.5).tanh() - safe.reciprocal()).MoveToOuterScope();
    }

    /// <summary>The decoder's log p(x|z) per row: Bernoulli, or continuous Bernoulli with the options' flag.</summary>
    public Tensor DecoderLogLikelihood(Tensor logits, Tensor targets)
    {
        if (!Options.ContinuousBernoulli) return BernoulliLogLikelihood(logits, targets);
        using var scope = NewDisposeScope();
        return (BernoulliLogLikelihood(logits, targets) + ContinuousBernoulliLogNormalizer(logits).sum(1)).MoveToOuterScope();
    }

    /// <summary>
    /// The ELBO per image (nats) with one reparameterised draw, its reconstruction term −E_q log p(x|z) and its
    /// KL term; for an AE the "ELBO" is −BCE(x, decode(encode(x))) and the KL is 0.
    /// </summary>
    public ElboTerms Elbo(Tensor images, Generator generator, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        var x = Targets(images);
        var (mean, logVar) = Encode(x, labels);
        var z = logVar is null ? mean : mean + (logVar * 0.5).exp() * randn(mean.shape, mean.dtype, mean.device, generator);
        var reconstruction = -DecoderLogLikelihood(Decode(z, labels), x);
        var kl = logVar is null ? zeros_like(reconstruction) : KlToStandardNormal(mean, logVar);
        return new ElboTerms((-reconstruction - kl).MoveToOuterScope(), reconstruction.MoveToOuterScope(), kl.MoveToOuterScope());
    }

    /// <summary>
    /// log w_i = log p(x|z_i) + log N(z_i; 0, I) − log q(z_i|x) for z_1..z_k ~ q(z|x): [B, k]. Decoded in chunks
    /// of at most <paramref name="chunk"/> codes.
    /// </summary>
    public Tensor LogImportanceWeights(Tensor images, int k, Generator generator, Tensor? labels = null, int chunk = 8192)
    {
        if (!Options.Variational) throw new InvalidOperationException("an autoencoder has no q(z|x): importance weights need a VAE");
        if (k < 1) throw new ArgumentException($"k must be positive, got {k}");
        using var scope = NewDisposeScope();
        var x = Targets(images);
        var (mean, logVar) = Encode(x, labels);
        long b = x.size(0), l = Options.Latent;
        var eps = randn([b, k, l], mean.dtype, mean.device, generator);
        var z = mean.unsqueeze(1) + (logVar! * 0.5).exp().unsqueeze(1) * eps;          // [B, k, L]
        const double halfLog2Pi = 0.91893853320467274178;
        var logPrior = (z.square() * -0.5 - halfLog2Pi).sum(2);
        var logQ = (eps.square() * -0.5 - halfLog2Pi - logVar.unsqueeze(1) * 0.5).sum(2);
        var flatZ = z.reshape(b * k, l);
        var logLik = new List<Tensor>();
        for (long i = 0; i < b * k; i += chunk)
        {
            // Each chunk's decoder activations are freed before the next: only its [n] log-likelihoods are kept
            // (b·k images at once held 19 GB for k = 1000 on 256 images with the conv decoder).
            using var chunkScope = NewDisposeScope();
            long n = Math.Min(chunk, b * k - i);
            var imageOf = new long[n];
            for (long j = 0; j < n; j++) imageOf[j] = (i + j) / k;
            var rows = tensor(imageOf).to(x.device);
            var logits = Decode(flatZ.narrow(0, i, n), labels?.index_select(0, rows));
            logLik.Add(DecoderLogLikelihood(logits, x.index_select(0, rows)).MoveToOuterScope());
        }
        return (cat(logLik.ToArray(), 0).reshape(b, k) + logPrior - logQ).MoveToOuterScope();
    }

    /// <summary>IWAE_k per image (VAE-03): log (1/k) Σ_i w_i, a lower bound on log p(x) that is non-decreasing in k
    /// in expectation; k = 1 is an unbiased estimate of the ELBO.</summary>
    public Tensor ImportanceWeightedBound(Tensor images, int k, Generator generator, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        return (LogImportanceWeights(images, k, generator, labels).logsumexp(1) - Math.Log(k)).MoveToOuterScope();
    }

    /// <summary>The loss the trainer minimises: the negative ELBO (the BCE for an AE) per image, batch-averaged, on
    /// dequantized pixels for a continuous-Bernoulli decoder; the KL term and the BCE per pixel are recorded beside it.</summary>
    public void TrainStep(StepContext context)
    {
        var labels = Options.Classes > 0 ? context.Labels : null;
        // A continuous-Bernoulli decoder is a density on [0, 1]. Fitted to the data's 256 exact grey levels it narrows
        // onto them without bound (fig05 --full: 1.25 bits/dim on the training batches, 6.77 on dequantized test
        // images), so it is trained, as the flow is, on uniformly dequantized pixels, the data its bits/dim are of.
        using var inputs = Options.ContinuousBernoulli ? ImageRealNvp.Dequantize(context.Inputs, context.Generator) : context.Inputs.alias();
        using var terms = Elbo(inputs, context.Generator, labels);
        using var loss = (-terms.Elbo).mean();
        context.Update(Part, loss);
        context.Record("kl", terms.Kl.mean().ToDouble());
        context.Record("bce_per_pixel", terms.Reconstruction.mean().ToDouble() / Options.Pixels);
    }

    /// <summary>A trainer over <paramref name="data"/> for <paramref name="options"/>.Steps steps.</summary>
    public Trainer Trainer(IBatchSource data, TrainerOptions options, Generator generator) => new([Part], data, TrainStep, options, generator);

    /// <summary>Releases the optimizer state and the layers.</summary>
    public override void Dispose()
    {
        Optimizer.Dispose();
        base.Dispose();
    }
}
