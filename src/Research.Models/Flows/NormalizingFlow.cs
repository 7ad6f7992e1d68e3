using Research.Diffusion;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// A normalizing flow: layers h_1, …, h_n applied in the normalising direction z_0 = x, z_k = h_k(z_{k−1}),
/// z = z_n, with a standard normal base N(0, I_D). By NF-02 (data → latent indexing),
/// log p(x) = log N(z; 0, I) + Σ_k log|det ∂z_k/∂z_{k−1}|; sampling runs the inverses in reverse order and
/// subtracts their log-dets' counterparts: log p(x) = log N(z) − Σ_k log|det ∂h_k⁻¹|.
/// A composed flow is itself a <see cref="FlowLayer"/>, so flows nest.
/// </summary>
public sealed class NormalizingFlow : FlowLayer
{
    private readonly FlowLayer[] layers;

    /// <summary>
    /// The composition of <paramref name="layers"/>, applied in order in the normalising direction. Throws
    /// ArgumentException for a null layer or layers of different dimensions.
    /// </summary>
    public NormalizingFlow(params FlowLayer[] layers) : base(layers is { Length: > 0 } ? layers[0].Dim : 0)
    {
        if (layers.Any(l => l is null)) throw new ArgumentException("a flow layer is null");
        if (layers.Any(l => l.Dim != Dim)) throw new ArgumentException($"every layer must act on R^{Dim}, got dimensions {string.Join(", ", layers.Select(l => l.Dim))}");
        this.layers = layers;
        for (int i = 0; i < layers.Length; i++) register_module(i.ToString(), layers[i]);
    }

    /// <summary>The layers h_1 … h_n, in the normalising (data → latent) order.</summary>
    public IReadOnlyList<FlowLayer> Layers => layers;

    /// <summary>log N(z; 0, I_D) per row of z [B, D]: the base density, the diffusion prior at unit variance.</summary>
    private static readonly Func<Tensor, Tensor> BaseLogProb = Likelihood.GaussianPrior(1.0);

    /// <summary>Data → latent: z and Σ_k log|det ∂z_k/∂z_{k−1}|.</summary>
    public override (Tensor y, Tensor logDet) Forward(Tensor x)
    {
        CheckInput(x, "x");
        using var scope = NewDisposeScope();
        var total = zeros([x.size(0)], x.dtype, x.device);
        foreach (var layer in layers)
        {
            var (next, logDet) = layer.Forward(x);
            x = next;
            total = total + logDet;
        }
        return (x.MoveToOuterScope(), total.MoveToOuterScope());
    }

    /// <summary>Latent → data: x and Σ_k log|det ∂h_k⁻¹| (the inverses applied last layer first).</summary>
    public override (Tensor x, Tensor logDet) Inverse(Tensor y)
    {
        CheckInput(y, "y");
        using var scope = NewDisposeScope();
        var total = zeros([y.size(0)], y.dtype, y.device);
        for (int k = layers.Length - 1; k >= 0; k--)
        {
            var (previous, logDet) = layers[k].Inverse(y);
            y = previous;
            total = total + logDet;
        }
        return (y.MoveToOuterScope(), total.MoveToOuterScope());
    }

    /// <summary>log p(x) for x [B, D] (NF-01, NF-02).</summary>
    public Tensor LogProb(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (z, logDet) = Forward(x);
        return (BaseLogProb(z) + logDet).MoveToOuterScope();
    }

    /// <summary>n samples x = h⁻¹(z), z ~ N(0, I), with their log-density from the generative direction.
    /// The dtype and device are the parameters' unless given.</summary>
    public (Tensor x, Tensor logProb) SampleWithLogProb(long n, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        if (n < 1) throw new ArgumentException($"the number of samples must be positive, got {n}");
        using var scope = NewDisposeScope();
        var reference = parameters().FirstOrDefault();
        var z = randn([n, Dim], dtype ?? reference?.dtype, device ?? reference?.device, generator);
        var (x, logDet) = Inverse(z);
        return (x.MoveToOuterScope(), (BaseLogProb(z) - logDet).MoveToOuterScope());
    }

    /// <summary>
    /// <paramref name="n"/> samples [n, D]: z ~ N(0, I) through the inverses (dtype and device default to the
    /// parameters').
    /// </summary>
    public Tensor Sample(long n, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        var (x, logProb) = SampleWithLogProb(n, generator, dtype, device);
        logProb.Dispose();
        return x;
    }
}
