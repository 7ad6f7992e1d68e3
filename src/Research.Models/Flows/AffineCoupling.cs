using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// RealNVP's affine coupling (Dinh et al. 2017; NF-03). A mask splits R^D into d conditioning
/// coordinates x_c (mask true), passed through unchanged, and D − d transformed ones x_r:
/// y_c = x_c, y_r = x_r ⊙ exp(s(x_c)) + t(x_c); inverse x_r = (y_r − t(y_c)) ⊙ exp(−s(y_c)).
/// The Jacobian is block-triangular with diagonal (1, …, 1, e^s), so log|det ∂y/∂x| = Σ_j s_j(x_c),
/// for any networks s, t: R^d → R^{D−d}, invertible or not.
/// </summary>
public sealed class AffineCoupling : FlowLayer
{
    private readonly long[] conditioning, transformed, unpermute;

    /// <param name="mask">length D; true marks a conditioning coordinate. Both parts must be non-empty.</param>
    /// <param name="scale">s: [B, d] → [B, D − d].</param>
    /// <param name="shift">t: [B, d] → [B, D − d].</param>
    public AffineCoupling(bool[] mask, nn.Module<Tensor, Tensor> scale, nn.Module<Tensor, Tensor> shift) : base(mask?.Length ?? 0)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(shift);
        conditioning = Enumerable.Range(0, Dim).Where(i => mask[i]).Select(i => (long)i).ToArray();
        transformed = Enumerable.Range(0, Dim).Where(i => !mask[i]).Select(i => (long)i).ToArray();
        if (conditioning.Length == 0 || transformed.Length == 0)
            throw new ArgumentException("the mask must mark at least one conditioning (true) and one transformed (false) coordinate");
        // cat([x_c, y_r]) lists the coordinates in the order conditioning ++ transformed; unpermute restores 0..D−1.
        unpermute = new long[Dim];
        var order = conditioning.Concat(transformed).ToArray();
        for (int i = 0; i < Dim; i++) unpermute[order[i]] = i;
        Mask = (bool[])mask.Clone();
        Scale = register_module("s", scale);
        Shift = register_module("t", shift);
    }

    /// <summary>s and t as 2-layer tanh MLPs d → hidden → D − d (Linear, tanh, Linear), with the layers'
    /// default initialisation.</summary>
    public static AffineCoupling WithTanhMlps(bool[] mask, int hidden, nn.LayerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (hidden < 1) throw new ArgumentException($"the hidden width must be positive, got {hidden}");
        int d = mask.Count(m => m), rest = mask.Length - d;
        nn.Sequential Mlp() => new(new nn.Linear(d, hidden, options: options), nn.Tanh(), new nn.Linear(hidden, rest, options: options));
        return new AffineCoupling(mask, Mlp(), Mlp());
    }

    /// <summary>The mask that conditions on coordinates i with i mod 2 = parity; alternate the parity
    /// between stacked couplings so that every coordinate gets transformed.</summary>
    public static bool[] AlternatingMask(int dim, int parity)
    {
        if (dim < 2) throw new ArgumentException($"a coupling needs D >= 2, got {dim}");
        if (parity is not (0 or 1)) throw new ArgumentException($"parity is 0 or 1, got {parity}");
        return Enumerable.Range(0, dim).Select(i => i % 2 == parity).ToArray();
    }

    /// <summary>The mask, length D: true marks a conditioning coordinate.</summary>
    public bool[] Mask { get; }
    /// <summary>The log-scale network s: [B, d] → [B, D − d].</summary>
    public nn.Module<Tensor, Tensor> Scale { get; }
    /// <summary>The shift network t: [B, d] → [B, D − d].</summary>
    public nn.Module<Tensor, Tensor> Shift { get; }

    /// <summary>y_c = x_c, y_r = x_r ⊙ exp(s(x_c)) + t(x_c), and log|det| = Σ_j s_j(x_c) [B]; x is [B, D].</summary>
    public override (Tensor y, Tensor logDet) Forward(Tensor x)
    {
        CheckInput(x, "x");
        using var scope = NewDisposeScope();
        var (xc, xr) = Split(x);
        var (s, t) = Networks(xc);
        var yr = xr * s.exp() + t;
        return (Join(xc, yr).MoveToOuterScope(), s.sum(1).MoveToOuterScope());
    }

    /// <summary>
    /// x_c = y_c, x_r = (y_r − t(y_c)) ⊙ exp(−s(y_c)), and log|det| = −Σ_j s_j(y_c) [B]; y is [B, D].
    /// </summary>
    public override (Tensor x, Tensor logDet) Inverse(Tensor y)
    {
        CheckInput(y, "y");
        using var scope = NewDisposeScope();
        var (yc, yr) = Split(y);
        var (s, t) = Networks(yc);
        var xr = (yr - t) * (-s).exp();
        return (Join(yc, xr).MoveToOuterScope(), (-s.sum(1)).MoveToOuterScope());
    }

    private (Tensor c, Tensor r) Split(Tensor x) =>
        (x.index_select(1, tensor(conditioning, device: x.device)), x.index_select(1, tensor(transformed, device: x.device)));

    private Tensor Join(Tensor c, Tensor r) => cat([c, r], 1).index_select(1, tensor(unpermute, device: c.device));

    private (Tensor s, Tensor t) Networks(Tensor c)
    {
        var s = Scale.forward(c);
        var t = Shift.forward(c);
        long[] expected = [c.size(0), transformed.Length];
        if (!s.shape.SequenceEqual(expected) || !t.shape.SequenceEqual(expected))
            throw new InvalidOperationException($"s and t must map [B, {conditioning.Length}] to [B, {transformed.Length}], got s [{string.Join(", ", s.shape)}], t [{string.Join(", ", t.shape)}]");
        return (s, t);
    }
}
