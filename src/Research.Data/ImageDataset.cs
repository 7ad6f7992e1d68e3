using Research.Torch;
using static Research.Torch.torch;

namespace Research.Data;

/// <summary>
/// Labelled images as two tensors: <see cref="Images"/> float [N, C, H, W] scaled to [-1, 1] and
/// <see cref="Labels"/> int64 [N]. The dataset owns both.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    public ImageDataset(Tensor images, Tensor labels, int classes)
    {
        if (images.dim != 4) throw new ArgumentException($"images must be [N, C, H, W], got [{string.Join(", ", images.shape)}]");
        if (labels.dim != 1 || labels.size(0) != images.size(0))
            throw new ArgumentException($"labels [{string.Join(", ", labels.shape)}] do not match {images.size(0)} images");
        Images = images.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        Classes = classes;
    }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public int Classes { get; }
    public long Count => Images.size(0);
    public long[] ImageShape => Images.shape[1..];

    /// <summary>Fashion-MNIST scaled from bytes 0..255 to [-1, 1] (x/127.5 − 1); <paramref name="subset"/>
    /// keeps the first n images (the files are not sorted by class, so the classes stay balanced).</summary>
    public static ImageDataset FashionMnist(bool train = true, long? subset = null, string directory = Data.FashionMnist.DefaultDirectory)
    {
        var (bytes, labels) = Data.FashionMnist.Load(train, directory);
        using (bytes)
        using (labels)
        using (var scope = NewDisposeScope())
        {
            long n = Math.Min(subset ?? bytes.size(0), bytes.size(0));
            if (n <= 0) throw new ArgumentException($"subset must be positive, got {subset}");
            var images = bytes.narrow(0, 0, n).to(ScalarType.Float32) / 127.5 - 1.0;
            return new ImageDataset(images.contiguous().MoveToOuterScope(), labels.narrow(0, 0, n).clone().MoveToOuterScope(), 10);
        }
    }

    /// <summary>The first <paramref name="n"/> images as a new dataset (copies).</summary>
    public ImageDataset Take(long n)
    {
        using var scope = NewDisposeScope();
        n = Math.Min(n, Count);
        return new ImageDataset(Images.narrow(0, 0, n).clone().MoveToOuterScope(), Labels.narrow(0, 0, n).clone().MoveToOuterScope(), Classes);
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>Where a <see cref="BatchStream"/> stands: the epoch and the next position in that epoch's order.</summary>
public readonly record struct DataPosition(long Epoch, long Offset);

/// <summary>An endless source of (inputs, labels) batches whose position can be saved and restored.</summary>
public interface IBatchSource : IDisposable
{
    int BatchSize { get; }
    DataPosition Position { get; set; }
    (Tensor inputs, Tensor labels) Next();
}

/// <summary>
/// Shuffled mini-batches over an <see cref="ImageDataset"/>: the order of epoch e is a permutation drawn from
/// a generator seeded by (seed, e) alone, so a run restored at a <see cref="DataPosition"/> sees exactly the
/// batches an uninterrupted run would. The last incomplete batch of an epoch is dropped. Batches are written
/// into two buffers allocated once, on <c>device</c> (the data set's by default): the tensors returned by
/// <see cref="Next"/> are overwritten by the next call.
/// For data-parallel training each of <c>worldSize</c> ranks reads its share of the epoch as
/// <see cref="torch.utils.data.DistributedSampler"/> (drop_last) defines it: positions rank, rank + W, ... of the
/// same permutation, disjoint shards of ⌊N / W⌋ that together cover the epoch but for fewer than W items.
/// The permutation is this stream's own (<see cref="EpochOrder"/>), not the sampler's seed + epoch, so that
/// seeds s and s + 1 do not see the same orders one epoch apart.
/// </summary>
public sealed class BatchStream : IBatchSource
{
    private readonly ImageDataset data;
    private readonly Tensor images, labels;
    private readonly utils.data.DistributedSampler sampler;
    private readonly long shardSize;
    private Tensor? order;

    public BatchStream(ImageDataset data, int batchSize, ulong seed, DataPosition start = default, int rank = 0, int worldSize = 1,
        Device? device = null)
    {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) throw new ArgumentException($"rank {rank} is not in 0..{worldSize - 1}");
        this.data = data;
        Seed = seed;
        sampler = new utils.data.DistributedSampler(data.Count, worldSize, rank, shuffle: true, drop_last: true, permutation: EpochOrder);
        shardSize = sampler.num_samples;
        if (batchSize <= 0 || batchSize > shardSize)
            throw new ArgumentException($"batch size must lie in 1..{shardSize} (the dataset size per rank), got {batchSize}");
        BatchSize = batchSize;
        Device = device ?? data.Images.device;
        images = empty([batchSize, .. data.ImageShape], data.Images.dtype, Device).DetachFromDisposeScope();
        labels = empty([batchSize], ScalarType.Int64, Device).DetachFromDisposeScope();
        Position = start;
    }

    /// <summary>Where the batches are.</summary>
    public Device Device { get; }

    public int BatchSize { get; }
    public ulong Seed { get; }
    /// <summary>The next batch's place; setting it (a resumed run) makes the stream continue from there.</summary>
    public DataPosition Position { get; set; }
    public long BatchesPerEpoch => shardSize / BatchSize;

    /// <summary>The permutation of the whole data set in epoch <paramref name="epoch"/>, before sharding.</summary>
    public long[] EpochOrder(long epoch)
    {
        // SplitMix-style mixing keeps nearby (seed, epoch) pairs from giving related streams.
        ulong z = Seed + 0x9E3779B97F4A7C15UL * (ulong)(epoch + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        using var g = new Generator(z ^ (z >> 31));
        using var perm = randperm(data.Count, generator: g);
        return perm.data<long>();
    }

    /// <summary>The next batch (images, labels), valid until the next call.</summary>
    public (Tensor inputs, Tensor labels) Next()
    {
        var (epoch, offset) = Position;
        if (offset + BatchSize > shardSize) (epoch, offset) = (epoch + 1, 0);
        if (order is null || OrderEpoch != epoch)
        {
            order?.Dispose();
            sampler.set_epoch(epoch);
            order = tensor(sampler.indices(), device: data.Images.device).DetachFromDisposeScope();
            OrderEpoch = epoch;
        }
        using (var idx = order.narrow(0, offset, BatchSize))
        {
            if (Device == data.Images.device)
            {
                index_select(data.Images, 0, idx, images);
                index_select(data.Labels, 0, idx, labels);
            }
            else
            {
                using var x = data.Images.index_select(0, idx);
                using var y = data.Labels.index_select(0, idx);
                images.copy_(x);
                labels.copy_(y);
            }
        }
        Position = new(epoch, offset + BatchSize);
        return (images, labels);
    }

    private long OrderEpoch { get; set; } = -1;

    public void Dispose()
    {
        images.Dispose();
        labels.Dispose();
        order?.Dispose();
    }
}
