namespace Research.Torch;

/// <summary>The PyTorch-style entry point: <c>torch.randn(...)</c>, <c>torch.no_grad()</c>, ... .</summary>
#pragma warning disable IDE1006 // lower-case names follow PyTorch so users' knowledge carries over
public static partial class torch
{
    /// <summary>32-bit float (torch.float32).</summary>
    public const ScalarType float32 = ScalarType.Float32;
    /// <summary>64-bit float (torch.float64).</summary>
    public const ScalarType float64 = ScalarType.Float64;
    /// <summary>64-bit signed integer (torch.int64), the dtype of indices and labels.</summary>
    public const ScalarType int64 = ScalarType.Int64;
    /// <summary>32-bit signed integer (torch.int32).</summary>
    public const ScalarType int32 = ScalarType.Int32;
    /// <summary>8-bit unsigned integer (torch.uint8), the dtype of image bytes.</summary>
    public const ScalarType uint8 = ScalarType.UInt8;
    /// <summary>Boolean (torch.bool), the dtype of masks.</summary>
    public const ScalarType @bool = ScalarType.Bool;
    /// <summary>The CPU device.</summary>
    public static readonly Device CPU = Device.CPU;
    /// <summary>The current CUDA device (cuda:0).</summary>
    public static readonly Device CUDA = Device.CUDA;

    private static ScalarType defaultDtype = ScalarType.Float32;

    /// <summary>Sets the dtype of floating-point factories (zeros, randn, arange with reals, ...) and of
    /// layers' weights when none is given (PyTorch's torch.set_default_dtype): float32, the default, or
    /// float64. <c>torch.tensor(double[])</c> is the exception: .NET doubles become float64 unless a
    /// dtype is given.</summary>
    public static void set_default_dtype(ScalarType dtype) =>
        defaultDtype = dtype is ScalarType.Float32 or ScalarType.Float64
            ? dtype : throw new ArgumentException($"the default dtype must be float32 or float64, got {dtype}");

    /// <summary>
    /// The dtype of floating-point factories and layer weights when none is given (torch.get_default_dtype).
    /// </summary>
    public static ScalarType get_default_dtype() => defaultDtype;

    /// <summary>
    /// The device named by <paramref name="spec"/>: "cpu", "cuda" or "cuda:N" (torch.device); throws ArgumentException
    /// otherwise.
    /// </summary>
    public static Device device(string spec) => Device.Parse(spec);

    // ---- creation -------------------------------------------------------------------------------
    /// <summary>
    /// A tensor of zeros with <paramref name="shape"/>, in the default dtype unless given (torch.zeros).
    /// </summary>
    public static Tensor zeros(long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Tensor.Create(OpId.zeros, dtype ?? defaultDtype, device, requires_grad, default, shape);
    /// <summary>A tensor of ones with <paramref name="shape"/> (torch.ones).</summary>
    public static Tensor ones(long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Tensor.Create(OpId.ones, dtype ?? defaultDtype, device, requires_grad, default, shape);
    /// <summary>An uninitialised tensor with <paramref name="shape"/> (torch.empty): fill it before reading.</summary>
    public static Tensor empty(long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Tensor.Create(OpId.empty, dtype ?? defaultDtype, device, requires_grad, default, shape);
    /// <summary>A tensor with <paramref name="shape"/> filled with <paramref name="value"/> (torch.full).</summary>
    public static Tensor full(long[] shape, double value, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Tensor.Create(OpId.full, dtype ?? defaultDtype, device, requires_grad, default, shape, [value]);
    /// <summary>The n × n identity matrix (torch.eye).</summary>
    public static Tensor eye(long n, ScalarType? dtype = null, Device? device = null) =>
        Tensor.Create(OpId.eye, dtype ?? defaultDtype, device, false, [n], default);
    /// <summary>start, start+step, ... below end.</summary>
    public static Tensor arange(double start, double end, double step = 1, ScalarType? dtype = null, Device? device = null) =>
        Tensor.Create(OpId.arange, dtype ?? defaultDtype, device, false, default, default, [start, end, step]);
    /// <summary>0, 1, ..., end − 1, int64 by default (torch.arange).</summary>
    public static Tensor arange(long end, ScalarType dtype = ScalarType.Int64, Device? device = null) =>
        Tensor.Create(OpId.arange, dtype, device, false, default, default, [0, end, 1]);
    /// <summary>
    /// <paramref name="steps"/> evenly spaced values from start to end, both included (torch.linspace).
    /// </summary>
    public static Tensor linspace(double start, double end, long steps, ScalarType? dtype = null, Device? device = null) =>
        Tensor.Create(OpId.linspace, dtype ?? defaultDtype, device, false, [steps], default, [start, end]);
    /// <summary>
    /// Standard normal draws with <paramref name="shape"/>, from <paramref name="generator"/> or the default generator
    /// (torch.randn).
    /// </summary>
    public static Tensor randn(long[] shape, ScalarType? dtype = null, Device? device = null, Generator? generator = null, bool requires_grad = false) =>
        Tensor.Create(OpId.randn, dtype ?? defaultDtype, device, requires_grad, default, shape, default, generator);
    /// <summary>
    /// Uniform draws on [0, 1) with <paramref name="shape"/>, from <paramref name="generator"/> or the default
    /// generator (torch.rand).
    /// </summary>
    public static Tensor rand(long[] shape, ScalarType? dtype = null, Device? device = null, Generator? generator = null, bool requires_grad = false) =>
        Tensor.Create(OpId.rand, dtype ?? defaultDtype, device, requires_grad, default, shape, default, generator);
    /// <summary>Integers uniform in [low, high).</summary>
    public static Tensor randint(long low, long high, long[] shape, Device? device = null, Generator? generator = null) =>
        Tensor.Create(OpId.randint, ScalarType.Int64, device, false, [low, high], shape, default, generator);
    /// <summary>A random permutation of 0..n − 1, int64 (torch.randperm).</summary>
    public static Tensor randperm(long n, Device? device = null, Generator? generator = null) =>
        Tensor.Create(OpId.randperm, ScalarType.Int64, device, false, [n], default, default, generator);
    /// <summary>Zeros with the shape, dtype and device of <paramref name="t"/> (torch.zeros_like).</summary>
    public static Tensor zeros_like(Tensor t) => Tensor.Op(OpId.zeros_like, t);
    /// <summary>Ones with the shape, dtype and device of <paramref name="t"/> (torch.ones_like).</summary>
    public static Tensor ones_like(Tensor t) => Tensor.Op(OpId.ones_like, t);
    /// <summary>
    /// <paramref name="value"/> everywhere, with the shape, dtype and device of <paramref name="t"/> (torch.full_like).
    /// </summary>
    public static Tensor full_like(Tensor t, double value) => Tensor.Op(OpId.full_like, t, default, [value]);
    /// <summary>Standard normal draws shaped like <paramref name="t"/> (torch.randn_like).</summary>
    public static Tensor randn_like(Tensor t, Generator? generator = null) => Tensor.Op(OpId.randn_like, t, default, default, generator);
    /// <summary>Uniform draws on [0, 1) shaped like <paramref name="t"/> (torch.rand_like).</summary>
    public static Tensor rand_like(Tensor t, Generator? generator = null) => Tensor.Op(OpId.rand_like, t, default, default, generator);
    /// <summary>Draws 0/1 with the probabilities in p.</summary>
    public static Tensor bernoulli(Tensor p, Generator? generator = null) => Tensor.Op(OpId.bernoulli, p, default, default, generator);
    /// <summary>Draws category indices with (unnormalised) weights along the last dimension.</summary>
    public static Tensor multinomial(Tensor weights, long samples, bool replacement = false, Generator? generator = null) =>
        Tensor.Op(OpId.multinomial, weights, [samples, replacement ? 1 : 0], default, generator);

    // ---- from .NET data -------------------------------------------------------------------------
    // .NET doubles become float64 tensors unless a dtype is given (as in TorchSharp); factories such
    // as randn use torch.get_default_dtype().
    /// <summary>
    /// A 0-dim tensor holding <paramref name="value"/>, float64 unless <paramref name="dtype"/> is given
    /// (torch.tensor).
    /// </summary>
    public static Tensor tensor(double value, ScalarType? dtype = null, Device? device = null) =>
        Convert(Tensor.FromArray<double>([value], [], device), dtype ?? ScalarType.Float64);
    /// <summary>
    /// A 1-D tensor of <paramref name="values"/> (copied), float64 unless <paramref name="dtype"/> is given.
    /// </summary>
    public static Tensor tensor(double[] values, ScalarType? dtype = null, Device? device = null) =>
        Convert(Tensor.FromArray<double>(values, [values.LongLength], device), dtype ?? ScalarType.Float64);
    /// <summary>
    /// <paramref name="values"/> (copied, row-major) with <paramref name="shape"/>, float64 unless
    /// <paramref name="dtype"/> is given; throws when the counts disagree.
    /// </summary>
    public static Tensor tensor(double[] values, long[] shape, ScalarType? dtype = null, Device? device = null) =>
        Convert(Tensor.FromArray<double>(values, shape, device), dtype ?? ScalarType.Float64);
    /// <summary>
    /// A matrix [rows, columns] of <paramref name="values"/>, float64 unless <paramref name="dtype"/> is given.
    /// </summary>
    public static Tensor tensor(double[,] values, ScalarType? dtype = null, Device? device = null)
    {
        var flat = new double[values.Length];
        Buffer.BlockCopy(values, 0, flat, 0, flat.Length * sizeof(double));
        return tensor(flat, [values.GetLongLength(0), values.GetLongLength(1)], dtype, device);
    }
    /// <summary>
    /// A float32 tensor of <paramref name="values"/> (copied), 1-D unless <paramref name="shape"/> is given.
    /// </summary>
    public static Tensor tensor(float[] values, long[]? shape = null, Device? device = null) =>
        Tensor.FromArray<float>(values, shape ?? [values.LongLength], device);
    /// <summary>
    /// An int64 tensor of <paramref name="values"/> (copied), 1-D unless <paramref name="shape"/> is given.
    /// </summary>
    public static Tensor tensor(long[] values, long[]? shape = null, Device? device = null) =>
        Tensor.FromArray<long>(values, shape ?? [values.LongLength], device);
    /// <summary>
    /// An int32 tensor of <paramref name="values"/> (copied), 1-D unless <paramref name="shape"/> is given.
    /// </summary>
    public static Tensor tensor(int[] values, long[]? shape = null, Device? device = null) =>
        Tensor.FromArray<int>(values, shape ?? [values.LongLength], device);
    /// <summary>
    /// A uint8 tensor of <paramref name="values"/> (copied), 1-D unless <paramref name="shape"/> is given.
    /// </summary>
    public static Tensor tensor(byte[] values, long[]? shape = null, Device? device = null) =>
        Tensor.FromArray<byte>(values, shape ?? [values.LongLength], device);
    /// <summary>
    /// A bool tensor of <paramref name="values"/> (copied), 1-D unless <paramref name="shape"/> is given.
    /// </summary>
    public static Tensor tensor(bool[] values, long[]? shape = null, Device? device = null) =>
        Tensor.FromArray<bool>(values, shape ?? [values.LongLength], device);

    private static Tensor Convert(Tensor t, ScalarType dtype)
    {
        if (t.dtype == dtype) return t;
        using (t) return t.to(dtype);
    }

    // ---- combining ------------------------------------------------------------------------------
    /// <summary>index_select into an existing tensor (resized if needed): a batch buffer filled without a new allocation.</summary>
    public static void index_select(Tensor input, long dim, Tensor index, Tensor @out)
    {
        using var alias = Tensor.Op(OpId.index_select_out, [@out, input, index], [dim]);
    }
    /// <summary>Concatenates along an existing dimension <paramref name="dim"/> (torch.cat).</summary>
    public static Tensor cat(Tensor[] tensors, long dim = 0) => Tensor.Op(OpId.cat, tensors, [dim]);
    /// <summary>Stacks equal-shaped tensors along a new dimension <paramref name="dim"/> (torch.stack).</summary>
    public static Tensor stack(Tensor[] tensors, long dim = 0) => Tensor.Op(OpId.stack, tensors, [dim]);
    /// <summary>Elementwise choice: a where condition holds, b elsewhere.</summary>
    public static Tensor where(Tensor condition, Tensor a, Tensor b) => Tensor.Op(OpId.where, condition, a, b);
    /// <summary>e^x, elementwise (torch.exp).</summary>
    public static Tensor exp(Tensor t) => t.exp();
    /// <summary>Natural logarithm, elementwise (torch.log).</summary>
    public static Tensor log(Tensor t) => t.log();
    /// <summary>Square root, elementwise (torch.sqrt).</summary>
    public static Tensor sqrt(Tensor t) => t.sqrt();
    /// <summary>1/(1 + e^−x), elementwise (torch.sigmoid).</summary>
    public static Tensor sigmoid(Tensor t) => t.sigmoid();
    /// <summary>Hyperbolic tangent, elementwise (torch.tanh).</summary>
    public static Tensor tanh(Tensor t) => t.tanh();
    /// <summary>Matrix product with broadcasting (torch.matmul).</summary>
    public static Tensor matmul(Tensor a, Tensor b) => a.matmul(b);
    /// <summary>Elementwise maximum, broadcast (torch.maximum).</summary>
    public static Tensor maximum(Tensor a, Tensor b) => a.maximum(b);
    /// <summary>Elementwise minimum, broadcast (torch.minimum).</summary>
    public static Tensor minimum(Tensor a, Tensor b) => a.minimum(b);

    // ---- process state --------------------------------------------------------------------------
    /// <summary>Seeds the default generators (CPU and, where present, CUDA).</summary>
    public static void manual_seed(ulong seed) => Native.Check(Native.rt_manual_seed(seed));
    /// <summary>Sets the number of threads of libtorch's intra-op parallelism (torch.set_num_threads).</summary>
    public static void set_num_threads(int n) => Native.Check(Native.rt_set_num_threads(n));
    /// <summary>The number of threads of libtorch's intra-op parallelism (torch.get_num_threads).</summary>
    public static int get_num_threads() => Native.rt_get_num_threads();

    /// <summary>Opens a scope that disposes every tensor created on this thread until it closes.</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary><c>using (torch.no_grad()) { ... }</c>: no autograd graph is recorded inside.</summary>
    public static IDisposable no_grad() => new GradModeScope(false);
    /// <summary><c>using (torch.enable_grad())</c>: records the autograd graph inside, even within no_grad.</summary>
    public static IDisposable enable_grad() => new GradModeScope(true);
    /// <summary>True when autograd records operations on this thread (torch.is_grad_enabled).</summary>
    public static bool is_grad_enabled() => Native.rt_grad_enabled() != 0;

    private sealed class GradModeScope : IDisposable
    {
        private readonly int previous;
        private bool closed;

        public GradModeScope(bool enabled)
        {
            previous = Native.rt_grad_enabled();
            Native.rt_set_grad_enabled(enabled ? 1 : 0);
        }

        public void Dispose()
        {
            if (closed) return;
            closed = true;
            Native.rt_set_grad_enabled(previous);
        }
    }

    public static partial class cuda
    {
        /// <summary>True when libtorch sees at least one CUDA device (torch.cuda.is_available).</summary>
        public static bool is_available() => device_count() > 0;
        /// <summary>The number of CUDA devices libtorch sees (torch.cuda.device_count).</summary>
        public static int device_count() => Native.rt_cuda_device_count();
    }

    /// <summary>Linear algebra on (batched) square matrices [..., n, n], as torch.linalg.</summary>
    public static class linalg
    {
        /// <summary>
        /// Lower Cholesky factor L with A = L Lᵀ; throws TorchException unless A is symmetric positive definite
        /// (torch.linalg.cholesky).
        /// </summary>
        public static Tensor cholesky(Tensor a) => Tensor.Op(OpId.cholesky, a);
        /// <summary>The solution X of A X = B (torch.linalg.solve).</summary>
        public static Tensor solve(Tensor a, Tensor b) => Tensor.Op(OpId.solve, a, b);
        /// <summary>
        /// The solution X of A X = B for triangular A, upper or lower (torch.linalg.solve_triangular).
        /// </summary>
        public static Tensor solve_triangular(Tensor a, Tensor b, bool upper) => Tensor.Op(OpId.solve_triangular, a, b, [upper ? 1 : 0]);
        /// <summary>The inverse matrix (torch.linalg.inv).</summary>
        public static Tensor inv(Tensor a) => Tensor.Op(OpId.inverse, a);
        /// <summary>(sign, log|det|) of square matrices.</summary>
        public static (Tensor sign, Tensor logabsdet) slogdet(Tensor a)
        {
            var r = Tensor.OpMany(OpId.slogdet, [a], default, 2);
            return (r[0], r[1]);
        }
    }
}
