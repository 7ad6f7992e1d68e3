namespace Research.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>Data-parallel wrappers, as torch.nn.parallel.</summary>
        public static partial class parallel
        {
            /// <summary>
            /// Data parallelism for any training loop, as torch.nn.parallel.DistributedDataParallel does it:
            /// the constructor copies rank 0's parameters and buffers to every rank, and
            /// <see cref="average_gradients"/>, called after backward and before the optimizer step, replaces
            /// each gradient by its mean over ranks. Gradients travel in buckets of at most
            /// <c>bucket_cap_mb</c> (PyTorch's default 25 MB): one all-reduce per bucket of flattened
            /// gradients, in reverse registration order (the order backward tends to produce them).
            /// Every rank then holds the same gradients, so the same optimizer step keeps the replicas
            /// identical. With equal per-rank batches the averaged gradient is the gradient of the mean loss
            /// over the whole global batch.
            /// </summary>
            public sealed class DistributedDataParallel
            {
                private readonly distributed.ProcessGroup? group;
                private readonly Tensor[][] buckets;

                /// <summary>
                /// Wraps <paramref name="module"/>, broadcasting rank 0's parameters and buffers over
                /// <paramref name="process_group"/> (the default group when null), with gradient buckets of at most
                /// <paramref name="bucket_cap_mb"/> MiB; throws ArgumentException for a non-positive cap.
                /// </summary>
                public DistributedDataParallel(Module module, distributed.ProcessGroup? process_group = null, double bucket_cap_mb = 25)
                {
                    if (bucket_cap_mb <= 0) throw new ArgumentException($"bucket_cap_mb must be positive, got {bucket_cap_mb}");
                    this.module = module;
                    group = process_group;
                    buckets = Buckets(module.parameters().Reverse(), (long)(bucket_cap_mb * 1024 * 1024));
                    broadcast_parameters_and_buffers();
                }

                /// <summary>The wrapped module; the replicas keep the same parameters on every rank.</summary>
                public Module module { get; }

                /// <summary>Number of gradient buckets (one all-reduce each).</summary>
                public int bucket_count => buckets.Length;

                /// <summary>Copies rank 0's parameters and buffers into this rank's module.</summary>
                public void broadcast_parameters_and_buffers()
                {
                    var tensors = module.parameters().Concat(module.named_buffers().Select(b => b.buffer));
                    foreach (var bucket in Buckets(tensors, long.MaxValue))
                        Coalesced(bucket, flat => distributed.broadcast(flat, 0, group));
                }

                /// <summary>Averages every parameter's gradient over the ranks, in place. A parameter without a
                /// gradient contributes zeros and receives the average, so all ranks run the same collectives.</summary>
                public void average_gradients()
                {
                    using var _ = no_grad();
                    foreach (var bucket in buckets)
                    {
                        using var scope = NewDisposeScope();
                        var grads = bucket.Select(p => p.grad ?? zeros_like(p)).ToArray();
                        Coalesced(grads, flat => distributed.all_reduce(flat, distributed.ReduceOp.AVG, group));
                        for (int i = 0; i < bucket.Length; i++)
                            if (bucket[i].grad is null) bucket[i].grad = grads[i];
                    }
                }

                // Groups tensors in the given order into runs of one dtype and device of at most capBytes.
                private static Tensor[][] Buckets(IEnumerable<Tensor> tensors, long capBytes)
                {
                    var result = new List<Tensor[]>();
                    var current = new List<Tensor>();
                    long bytes = 0;
                    foreach (var t in tensors)
                    {
                        long size = t.numel * Tensor.ElementSize(t.dtype);
                        bool other = current.Count > 0 && (current[0].dtype != t.dtype || current[0].device != t.device);
                        if (current.Count > 0 && (other || bytes + size > capBytes))
                        {
                            result.Add(current.ToArray());
                            (current, bytes) = (new List<Tensor>(), 0);
                        }
                        current.Add(t);
                        bytes += size;
                    }
                    if (current.Count > 0) result.Add(current.ToArray());
                    return result.ToArray();
                }

                // Runs one collective on the tensors flattened into one buffer, then copies the result back.
                private static void Coalesced(Tensor[] tensors, Action<Tensor> collective)
                {
                    using var _ = no_grad();
                    using var scope = NewDisposeScope();
                    var flat = cat(tensors.Select(t => t.reshape(-1)).ToArray());
                    collective(flat);
                    long offset = 0;
                    foreach (var t in tensors)
                    {
                        t.copy_(flat.narrow(0, offset, t.numel).view(t.shape));
                        offset += t.numel;
                    }
                }
            }
        }
    }
}
