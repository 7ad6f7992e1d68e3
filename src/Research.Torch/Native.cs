using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Research.Torch;

/// <summary>The ops of src/native/ops.def, by name. At load every name is looked up in the native
/// table, so a name missing on either side fails at start-up, not at first use.</summary>
internal enum OpId
{
    zeros, ones, empty, full, eye, arange, linspace, randn, rand, randint, randperm, zeros_like, 
    ones_like, full_like, randn_like, rand_like, bernoulli, multinomial, to, to_dtype, clone, 
    contiguous, detach, alias, neg, abs, exp, log, log1p, expm1, log2, sqrt, rsqrt, square, 
    reciprocal, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, sigmoid, log_sigmoid, relu, 
    silu, gelu, softplus, erf, erfinv, lgamma, sign, floor, ceil, round, trunc, log10, logical_not, isnan, 
    isfinite, clamp, pow_scalar, scalar_pow, add, sub, mul, div, pow, atan2, maximum, minimum, 
    fmod, remainder, add_scalar, sub_scalar, rsub_scalar, mul_scalar, div_scalar, rdiv_scalar, eq, 
    ne, lt, le, gt, ge, eq_scalar, ne_scalar, lt_scalar, le_scalar, gt_scalar, ge_scalar, 
    logical_and, logical_or, where, lerp, allclose, add_, sub_, mul_, div_, add_scalar_, 
    mul_scalar_, addcmul_, addcdiv_, lerp_, copy_, zero_, fill_, clamp_, sqrt_, normal_, uniform_, 
    set_data, masked_fill_, sum_all, sum, mean_all, mean, prod_all, max_all, min_all, max_dim, min_dim, amax, 
    amin, argmax, argmin, logsumexp, var, std, norm, cumsum, all, any, reshape, view, permute, 
    transpose, flatten, squeeze, squeeze_dim, unsqueeze, expand, repeat, flip, cat, stack, chunk, 
    split, slice, narrow, select, index_select, gather, scatter_add, masked_fill, masked_select, index, index_put_, 
    tril, triu, diagonal, diag_embed, one_hot, sort, argsort, matmul, mm, bmm, outer, cholesky, 
    solve, solve_triangular, inverse, slogdet, linear, conv2d, conv_transpose2d, group_norm, 
    layer_norm, softmax, log_softmax, avg_pool2d, max_pool2d, upsample_nearest2d, dropout, 
    embedding, mse_loss, bce_with_logits, cross_entropy, index_select_out, topk
}

/// <summary>The C ABI of libresearch_torch (src/native) and the one place that turns its error codes
/// into exceptions.</summary>
internal static unsafe partial class Native
{
    private const string Lib = "research_torch";

    /// <summary>Native op id of each <see cref="OpId"/>.</summary>
    private static readonly int[] OpIds;

    static Native()
    {
        PrepareProcess();
        NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, Resolve);
        int threads = Settings.Threads;
        Check(rt_init(threads, Settings.KeepFreedMemory ? 1 : 0));
        OpIds = LookUpOps();
    }

    // OpenMP reads OMP_WAIT_POLICY when libtorch loads it, so it must be in the native environment
    // before our library is loaded (.NET's Environment.SetEnvironmentVariable does not reach it).
    // Passive waiting stops libtorch's OpenMP threads from spinning against OpenBLAS's (DESIGN.md).
    private static void PrepareProcess()
    {
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib) return IntPtr.Zero;
        var explicitPath = Environment.GetEnvironmentVariable("RESEARCH_TORCH_NATIVE");
        if (!string.IsNullOrEmpty(explicitPath))
        {
            if (!File.Exists(explicitPath))
                throw new DllNotFoundException($"RESEARCH_TORCH_NATIVE={explicitPath}: no such file. {HowToGetTheShim}");
            return Load(explicitPath);
        }
        var here = Path.GetDirectoryName(assembly.Location);
        // Next to the assembly (a build of this repository), or in the NuGet package the assembly came
        // from (lib/net10.0/ -> runtimes/linux-x64/native/, as when F# Interactive loads it from the cache).
        foreach (var candidate in new[]
        {
            Path.Combine(here ?? "", "libresearch_torch.so"),
            Path.Combine(AppContext.BaseDirectory, "libresearch_torch.so"),
            Path.Combine(here ?? "", "..", "..", "runtimes", "linux-x64", "native", "libresearch_torch.so"),
        })
            if (!string.IsNullOrEmpty(here) && File.Exists(candidate)) return Load(candidate);
        // The default probing: a NuGet package's runtimes/linux-x64/native (through the app's deps.json),
        // LD_LIBRARY_PATH, the system's library folders.
        if (NativeLibrary.TryLoad(name, assembly, path, out var handle)) return handle;
        throw new DllNotFoundException(
            $"libresearch_torch.so (the native part of Research.Torch) was found neither next to {Path.GetFileName(assembly.Location)} " +
            $"({Path.GetDirectoryName(assembly.Location)}) nor on the library path. {HowToGetTheShim}");
    }

    private const string HowToGetTheShim =
        "Build it with `dotnet build` in the repository (./run.sh setup installs libtorch, cmake and g++ first; it lands in " +
        "build/native/ and is copied next to the assemblies), reference the Research.Torch package (it carries it under " +
        "runtimes/linux-x64/native), or set RESEARCH_TORCH_NATIVE=/path/to/libresearch_torch.so.";

    private static IntPtr Load(string file)
    {
        try { return NativeLibrary.Load(file); }
        catch (DllNotFoundException e)
        {
            // Usually libtorch itself is missing: the shim links against it.
            throw new DllNotFoundException(
                $"{file} could not be loaded ({e.Message}). It needs libtorch's shared libraries: install Debian's libtorch-dev " +
                "(./run.sh setup) or put the libtorch the shim was built against on LD_LIBRARY_PATH.", e);
        }
    }

    private static int[] LookUpOps()
    {
        var native = new Dictionary<string, int>();
        int count = rt_op_count();
        for (int i = 0; i < count; i++) native[Marshal.PtrToStringUTF8(rt_op_name(i))!] = i;
        var names = Enum.GetNames<OpId>();
        var missing = names.Where(n => !native.ContainsKey(n)).ToArray();
        if (missing.Length > 0)
            throw new InvalidOperationException(
                "libresearch_torch lacks ops " + string.Join(", ", missing) + ": rebuild src/native (dotnet build)");
        return names.Select(n => native[n]).ToArray();
    }

    /// <summary>Names of every op the native library exposes (a test checks each has an <see cref="OpId"/>).</summary>
    internal static string[] NativeOpNames()
    {
        int count = rt_op_count();
        return Enumerable.Range(0, count).Select(i => Marshal.PtrToStringUTF8(rt_op_name(i))!).ToArray();
    }

    internal static TorchException LastError() =>
        new(Marshal.PtrToStringUTF8(rt_last_error()) ?? "unknown libtorch error");

    /// <summary>The error of a failed op, naming the op and its operands' dtypes and shapes, which
    /// libtorch's messages ("mat1 and mat2 must have the same dtype") often leave out.</summary>
    private static TorchException OpError(OpId op, IntPtr* tensors, int nTensors)
    {
        var message = Marshal.PtrToStringUTF8(rt_last_error()) ?? "unknown libtorch error";
        var operands = new List<string>();
        var dtypes = new HashSet<ScalarType>();
        for (int k = 0; k < nTensors; k++)
        {
            if (tensors[k] == IntPtr.Zero) continue;
            var dtype = (ScalarType)rt_dtype(tensors[k]);
            var sizes = new long[rt_dim(tensors[k])];
            fixed (long* p = sizes) rt_sizes(tensors[k], p);
            dtypes.Add(dtype);
            operands.Add($"{dtype} [{string.Join(", ", sizes)}]");
        }
        var text = $"{op}: {message}";
        if (operands.Count > 0) text += $" (operands: {string.Join(", ", operands)})";
        if (dtypes.Contains(ScalarType.Float32) && dtypes.Contains(ScalarType.Float64))
            text += ". Float32 and float64 are mixed: torch.tensor(double[]) makes float64 unless given a dtype, while "
                  + "factories and layers use torch.get_default_dtype() (float32 unless torch.set_default_dtype changed it); "
                  + "convert one side with .to(...)";
        return new TorchException(text);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Check(int code)
    {
        if (code < 0) throw LastError();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static IntPtr Check(IntPtr handle)
    {
        if (handle == IntPtr.Zero) throw LastError();
        return handle;
    }

    /// <summary>Calls an op; returns its single result.</summary>
    internal static IntPtr Call(OpId op, IntPtr* tensors, int nTensors, ReadOnlySpan<long> ints, ReadOnlySpan<double> reals, IntPtr generator)
    {
        IntPtr result;
        fixed (long* i = ints)
        fixed (double* r = reals)
        {
            int n = rt_call(OpIds[(int)op], tensors, nTensors, i, ints.Length, r, reals.Length, generator, &result, 1);
            if (n < 0) throw OpError(op, tensors, nTensors);
        }
        return result;
    }

    /// <summary>Calls an op that returns several tensors.</summary>
    internal static IntPtr[] CallMany(OpId op, IntPtr* tensors, int nTensors, ReadOnlySpan<long> ints, ReadOnlySpan<double> reals, int maxOut)
    {
        var results = new IntPtr[maxOut];
        fixed (long* i = ints)
        fixed (double* r = reals)
        fixed (IntPtr* o = results)
        {
            int n = rt_call(OpIds[(int)op], tensors, nTensors, i, ints.Length, r, reals.Length, IntPtr.Zero, o, maxOut);
            if (n < 0) throw OpError(op, tensors, nTensors);
            Array.Resize(ref results, n);
        }
        return results;
    }

    /// <summary>Calls an in-place op, whose result is its first argument.</summary>
    internal static void CallInPlace(OpId op, IntPtr* tensors, int nTensors, ReadOnlySpan<long> ints, ReadOnlySpan<double> reals, IntPtr generator)
    {
        fixed (long* i = ints)
        fixed (double* r = reals)
        {
            if (rt_call(OpIds[(int)op], tensors, nTensors, i, ints.Length, r, reals.Length, generator, null, 0) < 0)
                throw OpError(op, tensors, nTensors);
        }
    }

    // Functions marked SuppressGCTransition return in nanoseconds and never call back into .NET, so
    // they skip the cooperative-to-preemptive GC mode switch (which costs more than they do).
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport(Lib)] private static partial IntPtr rt_last_error();
    [LibraryImport(Lib), SuppressGCTransition] internal static partial long rt_live_tensors();
    [LibraryImport(Lib)] private static partial int rt_init(int numThreads, int keepFreedMemory);
    [LibraryImport(Lib)] internal static partial int rt_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int rt_get_num_threads();
    [LibraryImport(Lib)] internal static partial int rt_cuda_device_count();
    [LibraryImport(Lib)] internal static partial int rt_manual_seed(ulong seed);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial int rt_grad_enabled();
    [LibraryImport(Lib), SuppressGCTransition] internal static partial void rt_set_grad_enabled(int enabled);
    [LibraryImport(Lib)] private static partial int rt_op_count();
    [LibraryImport(Lib)] private static partial IntPtr rt_op_name(int id);
    [LibraryImport(Lib)] private static partial int rt_call(int id, IntPtr* tensors, int nTensors, long* ints, int nInts, double* reals, int nReals, IntPtr generator, IntPtr* output, int maxOut);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial void rt_free(IntPtr t);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial int rt_dim(IntPtr t);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial void rt_sizes(IntPtr t, long* output);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial long rt_numel(IntPtr t);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial long rt_nbytes(IntPtr t);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial int rt_dtype(IntPtr t);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial int rt_device_type(IntPtr t);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial int rt_device_index(IntPtr t);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial int rt_requires_grad(IntPtr t);
    [LibraryImport(Lib), SuppressGCTransition] internal static partial int rt_is_leaf(IntPtr t);
    [LibraryImport(Lib)] internal static partial int rt_set_requires_grad(IntPtr t, int value);
    [LibraryImport(Lib)] internal static partial IntPtr rt_grad_fn_name(IntPtr t);
    [LibraryImport(Lib)] internal static partial void rt_free_string(IntPtr s);
    [LibraryImport(Lib)] internal static partial IntPtr rt_from_data(void* data, long* sizes, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial int rt_copy_to(IntPtr t, void* destination, long nbytes);
    [LibraryImport(Lib)] internal static partial int rt_item(IntPtr t, double* value);
    [LibraryImport(Lib)] internal static partial int rt_item_int64(IntPtr t, long* value);
    [LibraryImport(Lib)] internal static partial int rt_grad(IntPtr t, IntPtr* grad);
    [LibraryImport(Lib)] internal static partial int rt_set_grad(IntPtr t, IntPtr grad);
    [LibraryImport(Lib)] internal static partial int rt_retain_grad(IntPtr t);
    [LibraryImport(Lib)] internal static partial int rt_backward(IntPtr t, IntPtr gradient, int retainGraph, int createGraph);
    [LibraryImport(Lib)] internal static partial int rt_autograd_grad(IntPtr* outputs, int nOutputs, IntPtr* inputs, int nInputs, IntPtr* gradOutputs, int retainGraph, int createGraph, int allowUnused, IntPtr* result);
    [LibraryImport(Lib)] internal static partial IntPtr rt_generator_new(ulong seed, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial void rt_generator_free(IntPtr g);
    [LibraryImport(Lib)] internal static partial IntPtr rt_generator_get_state(IntPtr g);
    [LibraryImport(Lib)] internal static partial int rt_generator_set_state(IntPtr g, IntPtr state);
}
