using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Research.Torch;

/// <summary>
/// A libtorch tensor. Owns one native handle: freed by <see cref="Dispose"/>, by the enclosing
/// <see cref="DisposeScope"/>, or by the finalizer as a safety net. Using a disposed tensor throws
/// <see cref="ObjectDisposedException"/>. Ops follow PyTorch's names (Tensor.Ops.cs, torch.cs).
/// </summary>
public sealed unsafe partial class Tensor : IDisposable
{
    private IntPtr handle;
    private readonly long nativeBytes;  // counted in NativeMemory while the handle lives

    internal Tensor(IntPtr handle)
    {
        this.handle = handle;
        nativeBytes = NativeMemory.Allocated(handle);
        Scope = DisposeScope.Current;
        Scope?.Add(this);
    }

    /// <summary>The dispose scope that will dispose this tensor, if any.</summary>
    internal DisposeScope? Scope { get; set; }

    internal IntPtr Handle
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => handle != IntPtr.Zero ? handle : throw new ObjectDisposedException(nameof(Tensor), "the tensor has been disposed");
    }

    /// <summary>
    /// True once <see cref="Dispose"/> has freed the native tensor; any further use throws ObjectDisposedException.
    /// </summary>
    public bool IsDisposed => handle == IntPtr.Zero;

    /// <summary>Frees the native tensor now; calling it again does nothing.</summary>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
        if (h == IntPtr.Zero) return;
        Native.rt_free(h);
        NativeMemory.Freed(nativeBytes);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native tensor of an undisposed Tensor when the garbage collector finalises it.</summary>
    ~Tensor()
    {
        var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
        if (h == IntPtr.Zero) return;
        Native.rt_free(h);
        NativeMemory.Freed(nativeBytes);
    }

    /// <summary>Moves this tensor to the scope enclosing the one that owns it (or out of all scopes).</summary>
    public Tensor MoveToOuterScope()
    {
        Scope?.Transfer(this);
        return this;
    }

    /// <summary>Takes this tensor out of every dispose scope: the caller (or the finalizer) frees it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        Scope = null;
        return this;
    }

    /// <summary>Number of native tensor handles alive in the process (diagnostics and leak tests).</summary>
    public static long LiveCount => Native.rt_live_tensors();

    /// <summary>Bytes held by live tensor handles, as the garbage-collection budget counts them
    /// (elements plus a fixed overhead per handle; views count their elements again).</summary>
    public static long LiveBytes => NativeMemory.LiveBytes;

    // ---- metadata -------------------------------------------------------------------------------

    /// <summary>The size of each dimension (Tensor.shape), a new array.</summary>
    public long[] shape
    {
        get
        {
            var h = Handle;
            var s = new long[Native.rt_dim(h)];
            fixed (long* p = s) Native.rt_sizes(h, p);
            GC.KeepAlive(this);
            return s;
        }
    }

    /// <summary>
    /// The size of dimension <paramref name="dim"/>; negative values count from the end (Tensor.size).
    /// </summary>
    public long size(int dim) => shape[dim < 0 ? dim + this.dim : dim];

    /// <summary>The number of dimensions (Tensor.dim()).</summary>
    public int dim { get { var d = Native.rt_dim(Handle); GC.KeepAlive(this); return d; } }

    /// <summary>The number of elements (Tensor.numel()).</summary>
    public long numel { get { var n = Native.rt_numel(Handle); GC.KeepAlive(this); return n; } }

    /// <summary>The element type (Tensor.dtype).</summary>
    public ScalarType dtype { get { var t = (ScalarType)Native.rt_dtype(Handle); GC.KeepAlive(this); return t; } }

    /// <summary>The device the data lives on (Tensor.device).</summary>
    public Device device
    {
        get
        {
            var h = Handle;
            var d = new Device((DeviceType)Native.rt_device_type(h), Native.rt_device_index(h));
            GC.KeepAlive(this);
            return d;
        }
    }

    /// <summary>
    /// True for a tensor that autograd did not compute from others: user-created tensors and parameters
    /// (Tensor.is_leaf).
    /// </summary>
    public bool is_leaf { get { var b = Native.rt_is_leaf(Handle) != 0; GC.KeepAlive(this); return b; } }

    /// <summary>
    /// Whether autograd records operations on this tensor (Tensor.requires_grad); only floating-point tensors can
    /// require it.
    /// </summary>
    public bool requires_grad
    {
        get { var b = Native.rt_requires_grad(Handle) != 0; GC.KeepAlive(this); return b; }
        set { Native.Check(Native.rt_set_requires_grad(Handle, value ? 1 : 0)); GC.KeepAlive(this); }
    }

    /// <summary>Sets <see cref="requires_grad"/> and returns this tensor (PyTorch's requires_grad_).</summary>
    public Tensor requires_grad_(bool value = true)
    {
        requires_grad = value;
        return this;
    }

    /// <summary>The accumulated gradient, or null when there is none. Setting null clears it.</summary>
    public Tensor? grad
    {
        get
        {
            IntPtr g;
            int found = Native.rt_grad(Handle, &g);
            GC.KeepAlive(this);
            Native.Check(found);
            return found == 1 ? new Tensor(g) : null;
        }
        set
        {
            Native.Check(Native.rt_set_grad(Handle, value?.Handle ?? IntPtr.Zero));
            GC.KeepAlive(this);
            GC.KeepAlive(value);
        }
    }

    /// <summary>Keeps <see cref="grad"/> for this non-leaf tensor after backward (Tensor.retain_grad).</summary>
    public void retain_grad()
    {
        Native.Check(Native.rt_retain_grad(Handle));
        GC.KeepAlive(this);
    }

    /// <summary>Back-propagates from this tensor (a scalar, unless <paramref name="gradient"/> is given).</summary>
    public void backward(Tensor? gradient = null, bool retain_graph = false, bool create_graph = false)
    {
        Native.Check(Native.rt_backward(Handle, gradient?.Handle ?? IntPtr.Zero, retain_graph || create_graph ? 1 : 0, create_graph ? 1 : 0));
        GC.KeepAlive(this);
        GC.KeepAlive(gradient);
    }

    // ---- data -----------------------------------------------------------------------------------

    /// <summary>Copies the elements (C order) into a new .NET array; T must match <see cref="dtype"/>.</summary>
    public T[] data<T>() where T : unmanaged
    {
        CheckElementType<T>();
        var result = new T[numel];
        fixed (T* p = result)
            Native.Check(Native.rt_copy_to(Handle, p, (long)result.Length * sizeof(T)));
        GC.KeepAlive(this);
        return result;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public double ToDouble()
    {
        double v;
        Native.Check(Native.rt_item(Handle, &v));
        GC.KeepAlive(this);
        return v;
    }

    /// <summary>The value of a one-element tensor as a float.</summary>
    public float ToSingle() => (float)ToDouble();
    /// <summary>The value of a one-element tensor as an integer: exact for every int64 (floating-point
    /// values are truncated toward zero).</summary>
    public long ToInt64()
    {
        long v;
        Native.Check(Native.rt_item_int64(Handle, &v));
        GC.KeepAlive(this);
        return v;
    }
    /// <summary>The value of a one-element tensor as a bool: true when nonzero.</summary>
    public bool ToBoolean() => ToDouble() != 0.0;

    /// <summary>The value of a one-element tensor as T (PyTorch's item()).</summary>
    public T item<T>() where T : unmanaged
    {
        CheckElementType<T>();
        var v = data<T>();
        if (v.Length != 1) throw new InvalidOperationException($"item() needs a tensor with one element, this one has {v.Length}");
        return v[0];
    }

    private void CheckElementType<T>() where T : unmanaged
    {
        var expected = ElementType<T>();
        if (expected != dtype)
            throw new ArgumentException($"the tensor holds {dtype}; read it as {ClrTypeName(dtype)} or convert it with to(ScalarType.{expected}) first");
    }

    internal static ScalarType ElementType<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? ScalarType.Float32
        : typeof(T) == typeof(double) ? ScalarType.Float64
        : typeof(T) == typeof(long) ? ScalarType.Int64
        : typeof(T) == typeof(int) ? ScalarType.Int32
        : typeof(T) == typeof(byte) ? ScalarType.UInt8
        : typeof(T) == typeof(bool) ? ScalarType.Bool
        : throw new ArgumentException($"no tensor element type for {typeof(T).Name}");

    private static string ClrTypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float",
        ScalarType.Float64 => "double",
        ScalarType.Int64 => "long",
        ScalarType.Int32 => "int",
        ScalarType.UInt8 => "byte",
        ScalarType.Bool => "bool",
        _ => t.ToString(),
    };

    /// <summary>Copies a .NET array (C order) into a new tensor of the given shape.</summary>
    internal static Tensor FromArray<T>(ReadOnlySpan<T> values, ReadOnlySpan<long> shape, Device? device) where T : unmanaged
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        if (n != values.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape.ToArray())}] holds {n} elements but {values.Length} were given");
        return FromBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values), ElementType<T>(), shape.ToArray(), device);
    }

    /// <summary>The raw bytes of the elements (C order, native little-endian layout).</summary>
    internal byte[] bytes()
    {
        var result = new byte[numel * ElementSize(dtype)];
        fixed (byte* p = result)
            Native.Check(Native.rt_copy_to(Handle, p, result.LongLength));
        GC.KeepAlive(this);
        return result;
    }

    /// <summary>A tensor of the given dtype and shape over a copy of raw bytes.</summary>
    internal static Tensor FromBytes(ReadOnlySpan<byte> data, ScalarType dtype, long[] shape, Device? device)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        if (n * ElementSize(dtype) != data.Length)
            throw new ArgumentException($"{data.Length} bytes do not hold {dtype} [{string.Join(", ", shape)}]");
        var d = device ?? Device.CPU;
        fixed (byte* p = data)
        fixed (long* s = shape)
            return new Tensor(Native.Check(Native.rt_from_data(p, s, shape.Length, (int)dtype, (int)d.type, d.index)));
    }

    internal static int ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.UInt8 or ScalarType.Bool => 1,
        _ => throw new ArgumentException($"no element size for {t}"),
    };
}
