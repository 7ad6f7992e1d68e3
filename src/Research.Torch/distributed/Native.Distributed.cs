using System.Runtime.InteropServices;

namespace Research.Torch;

// The c10d entry points of src/native/distributed.cpp.
internal static unsafe partial class Native
{
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr rt_dist_tcp_store(string host, int port, int worldSize, int isServer, long timeoutMs);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr rt_dist_file_store(string path, int worldSize);
    [LibraryImport(Lib)] internal static partial void rt_dist_store_free(IntPtr store);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rt_dist_store_set(IntPtr store, string key, string value);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr rt_dist_store_get(IntPtr store, string key);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr rt_dist_gloo_group(IntPtr store, int rank, int worldSize, long timeoutMs, string masterHost);
    [LibraryImport(Lib)] internal static partial void rt_dist_group_free(IntPtr group);
    [LibraryImport(Lib)] internal static partial int rt_dist_all_reduce(IntPtr group, IntPtr t, int op);
    [LibraryImport(Lib)] internal static partial int rt_dist_broadcast(IntPtr group, IntPtr t, int root);
    [LibraryImport(Lib)] internal static partial int rt_dist_all_gather(IntPtr group, IntPtr* outputs, int nOutputs, IntPtr input);
    [LibraryImport(Lib)] internal static partial int rt_dist_reduce_scatter(IntPtr group, IntPtr output, IntPtr* inputs, int nInputs, int op);
    [LibraryImport(Lib)] internal static partial int rt_dist_barrier(IntPtr group);

    /// <summary>Turns a failed c10d call into a <see cref="DistributedException"/> with c10d's message.</summary>
    internal static void CheckDistributed(int code)
    {
        if (code < 0) throw new DistributedException(Marshal.PtrToStringUTF8(rt_last_error()) ?? "unknown c10d error");
    }

    internal static IntPtr CheckDistributed(IntPtr handle)
    {
        if (handle == IntPtr.Zero) throw new DistributedException(Marshal.PtrToStringUTF8(rt_last_error()) ?? "unknown c10d error");
        return handle;
    }
}
