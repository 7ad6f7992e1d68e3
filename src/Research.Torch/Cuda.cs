using System.Runtime.InteropServices;

namespace Research.Torch;

public static partial class torch
{
    /// <summary>CUDA devices and memory, as torch.cuda.</summary>
    public static partial class cuda
    {
        /// <summary>Waits for every kernel queued on the device to finish (timing GPU work needs it). Throws
        /// <see cref="TorchException"/> with libtorch's message where there is no CUDA.</summary>
        public static void synchronize(int device = 0) => Native.Check(Native.rt_cuda_synchronize(device));

        /// <summary>Returns the caching allocator's unused blocks to the driver (the memory other processes
        /// see as used); tensors in use are untouched. Does nothing without CUDA.</summary>
        public static void empty_cache() => Native.Check(Native.rt_cuda_empty_cache());

        /// <summary>Bytes occupied by tensors on the device; 0 without CUDA (as PyTorch before CUDA is used).</summary>
        public static long memory_allocated(int device = 0) => Native.CheckBytes(Native.rt_cuda_memory_allocated(device, 0));

        /// <summary>The largest <see cref="memory_allocated"/> since the process started.</summary>
        public static long max_memory_allocated(int device = 0) => Native.CheckBytes(Native.rt_cuda_memory_allocated(device, 1));
    }
}

internal static partial class Native
{
    [LibraryImport(Lib)] internal static partial int rt_cuda_synchronize(int device);
    [LibraryImport(Lib)] internal static partial int rt_cuda_empty_cache();
    [LibraryImport(Lib)] internal static partial long rt_cuda_memory_allocated(int device, int peak);

    internal static long CheckBytes(long bytes) => bytes >= 0 ? bytes : throw LastError();
}
