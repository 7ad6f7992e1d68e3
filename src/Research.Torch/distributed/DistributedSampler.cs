namespace Research.Torch;

public static partial class torch
{
    /// <summary>Data-loading utilities, as torch.utils.</summary>
    public static partial class utils
    {
        /// <summary>Data-set sampling, as torch.utils.data.</summary>
        public static partial class data
        {
            /// <summary>
            /// The indices of one rank's share of a data set per epoch, with the semantics of PyTorch's
            /// torch.utils.data.DistributedSampler: with <c>shuffle</c>, the epoch's order is
            /// <c>randperm(n)</c> from a generator seeded with <c>seed + epoch</c> (the same numbers as
            /// PyTorch on the same libtorch), so every rank computes the same permutation without
            /// communicating; otherwise 0..n−1. Without <c>drop_last</c> the order is padded by repeating its
            /// beginning up to a multiple of the number of replicas; with it the tail is dropped. Rank r takes
            /// positions r, r + R, r + 2R, ...: the shards are disjoint (as positions) and together cover the
            /// epoch. Call <see cref="set_epoch"/> at the start of each epoch for a new order.
            /// </summary>
            public sealed class DistributedSampler
            {
                private long currentEpoch;

                /// <summary>
                /// The sampler of rank <paramref name="rank"/> of <paramref name="num_replicas"/> (from the default
                /// process group when null) over <paramref name="dataset_size"/> items. Throws ArgumentException for a
                /// negative size, no replicas or a rank out of range.
                /// </summary>
                public DistributedSampler(long dataset_size, int? num_replicas = null, int? rank = null, bool shuffle = true,
                    ulong seed = 0, bool drop_last = false)
                {
                    this.num_replicas = num_replicas ?? distributed.get_world_size();
                    this.rank = rank ?? distributed.get_rank();
                    if (dataset_size < 0) throw new ArgumentException($"dataset_size must be >= 0, got {dataset_size}");
                    if (this.num_replicas < 1) throw new ArgumentException($"num_replicas must be >= 1, got {this.num_replicas}");
                    if (this.rank < 0 || this.rank >= this.num_replicas)
                        throw new ArgumentException($"rank {this.rank} is not in 0..{this.num_replicas - 1}");
                    (this.dataset_size, this.shuffle, this.seed, this.drop_last) = (dataset_size, shuffle, seed, drop_last);
                    num_samples = drop_last && dataset_size % this.num_replicas != 0
                        ? (dataset_size - 1) / this.num_replicas  // PyTorch's ceil((n − R) / R), 0 when n < R
                        : (dataset_size + this.num_replicas - 1) / this.num_replicas;
                    total_size = num_samples * this.num_replicas;
                }

                /// <summary>n, the number of items in the data set.</summary>
                public long dataset_size { get; }
                /// <summary>R, the number of ranks sharing the data.</summary>
                public int num_replicas { get; }
                /// <summary>This sampler's rank r, 0..R − 1.</summary>
                public int rank { get; }
                /// <summary>Whether each epoch's order is a seeded random permutation.</summary>
                public bool shuffle { get; }
                /// <summary>The seed of the permutation (the generator is seeded with seed + epoch).</summary>
                public ulong seed { get; }
                /// <summary>
                /// Whether the tail is dropped (true) or the order padded (false) to a multiple of R.
                /// </summary>
                public bool drop_last { get; }
                /// <summary>Indices per rank and epoch.</summary>
                public long num_samples { get; }
                /// <summary>num_samples × num_replicas: the epoch's length after padding or dropping.</summary>
                public long total_size { get; }

                /// <summary>
                /// Sets the epoch, which selects the permutation; throws ArgumentException for a negative epoch.
                /// </summary>
                public void set_epoch(long epoch)
                {
                    if (epoch < 0) throw new ArgumentException($"epoch must be >= 0, got {epoch}");
                    currentEpoch = epoch;
                }

                /// <summary>This rank's indices for the current epoch, in order.</summary>
                public long[] indices()
                {
                    long[] order;
                    if (shuffle)
                    {
                        using var g = new Generator(seed + (ulong)currentEpoch);
                        using var perm = randperm(dataset_size, generator: g);
                        order = perm.data<long>();
                    }
                    else order = Enumerable.Range(0, checked((int)dataset_size)).Select(i => (long)i).ToArray();
                    var mine = new long[num_samples];
                    // Position p of the padded (or truncated) order is order[p mod n].
                    for (long k = 0; k < num_samples; k++) mine[k] = order[(rank + k * num_replicas) % dataset_size];
                    return mine;
                }
            }
        }
    }
}
