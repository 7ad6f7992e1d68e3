using System.Runtime.InteropServices;

namespace Research.Torch;

public static partial class torch
{
    /// <summary>
    /// Collective communication between processes (ranks) over libtorch's c10d, with PyTorch's names:
    /// <c>init_process_group</c>, then <c>all_reduce</c>, <c>broadcast</c>, <c>all_gather</c>,
    /// <c>reduce_scatter</c> and <c>barrier</c> on the default group (or on a <see cref="ProcessGroup"/>
    /// given explicitly). Collectives are blocking and in place, and every rank must call them in the same
    /// order with tensors of the same shape and dtype. Every collective is bounded by the group's timeout:
    /// a peer that died or stopped answering makes it throw <see cref="DistributedException"/> with c10d's
    /// message instead of hanging.
    /// </summary>
    public static partial class distributed
    {
        /// <summary>Reductions, as torch.distributed.ReduceOp. Gloo has no native AVG: it is SUM followed by a
        /// division by the world size (floating-point tensors only), as PyTorch's DDP averages with Gloo.</summary>
        public enum ReduceOp
        {
            /// <summary>Elementwise sum over ranks.</summary>
            SUM = 0,
            /// <summary>Elementwise mean over ranks: SUM, then a division by the world size.</summary>
            AVG = 1,
            /// <summary>Elementwise product over ranks.</summary>
            PRODUCT = 2,
            /// <summary>Elementwise minimum over ranks.</summary>
            MIN = 3,
            /// <summary>Elementwise maximum over ranks.</summary>
            MAX = 4,
        }

        /// <summary>PyTorch's default collective timeout (30 minutes).</summary>
        public static readonly TimeSpan default_pg_timeout = TimeSpan.FromMinutes(30);

        private static ProcessGroup? defaultGroup;

        /// <summary>
        /// Joins the default process group. <paramref name="init_method"/> is "env://" (MASTER_ADDR,
        /// MASTER_PORT, and RANK / WORLD_SIZE unless given, as set by <c>./run.sh launch</c> or torchrun),
        /// "tcp://host:port" (rank 0 hosts the TCP store there) or "file:///path" (a file store every rank
        /// can reach). Only the "gloo" backend (CPU tensors) is built in. <paramref name="timeout"/> bounds
        /// the rendezvous and every collective.
        /// </summary>
        public static ProcessGroup init_process_group(string backend = "gloo", string init_method = "env://",
            int rank = -1, int world_size = -1, TimeSpan? timeout = null)
        {
            if (defaultGroup is not null)
                throw new InvalidOperationException("the default process group is already initialized (call destroy_process_group first)");
            defaultGroup = new_group(backend, init_method, rank, world_size, timeout);
            return defaultGroup;
        }

        /// <summary>A process group of its own (not the default one), joined as <see cref="init_process_group"/> does.</summary>
        public static ProcessGroup new_group(string backend = "gloo", string init_method = "env://",
            int rank = -1, int world_size = -1, TimeSpan? timeout = null)
        {
            if (backend != "gloo")
                throw new ArgumentException($"backend '{backend}' is not available: this build has 'gloo' (CPU tensors)");
            var t = timeout ?? default_pg_timeout;
            if (t <= TimeSpan.Zero) throw new ArgumentException($"timeout must be positive, got {t}");
            rank = rank >= 0 ? rank : EnvInt("RANK", init_method);
            world_size = world_size >= 0 ? world_size : EnvInt("WORLD_SIZE", init_method);
            if (world_size < 1 || rank >= world_size)
                throw new ArgumentException($"rank {rank} is not in 0..{world_size - 1} (world size {world_size})");

            Store store;
            string host;
            if (init_method == "env://")
            {
                host = Env("MASTER_ADDR", init_method);
                store = new TCPStore(host, EnvInt("MASTER_PORT", init_method), world_size, rank == 0, t);
            }
            else if (init_method.StartsWith("tcp://"))
            {
                var uri = new Uri(init_method);
                if (uri.Port <= 0) throw new ArgumentException($"init_method '{init_method}' has no port");
                host = uri.Host;
                store = new TCPStore(host, uri.Port, world_size, rank == 0, t);
            }
            else if (init_method.StartsWith("file://"))
            {
                host = "";  // no master: Gloo binds to this host name's address (shared file systems span machines)
                store = new FileStore(init_method["file://".Length..], world_size);
            }
            else throw new ArgumentException($"init_method '{init_method}': expected env://, tcp://host:port or file:///path");

            try { return new ProcessGroup(store, rank, world_size, t, host); }
            catch
            {
                store.Dispose();
                throw;
            }
        }

        private static string Env(string name, string initMethod) =>
            Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
                ? v
                : throw new ArgumentException($"{name} is not set: {initMethod} needs it (./run.sh launch sets it), or pass it explicitly");

        private static int EnvInt(string name, string initMethod)
        {
            var v = Env(name, initMethod);
            return int.TryParse(v, out var n) && n >= 0 ? n : throw new ArgumentException($"{name}='{v}' is not a non-negative integer");
        }

        /// <summary>
        /// True once <see cref="init_process_group"/> has joined the default group (torch.distributed.is_initialized).
        /// </summary>
        public static bool is_initialized() => defaultGroup is not null;

        /// <summary>Leaves the default group and frees it (and its store).</summary>
        public static void destroy_process_group()
        {
            defaultGroup?.Dispose();
            defaultGroup = null;
        }

        private static ProcessGroup Group(ProcessGroup? group) =>
            group ?? defaultGroup ?? throw new InvalidOperationException("no process group: call torch.distributed.init_process_group first");

        /// <summary>
        /// This process's rank in <paramref name="group"/> (the default group when null); throws
        /// InvalidOperationException without one.
        /// </summary>
        public static int get_rank(ProcessGroup? group = null) => Group(group).rank;
        /// <summary>
        /// The number of ranks in <paramref name="group"/> (the default group when null); throws
        /// InvalidOperationException without one.
        /// </summary>
        public static int get_world_size(ProcessGroup? group = null) => Group(group).world_size;

        /// <summary>Reduces <paramref name="tensor"/> over all ranks, in place on every rank.</summary>
        public static void all_reduce(Tensor tensor, ReduceOp op = ReduceOp.SUM, ProcessGroup? group = null) =>
            Group(group).all_reduce(tensor, op);

        /// <summary>Copies <paramref name="tensor"/> of rank <paramref name="src"/> into the others' <paramref name="tensor"/>.</summary>
        public static void broadcast(Tensor tensor, int src, ProcessGroup? group = null) => Group(group).broadcast(tensor, src);

        /// <summary>tensor_list[r] receives rank r's <paramref name="tensor"/>.</summary>
        public static void all_gather(Tensor[] tensor_list, Tensor tensor, ProcessGroup? group = null) =>
            Group(group).all_gather(tensor_list, tensor);

        /// <summary><paramref name="output"/> receives the reduction over ranks of input_list[this rank].</summary>
        public static void reduce_scatter(Tensor output, Tensor[] input_list, ReduceOp op = ReduceOp.SUM, ProcessGroup? group = null) =>
            Group(group).reduce_scatter(output, input_list, op);

        /// <summary>Returns when every rank has reached it.</summary>
        public static void barrier(ProcessGroup? group = null) => Group(group).barrier();

        /// <summary>A key-value store the ranks meet through (c10d::Store).</summary>
        public abstract class Store : IDisposable
        {
            private IntPtr handle;

            private protected Store(IntPtr handle) => this.handle = handle;

            internal IntPtr Handle => handle != IntPtr.Zero ? handle : throw new ObjectDisposedException(GetType().Name);

            /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, visible to every rank.</summary>
            public void set(string key, string value)
            {
                Native.CheckDistributed(Native.rt_dist_store_set(Handle, key, value));
                GC.KeepAlive(this);
            }

            /// <summary>The value of <paramref name="key"/>, waiting for another rank to set it (up to the store's timeout).</summary>
            public string get(string key)
            {
                var s = Native.CheckDistributed(Native.rt_dist_store_get(Handle, key));
                GC.KeepAlive(this);
                try { return Marshal.PtrToStringUTF8(s)!; }
                finally { Native.rt_free_string(s); }
            }

            /// <summary>Frees the native store; calling it again does nothing.</summary>
            public void Dispose()
            {
                var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
                if (h != IntPtr.Zero) Native.rt_dist_store_free(h);
                GC.SuppressFinalize(this);
            }

            /// <summary>Frees the native store of an undisposed Store.</summary>
            ~Store() => Dispose();
        }

        /// <summary>c10d's TCP store: rank 0 (<paramref name="is_master"/>) serves it on host:port, the others connect,
        /// retrying until <paramref name="timeout"/>.</summary>
        public sealed class TCPStore(string host, int port, int world_size, bool is_master, TimeSpan timeout)
            : Store(Native.CheckDistributed(Native.rt_dist_tcp_store(host, port, world_size, is_master ? 1 : 0, (long)timeout.TotalMilliseconds)));

        /// <summary>c10d's file store: every rank opens the same file (a shared file system across machines).</summary>
        public sealed class FileStore(string path, int world_size)
            : Store(Native.CheckDistributed(Native.rt_dist_file_store(path, world_size)));

        /// <summary>A Gloo process group: this process is rank <see cref="rank"/> of <see cref="world_size"/>.
        /// Owns its store. Gloo binds to loopback when <c>master_host</c> is a loopback address (all ranks on
        /// this machine), to the interface in GLOO_SOCKET_IFNAME if set, else to this host name's address.</summary>
        public sealed unsafe class ProcessGroup : IDisposable
        {
            private IntPtr handle;
            private readonly Store store;

            /// <summary>
            /// Joins a Gloo group of <paramref name="world_size"/> ranks as <paramref name="rank"/> through
            /// <paramref name="store"/>, which it then owns; <paramref name="timeout"/> bounds every collective. Throws
            /// DistributedException when the rendezvous fails.
            /// </summary>
            public ProcessGroup(Store store, int rank, int world_size, TimeSpan timeout, string master_host = "127.0.0.1")
            {
                handle = Native.CheckDistributed(Native.rt_dist_gloo_group(store.Handle, rank, world_size, (long)timeout.TotalMilliseconds, master_host));
                this.store = store;
                (this.rank, this.world_size, this.timeout) = (rank, world_size, timeout);
            }

            /// <summary>This process's rank, 0..world_size − 1.</summary>
            public int rank { get; }
            /// <summary>The number of ranks in the group.</summary>
            public int world_size { get; }
            /// <summary>The bound on every collective of this group.</summary>
            public TimeSpan timeout { get; }

            private IntPtr Handle => handle != IntPtr.Zero ? handle : throw new ObjectDisposedException(nameof(ProcessGroup));

            /// <summary>
            /// Reduces <paramref name="tensor"/> over all ranks with <paramref name="op"/>, in place on every rank; AVG
            /// needs a floating-point tensor.
            /// </summary>
            public void all_reduce(Tensor tensor, ReduceOp op = ReduceOp.SUM)
            {
                CheckAverage(tensor, op);
                Native.CheckDistributed(Native.rt_dist_all_reduce(Handle, tensor.Handle, op == ReduceOp.AVG ? (int)ReduceOp.SUM : (int)op));
                GC.KeepAlive(tensor);
                if (op == ReduceOp.AVG) Average(tensor);
            }

            /// <summary>
            /// Copies rank <paramref name="src"/>'s <paramref name="tensor"/> into every other rank's; throws
            /// ArgumentException for a src outside the group.
            /// </summary>
            public void broadcast(Tensor tensor, int src)
            {
                if (src < 0 || src >= world_size) throw new ArgumentException($"src {src} is not a rank of 0..{world_size - 1}");
                Native.CheckDistributed(Native.rt_dist_broadcast(Handle, tensor.Handle, src));
                GC.KeepAlive(tensor);
            }

            /// <summary>tensor_list[r] receives rank r's <paramref name="tensor"/>, on every rank.</summary>
            public void all_gather(Tensor[] tensor_list, Tensor tensor)
            {
                var outputs = tensor_list.Select(t => t.Handle).ToArray();
                fixed (IntPtr* o = outputs)
                    Native.CheckDistributed(Native.rt_dist_all_gather(Handle, o, outputs.Length, tensor.Handle));
                GC.KeepAlive(tensor_list);
                GC.KeepAlive(tensor);
            }

            /// <summary>
            /// <paramref name="output"/> receives the reduction over ranks of input_list[this rank]; AVG needs a
            /// floating-point tensor.
            /// </summary>
            public void reduce_scatter(Tensor output, Tensor[] input_list, ReduceOp op = ReduceOp.SUM)
            {
                CheckAverage(output, op);
                var inputs = input_list.Select(t => t.Handle).ToArray();
                fixed (IntPtr* i = inputs)
                    Native.CheckDistributed(Native.rt_dist_reduce_scatter(Handle, output.Handle, i, inputs.Length,
                        op == ReduceOp.AVG ? (int)ReduceOp.SUM : (int)op));
                GC.KeepAlive(output);
                GC.KeepAlive(input_list);
                if (op == ReduceOp.AVG) Average(output);
            }

            /// <summary>Returns when every rank has reached it.</summary>
            public void barrier()
            {
                Native.CheckDistributed(Native.rt_dist_barrier(Handle));
                GC.KeepAlive(this);
            }

            private static void CheckAverage(Tensor t, ReduceOp op)
            {
                if (op == ReduceOp.AVG && t.dtype is not (ScalarType.Float32 or ScalarType.Float64))
                    throw new ArgumentException($"ReduceOp.AVG needs a floating-point tensor, got {t.dtype}");
            }

            // A true division (not a multiplication by 1/n), as PyTorch's DDP divides.
            private void Average(Tensor t)
            {
                using var _ = no_grad();
                using var n = tensor((double)world_size);
                t.div_(n);
            }

            /// <summary>Frees the group and its store; calling it again does nothing.</summary>
            public void Dispose()
            {
                var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
                if (h == IntPtr.Zero) return;
                Native.rt_dist_group_free(h);
                store.Dispose();
                GC.SuppressFinalize(this);
            }

            /// <summary>Frees the native group of an undisposed ProcessGroup.</summary>
            ~ProcessGroup()
            {
                var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
                if (h != IntPtr.Zero) Native.rt_dist_group_free(h);
            }
        }
    }
}
