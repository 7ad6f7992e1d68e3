using System.Runtime.CompilerServices;

namespace Research.Torch;

// The typed doorways to Native.Call: they pin the argument tensors' handles for the duration of the
// native call (GC.KeepAlive, so no finalizer frees a handle mid-call) and wrap the results.
public sealed unsafe partial class Tensor
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Tensor Op(OpId op, Tensor a, ReadOnlySpan<long> ints = default, ReadOnlySpan<double> reals = default, Generator? generator = null)
    {
        IntPtr h = a.Handle;
        var r = new Tensor(Native.Call(op, &h, 1, ints, reals, generator?.Handle ?? IntPtr.Zero));
        GC.KeepAlive(a);
        GC.KeepAlive(generator);
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Tensor Op(OpId op, Tensor a, Tensor b, ReadOnlySpan<long> ints = default, ReadOnlySpan<double> reals = default)
    {
        IntPtr* h = stackalloc IntPtr[2] { a.Handle, b.Handle };
        var r = new Tensor(Native.Call(op, h, 2, ints, reals, IntPtr.Zero));
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        return r;
    }

    internal static Tensor Op(OpId op, Tensor a, Tensor b, Tensor c, ReadOnlySpan<long> ints = default, ReadOnlySpan<double> reals = default)
    {
        IntPtr* h = stackalloc IntPtr[3] { a.Handle, b.Handle, c.Handle };
        var r = new Tensor(Native.Call(op, h, 3, ints, reals, IntPtr.Zero));
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
        return r;
    }

    /// <summary>Any number of tensors; a null entry is an absent optional argument.</summary>
    internal static Tensor Op(OpId op, ReadOnlySpan<Tensor?> tensors, ReadOnlySpan<long> ints = default, ReadOnlySpan<double> reals = default)
    {
        var h = Handles(tensors);
        fixed (IntPtr* p = h)
        {
            var r = new Tensor(Native.Call(op, p, h.Length, ints, reals, IntPtr.Zero));
            KeepAlive(tensors);
            return r;
        }
    }

    internal static Tensor[] OpMany(OpId op, ReadOnlySpan<Tensor?> tensors, ReadOnlySpan<long> ints, int maxOut)
    {
        var h = Handles(tensors);
        fixed (IntPtr* p = h)
        {
            var results = Native.CallMany(op, p, h.Length, ints, default, maxOut);
            KeepAlive(tensors);
            return Array.ConvertAll(results, x => new Tensor(x));
        }
    }

    /// <summary>Runs an in-place op on <paramref name="self"/> and returns it.</summary>
    internal static Tensor OpInPlace(OpId op, Tensor self, Tensor? b = null, Tensor? c = null, ReadOnlySpan<double> reals = default, Generator? generator = null)
    {
        IntPtr* h = stackalloc IntPtr[3] { self.Handle, b?.Handle ?? IntPtr.Zero, c?.Handle ?? IntPtr.Zero };
        int n = c is not null ? 3 : b is not null ? 2 : 1;
        Native.CallInPlace(op, h, n, default, reals, generator?.Handle ?? IntPtr.Zero);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
        GC.KeepAlive(generator);
        return self;
    }

    /// <summary>A factory: ints are [dtype, device type, device index, extra..., shape...].</summary>
    internal static Tensor Create(OpId op, ScalarType dtype, Device? device, bool requiresGrad, ReadOnlySpan<long> extra,
        ReadOnlySpan<long> shape, ReadOnlySpan<double> reals = default, Generator? generator = null)
    {
        var d = device ?? Device.CPU;
        Span<long> ints = stackalloc long[3 + extra.Length + shape.Length];
        ints[0] = (long)dtype;
        ints[1] = (long)d.type;
        ints[2] = d.index;
        extra.CopyTo(ints[3..]);
        shape.CopyTo(ints[(3 + extra.Length)..]);
        var r = new Tensor(Native.Call(op, null, 0, ints, reals, generator?.Handle ?? IntPtr.Zero));
        GC.KeepAlive(generator);
        return requiresGrad ? r.requires_grad_() : r;
    }

    private static IntPtr[] Handles(ReadOnlySpan<Tensor?> tensors)
    {
        var h = new IntPtr[tensors.Length];
        for (int i = 0; i < h.Length; i++) h[i] = tensors[i]?.Handle ?? IntPtr.Zero;
        return h;
    }

    private static void KeepAlive(ReadOnlySpan<Tensor?> tensors)
    {
        foreach (var t in tensors) GC.KeepAlive(t);
    }
}
