namespace Research.Torch;

/// <summary>The PyTorch-style entry point: <c>torch.randn(...)</c>, <c>torch.no_grad()</c>, ... .</summary>
#pragma warning disable IDE1006 // lower-case names follow PyTorch so users' knowledge carries over
public static partial class torch
{
    public const ScalarType float32 = ScalarType.Float32;
    public const ScalarType float64 = ScalarType.Float64;
    public const ScalarType int64 = ScalarType.Int64;
    public const ScalarType int32 = ScalarType.Int32;
    public const ScalarType uint8 = ScalarType.UInt8;
    public const ScalarType @bool = ScalarType.Bool;
    public static readonly Device CPU = Device.CPU;
    public static readonly Device CUDA = Device.CUDA;
    /// <summary>Tensors without data (shapes and dtypes only), as PyTorch's "meta" device.</summary>
    public static readonly Device META = Device.Meta;

    private static ScalarType defaultDtype = ScalarType.Float32;

    /// <summary>Sets the dtype of floating-point factories (zeros, randn, arange with reals, ...) and of
    /// layers' weights when none is given (PyTorch's torch.set_default_dtype): float32, the default, or
    /// float64. <c>torch.tensor(double[])</c> is the exception: .NET doubles become float64 unless a
    /// dtype is given.</summary>
    public static void set_default_dtype(ScalarType dtype) =>
        defaultDtype = dtype is ScalarType.Float32 or ScalarType.Float64
            ? dtype : throw new ArgumentException($"the default dtype must be float32 or float64, got {dtype}");

    public static ScalarType get_default_dtype() => defaultDtype;

    public static Device device(string spec) => Device.Parse(spec);

    // ---- creation -------------------------------------------------------------------------------
    public static Tensor zeros(long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Tensor.Create(OpId.zeros, dtype ?? defaultDtype, device, requires_grad, default, shape);
    public static Tensor ones(long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Tensor.Create(OpId.ones, dtype ?? defaultDtype, device, requires_grad, default, shape);
    public static Tensor empty(long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Tensor.Create(OpId.empty, dtype ?? defaultDtype, device, requires_grad, default, shape);
    public static Tensor full(long[] shape, double value, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Tensor.Create(OpId.full, dtype ?? defaultDtype, device, requires_grad, default, shape, [value]);
    public static Tensor eye(long n, ScalarType? dtype = null, Device? device = null) =>
        Tensor.Create(OpId.eye, dtype ?? defaultDtype, device, false, [n], default);
    /// <summary>start, start+step, ... below end.</summary>
    public static Tensor arange(double start, double end, double step = 1, ScalarType? dtype = null, Device? device = null) =>
        Tensor.Create(OpId.arange, dtype ?? defaultDtype, device, false, default, default, [start, end, step]);
    public static Tensor arange(long end, ScalarType dtype = ScalarType.Int64, Device? device = null) =>
        Tensor.Create(OpId.arange, dtype, device, false, default, default, [0, end, 1]);
    public static Tensor linspace(double start, double end, long steps, ScalarType? dtype = null, Device? device = null) =>
        Tensor.Create(OpId.linspace, dtype ?? defaultDtype, device, false, [steps], default, [start, end]);
    public static Tensor randn(long[] shape, ScalarType? dtype = null, Device? device = null, Generator? generator = null, bool requires_grad = false) =>
        Tensor.Create(OpId.randn, dtype ?? defaultDtype, device, requires_grad, default, shape, default, generator);
    public static Tensor rand(long[] shape, ScalarType? dtype = null, Device? device = null, Generator? generator = null, bool requires_grad = false) =>
        Tensor.Create(OpId.rand, dtype ?? defaultDtype, device, requires_grad, default, shape, default, generator);
    /// <summary>Integers uniform in [low, high).</summary>
    public static Tensor randint(long low, long high, long[] shape, Device? device = null, Generator? generator = null) =>
        Tensor.Create(OpId.randint, ScalarType.Int64, device, false, [low, high], shape, default, generator);
    public static Tensor randperm(long n, Device? device = null, Generator? generator = null) =>
        Tensor.Create(OpId.randperm, ScalarType.Int64, device, false, [n], default, default, generator);
    public static Tensor zeros_like(Tensor t) => Tensor.Op(OpId.zeros_like, t);
    public static Tensor ones_like(Tensor t) => Tensor.Op(OpId.ones_like, t);
    public static Tensor full_like(Tensor t, double value) => Tensor.Op(OpId.full_like, t, default, [value]);
    public static Tensor randn_like(Tensor t, Generator? generator = null) => Tensor.Op(OpId.randn_like, t, default, default, generator);
    public static Tensor rand_like(Tensor t, Generator? generator = null) => Tensor.Op(OpId.rand_like, t, default, default, generator);
    /// <summary>Draws 0/1 with the probabilities in p.</summary>
    public static Tensor bernoulli(Tensor p, Generator? generator = null) => Tensor.Op(OpId.bernoulli, p, default, default, generator);
    /// <summary>Draws category indices with (unnormalised) weights along the last dimension.</summary>
    public static Tensor multinomial(Tensor weights, long samples, bool replacement = false, Generator? generator = null) =>
        Tensor.Op(OpId.multinomial, weights, [samples, replacement ? 1 : 0], default, generator);

    // ---- from .NET data -------------------------------------------------------------------------
    // .NET doubles become float64 tensors unless a dtype is given (as in TorchSharp); factories such
    // as randn use torch.get_default_dtype().
    public static Tensor tensor(double value, ScalarType? dtype = null, Device? device = null) =>
        Convert(Tensor.FromArray<double>([value], [], device), dtype ?? ScalarType.Float64);
    public static Tensor tensor(double[] values, ScalarType? dtype = null, Device? device = null) =>
        Convert(Tensor.FromArray<double>(values, [values.LongLength], device), dtype ?? ScalarType.Float64);
    public static Tensor tensor(double[] values, long[] shape, ScalarType? dtype = null, Device? device = null) =>
        Convert(Tensor.FromArray<double>(values, shape, device), dtype ?? ScalarType.Float64);
    public static Tensor tensor(double[,] values, ScalarType? dtype = null, Device? device = null)
    {
        var flat = new double[values.Length];
        Buffer.BlockCopy(values, 0, flat, 0, flat.Length * sizeof(double));
        return tensor(flat, [values.GetLongLength(0), values.GetLongLength(1)], dtype, device);
    }
    public static Tensor tensor(float[] values, long[]? shape = null, Device? device = null) =>
        Tensor.FromArray<float>(values, shape ?? [values.LongLength], device);
    public static Tensor tensor(long[] values, long[]? shape = null, Device? device = null) =>
        Tensor.FromArray<long>(values, shape ?? [values.LongLength], device);
    public static Tensor tensor(int[] values, long[]? shape = null, Device? device = null) =>
        Tensor.FromArray<int>(values, shape ?? [values.LongLength], device);
    public static Tensor tensor(byte[] values, long[]? shape = null, Device? device = null) =>
        Tensor.FromArray<byte>(values, shape ?? [values.LongLength], device);
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
    public static Tensor cat(Tensor[] tensors, long dim = 0) => Tensor.Op(OpId.cat, tensors, [dim]);
    public static Tensor stack(Tensor[] tensors, long dim = 0) => Tensor.Op(OpId.stack, tensors, [dim]);
    /// <summary>Elementwise choice: a where condition holds, b elsewhere.</summary>
    public static Tensor where(Tensor condition, Tensor a, Tensor b) => Tensor.Op(OpId.where, condition, a, b);
    public static Tensor exp(Tensor t) => t.exp();
    public static Tensor log(Tensor t) => t.log();
    public static Tensor sqrt(Tensor t) => t.sqrt();
    public static Tensor sigmoid(Tensor t) => t.sigmoid();
    public static Tensor tanh(Tensor t) => t.tanh();
    public static Tensor matmul(Tensor a, Tensor b) => a.matmul(b);
    public static Tensor maximum(Tensor a, Tensor b) => a.maximum(b);
    public static Tensor minimum(Tensor a, Tensor b) => a.minimum(b);

    // ---- process state --------------------------------------------------------------------------
    /// <summary>Seeds the default generators (CPU and, where present, CUDA).</summary>
    public static void manual_seed(ulong seed) => Native.Check(Native.rt_manual_seed(seed));
    public static void set_num_threads(int n) => Native.Check(Native.rt_set_num_threads(n));
    public static int get_num_threads() => Native.rt_get_num_threads();

    /// <summary>Opens a scope that disposes every tensor created on this thread until it closes.</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary><c>using (torch.no_grad()) { ... }</c>: no autograd graph is recorded inside.</summary>
    public static IDisposable no_grad() => new GradModeScope(false);
    public static IDisposable enable_grad() => new GradModeScope(true);
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
        public static bool is_available() => device_count() > 0;
        public static int device_count() => Native.rt_cuda_device_count();
    }

    public static class linalg
    {
        public static Tensor cholesky(Tensor a) => Tensor.Op(OpId.cholesky, a);
        public static Tensor solve(Tensor a, Tensor b) => Tensor.Op(OpId.solve, a, b);
        public static Tensor solve_triangular(Tensor a, Tensor b, bool upper) => Tensor.Op(OpId.solve_triangular, a, b, [upper ? 1 : 0]);
        public static Tensor inv(Tensor a) => Tensor.Op(OpId.inverse, a);
        /// <summary>(sign, log|det|) of square matrices.</summary>
        public static (Tensor sign, Tensor logabsdet) slogdet(Tensor a)
        {
            var r = Tensor.OpMany(OpId.slogdet, [a], default, 2);
            return (r[0], r[1]);
        }
    }
}
