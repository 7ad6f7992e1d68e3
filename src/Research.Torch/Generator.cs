namespace Research.Torch;

/// <summary>A seeded random-number generator of its own, so a sampler or a data loader draws the same
/// numbers whatever else in the process draws. Its state can be saved and restored (checkpoints).</summary>
public sealed class Generator : IDisposable
{
    private IntPtr handle;

    /// <summary>
    /// A generator seeded with <paramref name="seed"/> on <paramref name="device"/> (the CPU by default).
    /// </summary>
    public Generator(ulong seed, Device? device = null)
    {
        var d = device ?? Device.CPU;
        handle = Native.Check(Native.rt_generator_new(seed, (int)d.type, d.index));
        Seed = seed;
    }

    /// <summary>The seed this generator was created with.</summary>
    public ulong Seed { get; }

    internal IntPtr Handle => handle != IntPtr.Zero ? handle : throw new ObjectDisposedException(nameof(Generator));

    /// <summary>The full state as a uint8 tensor.</summary>
    public Tensor get_state()
    {
        var t = new Tensor(Native.Check(Native.rt_generator_get_state(Handle)));
        GC.KeepAlive(this);
        return t;
    }

    /// <summary>
    /// Restores a state returned by <see cref="get_state"/>; throws TorchException for a state of the wrong size.
    /// </summary>
    public void set_state(Tensor state)
    {
        Native.Check(Native.rt_generator_set_state(Handle, state.Handle));
        GC.KeepAlive(this);
        GC.KeepAlive(state);
    }

    /// <summary>Frees the native generator; calling it again does nothing.</summary>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
        if (h != IntPtr.Zero) Native.rt_generator_free(h);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native generator of an undisposed Generator.</summary>
    ~Generator() => Dispose();
}
