using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// Sinusoidal embedding of a time t in [0, 1] (Vaswani et al., as in DDPM): for frequencies
/// ω_j = 10000^(−j/half), j = 0..half−1, the features [sin(s·t·ω_j), cos(s·t·ω_j)] with s = 1000,
/// so that t = k/T for T = 1000 gets the integer-step embedding DDPM uses.
/// </summary>
public static class SinusoidalEmbedding
{
    /// <summary>s = 1000: time t in [0, 1] is embedded as the step t s.</summary>
    public const double TimeScale = 1000;

    /// <summary>t [B] (or [B, 1]) → [B, dim].</summary>
    public static Tensor Embed(Tensor t, long dim)
    {
        if (dim % 2 != 0) throw new ArgumentException($"embedding dimension must be even, got {dim}");
        using var scope = NewDisposeScope();
        long half = dim / 2;
        var frequencies = (arange(0, half, 1, t.dtype, t.device) * (-Math.Log(10000) / half)).exp();
        var angles = t.reshape(-1, 1) * TimeScale * frequencies.unsqueeze(0);
        return cat([angles.sin(), angles.cos()], 1).MoveToOuterScope();
    }
}

/// <summary>
/// A network ε̂(x, t) for low-dimensional data: the input x ∈ R^d concatenated with a sinusoidal
/// embedding of t, then <c>depth</c> hidden layers of <c>width</c> with SiLU, then a linear map to R^d.
/// The defaults are the benchmark model: d = 2, 64-dim embedding, 3 × 256.
/// </summary>
public sealed class TimeConditionedMlp : nn.Module
{
    private readonly nn.Linear[] layers;

    /// <summary>
    /// d = <paramref name="dataDim"/>, an embedding of <paramref name="embeddingDim"/> features (even),
    /// <paramref name="depth"/> hidden layers of <paramref name="width"/>.
    /// </summary>
    public TimeConditionedMlp(int dataDim = 2, int embeddingDim = 64, int width = 256, int depth = 3, nn.LayerOptions? options = null)
    {
        DataDim = dataDim;
        EmbeddingDim = embeddingDim;
        layers = new nn.Linear[depth + 1];
        for (int i = 0; i <= depth; i++)
        {
            long input = i == 0 ? dataDim + embeddingDim : width;
            long output = i == depth ? dataDim : width;
            layers[i] = register_module($"layer{i}", new nn.Linear(input, output, options: options));
        }
    }

    /// <summary>The data dimension d (input and output width).</summary>
    public int DataDim { get; }
    /// <summary>The width of the time embedding.</summary>
    public int EmbeddingDim { get; }

    /// <summary>x [B, d], t [B] with values in [0, 1] → [B, d].</summary>
    public Tensor forward(Tensor x, Tensor t)
    {
        // Each activation is disposed as soon as the next exists (Activations.Next): without autograd only one
        // [B, width] buffer pair is alive and stays in cache; a scope would keep every layer's output to the end.
        Tensor h;
        using (var embedding = SinusoidalEmbedding.Embed(t, EmbeddingDim)) h = cat([x, embedding], 1);
        for (int i = 0; i < layers.Length - 1; i++)
        {
            h = Activations.Next(h, layers[i].forward(h));
            h = Activations.Next(h, nn.functional.silu(h));
        }
        return Activations.Next(h, layers[^1].forward(h));
    }
}
