namespace Research.Torch;

/// <summary>
/// Process-wide engine settings, fixed when the native library loads. Defaults are chosen for speed
/// on small machines; each can be overridden by an environment variable:
/// <list type="bullet">
/// <item><c>RESEARCH_TORCH_THREADS=N</c>: libtorch's intra-op threads (default: all cores; libtorch
/// itself would size its pool from what the VM reports, often 1). <see cref="torch.set_num_threads"/>
/// changes it later.</item>
/// <item><c>RESEARCH_TORCH_MALLOC=default</c>: keep glibc's allocator defaults. Otherwise freed tensor
/// memory stays in the heap (mallopt M_MMAP_MAX=0, a 1 GiB trim threshold) instead of going back
/// to the kernel and page-faulting in again every training step. glibc's own MALLOC_MMAP_MAX_ and
/// MALLOC_TRIM_THRESHOLD_, when set, win over these defaults.</item>
/// <item><c>RESEARCH_TORCH_GC_BUDGET_MB=N</c>: how many MiB of unreachable tensors may pile up before
/// the library runs a garbage collection to finalize them (default 64; 0 turns this off). Only loops
/// that leave tensors to the finalizer, instead of dispose scopes, ever reach it.</item>
/// <item><c>OMP_WAIT_POLICY</c>: set to PASSIVE unless given, so OpenMP and OpenBLAS threads do
/// not spin against each other.</item>
/// </list>
/// </summary>
public static class Settings
{
    /// <summary>libtorch's intra-op threads: RESEARCH_TORCH_THREADS if positive, else the processor count.</summary>
    public static int Threads =>
        int.TryParse(Environment.GetEnvironmentVariable("RESEARCH_TORCH_THREADS"), out var n) && n > 0
            ? n
            : Environment.ProcessorCount;

    /// <summary>True unless RESEARCH_TORCH_MALLOC=default: freed tensor memory stays in the heap.</summary>
    public static bool KeepFreedMemory =>
        !string.Equals(Environment.GetEnvironmentVariable("RESEARCH_TORCH_MALLOC"), "default", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Bytes of unreachable tensors tolerated before a garbage collection (RESEARCH_TORCH_GC_BUDGET_MB, default 64 MiB;
    /// 0 means never).
    /// </summary>
    public static long GcBudgetBytes =>
        long.TryParse(Environment.GetEnvironmentVariable("RESEARCH_TORCH_GC_BUDGET_MB"), out var mb) && mb >= 0
            ? (mb == 0 ? long.MaxValue / 4 : mb << 20)
            : 64L << 20;
}
