using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// The invertible affine layer y = W x + b on R^D (a full matrix, as Glow's 1×1 convolution on vectors):
/// log|det ∂y/∂x| = log|det W|, the same for every sample; the inverse solves W x = y − b rather than
/// forming W⁻¹. With z ~ N(0, I) at the latent end, x = W⁻¹(z − b) ~ N(−W⁻¹b, (WᵀW)⁻¹) (NF-01).
/// </summary>
public sealed class AffineFlow : FlowLayer
{
    /// <summary>Starts at the identity map (W = I, b = 0), the usual initialisation for training.</summary>
    public AffineFlow(int dim, nn.LayerOptions? options = null) : base(dim)
    {
        weight = register_parameter("weight", eye(dim, options?.dtype, options?.device));
        bias = register_parameter("bias", zeros([dim], options?.dtype, options?.device));
    }

    /// <summary>A given W [D, D] (invertible) and b [D]; the values are copied.</summary>
    public AffineFlow(Tensor weight, Tensor bias) : base(weight.dim == 2 ? (int)weight.size(0) : 0)
    {
        if (weight.dim != 2 || weight.size(0) != weight.size(1))
            throw new ArgumentException($"the weight must be a square matrix, got [{string.Join(", ", weight.shape)}]");
        if (bias.dim != 1 || bias.size(0) != Dim)
            throw new ArgumentException($"the bias must have shape [{Dim}], got [{string.Join(", ", bias.shape)}]");
        if (bias.dtype != weight.dtype) throw new ArgumentException($"weight is {weight.dtype} but bias is {bias.dtype}");
        using (no_grad())
        {
            var (_, logAbsDet) = linalg.slogdet(weight);
            using (logAbsDet)
                if (!double.IsFinite(logAbsDet.ToDouble())) throw new ArgumentException("the weight is singular: an affine flow needs det W != 0");
            this.weight = register_parameter("weight", weight.detach().clone());
            this.bias = register_parameter("bias", bias.detach().clone());
        }
    }

    private readonly Tensor weight, bias;
    /// <summary>The matrix W [D, D] (a trainable parameter).</summary>
    public Tensor Weight => weight;
    /// <summary>The offset b [D] (a trainable parameter).</summary>
    public Tensor Bias => bias;

    /// <summary>y = W x + b for x [B, D], and log|det W| repeated to [B].</summary>
    public override (Tensor y, Tensor logDet) Forward(Tensor x)
    {
        CheckInput(x, "x");
        using var scope = NewDisposeScope();
        var y = x.matmul(weight.mT) + bias;
        var logDet = linalg.slogdet(weight).logabsdet.expand(x.size(0));
        return (y.MoveToOuterScope(), logDet.MoveToOuterScope());
    }

    /// <summary>x = W⁻¹(y − b) by a linear solve for y [B, D], and −log|det W| repeated to [B].</summary>
    public override (Tensor x, Tensor logDet) Inverse(Tensor y)
    {
        CheckInput(y, "y");
        using var scope = NewDisposeScope();
        var x = linalg.solve(weight, (y - bias).mT).mT;
        var logDet = -linalg.slogdet(weight).logabsdet.expand(y.size(0));
        return (x.MoveToOuterScope(), logDet.MoveToOuterScope());
    }
}
