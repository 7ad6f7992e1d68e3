using Research.Data;
using Research.Diffusion;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>Channels × height × width of the images an image flow layer acts on; every <see cref="FlowLayer"/> sees
/// them flattened to [B, C·H·W] in channel-major order, so image layers compose with the vector ones.</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    public int Size => Channels * Height * Width;
    public override string ToString() => $"{Channels}×{Height}×{Width}";
}

/// <summary>RealNVP's squeeze: every 2×2 spatial block becomes 4 channels, C×H×W → 4C×H/2×W/2. A permutation of
/// the coordinates, so log|det| = 0.</summary>
public sealed class Squeeze : FlowLayer
{
    public Squeeze(ImageShape input) : base(input.Size)
    {
        if (input.Height % 2 != 0 || input.Width % 2 != 0) throw new ArgumentException($"squeeze needs an even height and width, got {input}");
        Input = input;
        Output = new ImageShape(4 * input.Channels, input.Height / 2, input.Width / 2);
    }

    public ImageShape Input { get; }
    public ImageShape Output { get; }

    public override (Tensor y, Tensor logDet) Forward(Tensor x)
    {
        CheckInput(x, "x");
        var (c, h, w) = (Input.Channels, Input.Height / 2, Input.Width / 2);
        using var scope = NewDisposeScope();
        var y = x.reshape(x.size(0), c, h, 2, w, 2).permute(0, 1, 3, 5, 2, 4).reshape(x.size(0), Dim);
        return (y.MoveToOuterScope(), zeros([x.size(0)], x.dtype, x.device).MoveToOuterScope());
    }

    public override (Tensor x, Tensor logDet) Inverse(Tensor y)
    {
        CheckInput(y, "y");
        var (c, h, w) = (Input.Channels, Input.Height / 2, Input.Width / 2);
        using var scope = NewDisposeScope();
        var x = y.reshape(y.size(0), c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(y.size(0), Dim);
        return (x.MoveToOuterScope(), zeros([y.size(0)], y.dtype, y.device).MoveToOuterScope());
    }
}

/// <summary>
/// RealNVP's affine coupling on images (NF-03 with a binary mask b): y = b ⊙ x + (1 − b) ⊙ (x ⊙ e^{s(b ⊙ x)} + t(b ⊙ x)),
/// log|det| = Σ (1 − b) ⊙ s. The mask is a checkerboard over pixels (parity of h + w) or a split of the channels;
/// s and t come from one 3×3 convolutional network, s bounded by a learned per-channel scale times tanh. The last
/// convolution starts at zero, so an untrained coupling is the identity.
/// </summary>
public sealed class ConvCoupling : FlowLayer
{
    private readonly nn.Sequential network;
    private readonly Tensor mask, scale;

    /// <param name="checkerboard">true: checkerboard mask; false: channel mask (needs an even channel count).</param>
    /// <param name="parity">0 or 1: which half conditions (swap it between stacked couplings).</param>
    public ConvCoupling(ImageShape shape, bool checkerboard, int parity, int hidden, nn.LayerOptions? options = null) : base(shape.Size)
    {
        if (parity is not (0 or 1)) throw new ArgumentException($"parity is 0 or 1, got {parity}");
        if (hidden < 1) throw new ArgumentException($"the hidden width must be positive, got {hidden}");
        if (!checkerboard && shape.Channels % 2 != 0) throw new ArgumentException($"a channel mask needs an even channel count, got {shape}");
        if (checkerboard && shape.Height * shape.Width < 2) throw new ArgumentException($"a checkerboard needs at least 2 pixels, got {shape}");
        Shape = shape;
        Checkerboard = checkerboard;
        int c = shape.Channels;
        var values = new float[shape.Size];
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < shape.Height; i++)
                for (int j = 0; j < shape.Width; j++)
                    values[(ch * shape.Height + i) * shape.Width + j] = (checkerboard ? (i + j + parity) % 2 == 0 : (ch < c / 2) == (parity == 0)) ? 1f : 0f;
        mask = register_buffer("mask", tensor(values).reshape(1, c, shape.Height, shape.Width).to(options?.dtype ?? ScalarType.Float32, options?.device ?? Device.CPU));
        scale = register_parameter("scale", ones([1, c, 1, 1], options?.dtype, options?.device));
        var last = new nn.Conv2d(hidden, 2 * c, 3, padding: 1, options: options);
        nn.init.zeros_(last.weight);
        nn.init.zeros_(last.bias!);
        network = register_module("net", new nn.Sequential(
            new nn.Conv2d(c, hidden, 3, padding: 1, options: options), nn.ReLU(),
            new nn.Conv2d(hidden, hidden, 3, padding: 1, options: options), nn.ReLU(),
            last));
    }

    public ImageShape Shape { get; }
    public bool Checkerboard { get; }
    public nn.Module<Tensor, Tensor> Network => network;

    /// <summary>s and t [B, C, H, W] at the conditioning part b ⊙ x, both zero where b = 1.</summary>
    private (Tensor s, Tensor t) Networks(Tensor conditioning)
    {
        var parts = network.forward(conditioning).chunk(2, 1);
        var free = 1.0 - mask;
        return (scale * parts[0].tanh() * free, parts[1] * free);
    }

    public override (Tensor y, Tensor logDet) Forward(Tensor x)
    {
        CheckInput(x, "x");
        using var scope = NewDisposeScope();
        var image = x.reshape(x.size(0), Shape.Channels, Shape.Height, Shape.Width);
        var (s, t) = Networks(image * mask);
        var y = image * s.exp() + t;
        return (y.reshape(x.size(0), Dim).MoveToOuterScope(), s.flatten(1).sum(1).MoveToOuterScope());
    }

    public override (Tensor x, Tensor logDet) Inverse(Tensor y)
    {
        CheckInput(y, "y");
        using var scope = NewDisposeScope();
        var image = y.reshape(y.size(0), Shape.Channels, Shape.Height, Shape.Width);
        var (s, t) = Networks(image * mask);
        var x = (image - t) * (-s).exp();
        return (x.reshape(y.size(0), Dim).MoveToOuterScope(), (-s.flatten(1).sum(1)).MoveToOuterScope());
    }
}

/// <summary>
/// RealNVP's multi-scale factoring (Dinh et al. 2017, §3.6): the first <c>Inner.Dim</c> coordinates (the first
/// channels in C×H×W order) go on through <see cref="Inner"/>; the rest leave as latent coordinates, unchanged.
/// Block-diagonal Jacobian: the log|det| is the inner flow's.
/// </summary>
public sealed class FactorOut : FlowLayer
{
    public FactorOut(int dim, FlowLayer inner) : base(dim)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (inner.Dim >= dim) throw new ArgumentException($"the inner flow must act on fewer than {dim} coordinates, got {inner.Dim}");
        Inner = register_module("inner", inner);
    }

    public FlowLayer Inner { get; }

    public override (Tensor y, Tensor logDet) Forward(Tensor x)
    {
        CheckInput(x, "x");
        using var scope = NewDisposeScope();
        var (y, logDet) = Inner.Forward(x.narrow(1, 0, Inner.Dim));
        return (cat([y, x.narrow(1, Inner.Dim, Dim - Inner.Dim)], 1).MoveToOuterScope(), logDet.MoveToOuterScope());
    }

    public override (Tensor x, Tensor logDet) Inverse(Tensor y)
    {
        CheckInput(y, "y");
        using var scope = NewDisposeScope();
        var (x, logDet) = Inner.Inverse(y.narrow(1, 0, Inner.Dim));
        return (cat([x, y.narrow(1, Inner.Dim, Dim - Inner.Dim)], 1).MoveToOuterScope(), logDet.MoveToOuterScope());
    }
}

/// <summary>
/// RealNVP's preprocessing of pixels x ∈ (−1, 1): p = α + (1 − 2α)(x + 1)/2, y = logit p ∈ R, so that the couplings
/// work on an unbounded space; α keeps p away from 0 and 1. log|det ∂y/∂x| = Σ_j [log((1 − 2α)/2) − log p_j − log(1 − p_j)].
/// The map is a bijection from (−b, b), b = 1 + 2α/(1 − 2α), onto R, so the flow's density is normalised on (−b, b)^D and
/// puts a little mass outside the pixel cube: bits/dim computed on the cube are conservative (never too low).
/// </summary>
public sealed class LogitTransform : FlowLayer
{
    public LogitTransform(int dim, double alpha = 0.05) : base(dim)
    {
        if (!(alpha > 0 && alpha < 0.5)) throw new ArgumentException($"alpha must lie in (0, 0.5), got {alpha}");
        Alpha = alpha;
    }

    public double Alpha { get; }

    private Tensor LogDet(Tensor logP, Tensor log1mP) => (-logP - log1mP + Math.Log((1 - 2 * Alpha) / 2)).sum(1);

    public override (Tensor y, Tensor logDet) Forward(Tensor x)
    {
        CheckInput(x, "x");
        using var scope = NewDisposeScope();
        var p = (x + 1.0) * (0.5 * (1 - 2 * Alpha)) + Alpha;
        var (logP, log1mP) = (p.log(), (1.0 - p).log());
        return ((logP - log1mP).MoveToOuterScope(), LogDet(logP, log1mP).MoveToOuterScope());
    }

    public override (Tensor x, Tensor logDet) Inverse(Tensor y)
    {
        CheckInput(y, "y");
        using var scope = NewDisposeScope();
        var x = (y.sigmoid() - Alpha) * (2 / (1 - 2 * Alpha)) - 1.0;
        var logDet = -LogDet(nn.functional.logsigmoid(y), nn.functional.logsigmoid(-y));
        return (x.MoveToOuterScope(), logDet.MoveToOuterScope());
    }
}

/// <summary>The sizes of an <see cref="ImageRealNvp"/>: per scale, <see cref="Couplings"/> checkerboard couplings,
/// a squeeze, <see cref="Couplings"/> channel couplings and half the channels factored out; then
/// <see cref="FinalCouplings"/> checkerboard couplings at the coarsest scale.</summary>
public sealed record ImageRealNvpOptions(ImageShape Shape, int Scales = 2, int Hidden = 32, int Couplings = 3, int FinalCouplings = 4,
    double Alpha = 0.05, double LearningRate = 1e-3);

/// <summary>
/// RealNVP on images (Dinh et al. 2017): logit transform of dequantized pixels, then a multi-scale stack of
/// checkerboard and channel affine couplings with squeezes and factored-out halves, on a standard normal base.
/// The log-likelihood is exact (NF-01, NF-02), so test bits/dim need no bound beyond the dequantization's (Jensen).
/// Trained by maximum likelihood on uniformly dequantized data.
/// </summary>
[GenerativeFamily("normalizing flow", LikelihoodKind.ExplicitExact, "maximum likelihood (dequantized)")]
public sealed class ImageRealNvp : IDisposable
{
    /// <summary>One training step's computation (FIG-08): <see cref="TrainStep"/>, bits/dim of dequantized images.</summary>
    public static ComputationGraph TrainingGraph { get; } = ComputationGraph.Of(
        [
            new("x", GraphNodeKind.Data, "pixel counts k ~ data"),
            new("u", GraphNodeKind.Random, "u ~ U[0, 1)"),
            new("dequantize", GraphNodeKind.Operation, "x = −1 + (k + u)·2/256"),
            new("Flow", GraphNodeKind.Network, "flow f<sub>θ</sub>: logit, checkerboard and channel<br>couplings, squeeze, factor-out"),
            new("base", GraphNodeKind.Operation, "log N(z; 0, I)"),
            new("bpd", GraphNodeKind.Objective, "bits/dim = −(log p(x) + D log(2/256)) / (D ln 2)"),
        ],
        "x -> dequantize -> Flow -> base -> bpd", "u -> dequantize", "Flow -> bpd");

    public ImageRealNvp(ImageRealNvpOptions options, nn.LayerOptions? layers = null)
    {
        if (options.Scales < 0 || options.Couplings < 1 || options.FinalCouplings < 1)
            throw new ArgumentException("an image RealNVP needs scales >= 0 and at least one coupling per stage");
        Options = options;
        Flow = new NormalizingFlow(new LogitTransform(options.Shape.Size, options.Alpha), Stage(options.Shape, options.Scales, layers));
        Optimizer = new optim.Adam(Flow.parameters(), options.LearningRate);
        Part = new TrainedPart("flow", Flow, Optimizer);
    }

    private FlowLayer Stage(ImageShape shape, int scales, nn.LayerOptions? layers)
    {
        int h = Options.Hidden;
        if (scales == 0)
            return new NormalizingFlow(Enumerable.Range(0, Options.FinalCouplings).Select(i => (FlowLayer)new ConvCoupling(shape, true, i % 2, h, layers)).ToArray());
        var squeeze = new Squeeze(shape);
        var squeezed = squeeze.Output;
        var kept = squeezed with { Channels = squeezed.Channels / 2 };
        var stage = new List<FlowLayer>();
        stage.AddRange(Enumerable.Range(0, Options.Couplings).Select(i => new ConvCoupling(shape, true, i % 2, h, layers)));
        stage.Add(squeeze);
        stage.AddRange(Enumerable.Range(0, Options.Couplings).Select(i => new ConvCoupling(squeezed, false, i % 2, h, layers)));
        stage.Add(new FactorOut(squeezed.Size, Stage(kept, scales - 1, layers)));
        return new NormalizingFlow(stage.ToArray());
    }

    public ImageRealNvpOptions Options { get; }
    public NormalizingFlow Flow { get; }
    public optim.Adam Optimizer { get; }
    public TrainedPart Part { get; }

    /// <summary>Pixels in [-1, 1] as the dataset stores them (k/127.5 − 1) back to counts k, then uniformly
    /// dequantized to x = −1 + (k + u)·2/256 (<see cref="Likelihood.Dequantize"/>), in the images' dtype.</summary>
    public static Tensor Dequantize(Tensor images, Generator generator)
    {
        using var scope = NewDisposeScope();
        var counts = ((images + 1.0) * 127.5).round().clamp(0, 255);
        return Likelihood.Dequantize(counts, -1.0, 1.0, generator).to(images.dtype).MoveToOuterScope();
    }

    /// <summary>log p(x) of dequantized images [B, C, H, W] (or [B, D]), exact.</summary>
    public Tensor LogProb(Tensor x) => Flow.LogProb(x.reshape(x.size(0), Options.Shape.Size));

    /// <summary>Bits/dim of dequantized images: −(log p(x) + D log(2/256))/(D ln 2), an upper bound on the discrete
    /// model's bits/dim in expectation over the dequantization noise.</summary>
    public Tensor BitsPerDim(Tensor dequantized)
    {
        using var scope = NewDisposeScope();
        return Likelihood.BitsPerDim(LogProb(dequantized), Options.Shape.Size, -1.0, 1.0).MoveToOuterScope();
    }

    /// <summary>One step: the batch's mean bits/dim on freshly dequantized images (the NLL up to a constant factor and offset).</summary>
    public void TrainStep(StepContext c) => c.Update(Part, BitsPerDim(Dequantize(c.Inputs, c.Generator)).mean(), "bpd");

    public Trainer Trainer(IBatchSource data, TrainerOptions options, Generator generator) => new([Part], data, TrainStep, options, generator);

    /// <summary>n images [n, C, H, W] from z ~ N(0, I) through the inverse flow, clamped to [-1, 1]: the logit transform
    /// only covers p ∈ (α, 1 − α), so a latent far out maps slightly past the pixel range.</summary>
    public Tensor Sample(long n, Generator generator)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var s = Options.Shape;
        return Flow.Sample(n, generator).clamp(-1.0, 1.0).reshape(n, s.Channels, s.Height, s.Width).MoveToOuterScope();
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        Flow.Dispose();
    }
}
