namespace Research.Torch;

// Tensor methods and operators, named as in PyTorch. Each is one call into an op of ops.def.
public sealed partial class Tensor
{
    private static long B(bool b) => b ? 1 : 0;

    // ---- conversion -----------------------------------------------------------------------------
    /// <summary>
    /// A copy converted to <paramref name="dtype"/>, or this tensor's data when it already has it (Tensor.to(dtype)).
    /// </summary>
    public Tensor to(ScalarType dtype) => Op(OpId.to_dtype, this, [(long)dtype]);
    /// <summary>
    /// A copy on <paramref name="device"/>, or this tensor's data when already there (Tensor.to(device)).
    /// </summary>
    public Tensor to(Device device) => Op(OpId.to, this, [(long)dtype, (long)device.type, device.index]);
    /// <summary>
    /// A copy converted to <paramref name="dtype"/> on <paramref name="device"/> (Tensor.to(device, dtype)).
    /// </summary>
    public Tensor to(ScalarType dtype, Device device) => Op(OpId.to, this, [(long)dtype, (long)device.type, device.index]);
    /// <summary>
    /// Tensor.to("cpu" / "cuda:1"): the device given by name; throws ArgumentException for an unknown name.
    /// </summary>
    public Tensor to(string device) => to(Device.Parse(device));
    /// <summary>The tensor on the CPU (Tensor.cpu()).</summary>
    public Tensor cpu() => to(Device.CPU);
    /// <summary>The tensor on CUDA device <paramref name="index"/> (Tensor.cuda()).</summary>
    public Tensor cuda(int index = 0) => to(new Device(DeviceType.CUDA, index));
    /// <summary>Converted to float32 (Tensor.float()).</summary>
    public Tensor @float() => to(ScalarType.Float32);
    /// <summary>Converted to float64 (Tensor.double()).</summary>
    public Tensor @double() => to(ScalarType.Float64);
    /// <summary>Converted to int64 (Tensor.long()).</summary>
    public Tensor @long() => to(ScalarType.Int64);
    /// <summary>Converted to bool, nonzero to true (Tensor.bool()).</summary>
    public Tensor @bool() => to(ScalarType.Bool);
    /// <summary>A copy with its own storage that stays in the autograd graph (Tensor.clone()).</summary>
    public Tensor clone() => Op(OpId.clone, this);
    /// <summary>
    /// The tensor with contiguous row-major storage: this tensor's data if it already has it, else a copy
    /// (Tensor.contiguous()).
    /// </summary>
    public Tensor contiguous() => Op(OpId.contiguous, this);
    /// <summary>The same data, cut from the autograd graph.</summary>
    public Tensor detach() => Op(OpId.detach, this);
    /// <summary>A second handle to the same tensor (same data, same graph node), owned separately.</summary>
    public Tensor alias() => Op(OpId.alias, this);

    // ---- elementwise ----------------------------------------------------------------------------
    /// <summary>−x, elementwise (torch.neg).</summary>
    public Tensor neg() => Op(OpId.neg, this);
    /// <summary>|x|, elementwise (torch.abs).</summary>
    public Tensor abs() => Op(OpId.abs, this);
    /// <summary>e^x, elementwise (torch.exp).</summary>
    public Tensor exp() => Op(OpId.exp, this);
    /// <summary>Natural logarithm, elementwise (torch.log).</summary>
    public Tensor log() => Op(OpId.log, this);
    /// <summary>log(1 + x), accurate for small x (torch.log1p).</summary>
    public Tensor log1p() => Op(OpId.log1p, this);
    /// <summary>e^x − 1, accurate for small x (torch.expm1).</summary>
    public Tensor expm1() => Op(OpId.expm1, this);
    /// <summary>Base-2 logarithm, elementwise (torch.log2).</summary>
    public Tensor log2() => Op(OpId.log2, this);
    /// <summary>Square root, elementwise (torch.sqrt).</summary>
    public Tensor sqrt() => Op(OpId.sqrt, this);
    /// <summary>1/sqrt(x), elementwise (torch.rsqrt).</summary>
    public Tensor rsqrt() => Op(OpId.rsqrt, this);
    /// <summary>x², elementwise (torch.square).</summary>
    public Tensor square() => Op(OpId.square, this);
    /// <summary>1/x, elementwise (torch.reciprocal).</summary>
    public Tensor reciprocal() => Op(OpId.reciprocal, this);
    /// <summary>Sine of x in radians (torch.sin).</summary>
    public Tensor sin() => Op(OpId.sin, this);
    /// <summary>Cosine of x in radians (torch.cos).</summary>
    public Tensor cos() => Op(OpId.cos, this);
    /// <summary>Tangent of x in radians (torch.tan).</summary>
    public Tensor tan() => Op(OpId.tan, this);
    /// <summary>Arcsine, in radians (torch.asin).</summary>
    public Tensor asin() => Op(OpId.asin, this);
    /// <summary>Arccosine, in radians (torch.acos).</summary>
    public Tensor acos() => Op(OpId.acos, this);
    /// <summary>Arctangent, in radians (torch.atan).</summary>
    public Tensor atan() => Op(OpId.atan, this);
    /// <summary>Hyperbolic sine (torch.sinh).</summary>
    public Tensor sinh() => Op(OpId.sinh, this);
    /// <summary>Hyperbolic cosine (torch.cosh).</summary>
    public Tensor cosh() => Op(OpId.cosh, this);
    /// <summary>Hyperbolic tangent (torch.tanh).</summary>
    public Tensor tanh() => Op(OpId.tanh, this);
    /// <summary>Logistic function 1/(1 + e^−x) (torch.sigmoid).</summary>
    public Tensor sigmoid() => Op(OpId.sigmoid, this);
    /// <summary>max(x, 0), elementwise (torch.relu).</summary>
    public Tensor relu() => Op(OpId.relu, this);
    /// <summary>Error function erf(x) (torch.erf).</summary>
    public Tensor erf() => Op(OpId.erf, this);
    /// <summary>Inverse error function, defined on (−1, 1) (torch.erfinv).</summary>
    public Tensor erfinv() => Op(OpId.erfinv, this);
    /// <summary>log|Γ(x)|, elementwise (torch.lgamma).</summary>
    public Tensor lgamma() => Op(OpId.lgamma, this);
    /// <summary>−1, 0 or 1 by the sign of x (torch.sign).</summary>
    public Tensor sign() => Op(OpId.sign, this);
    /// <summary>Largest integer ≤ x, same dtype (torch.floor).</summary>
    public Tensor floor() => Op(OpId.floor, this);
    /// <summary>Smallest integer ≥ x, same dtype (torch.ceil).</summary>
    public Tensor ceil() => Op(OpId.ceil, this);
    /// <summary>Rounds to the nearest integer, half to even (torch.round).</summary>
    public Tensor round() => Op(OpId.round, this);
    /// <summary>Rounds toward zero (torch.trunc).</summary>
    public Tensor trunc() => Op(OpId.trunc, this);
    /// <summary>Base-10 logarithm, elementwise (torch.log10).</summary>
    public Tensor log10() => Op(OpId.log10, this);
    /// <summary>Elementwise logical not, as a bool tensor (torch.logical_not).</summary>
    public Tensor logical_not() => Op(OpId.logical_not, this);
    /// <summary>Bool mask of the NaN elements (torch.isnan).</summary>
    public Tensor isnan() => Op(OpId.isnan, this);
    /// <summary>Bool mask of the finite elements: neither NaN nor ±inf (torch.isfinite).</summary>
    public Tensor isfinite() => Op(OpId.isfinite, this);
    /// <summary>Clamps into [min, max]; a null bound is not applied (torch.clamp).</summary>
    public Tensor clamp(double? min = null, double? max = null) => Op(OpId.clamp, this, default, [min ?? double.NaN, max ?? double.NaN]);
    /// <summary>max(x, min), elementwise (torch.clamp_min).</summary>
    public Tensor clamp_min(double min) => clamp(min, null);
    /// <summary>min(x, max), elementwise (torch.clamp_max).</summary>
    public Tensor clamp_max(double max) => clamp(null, max);
    /// <summary>x^exponent, elementwise (torch.pow with a scalar exponent).</summary>
    public Tensor pow(double exponent) => Op(OpId.pow_scalar, this, default, [exponent]);
    /// <summary>x^exponent with a broadcast tensor exponent (torch.pow).</summary>
    public Tensor pow(Tensor exponent) => Op(OpId.pow, this, exponent);

    /// <summary>this + other, broadcast (torch.add).</summary>
    public Tensor add(Tensor other) => Op(OpId.add, this, other);
    /// <summary>this − other, broadcast (torch.sub).</summary>
    public Tensor sub(Tensor other) => Op(OpId.sub, this, other);
    /// <summary>this · other, elementwise, broadcast (torch.mul).</summary>
    public Tensor mul(Tensor other) => Op(OpId.mul, this, other);
    /// <summary>this / other, elementwise true division, broadcast (torch.div).</summary>
    public Tensor div(Tensor other) => Op(OpId.div, this, other);
    /// <summary>this + a scalar (torch.add).</summary>
    public Tensor add(double other) => Op(OpId.add_scalar, this, default, [other]);
    /// <summary>this − a scalar (torch.sub).</summary>
    public Tensor sub(double other) => Op(OpId.sub_scalar, this, default, [other]);
    /// <summary>this times a scalar (torch.mul).</summary>
    public Tensor mul(double other) => Op(OpId.mul_scalar, this, default, [other]);
    /// <summary>this divided by a scalar (torch.div).</summary>
    public Tensor div(double other) => Op(OpId.div_scalar, this, default, [other]);
    /// <summary>
    /// atan2(this, other): the angle of the point (other, this), in radians, broadcast (torch.atan2).
    /// </summary>
    public Tensor atan2(Tensor other) => Op(OpId.atan2, this, other);
    /// <summary>Elementwise maximum, broadcast; NaN propagates (torch.maximum).</summary>
    public Tensor maximum(Tensor other) => Op(OpId.maximum, this, other);
    /// <summary>Elementwise minimum, broadcast; NaN propagates (torch.minimum).</summary>
    public Tensor minimum(Tensor other) => Op(OpId.minimum, this, other);
    /// <summary>Remainder of truncated division, with the sign of this (torch.fmod).</summary>
    public Tensor fmod(Tensor other) => Op(OpId.fmod, this, other);
    /// <summary>Remainder of floor division, with the sign of other (torch.remainder).</summary>
    public Tensor remainder(Tensor other) => Op(OpId.remainder, this, other);
    /// <summary>this + weight · (end − this), broadcast (torch.lerp).</summary>
    public Tensor lerp(Tensor end, Tensor weight) => Op(OpId.lerp, this, end, weight);

    /// <summary>Bool mask of this == other, broadcast (torch.eq).</summary>
    public Tensor eq(Tensor other) => Op(OpId.eq, this, other);
    /// <summary>Bool mask of this != other, broadcast (torch.ne).</summary>
    public Tensor ne(Tensor other) => Op(OpId.ne, this, other);
    /// <summary>Bool mask of this &lt; other, broadcast (torch.lt).</summary>
    public Tensor lt(Tensor other) => Op(OpId.lt, this, other);
    /// <summary>Bool mask of this &lt;= other, broadcast (torch.le).</summary>
    public Tensor le(Tensor other) => Op(OpId.le, this, other);
    /// <summary>Bool mask of this &gt; other, broadcast (torch.gt).</summary>
    public Tensor gt(Tensor other) => Op(OpId.gt, this, other);
    /// <summary>Bool mask of this &gt;= other, broadcast (torch.ge).</summary>
    public Tensor ge(Tensor other) => Op(OpId.ge, this, other);
    /// <summary>Bool mask of this == a scalar (torch.eq).</summary>
    public Tensor eq(double other) => Op(OpId.eq_scalar, this, default, [other]);
    /// <summary>Bool mask of this != a scalar (torch.ne).</summary>
    public Tensor ne(double other) => Op(OpId.ne_scalar, this, default, [other]);
    /// <summary>Bool mask of this &lt; a scalar (torch.lt).</summary>
    public Tensor lt(double other) => Op(OpId.lt_scalar, this, default, [other]);
    /// <summary>Bool mask of this &lt;= a scalar (torch.le).</summary>
    public Tensor le(double other) => Op(OpId.le_scalar, this, default, [other]);
    /// <summary>Bool mask of this &gt; a scalar (torch.gt).</summary>
    public Tensor gt(double other) => Op(OpId.gt_scalar, this, default, [other]);
    /// <summary>Bool mask of this &gt;= a scalar (torch.ge).</summary>
    public Tensor ge(double other) => Op(OpId.ge_scalar, this, default, [other]);
    /// <summary>Elementwise logical and, broadcast, as a bool tensor (torch.logical_and).</summary>
    public Tensor logical_and(Tensor other) => Op(OpId.logical_and, this, other);
    /// <summary>Elementwise logical or, broadcast, as a bool tensor (torch.logical_or).</summary>
    public Tensor logical_or(Tensor other) => Op(OpId.logical_or, this, other);
    /// <summary>True when every element is within atol + rtol·|other| of other.</summary>
    public bool allclose(Tensor other, double rtol = 1e-5, double atol = 1e-8)
    {
        using var r = Op(OpId.allclose, this, other, default, [rtol, atol]);
        return r.ToBoolean();
    }

    /// <summary>a + b, broadcast.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Op(OpId.add, a, b);
    /// <summary>a − b, broadcast.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Op(OpId.sub, a, b);
    /// <summary>a · b, elementwise, broadcast.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Op(OpId.mul, a, b);
    /// <summary>a / b, elementwise, broadcast.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Op(OpId.div, a, b);
    /// <summary>a + b for a scalar b.</summary>
    public static Tensor operator +(Tensor a, double b) => Op(OpId.add_scalar, a, default, [b]);
    /// <summary>a − b for a scalar b.</summary>
    public static Tensor operator -(Tensor a, double b) => Op(OpId.sub_scalar, a, default, [b]);
    /// <summary>a · b for a scalar b.</summary>
    public static Tensor operator *(Tensor a, double b) => Op(OpId.mul_scalar, a, default, [b]);
    /// <summary>a / b for a scalar b.</summary>
    public static Tensor operator /(Tensor a, double b) => Op(OpId.div_scalar, a, default, [b]);
    /// <summary>a + b for a scalar a.</summary>
    public static Tensor operator +(double a, Tensor b) => Op(OpId.add_scalar, b, default, [a]);
    /// <summary>a − b for a scalar a (torch.rsub).</summary>
    public static Tensor operator -(double a, Tensor b) => Op(OpId.rsub_scalar, b, default, [a]);
    /// <summary>a · b for a scalar a.</summary>
    public static Tensor operator *(double a, Tensor b) => Op(OpId.mul_scalar, b, default, [a]);
    /// <summary>a / b for a scalar a, elementwise.</summary>
    public static Tensor operator /(double a, Tensor b) => Op(OpId.rdiv_scalar, b, default, [a]);
    /// <summary>−a, elementwise.</summary>
    public static Tensor operator -(Tensor a) => Op(OpId.neg, a);
    // Integer scalars (F# does not widen int literals for operators: x * 2, 1 - x).
    /// <summary>a + b for an int b (as a double).</summary>
    public static Tensor operator +(Tensor a, int b) => a + (double)b;
    /// <summary>a − b for an int b.</summary>
    public static Tensor operator -(Tensor a, int b) => a - (double)b;
    /// <summary>a · b for an int b.</summary>
    public static Tensor operator *(Tensor a, int b) => a * (double)b;
    /// <summary>a / b for an int b (true division).</summary>
    public static Tensor operator /(Tensor a, int b) => a / (double)b;
    /// <summary>a + b for an int a.</summary>
    public static Tensor operator +(int a, Tensor b) => (double)a + b;
    /// <summary>a − b for an int a.</summary>
    public static Tensor operator -(int a, Tensor b) => (double)a - b;
    /// <summary>a · b for an int a.</summary>
    public static Tensor operator *(int a, Tensor b) => (double)a * b;
    /// <summary>a / b for an int a (true division).</summary>
    public static Tensor operator /(int a, Tensor b) => (double)a / b;

    // Comparisons give bool masks, as in PyTorch (== and != stay reference equality in .NET: use eq, ne).
    /// <summary>Bool mask of a &gt; b, broadcast.</summary>
    public static Tensor operator >(Tensor a, Tensor b) => a.gt(b);
    /// <summary>Bool mask of a &lt; b, broadcast.</summary>
    public static Tensor operator <(Tensor a, Tensor b) => a.lt(b);
    /// <summary>Bool mask of a &gt;= b, broadcast.</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => a.ge(b);
    /// <summary>Bool mask of a &lt;= b, broadcast.</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => a.le(b);
    /// <summary>Bool mask of a &gt; b for a scalar b.</summary>
    public static Tensor operator >(Tensor a, double b) => a.gt(b);
    /// <summary>Bool mask of a &lt; b for a scalar b.</summary>
    public static Tensor operator <(Tensor a, double b) => a.lt(b);
    /// <summary>Bool mask of a &gt;= b for a scalar b.</summary>
    public static Tensor operator >=(Tensor a, double b) => a.ge(b);
    /// <summary>Bool mask of a &lt;= b for a scalar b.</summary>
    public static Tensor operator <=(Tensor a, double b) => a.le(b);
    /// <summary>Bool mask of a &gt; b for a scalar a.</summary>
    public static Tensor operator >(double a, Tensor b) => b.lt(a);
    /// <summary>Bool mask of a &lt; b for a scalar a.</summary>
    public static Tensor operator <(double a, Tensor b) => b.gt(a);
    /// <summary>Bool mask of a &gt;= b for a scalar a.</summary>
    public static Tensor operator >=(double a, Tensor b) => b.le(a);
    /// <summary>Bool mask of a &lt;= b for a scalar a.</summary>
    public static Tensor operator <=(double a, Tensor b) => b.ge(a);
    /// <summary>Elementwise logical and, or and not of bool masks.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => a.logical_and(b);
    /// <summary>Elementwise logical or of bool masks.</summary>
    public static Tensor operator |(Tensor a, Tensor b) => a.logical_or(b);
    /// <summary>Elementwise logical not of a bool mask.</summary>
    public static Tensor operator !(Tensor a) => a.logical_not();

    /// <summary>The value of a one-element tensor: <c>(double)t</c> in C#, <c>float t</c> in F#.</summary>
    public static explicit operator double(Tensor t) => t.ToDouble();
    /// <summary>The value of a one-element tensor as a float.</summary>
    public static explicit operator float(Tensor t) => t.ToSingle();
    /// <summary>The value of a one-element tensor as a long.</summary>
    public static explicit operator long(Tensor t) => t.ToInt64();
    /// <summary>The value of a one-element tensor as an int; throws OverflowException outside the int range.</summary>
    public static explicit operator int(Tensor t) => checked((int)t.ToInt64());
    /// <summary>The value of a one-element tensor as a bool.</summary>
    public static explicit operator bool(Tensor t) => t.ToBoolean();

    // Static members named as System.Math's, so F#'s sqrt, exp, log, abs, round, ... work on tensors.
    /// <summary>sqrt(x), for F#'s sqrt.</summary>
    public static Tensor Sqrt(Tensor x) => x.sqrt();
    /// <summary>e^x, for F#'s exp.</summary>
    public static Tensor Exp(Tensor x) => x.exp();
    /// <summary>Natural logarithm, for F#'s log.</summary>
    public static Tensor Log(Tensor x) => x.log();
    /// <summary>Base-10 logarithm, for F#'s log10.</summary>
    public static Tensor Log10(Tensor x) => x.log10();
    /// <summary>|x|, for F#'s abs.</summary>
    public static Tensor Abs(Tensor x) => x.abs();
    /// <summary>Sine, for F#'s sin.</summary>
    public static Tensor Sin(Tensor x) => x.sin();
    /// <summary>Cosine, for F#'s cos.</summary>
    public static Tensor Cos(Tensor x) => x.cos();
    /// <summary>Tangent, for F#'s tan.</summary>
    public static Tensor Tan(Tensor x) => x.tan();
    /// <summary>Arcsine, for F#'s asin.</summary>
    public static Tensor Asin(Tensor x) => x.asin();
    /// <summary>Arccosine, for F#'s acos.</summary>
    public static Tensor Acos(Tensor x) => x.acos();
    /// <summary>Arctangent, for F#'s atan.</summary>
    public static Tensor Atan(Tensor x) => x.atan();
    /// <summary>atan2(y, x), for F#'s atan2.</summary>
    public static Tensor Atan2(Tensor y, Tensor x) => y.atan2(x);
    /// <summary>Hyperbolic sine, for F#'s sinh.</summary>
    public static Tensor Sinh(Tensor x) => x.sinh();
    /// <summary>Hyperbolic cosine, for F#'s cosh.</summary>
    public static Tensor Cosh(Tensor x) => x.cosh();
    /// <summary>Hyperbolic tangent, for F#'s tanh.</summary>
    public static Tensor Tanh(Tensor x) => x.tanh();
    /// <summary>Floor, for F#'s floor.</summary>
    public static Tensor Floor(Tensor x) => x.floor();
    /// <summary>Ceiling, for F#'s ceil.</summary>
    public static Tensor Ceiling(Tensor x) => x.ceil();
    /// <summary>Rounds half to even, as PyTorch's round (and .NET's Math.Round) do.</summary>
    public static Tensor Round(Tensor x) => x.round();
    /// <summary>Rounds toward zero, for F#'s truncate.</summary>
    public static Tensor Truncate(Tensor x) => x.trunc();
    /// <summary>F#'s <c>**</c>.</summary>
    public static Tensor Pow(Tensor a, double b) => a.pow(b);
    /// <summary>a^b elementwise, broadcast: F#'s <c>**</c> with a tensor exponent.</summary>
    public static Tensor Pow(Tensor a, Tensor b) => a.pow(b);
    /// <summary>a^b for a scalar base a: F#'s <c>**</c>.</summary>
    public static Tensor Pow(double a, Tensor b) => Op(OpId.scalar_pow, b, default, [a]);
    /// <summary>a^b for an int exponent: F#'s <c>**</c>.</summary>
    public static Tensor Pow(Tensor a, int b) => a.pow(b);

    // ---- in place (optimizers, EMA, buffers) -----------------------------------------------------
    /// <summary>this += alpha · other, in place; returns this (Tensor.add_).</summary>
    public Tensor add_(Tensor other, double alpha = 1.0) => OpInPlace(OpId.add_, this, other, reals: [alpha]);
    /// <summary>this += a scalar, in place; returns this (Tensor.add_).</summary>
    public Tensor add_(double other) => OpInPlace(OpId.add_scalar_, this, reals: [other]);
    /// <summary>this −= other, in place; returns this (Tensor.sub_).</summary>
    public Tensor sub_(Tensor other) => OpInPlace(OpId.sub_, this, other);
    /// <summary>this ·= other, in place; returns this (Tensor.mul_).</summary>
    public Tensor mul_(Tensor other) => OpInPlace(OpId.mul_, this, other);
    /// <summary>this ·= a scalar, in place; returns this (Tensor.mul_).</summary>
    public Tensor mul_(double other) => OpInPlace(OpId.mul_scalar_, this, reals: [other]);
    /// <summary>this /= other, in place; returns this (Tensor.div_).</summary>
    public Tensor div_(Tensor other) => OpInPlace(OpId.div_, this, other);
    /// <summary>this += value · t1 · t2</summary>
    public Tensor addcmul_(Tensor t1, Tensor t2, double value = 1.0) => OpInPlace(OpId.addcmul_, this, t1, t2, [value]);
    /// <summary>this += value · t1 / t2</summary>
    public Tensor addcdiv_(Tensor t1, Tensor t2, double value = 1.0) => OpInPlace(OpId.addcdiv_, this, t1, t2, [value]);
    /// <summary>this += weight · (end − this)</summary>
    public Tensor lerp_(Tensor end, double weight) => OpInPlace(OpId.lerp_, this, end, reals: [weight]);
    /// <summary>
    /// Copies <paramref name="source"/> (broadcast, converted) into this; returns this (Tensor.copy_).
    /// </summary>
    public Tensor copy_(Tensor source) => OpInPlace(OpId.copy_, this, source);
    /// <summary>Sets every element to 0; returns this (Tensor.zero_).</summary>
    public Tensor zero_() => OpInPlace(OpId.zero_, this);
    /// <summary>Sets every element to <paramref name="value"/>; returns this (Tensor.fill_).</summary>
    public Tensor fill_(double value) => OpInPlace(OpId.fill_, this, reals: [value]);
    /// <summary>Clamps into [min, max] in place; a null bound is not applied (Tensor.clamp_).</summary>
    public Tensor clamp_(double? min = null, double? max = null) => OpInPlace(OpId.clamp_, this, reals: [min ?? double.NaN, max ?? double.NaN]);
    /// <summary>Square root in place; returns this (Tensor.sqrt_).</summary>
    public Tensor sqrt_() => OpInPlace(OpId.sqrt_, this);
    /// <summary>
    /// Fills with N(mean, std²) draws from <paramref name="generator"/> (the default generator when null)
    /// (Tensor.normal_).
    /// </summary>
    public Tensor normal_(double mean = 0, double std = 1, Generator? generator = null) => OpInPlace(OpId.normal_, this, reals: [mean, std], generator: generator);
    /// <summary>
    /// Fills with U[from, to) draws from <paramref name="generator"/> (the default generator when null)
    /// (Tensor.uniform_).
    /// </summary>
    public Tensor uniform_(double from = 0, double to = 1, Generator? generator = null) => OpInPlace(OpId.uniform_, this, reals: [from, to], generator: generator);
    /// <summary>Replaces this tensor's data (any shape, dtype or device), keeping the object and its
    /// autograd identity: how modules move parameters.</summary>
    public void set_data(Tensor data) => OpInPlace(OpId.set_data, this, data);
    /// <summary>
    /// Sets the elements where <paramref name="mask"/> (broadcast) is true to <paramref name="value"/>, in place
    /// (Tensor.masked_fill_).
    /// </summary>
    public Tensor masked_fill_(Tensor mask, double value) => OpInPlace(OpId.masked_fill_, this, mask, reals: [value]);

    // ---- reductions -----------------------------------------------------------------------------
    /// <summary>Sum of all elements, a 0-dim tensor (torch.sum).</summary>
    public Tensor sum() => Op(OpId.sum_all, this);
    /// <summary>Sum along <paramref name="dim"/> (torch.sum).</summary>
    public Tensor sum(long dim, bool keepdim = false) => Op(OpId.sum, this, [B(keepdim), dim]);
    /// <summary>Sum along <paramref name="dims"/> (torch.sum).</summary>
    public Tensor sum(long[] dims, bool keepdim = false) => Op(OpId.sum, this, [B(keepdim), .. dims]);
    /// <summary>Mean of all elements, a 0-dim tensor (torch.mean).</summary>
    public Tensor mean() => Op(OpId.mean_all, this);
    /// <summary>Mean along <paramref name="dim"/> (torch.mean).</summary>
    public Tensor mean(long dim, bool keepdim = false) => Op(OpId.mean, this, [B(keepdim), dim]);
    /// <summary>Mean along <paramref name="dims"/> (torch.mean).</summary>
    public Tensor mean(long[] dims, bool keepdim = false) => Op(OpId.mean, this, [B(keepdim), .. dims]);
    /// <summary>Product of all elements, a 0-dim tensor (torch.prod).</summary>
    public Tensor prod() => Op(OpId.prod_all, this);
    /// <summary>Maximum of all elements, a 0-dim tensor (torch.max).</summary>
    public Tensor max() => Op(OpId.max_all, this);
    /// <summary>Minimum of all elements, a 0-dim tensor (torch.min).</summary>
    public Tensor min() => Op(OpId.min_all, this);
    /// <summary>(values, indices) of the maxima along dim; a System.Tuple, so F# destructures it as
    /// <c>let values, indices = x.max 1</c> and C# as <c>var (values, indices) = x.max(1)</c>.</summary>
    public Tuple<Tensor, Tensor> max(long dim, bool keepdim = false) => Pair(OpMany(OpId.max_dim, [this], [dim, B(keepdim)], 2));
    /// <summary>(values, indices) of the minima along dim, as <see cref="max(long, bool)"/> (torch.min).</summary>
    public Tuple<Tensor, Tensor> min(long dim, bool keepdim = false) => Pair(OpMany(OpId.min_dim, [this], [dim, B(keepdim)], 2));
    /// <summary>Maximum along <paramref name="dim"/>, values only (torch.amax).</summary>
    public Tensor amax(long dim, bool keepdim = false) => Op(OpId.amax, this, [B(keepdim), dim]);
    /// <summary>Maximum along <paramref name="dims"/>, values only (torch.amax).</summary>
    public Tensor amax(long[] dims, bool keepdim = false) => Op(OpId.amax, this, [B(keepdim), .. dims]);
    /// <summary>Minimum along <paramref name="dim"/>, values only (torch.amin).</summary>
    public Tensor amin(long dim, bool keepdim = false) => Op(OpId.amin, this, [B(keepdim), dim]);
    /// <summary>Minimum along <paramref name="dims"/>, values only (torch.amin).</summary>
    public Tensor amin(long[] dims, bool keepdim = false) => Op(OpId.amin, this, [B(keepdim), .. dims]);
    /// <summary>Int64 index of the maximum along <paramref name="dim"/> (torch.argmax).</summary>
    public Tensor argmax(long dim, bool keepdim = false) => Op(OpId.argmax, this, [dim, B(keepdim)]);
    /// <summary>Int64 index of the minimum along <paramref name="dim"/> (torch.argmin).</summary>
    public Tensor argmin(long dim, bool keepdim = false) => Op(OpId.argmin, this, [dim, B(keepdim)]);
    /// <summary>log Σ exp(x) along <paramref name="dim"/>, computed stably (torch.logsumexp).</summary>
    public Tensor logsumexp(long dim, bool keepdim = false) => Op(OpId.logsumexp, this, [B(keepdim), dim]);
    /// <summary>log Σ exp(x) along <paramref name="dims"/>, computed stably (torch.logsumexp).</summary>
    public Tensor logsumexp(long[] dims, bool keepdim = false) => Op(OpId.logsumexp, this, [B(keepdim), .. dims]);
    /// <summary>Variance over all elements (unbiased: divides by n − 1 unless <paramref name="unbiased"/> is false).</summary>
    public Tensor var(bool unbiased = true) => Op(OpId.var, this, [B(unbiased), 0, .. AllDims()]);
    /// <summary>Variance along <paramref name="dim"/>, unbiased (n − 1) by default (torch.var).</summary>
    public Tensor var(long dim, bool unbiased = true, bool keepdim = false) => Op(OpId.var, this, [B(unbiased), B(keepdim), dim]);
    /// <summary>Variance along <paramref name="dims"/>, unbiased (n − 1) by default (torch.var).</summary>
    public Tensor var(long[] dims, bool unbiased = true, bool keepdim = false) => Op(OpId.var, this, [B(unbiased), B(keepdim), .. dims]);
    /// <summary>Standard deviation over all elements, unbiased (n − 1) by default (torch.std).</summary>
    public Tensor std(bool unbiased = true) => Op(OpId.std, this, [B(unbiased), 0, .. AllDims()]);
    /// <summary>Standard deviation along <paramref name="dim"/>, unbiased by default (torch.std).</summary>
    public Tensor std(long dim, bool unbiased = true, bool keepdim = false) => Op(OpId.std, this, [B(unbiased), B(keepdim), dim]);
    /// <summary>Standard deviation along <paramref name="dims"/>, unbiased by default (torch.std).</summary>
    public Tensor std(long[] dims, bool unbiased = true, bool keepdim = false) => Op(OpId.std, this, [B(unbiased), B(keepdim), .. dims]);
    /// <summary>The p-norm over all elements, or over <paramref name="dims"/>.</summary>
    public Tensor norm(double p = 2, long[]? dims = null, bool keepdim = false) =>
        Op(OpId.norm, this, [B(keepdim), .. dims ?? AllDims()], [p]);
    /// <summary>Cumulative sum along <paramref name="dim"/> (torch.cumsum).</summary>
    public Tensor cumsum(long dim) => Op(OpId.cumsum, this, [dim]);
    /// <summary>True (a 0-dim bool tensor) when every element is nonzero (torch.all).</summary>
    public Tensor all() => Op(OpId.all, this);
    /// <summary>True (a 0-dim bool tensor) when some element is nonzero (torch.any).</summary>
    public Tensor any() => Op(OpId.any, this);

    private long[] AllDims()
    {
        var d = new long[dim];
        for (int i = 0; i < d.Length; i++) d[i] = i;
        return d;
    }

    private static Tuple<Tensor, Tensor> Pair(Tensor[] r) => Tuple.Create(r[0], r[1]);

    // ---- shape and indexing ---------------------------------------------------------------------
    /// <summary>
    /// The same elements in <paramref name="shape"/> (one entry may be −1); a view when possible, else a copy
    /// (torch.reshape).
    /// </summary>
    public Tensor reshape(params long[] shape) => Op(OpId.reshape, this, shape);
    /// <summary>A view with <paramref name="shape"/>; throws when the strides do not allow one (Tensor.view).</summary>
    public Tensor view(params long[] shape) => Op(OpId.view, this, shape);
    /// <summary>A view with the dimensions reordered as <paramref name="dims"/> (torch.permute).</summary>
    public Tensor permute(params long[] dims) => Op(OpId.permute, this, dims);
    /// <summary>A view with <paramref name="dim0"/> and <paramref name="dim1"/> swapped (torch.transpose).</summary>
    public Tensor transpose(long dim0, long dim1) => Op(OpId.transpose, this, [dim0, dim1]);
    /// <summary>Transpose of a matrix.</summary>
    public Tensor T => transpose(0, 1);
    /// <summary>Transpose of the last two dimensions (batched matrices).</summary>
    public Tensor mT => transpose(-2, -1);
    /// <summary>
    /// Dimensions <paramref name="startDim"/>..<paramref name="endDim"/> merged into one (torch.flatten).
    /// </summary>
    public Tensor flatten(long startDim = 0, long endDim = -1) => Op(OpId.flatten, this, [startDim, endDim]);
    /// <summary>Removes every dimension of size 1 (torch.squeeze).</summary>
    public Tensor squeeze() => Op(OpId.squeeze, this);
    /// <summary>Removes <paramref name="dim"/> if its size is 1 (torch.squeeze).</summary>
    public Tensor squeeze(long dim) => Op(OpId.squeeze_dim, this, [dim]);
    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/> (torch.unsqueeze).</summary>
    public Tensor unsqueeze(long dim) => Op(OpId.unsqueeze, this, [dim]);
    /// <summary>
    /// A view broadcast to <paramref name="shape"/> without copying; −1 keeps a size (Tensor.expand).
    /// </summary>
    public Tensor expand(params long[] shape) => Op(OpId.expand, this, shape);
    /// <summary>A view broadcast to the shape of <paramref name="other"/> (Tensor.expand_as).</summary>
    public Tensor expand_as(Tensor other) => expand(other.shape);
    /// <summary>
    /// The tensor tiled <paramref name="repeats"/> times along each dimension, copied (Tensor.repeat).
    /// </summary>
    public Tensor repeat(params long[] repeats) => Op(OpId.repeat, this, repeats);
    /// <summary>The elements in reverse order along <paramref name="dims"/>, copied (torch.flip).</summary>
    public Tensor flip(params long[] dims) => Op(OpId.flip, this, dims);
    /// <summary>
    /// At most <paramref name="chunks"/> views of equal size (the last may be smaller) along <paramref name="dim"/>
    /// (torch.chunk); throws ArgumentOutOfRangeException for chunks &lt; 1.
    /// </summary>
    public Tensor[] chunk(long chunks, long dim = 0) =>
        chunks >= 1 ? OpMany(OpId.chunk, [this], [chunks, dim], (int)Math.Max(1, Math.Min(chunks, size((int)dim))))
        : throw new ArgumentOutOfRangeException(nameof(chunks), chunks, "chunk needs a number of chunks >= 1");
    /// <summary>
    /// Views of <paramref name="splitSize"/> elements along <paramref name="dim"/> (the last may be smaller)
    /// (torch.split); throws ArgumentOutOfRangeException for splitSize &lt; 1.
    /// </summary>
    public Tensor[] split(long splitSize, long dim = 0) =>
        splitSize >= 1 ? OpMany(OpId.split, [this], [splitSize, dim], (int)((size((int)dim) + splitSize - 1) / splitSize) + 1)
        : throw new ArgumentOutOfRangeException(nameof(splitSize), splitSize, "split needs a split size >= 1");
    /// <summary>Elements start, start+step, ... below end along dim (negative indices count from the end).</summary>
    public Tensor slice(long dim, long start, long end, long step = 1) => Op(OpId.slice, this, [dim, start, end, step]);
    /// <summary>
    /// The view of <paramref name="length"/> elements from <paramref name="start"/> along <paramref name="dim"/>
    /// (torch.narrow).
    /// </summary>
    public Tensor narrow(long dim, long start, long length) => Op(OpId.narrow, this, [dim, start, length]);
    /// <summary>
    /// The slice at <paramref name="index"/> along <paramref name="dim"/>, which is removed (torch.select).
    /// </summary>
    public Tensor select(long dim, long index) => Op(OpId.select, this, [dim, index]);
    /// <summary>
    /// The entries at the int64 <paramref name="index"/> [n] along <paramref name="dim"/>, copied (torch.index_select).
    /// </summary>
    public Tensor index_select(long dim, Tensor index) => Op(OpId.index_select, this, index, [dim]);
    /// <summary>
    /// out[i][j] = this[index[i][j]][j] for dim 0 (and likewise along other dims); index is int64 (torch.gather).
    /// </summary>
    public Tensor gather(long dim, Tensor index) => Op(OpId.gather, this, index, [dim]);
    /// <summary>
    /// A copy with <paramref name="source"/> added at the int64 <paramref name="index"/> along <paramref name="dim"/>
    /// (torch.scatter_add).
    /// </summary>
    public Tensor scatter_add(long dim, Tensor index, Tensor source) => Op(OpId.scatter_add, this, index, source, [dim]);
    /// <summary>
    /// A copy with <paramref name="value"/> where <paramref name="mask"/> (broadcast) is true (torch.masked_fill).
    /// </summary>
    public Tensor masked_fill(Tensor mask, double value) => Op(OpId.masked_fill, this, mask, default, [value]);
    /// <summary>
    /// The elements where <paramref name="mask"/> (broadcast) is true, as a 1-D tensor (torch.masked_select).
    /// </summary>
    public Tensor masked_select(Tensor mask) => Op(OpId.masked_select, this, mask);
    /// <summary>
    /// The lower triangle (on and below diagonal <paramref name="diagonal"/>) of the last two dimensions, zeros
    /// elsewhere (torch.tril).
    /// </summary>
    public Tensor tril(long diagonal = 0) => Op(OpId.tril, this, [diagonal]);
    /// <summary>
    /// The upper triangle (on and above diagonal <paramref name="diagonal"/>) of the last two dimensions, zeros
    /// elsewhere (torch.triu).
    /// </summary>
    public Tensor triu(long diagonal = 0) => Op(OpId.triu, this, [diagonal]);
    /// <summary>
    /// The diagonal at <paramref name="offset"/> of the matrices in dimensions dim1 and dim2, as a view
    /// (torch.diagonal).
    /// </summary>
    public Tensor diagonal(long offset = 0, long dim1 = 0, long dim2 = 1) => Op(OpId.diagonal, this, [offset, dim1, dim2]);
    /// <summary>
    /// Batched diagonal matrices [..., n, n] with the last dimension [..., n] on their diagonal (torch.diag_embed).
    /// </summary>
    public Tensor diag_embed() => Op(OpId.diag_embed, this);
    /// <summary>The k largest (or smallest) elements along dim and their indices (a System.Tuple, as <see cref="sort"/>).</summary>
    public Tuple<Tensor, Tensor> topk(long k, long dim = -1, bool largest = true, bool sorted = true) =>
        Pair(OpMany(OpId.topk, [this], [k, dim, B(largest), B(sorted)], 2));
    /// <summary>(values, indices) sorted along dim (a System.Tuple, as <see cref="max(long, bool)"/>).</summary>
    public Tuple<Tensor, Tensor> sort(long dim = -1, bool descending = false) => Pair(OpMany(OpId.sort, [this], [dim, B(descending)], 2));
    /// <summary>Int64 indices that sort along <paramref name="dim"/> (torch.argsort).</summary>
    public Tensor argsort(long dim = -1, bool descending = false) => Op(OpId.argsort, this, [dim, B(descending)]);

    /// <summary>x[i]: the i-th slice along the first dimension (a view). Assigning copies into it.</summary>
    public Tensor this[long index]
    {
        get => select(0, index);
        set => IndexPut([index], value);
    }

    /// <summary>x[idx]: rows picked by an int64 index tensor, or, for a bool mask shaped like the leading
    /// dimensions, the selected entries stacked along one dimension (PyTorch's x[mask]).</summary>
    public Tensor this[Tensor index]
    {
        get => Index([index]);
        set => IndexPut([index], value);
    }

    // ---- linear algebra -------------------------------------------------------------------------
    /// <summary>Matrix product with NumPy's rules: vectors, matrices and broadcast batches (torch.matmul).</summary>
    public Tensor matmul(Tensor other) => Op(OpId.matmul, this, other);
    /// <summary>Product of two matrices [n, m] · [m, p] (torch.mm).</summary>
    public Tensor mm(Tensor other) => Op(OpId.mm, this, other);
    /// <summary>Batched product [b, n, m] · [b, m, p] (torch.bmm).</summary>
    public Tensor bmm(Tensor other) => Op(OpId.bmm, this, other);
    /// <summary>Outer product of two vectors [n] and [m], giving [n, m] (torch.outer).</summary>
    public Tensor outer(Tensor other) => Op(OpId.outer, this, other);
}

/// <summary>Names for the (values, indices) pairs of max, min and sort: <c>x.max(1).values</c>.</summary>
public static class TensorPairNames
{
    extension(Tuple<Tensor, Tensor> pair)
    {
        /// <summary>The first element of the pair: the values.</summary>
        public Tensor values => pair.Item1;
        /// <summary>The second element of the pair: the int64 indices.</summary>
        public Tensor indices => pair.Item2;
    }
}
