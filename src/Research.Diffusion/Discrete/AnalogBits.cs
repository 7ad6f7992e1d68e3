using MathNet.Numerics.Distributions;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>
/// Analog bits (Chen, Zhang &amp; Hinton 2022; BITS-01): a discrete value c in {0 .. 2^k - 1} becomes its k bits,
/// most significant first, and each bit b becomes the real s (2b - 1) in {-s, s}, so a continuous diffusion model
/// can be trained on the result; a generated x is decoded by thresholding at 0. Bits are computed in float64
/// (exact for k &lt;= <see cref="MaxBits"/>, since every quotient by a power of two is exact there).
/// </summary>
public static class AnalogBits
{
    /// <summary>The widest code: float64 represents every integer below 2^53 exactly.</summary>
    public const int MaxBits = 52;

    /// <summary>
    /// Integers [...] (an integer dtype, each in [0, 2^bits)) to analog bits [..., bits] in {-scale, scale},
    /// most significant bit first, of dtype <paramref name="dtype"/> (float64 unless given).
    /// </summary>
    public static Tensor Encode(Tensor values, int bits, double scale = 1.0, ScalarType dtype = ScalarType.Float64)
    {
        CheckBits(bits);
        if (!(scale > 0.0) || double.IsInfinity(scale)) throw new ArgumentException($"scale must be finite and positive, got {scale}", nameof(scale));
        if (values.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.UInt8))
            throw new ArgumentException($"values must have an integer dtype, got {values.dtype}", nameof(values));
        if (dtype is not (ScalarType.Float64 or ScalarType.Float32)) throw new ArgumentException($"dtype must be a float type, got {dtype}", nameof(dtype));
        using var scope = NewDisposeScope();
        var v = values.to(ScalarType.Float64).unsqueeze(-1);
        if (values.numel > 0)
        {
            var (lo, hi) = (v.min().ToDouble(), v.max().ToDouble());
            if (lo < 0.0 || hi >= Math.Pow(2.0, bits))
                throw new ArgumentException($"values must lie in [0, 2^{bits}) = [0, {Math.Pow(2.0, bits)}), got [{lo}, {hi}]", nameof(values));
        }
        var powers = Powers(bits, values.device);
        // bit j of c = floor(c / 2^j) - 2 floor(c / 2^(j+1)), exact in float64 for c < 2^53
        var b = (v / powers).floor() - (v / (powers * 2.0)).floor() * 2.0;
        return ((b * 2.0 - 1.0) * scale).to(dtype).MoveToOuterScope();
    }

    /// <summary>Analog bits [..., bits] (any real values) to integers [...] (int64): bit = 1 where x &gt; 0.</summary>
    public static Tensor Decode(Tensor x)
    {
        if (x.dtype is not (ScalarType.Float64 or ScalarType.Float32)) throw new ArgumentException($"x must have a float dtype, got {x.dtype}", nameof(x));
        if (x.dim < 1) throw new ArgumentException("x needs a last dimension holding the bits", nameof(x));
        var bits = (int)x.size(-1);
        CheckBits(bits);
        using var scope = NewDisposeScope();
        // NaN > 0 is false: a NaN would decode silently as bit 0, hiding a broken sampler
        if (x.numel > 0 && x.isnan().any().ToBoolean()) throw new ArgumentException("x contains NaN", nameof(x));
        return (x.gt(0.0).to(ScalarType.Float64) * Powers(bits, x.device)).sum(-1).to(ScalarType.Int64).MoveToOuterScope();
    }

    /// <summary>
    /// Per-bit error probability of decoding x + noise u, u ~ N(0, I): the sign of s + noise u flips with
    /// probability Phi(-s / noise) (BITS-01).
    /// </summary>
    public static double BitErrorProbability(double scale, double noise)
    {
        if (!(scale > 0.0)) throw new ArgumentException($"scale must be positive, got {scale}", nameof(scale));
        if (!(noise >= 0.0)) throw new ArgumentException($"noise must be non-negative, got {noise}", nameof(noise));
        return noise == 0.0 ? 0.0 : Normal.CDF(0.0, 1.0, -scale / noise);
    }

    /// <summary>2^(bits-1), ..., 2, 1 (most significant first) as float64 [bits].</summary>
    static Tensor Powers(int bits, Device device) =>
        tensor(Enumerable.Range(0, bits).Select(j => Math.Pow(2.0, bits - 1 - j)).ToArray(), ScalarType.Float64, device);

    static void CheckBits(int bits)
    {
        if (bits < 1 || bits > MaxBits) throw new ArgumentException($"bits must be in [1, {MaxBits}], got {bits}", nameof(bits));
    }
}
