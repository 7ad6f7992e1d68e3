using Research.Torch;
using Xunit;
using DistributedSampler = Research.Torch.torch.utils.data.DistributedSampler;

namespace Research.Distributed.Tests;

/// <summary>DistributedSampler against PyTorch's semantics, worked out by hand where the answer is known.</summary>
public class SamplerTests
{
    private static long[][] Shards(long n, int replicas, bool shuffle, bool dropLast, ulong seed = 0, long epoch = 0) =>
        Enumerable.Range(0, replicas).Select(r =>
        {
            var s = new DistributedSampler(n, replicas, r, shuffle, seed, dropLast);
            s.set_epoch(epoch);
            return s.indices();
        }).ToArray();

    [Fact]
    public void Without_shuffle_the_remainder_is_padded_from_the_start()
    {
        // 10 over 3: 0..9 padded to 12 with 0, 1; rank r takes positions r, r+3, ...
        var s = Shards(10, 3, shuffle: false, dropLast: false);
        Assert.Equal([0L, 3, 6, 9], s[0]);
        Assert.Equal([1L, 4, 7, 0], s[1]);
        Assert.Equal([2L, 5, 8, 1], s[2]);
    }

    [Fact]
    public void Drop_last_drops_the_tail()
    {
        var s = Shards(10, 3, shuffle: false, dropLast: true);
        Assert.Equal([0L, 3, 6], s[0]);
        Assert.Equal([1L, 4, 7], s[1]);
        Assert.Equal([2L, 5, 8], s[2]);
        Assert.Equal(3, new DistributedSampler(10, 3, 0, drop_last: true).num_samples);
        Assert.Equal(0, new DistributedSampler(1, 2, 1, drop_last: true).num_samples);  // ceil((1 − 2)/2) = 0
    }

    [Fact]
    public void Padding_repeats_the_order_when_the_data_set_is_smaller_than_the_replicas()
    {
        var s = Shards(2, 5, shuffle: false, dropLast: false);
        Assert.Equal([[0L], [1L], [0L], [1L], [0L]], s);
    }

    [Theory]
    [InlineData(1000, 4, 0)]
    [InlineData(1003, 4, 3)]
    public void Shuffled_shards_are_disjoint_and_cover_the_epoch(long n, int replicas, long epoch)
    {
        var s = Shards(n, replicas, shuffle: true, dropLast: false, seed: 11, epoch: epoch);
        Assert.All(s, shard => Assert.Equal((n + replicas - 1) / replicas, shard.Length));
        var all = s.SelectMany(x => x).ToArray();
        Assert.Equal(n, all.Distinct().Count());  // every index appears
        Assert.Equal(replicas * ((n + replicas - 1) / replicas) - n, all.Length - n);  // padding only
        Assert.All(all, i => Assert.InRange(i, 0, n - 1));
        if (n % replicas == 0)
            Assert.Empty(s[0].Intersect(s[1]));  // no padding: the shards are disjoint
    }

    [Fact]
    public void The_order_is_randperm_of_seed_plus_epoch_and_changes_with_the_epoch()
    {
        var e0 = Shards(100, 1, shuffle: true, dropLast: false, seed: 5, epoch: 0)[0];
        var again = Shards(100, 1, shuffle: true, dropLast: false, seed: 5, epoch: 0)[0];
        var e1 = Shards(100, 1, shuffle: true, dropLast: false, seed: 5, epoch: 1)[0];
        Assert.Equal(e0, again);
        Assert.NotEqual(e0, e1);
        using var g = new Generator(6);  // seed + epoch
        using var perm = torch.randperm(100, generator: g);
        Assert.Equal(perm.data<long>(), e1);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new DistributedSampler(10, 2, 2));
        Assert.Throws<ArgumentException>(() => new DistributedSampler(10, 0, 0));
        Assert.Throws<ArgumentException>(() => new DistributedSampler(-1, 2, 0));
        Assert.Throws<ArgumentException>(() => new DistributedSampler(10, 2, 0).set_epoch(-1));
        // Without a process group, the replicas and the rank must be given.
        Assert.Throws<InvalidOperationException>(() => new DistributedSampler(10));
    }
}
