using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// One invertible layer of a normalizing flow on R^D, acting on batches [B, D]. <see cref="Forward"/> is
/// the normalising direction (data → latent, as f in Dinh et al.'s RealNVP) and <see cref="Inverse"/> the
/// generative one. Each direction returns, with its output, the log|det| of the Jacobian of the map it
/// just applied ([B], one per sample), so a caller never has to remember which sign belongs where:
/// log p(x) = log p_z(z) + Σ log|det| of the forward maps, = log p_z(z) − Σ log|det| of the inverse maps
/// (NF-01, NF-02).
/// </summary>
public abstract class FlowLayer : nn.Module
{
    /// <summary>A layer on R^<paramref name="dim"/>; throws ArgumentException for dim &lt; 1.</summary>
    protected FlowLayer(int dim)
    {
        if (dim < 1) throw new ArgumentException($"a flow acts on R^D with D >= 1, got D = {dim}");
        Dim = dim;
    }

    /// <summary>D, the dimension the layer acts on.</summary>
    public int Dim { get; }

    /// <summary>y = f(x) and log|det ∂y/∂x| for x [B, D].</summary>
    public abstract (Tensor y, Tensor logDet) Forward(Tensor x);

    /// <summary>x = f⁻¹(y) and log|det ∂x/∂y| (= −log|det ∂y/∂x| at that x) for y [B, D].</summary>
    public abstract (Tensor x, Tensor logDet) Inverse(Tensor y);

    /// <summary>
    /// Throws ArgumentException unless <paramref name="x"/> is [B, D]; <paramref name="name"/> names it in the message.
    /// </summary>
    protected void CheckInput(Tensor x, string name)
    {
        if (x.dim != 2 || x.size(1) != Dim)
            throw new ArgumentException($"{GetType().Name} expects {name} of shape [B, {Dim}], got [{string.Join(", ", x.shape)}]");
    }
}
