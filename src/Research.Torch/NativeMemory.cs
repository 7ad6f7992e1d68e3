namespace Research.Torch;

/// <summary>
/// Makes tensor memory visible to the garbage collector. The GC sees a tensor as a 50-byte object and
/// cannot know it holds megabytes of native data, so a loop written without dispose scopes leaves
/// garbage whose finalizers run far too rarely (a 2-D MLP at batch 256 reached 4x the resident memory
/// of the same loop with scopes). Every tensor adds its bytes to a process-wide count of live native
/// bytes; when the count passes a budget above what was reachable after the last collection, the
/// allocating thread collects and waits for the finalizers, which free the dead tensors. Tensors
/// freed promptly (scopes, Dispose) never reach the budget, so scoped loops never pay for a collection.
/// </summary>
internal static class NativeMemory
{
    /// <summary>What a handle costs beyond its elements: the handle, TensorImpl and StorageImpl.</summary>
    private const long PerTensorOverhead = 512;

    /// <summary>The least garbage allowed before a collection. Above it the budget is half the
    /// reachable bytes, so collections stay rare when a program legitimately holds much data.</summary>
    internal static readonly long MinimumBudget = Settings.GcBudgetBytes;

    private static long live;
    private static long reachable;  // live bytes after the last full collection
    private static long threshold = MinimumBudget;
    private static int collecting;

    /// <summary>Bytes of every tensor handle not yet freed (views count their elements again).</summary>
    internal static long LiveBytes => Volatile.Read(ref live);

    /// <summary>Number of collections this policy has triggered (diagnostics and tests).</summary>
    internal static int Collections;

    internal static long Allocated(IntPtr handle)
    {
        long bytes = Native.rt_nbytes(handle) + PerTensorOverhead;
        if (Interlocked.Add(ref live, bytes) > Volatile.Read(ref threshold)) Collect();
        return bytes;
    }

    internal static void Freed(long bytes) => Interlocked.Add(ref live, -bytes);

    private static long Budget(long reachableBytes) => Math.Max(MinimumBudget, reachableBytes / 2);

    private static void Collect()
    {
        // One thread collects; others allocating meanwhile go on (the budget is a soft limit).
        if (Interlocked.Exchange(ref collecting, 1) == 1) return;
        try
        {
            Interlocked.Increment(ref Collections);
            // Young garbage first: dead temporaries of a loop are in generations 0 and 1.
            GC.Collect(1, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            // When that freed less than half the budget, the garbage has aged into generation 2, or
            // the program really holds more: a full collection tells which, and resets the baseline.
            if (LiveBytes > reachable + Budget(reachable) / 2)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                reachable = LiveBytes;
            }
            Volatile.Write(ref threshold, Math.Max(reachable, LiveBytes) + Budget(reachable));
        }
        finally
        {
            Volatile.Write(ref collecting, 0);
        }
    }
}
