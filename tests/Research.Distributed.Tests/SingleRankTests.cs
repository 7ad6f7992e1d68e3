using Research.Torch;
using Xunit;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Tests;

/// <summary>What can be checked in one process: a world of size 1, stores, argument errors, DDP buckets.</summary>
public class SingleRankTests
{
    private static dist.ProcessGroup Solo(TimeSpan? timeout = null) =>
        dist.new_group("gloo", $"tcp://127.0.0.1:{Ranks.FreePort()}", 0, 1, timeout ?? TimeSpan.FromSeconds(30));

    [Fact]
    public void A_world_of_one_leaves_tensors_unchanged_by_collectives()
    {
        using var g = Solo();
        using var t = tensor(new[] { 1.5, -2.0, 3.25 });
        g.all_reduce(t, dist.ReduceOp.SUM);
        g.all_reduce(t, dist.ReduceOp.AVG);
        g.broadcast(t, 0);
        Assert.Equal([1.5, -2.0, 3.25], t.data<double>());
        var list = new[] { zeros([3], float64) };
        g.all_gather(list, t);
        Assert.Equal([1.5, -2.0, 3.25], list[0].data<double>());
        using var o = zeros([3], float64);
        g.reduce_scatter(o, [t]);
        Assert.Equal([1.5, -2.0, 3.25], o.data<double>());
        g.barrier();
    }

    [Fact]
    public void A_file_store_serves_as_rendezvous_and_as_key_value_store()
    {
        var path = Path.Combine(Path.GetTempPath(), $"filestore-{Guid.NewGuid():N}");
        try
        {
            using var g = dist.new_group("gloo", "file://" + path, 0, 1, TimeSpan.FromSeconds(30));
            using var t = ones([2]);
            g.all_reduce(t);
            Assert.Equal([1f, 1f], t.data<float>());
            using var store = new dist.FileStore(path + ".kv", 1);
            store.set("answer", "42");
            Assert.Equal("42", store.get("answer"));
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".kv");
        }
    }

    [Fact]
    public void Collective_errors_carry_c10d_message()
    {
        using var g = Solo();
        using var t = ones([4]);
        var e = Assert.Throws<DistributedException>(() => g.all_gather([zeros([4]), zeros([4])], t));
        Assert.Contains("expected", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<ArgumentException>(() => g.broadcast(t, 1));
        Assert.Throws<ArgumentException>(() => g.all_reduce(ones([2], int64), dist.ReduceOp.AVG));
        e = Assert.Throws<DistributedException>(() => g.reduce_scatter(t, [ones([3])]));
        Assert.Contains("shape", e.Message);
    }

    [Fact]
    public void A_store_nobody_serves_times_out_with_c10d_message()
    {
        var e = Assert.Throws<DistributedException>(() =>
            new dist.TCPStore("127.0.0.1", Ranks.FreePort(), 2, is_master: false, TimeSpan.FromSeconds(1)));
        Assert.Matches("(?i)time|connect", e.Message);
    }

    [Fact]
    public void Init_errors_name_what_is_missing()
    {
        var saved = Environment.GetEnvironmentVariable("MASTER_ADDR");
        Environment.SetEnvironmentVariable("MASTER_ADDR", null);
        try
        {
            var e = Assert.Throws<ArgumentException>(() => dist.init_process_group("gloo", "env://", 0, 1));
            Assert.Contains("MASTER_ADDR", e.Message);
        }
        finally { Environment.SetEnvironmentVariable("MASTER_ADDR", saved); }
        Assert.Contains("nccl", Assert.Throws<ArgumentException>(() => dist.new_group("nccl", "env://", 0, 1)).Message);
        Assert.Throws<ArgumentException>(() => dist.new_group("gloo", "tcp://127.0.0.1:1", 1, 1));
        Assert.Throws<ArgumentException>(() => dist.new_group("gloo", "udp://x", 0, 1));
        Assert.False(dist.is_initialized());
        Assert.Throws<InvalidOperationException>(() => dist.get_rank());
    }

    [Fact]
    public void A_disposed_group_throws()
    {
        var g = Solo();
        g.Dispose();
        Assert.Throws<ObjectDisposedException>(() => g.barrier());
    }

    private sealed class Two : nn.Module
    {
        public Two()
        {
            register_parameter("a", ones([1000], float64));   // 8000 bytes
            register_parameter("b", ones([1000], float64));
            register_parameter("c", ones([10], float32));     // another dtype: its own bucket
            register_buffer("count", tensor(new long[] { 7 }));
        }
    }

    [Fact]
    public void Gradients_travel_in_buckets_of_one_dtype_under_the_cap()
    {
        using var g = Solo();
        using var m = new Two();
        var ddp = new nn.parallel.DistributedDataParallel(m, g, bucket_cap_mb: 10_000 / (1024.0 * 1024));
        Assert.Equal(3, ddp.bucket_count);  // c | b | a: a and b together exceed 10 000 bytes
        ddp = new nn.parallel.DistributedDataParallel(m, g);
        Assert.Equal(2, ddp.bucket_count);  // c | b, a

        var ps = m.parameters();
        ps[0].grad = full([1000], 0.5, float64);
        ddp.average_gradients();
        Assert.Equal(Enumerable.Repeat(0.5, 1000), ps[0].grad!.data<double>());  // world of one: unchanged
        Assert.Equal(new double[1000], ps[1].grad!.data<double>());             // no gradient: zeros
    }
}
