namespace Research.Torch;

// Tensor methods and operators, named as in PyTorch. Each is one call into an op of ops.def.
public sealed partial class Tensor
{
    private static long B(bool b) => b ? 1 : 0;

    // ---- conversion -----------------------------------------------------------------------------
    public Tensor to(ScalarType dtype) => Op(OpId.to_dtype, this, [(long)dtype]);
    public Tensor to(Device device) => Op(OpId.to, this, [(long)dtype, (long)device.type, device.index]);
    public Tensor to(ScalarType dtype, Device device) => Op(OpId.to, this, [(long)dtype, (long)device.type, device.index]);
    public Tensor to(string device) => to(Device.Parse(device));
    public Tensor cpu() => to(Device.CPU);
    public Tensor cuda(int index = 0) => to(new Device(DeviceType.CUDA, index));
    public Tensor @float() => to(ScalarType.Float32);
    public Tensor @double() => to(ScalarType.Float64);
    public Tensor @long() => to(ScalarType.Int64);
    public Tensor @bool() => to(ScalarType.Bool);
    public Tensor clone() => Op(OpId.clone, this);
    public Tensor contiguous() => Op(OpId.contiguous, this);
    /// <summary>The same data, cut from the autograd graph.</summary>
    public Tensor detach() => Op(OpId.detach, this);
    /// <summary>A second handle to the same tensor (same data, same graph node), owned separately.</summary>
    public Tensor alias() => Op(OpId.alias, this);

    // ---- elementwise ----------------------------------------------------------------------------
    public Tensor neg() => Op(OpId.neg, this);
    public Tensor abs() => Op(OpId.abs, this);
    public Tensor exp() => Op(OpId.exp, this);
    public Tensor log() => Op(OpId.log, this);
    public Tensor log1p() => Op(OpId.log1p, this);
    public Tensor expm1() => Op(OpId.expm1, this);
    public Tensor log2() => Op(OpId.log2, this);
    public Tensor sqrt() => Op(OpId.sqrt, this);
    public Tensor rsqrt() => Op(OpId.rsqrt, this);
    public Tensor square() => Op(OpId.square, this);
    public Tensor reciprocal() => Op(OpId.reciprocal, this);
    public Tensor sin() => Op(OpId.sin, this);
    public Tensor cos() => Op(OpId.cos, this);
    public Tensor tan() => Op(OpId.tan, this);
    public Tensor asin() => Op(OpId.asin, this);
    public Tensor acos() => Op(OpId.acos, this);
    public Tensor atan() => Op(OpId.atan, this);
    public Tensor sinh() => Op(OpId.sinh, this);
    public Tensor cosh() => Op(OpId.cosh, this);
    public Tensor tanh() => Op(OpId.tanh, this);
    public Tensor sigmoid() => Op(OpId.sigmoid, this);
    public Tensor relu() => Op(OpId.relu, this);
    public Tensor erf() => Op(OpId.erf, this);
    public Tensor erfinv() => Op(OpId.erfinv, this);
    public Tensor lgamma() => Op(OpId.lgamma, this);
    public Tensor sign() => Op(OpId.sign, this);
    public Tensor floor() => Op(OpId.floor, this);
    public Tensor ceil() => Op(OpId.ceil, this);
    public Tensor round() => Op(OpId.round, this);
    public Tensor trunc() => Op(OpId.trunc, this);
    public Tensor log10() => Op(OpId.log10, this);
    public Tensor logical_not() => Op(OpId.logical_not, this);
    public Tensor isnan() => Op(OpId.isnan, this);
    public Tensor isfinite() => Op(OpId.isfinite, this);
    public Tensor clamp(double? min = null, double? max = null) => Op(OpId.clamp, this, default, [min ?? double.NaN, max ?? double.NaN]);
    public Tensor clamp_min(double min) => clamp(min, null);
    public Tensor clamp_max(double max) => clamp(null, max);
    public Tensor pow(double exponent) => Op(OpId.pow_scalar, this, default, [exponent]);
    public Tensor pow(Tensor exponent) => Op(OpId.pow, this, exponent);

    public Tensor add(Tensor other) => Op(OpId.add, this, other);
    public Tensor sub(Tensor other) => Op(OpId.sub, this, other);
    public Tensor mul(Tensor other) => Op(OpId.mul, this, other);
    public Tensor div(Tensor other) => Op(OpId.div, this, other);
    public Tensor add(double other) => Op(OpId.add_scalar, this, default, [other]);
    public Tensor sub(double other) => Op(OpId.sub_scalar, this, default, [other]);
    public Tensor mul(double other) => Op(OpId.mul_scalar, this, default, [other]);
    public Tensor div(double other) => Op(OpId.div_scalar, this, default, [other]);
    public Tensor atan2(Tensor other) => Op(OpId.atan2, this, other);
    public Tensor maximum(Tensor other) => Op(OpId.maximum, this, other);
    public Tensor minimum(Tensor other) => Op(OpId.minimum, this, other);
    public Tensor fmod(Tensor other) => Op(OpId.fmod, this, other);
    public Tensor remainder(Tensor other) => Op(OpId.remainder, this, other);
    public Tensor lerp(Tensor end, Tensor weight) => Op(OpId.lerp, this, end, weight);

    public Tensor eq(Tensor other) => Op(OpId.eq, this, other);
    public Tensor ne(Tensor other) => Op(OpId.ne, this, other);
    public Tensor lt(Tensor other) => Op(OpId.lt, this, other);
    public Tensor le(Tensor other) => Op(OpId.le, this, other);
    public Tensor gt(Tensor other) => Op(OpId.gt, this, other);
    public Tensor ge(Tensor other) => Op(OpId.ge, this, other);
    public Tensor eq(double other) => Op(OpId.eq_scalar, this, default, [other]);
    public Tensor ne(double other) => Op(OpId.ne_scalar, this, default, [other]);
    public Tensor lt(double other) => Op(OpId.lt_scalar, this, default, [other]);
    public Tensor le(double other) => Op(OpId.le_scalar, this, default, [other]);
    public Tensor gt(double other) => Op(OpId.gt_scalar, this, default, [other]);
    public Tensor ge(double other) => Op(OpId.ge_scalar, this, default, [other]);
    public Tensor logical_and(Tensor other) => Op(OpId.logical_and, this, other);
    public Tensor logical_or(Tensor other) => Op(OpId.logical_or, this, other);
    /// <summary>True when every element is within atol + rtol·|other| of other.</summary>
    public bool allclose(Tensor other, double rtol = 1e-5, double atol = 1e-8)
    {
        using var r = Op(OpId.allclose, this, other, default, [rtol, atol]);
        return r.ToBoolean();
    }

    public static Tensor operator +(Tensor a, Tensor b) => Op(OpId.add, a, b);
    public static Tensor operator -(Tensor a, Tensor b) => Op(OpId.sub, a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Op(OpId.mul, a, b);
    public static Tensor operator /(Tensor a, Tensor b) => Op(OpId.div, a, b);
    public static Tensor operator +(Tensor a, double b) => Op(OpId.add_scalar, a, default, [b]);
    public static Tensor operator -(Tensor a, double b) => Op(OpId.sub_scalar, a, default, [b]);
    public static Tensor operator *(Tensor a, double b) => Op(OpId.mul_scalar, a, default, [b]);
    public static Tensor operator /(Tensor a, double b) => Op(OpId.div_scalar, a, default, [b]);
    public static Tensor operator +(double a, Tensor b) => Op(OpId.add_scalar, b, default, [a]);
    public static Tensor operator -(double a, Tensor b) => Op(OpId.rsub_scalar, b, default, [a]);
    public static Tensor operator *(double a, Tensor b) => Op(OpId.mul_scalar, b, default, [a]);
    public static Tensor operator /(double a, Tensor b) => Op(OpId.rdiv_scalar, b, default, [a]);
    public static Tensor operator -(Tensor a) => Op(OpId.neg, a);
    // Integer scalars (F# does not widen int literals for operators: x * 2, 1 - x).
    public static Tensor operator +(Tensor a, int b) => a + (double)b;
    public static Tensor operator -(Tensor a, int b) => a - (double)b;
    public static Tensor operator *(Tensor a, int b) => a * (double)b;
    public static Tensor operator /(Tensor a, int b) => a / (double)b;
    public static Tensor operator +(int a, Tensor b) => (double)a + b;
    public static Tensor operator -(int a, Tensor b) => (double)a - b;
    public static Tensor operator *(int a, Tensor b) => (double)a * b;
    public static Tensor operator /(int a, Tensor b) => (double)a / b;

    // Comparisons give bool masks, as in PyTorch (== and != stay reference equality in .NET: use eq, ne).
    public static Tensor operator >(Tensor a, Tensor b) => a.gt(b);
    public static Tensor operator <(Tensor a, Tensor b) => a.lt(b);
    public static Tensor operator >=(Tensor a, Tensor b) => a.ge(b);
    public static Tensor operator <=(Tensor a, Tensor b) => a.le(b);
    public static Tensor operator >(Tensor a, double b) => a.gt(b);
    public static Tensor operator <(Tensor a, double b) => a.lt(b);
    public static Tensor operator >=(Tensor a, double b) => a.ge(b);
    public static Tensor operator <=(Tensor a, double b) => a.le(b);
    public static Tensor operator >(double a, Tensor b) => b.lt(a);
    public static Tensor operator <(double a, Tensor b) => b.gt(a);
    public static Tensor operator >=(double a, Tensor b) => b.le(a);
    public static Tensor operator <=(double a, Tensor b) => b.ge(a);
    /// <summary>Elementwise logical and, or and not of bool masks.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => a.logical_and(b);
    public static Tensor operator |(Tensor a, Tensor b) => a.logical_or(b);
    public static Tensor operator !(Tensor a) => a.logical_not();

    /// <summary>The value of a one-element tensor: <c>(double)t</c> in C#, <c>float t</c> in F#.</summary>
    public static explicit operator double(Tensor t) => t.ToDouble();
    public static explicit operator float(Tensor t) => t.ToSingle();
    public static explicit operator long(Tensor t) => t.ToInt64();
    public static explicit operator int(Tensor t) => checked((int)t.ToInt64());
    public static explicit operator bool(Tensor t) => t.ToBoolean();

    // Static members named as System.Math's, so F#'s sqrt, exp, log, abs, round, ... work on tensors.
    public static Tensor Sqrt(Tensor x) => x.sqrt();
    public static Tensor Exp(Tensor x) => x.exp();
    public static Tensor Log(Tensor x) => x.log();
    public static Tensor Log10(Tensor x) => x.log10();
    public static Tensor Abs(Tensor x) => x.abs();
    public static Tensor Sin(Tensor x) => x.sin();
    public static Tensor Cos(Tensor x) => x.cos();
    public static Tensor Tan(Tensor x) => x.tan();
    public static Tensor Asin(Tensor x) => x.asin();
    public static Tensor Acos(Tensor x) => x.acos();
    public static Tensor Atan(Tensor x) => x.atan();
    public static Tensor Atan2(Tensor y, Tensor x) => y.atan2(x);
    public static Tensor Sinh(Tensor x) => x.sinh();
    public static Tensor Cosh(Tensor x) => x.cosh();
    public static Tensor Tanh(Tensor x) => x.tanh();
    public static Tensor Floor(Tensor x) => x.floor();
    public static Tensor Ceiling(Tensor x) => x.ceil();
    /// <summary>Rounds half to even, as PyTorch's round (and .NET's Math.Round) do.</summary>
    public static Tensor Round(Tensor x) => x.round();
    public static Tensor Truncate(Tensor x) => x.trunc();
    /// <summary>F#'s <c>**</c>.</summary>
    public static Tensor Pow(Tensor a, double b) => a.pow(b);
    public static Tensor Pow(Tensor a, Tensor b) => a.pow(b);
    public static Tensor Pow(double a, Tensor b) => Op(OpId.scalar_pow, b, default, [a]);
    public static Tensor Pow(Tensor a, int b) => a.pow(b);

    // ---- in place (optimizers, EMA, buffers) -----------------------------------------------------
    public Tensor add_(Tensor other, double alpha = 1.0) => OpInPlace(OpId.add_, this, other, reals: [alpha]);
    public Tensor add_(double other) => OpInPlace(OpId.add_scalar_, this, reals: [other]);
    public Tensor sub_(Tensor other) => OpInPlace(OpId.sub_, this, other);
    public Tensor mul_(Tensor other) => OpInPlace(OpId.mul_, this, other);
    public Tensor mul_(double other) => OpInPlace(OpId.mul_scalar_, this, reals: [other]);
    public Tensor div_(Tensor other) => OpInPlace(OpId.div_, this, other);
    /// <summary>this += value · t1 · t2</summary>
    public Tensor addcmul_(Tensor t1, Tensor t2, double value = 1.0) => OpInPlace(OpId.addcmul_, this, t1, t2, [value]);
    /// <summary>this += value · t1 / t2</summary>
    public Tensor addcdiv_(Tensor t1, Tensor t2, double value = 1.0) => OpInPlace(OpId.addcdiv_, this, t1, t2, [value]);
    /// <summary>this += weight · (end − this)</summary>
    public Tensor lerp_(Tensor end, double weight) => OpInPlace(OpId.lerp_, this, end, reals: [weight]);
    public Tensor copy_(Tensor source) => OpInPlace(OpId.copy_, this, source);
    public Tensor zero_() => OpInPlace(OpId.zero_, this);
    public Tensor fill_(double value) => OpInPlace(OpId.fill_, this, reals: [value]);
    public Tensor clamp_(double? min = null, double? max = null) => OpInPlace(OpId.clamp_, this, reals: [min ?? double.NaN, max ?? double.NaN]);
    public Tensor sqrt_() => OpInPlace(OpId.sqrt_, this);
    public Tensor normal_(double mean = 0, double std = 1, Generator? generator = null) => OpInPlace(OpId.normal_, this, reals: [mean, std], generator: generator);
    public Tensor uniform_(double from = 0, double to = 1, Generator? generator = null) => OpInPlace(OpId.uniform_, this, reals: [from, to], generator: generator);
    /// <summary>Replaces this tensor's data (any shape, dtype or device), keeping the object and its
    /// autograd identity: how modules move parameters.</summary>
    public void set_data(Tensor data) => OpInPlace(OpId.set_data, this, data);
    public Tensor masked_fill_(Tensor mask, double value) => OpInPlace(OpId.masked_fill_, this, mask, reals: [value]);

    // ---- reductions -----------------------------------------------------------------------------
    public Tensor sum() => Op(OpId.sum_all, this);
    public Tensor sum(long dim, bool keepdim = false) => Op(OpId.sum, this, [B(keepdim), dim]);
    public Tensor sum(long[] dims, bool keepdim = false) => Op(OpId.sum, this, [B(keepdim), .. dims]);
    public Tensor mean() => Op(OpId.mean_all, this);
    public Tensor mean(long dim, bool keepdim = false) => Op(OpId.mean, this, [B(keepdim), dim]);
    public Tensor mean(long[] dims, bool keepdim = false) => Op(OpId.mean, this, [B(keepdim), .. dims]);
    public Tensor prod() => Op(OpId.prod_all, this);
    public Tensor max() => Op(OpId.max_all, this);
    public Tensor min() => Op(OpId.min_all, this);
    /// <summary>(values, indices) of the maxima along dim; a System.Tuple, so F# destructures it as
    /// <c>let values, indices = x.max 1</c> and C# as <c>var (values, indices) = x.max(1)</c>.</summary>
    public Tuple<Tensor, Tensor> max(long dim, bool keepdim = false) => Pair(OpMany(OpId.max_dim, [this], [dim, B(keepdim)], 2));
    public Tuple<Tensor, Tensor> min(long dim, bool keepdim = false) => Pair(OpMany(OpId.min_dim, [this], [dim, B(keepdim)], 2));
    public Tensor amax(long dim, bool keepdim = false) => Op(OpId.amax, this, [B(keepdim), dim]);
    public Tensor amax(long[] dims, bool keepdim = false) => Op(OpId.amax, this, [B(keepdim), .. dims]);
    public Tensor amin(long dim, bool keepdim = false) => Op(OpId.amin, this, [B(keepdim), dim]);
    public Tensor amin(long[] dims, bool keepdim = false) => Op(OpId.amin, this, [B(keepdim), .. dims]);
    public Tensor argmax(long dim, bool keepdim = false) => Op(OpId.argmax, this, [dim, B(keepdim)]);
    public Tensor argmin(long dim, bool keepdim = false) => Op(OpId.argmin, this, [dim, B(keepdim)]);
    public Tensor logsumexp(long dim, bool keepdim = false) => Op(OpId.logsumexp, this, [B(keepdim), dim]);
    public Tensor logsumexp(long[] dims, bool keepdim = false) => Op(OpId.logsumexp, this, [B(keepdim), .. dims]);
    /// <summary>Variance over all elements (unbiased: divides by n − 1 unless <paramref name="unbiased"/> is false).</summary>
    public Tensor var(bool unbiased = true) => Op(OpId.var, this, [B(unbiased), 0, .. AllDims()]);
    public Tensor var(long dim, bool unbiased = true, bool keepdim = false) => Op(OpId.var, this, [B(unbiased), B(keepdim), dim]);
    public Tensor var(long[] dims, bool unbiased = true, bool keepdim = false) => Op(OpId.var, this, [B(unbiased), B(keepdim), .. dims]);
    public Tensor std(bool unbiased = true) => Op(OpId.std, this, [B(unbiased), 0, .. AllDims()]);
    public Tensor std(long dim, bool unbiased = true, bool keepdim = false) => Op(OpId.std, this, [B(unbiased), B(keepdim), dim]);
    public Tensor std(long[] dims, bool unbiased = true, bool keepdim = false) => Op(OpId.std, this, [B(unbiased), B(keepdim), .. dims]);
    /// <summary>The p-norm over all elements, or over <paramref name="dims"/>.</summary>
    public Tensor norm(double p = 2, long[]? dims = null, bool keepdim = false) =>
        Op(OpId.norm, this, [B(keepdim), .. dims ?? AllDims()], [p]);
    public Tensor cumsum(long dim) => Op(OpId.cumsum, this, [dim]);
    public Tensor all() => Op(OpId.all, this);
    public Tensor any() => Op(OpId.any, this);

    private long[] AllDims()
    {
        var d = new long[dim];
        for (int i = 0; i < d.Length; i++) d[i] = i;
        return d;
    }

    private static Tuple<Tensor, Tensor> Pair(Tensor[] r) => Tuple.Create(r[0], r[1]);

    // ---- shape and indexing ---------------------------------------------------------------------
    public Tensor reshape(params long[] shape) => Op(OpId.reshape, this, shape);
    public Tensor view(params long[] shape) => Op(OpId.view, this, shape);
    public Tensor permute(params long[] dims) => Op(OpId.permute, this, dims);
    public Tensor transpose(long dim0, long dim1) => Op(OpId.transpose, this, [dim0, dim1]);
    /// <summary>Transpose of a matrix.</summary>
    public Tensor T => transpose(0, 1);
    /// <summary>Transpose of the last two dimensions (batched matrices).</summary>
    public Tensor mT => transpose(-2, -1);
    public Tensor flatten(long startDim = 0, long endDim = -1) => Op(OpId.flatten, this, [startDim, endDim]);
    public Tensor squeeze() => Op(OpId.squeeze, this);
    public Tensor squeeze(long dim) => Op(OpId.squeeze_dim, this, [dim]);
    public Tensor unsqueeze(long dim) => Op(OpId.unsqueeze, this, [dim]);
    public Tensor expand(params long[] shape) => Op(OpId.expand, this, shape);
    public Tensor expand_as(Tensor other) => expand(other.shape);
    public Tensor repeat(params long[] repeats) => Op(OpId.repeat, this, repeats);
    public Tensor flip(params long[] dims) => Op(OpId.flip, this, dims);
    public Tensor[] chunk(long chunks, long dim = 0) =>
        chunks >= 1 ? OpMany(OpId.chunk, [this], [chunks, dim], (int)Math.Max(1, Math.Min(chunks, size((int)dim))))
        : throw new ArgumentOutOfRangeException(nameof(chunks), chunks, "chunk needs a number of chunks >= 1");
    public Tensor[] split(long splitSize, long dim = 0) =>
        splitSize >= 1 ? OpMany(OpId.split, [this], [splitSize, dim], (int)((size((int)dim) + splitSize - 1) / splitSize) + 1)
        : throw new ArgumentOutOfRangeException(nameof(splitSize), splitSize, "split needs a split size >= 1");
    /// <summary>Elements start, start+step, ... below end along dim (negative indices count from the end).</summary>
    public Tensor slice(long dim, long start, long end, long step = 1) => Op(OpId.slice, this, [dim, start, end, step]);
    public Tensor narrow(long dim, long start, long length) => Op(OpId.narrow, this, [dim, start, length]);
    public Tensor select(long dim, long index) => Op(OpId.select, this, [dim, index]);
    public Tensor index_select(long dim, Tensor index) => Op(OpId.index_select, this, index, [dim]);
    public Tensor gather(long dim, Tensor index) => Op(OpId.gather, this, index, [dim]);
    public Tensor scatter_add(long dim, Tensor index, Tensor source) => Op(OpId.scatter_add, this, index, source, [dim]);
    public Tensor masked_fill(Tensor mask, double value) => Op(OpId.masked_fill, this, mask, default, [value]);
    public Tensor masked_select(Tensor mask) => Op(OpId.masked_select, this, mask);
    public Tensor tril(long diagonal = 0) => Op(OpId.tril, this, [diagonal]);
    public Tensor triu(long diagonal = 0) => Op(OpId.triu, this, [diagonal]);
    public Tensor diagonal(long offset = 0, long dim1 = 0, long dim2 = 1) => Op(OpId.diagonal, this, [offset, dim1, dim2]);
    public Tensor diag_embed() => Op(OpId.diag_embed, this);
    /// <summary>The k largest (or smallest) elements along dim and their indices (a System.Tuple, as <see cref="sort"/>).</summary>
    public Tuple<Tensor, Tensor> topk(long k, long dim = -1, bool largest = true, bool sorted = true) =>
        Pair(OpMany(OpId.topk, [this], [k, dim, B(largest), B(sorted)], 2));
    /// <summary>(values, indices) sorted along dim (a System.Tuple, as <see cref="max(long, bool)"/>).</summary>
    public Tuple<Tensor, Tensor> sort(long dim = -1, bool descending = false) => Pair(OpMany(OpId.sort, [this], [dim, B(descending)], 2));
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
    public Tensor matmul(Tensor other) => Op(OpId.matmul, this, other);
    public Tensor mm(Tensor other) => Op(OpId.mm, this, other);
    public Tensor bmm(Tensor other) => Op(OpId.bmm, this, other);
    public Tensor outer(Tensor other) => Op(OpId.outer, this, other);
}

/// <summary>Names for the (values, indices) pairs of max, min and sort: <c>x.max(1).values</c>.</summary>
public static class TensorPairNames
{
    extension(Tuple<Tensor, Tensor> pair)
    {
        public Tensor values => pair.Item1;
        public Tensor indices => pair.Item2;
    }
}
