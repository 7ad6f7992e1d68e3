using Xunit;

namespace Research.Torch.Tests;

public class TensorTests
{
    [Fact]
    public void Creation_functions_give_the_documented_values()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Equal(new[] { 0f, 0f, 0f, 0f, 0f, 0f }, torch.zeros([2, 3]).data<float>());
        Assert.Equal(new long[] { 2, 3 }, torch.ones([2, 3]).shape);
        Assert.Equal(new[] { 2.5, 2.5 }, torch.full([2], 2.5, torch.float64).data<double>());
        Assert.Equal(new[] { 1.0, 0.0, 0.0, 1.0 }, torch.eye(2, torch.float64).data<double>());
        Assert.Equal(new[] { 0.0, 0.5, 1.0, 1.5 }, torch.arange(0, 2, 0.5, torch.float64).data<double>());
        Assert.Equal(new long[] { 0, 1, 2 }, torch.arange(3).data<long>());
        Assert.Equal(new[] { -1.0, 0.0, 1.0 }, torch.linspace(-1, 1, 3, torch.float64).data<double>());
        Assert.Equal(ScalarType.Float32, torch.randn([3]).dtype);
        Assert.Equal(ScalarType.Int64, torch.randint(0, 5, [10]).dtype);
        Assert.All(torch.randint(2, 5, [100]).data<long>(), v => Assert.InRange(v, 2, 4));
        Assert.All(torch.rand([100], torch.float64).data<double>(), v => Assert.InRange(v, 0.0, 1.0));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, torch.randperm(5).sort().values.data<long>());
        Assert.Equal(3.0, torch.tensor(3.0).ToDouble());
        Assert.Empty(torch.tensor(3.0).shape);
        Assert.Equal(ScalarType.Float64, torch.tensor(3.0).dtype);
        Assert.Equal(ScalarType.Float32, torch.tensor(3.0, torch.float32).dtype);
    }

    [Fact]
    public void Data_round_trips_for_every_dtype()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Equal(new[] { 1.5f, -2f }, torch.tensor(new[] { 1.5f, -2f }).data<float>());
        Assert.Equal(new[] { 1.5, -2.0 }, torch.tensor(new[] { 1.5, -2.0 }).data<double>());
        Assert.Equal(new long[] { 7, -3 }, torch.tensor(new long[] { 7, -3 }).data<long>());
        Assert.Equal(new[] { true, false }, torch.tensor(new[] { true, false }).data<bool>());
        Assert.Equal(new byte[] { 0, 255 }, torch.tensor(new byte[] { 0, 255 }).data<byte>());
        var m = torch.tensor(new[,] { { 1.0, 2.0, 3.0 }, { 4.0, 5.0, 6.0 } });
        Assert.Equal(new long[] { 2, 3 }, m.shape);
        Assert.Equal(new[] { 1.0, 4.0, 2.0, 5.0, 3.0, 6.0 }, m.T.data<double>());  // non-contiguous read
        Assert.Equal(6.0, m.max().item<double>());
        Assert.Equal(new[] { 1f, 2f }, torch.tensor(new[] { 1.0, 2.0 }).to(torch.float32).data<float>());
        Assert.Equal(new long[] { 1, 2 }, torch.tensor(new[] { 1.7, 2.2 }).@long().data<long>());
    }

    [Fact]
    public void Seeded_generators_reproduce_and_differ_by_seed()
    {
        using var scope = torch.NewDisposeScope();
        double[] Draw(ulong seed) => torch.randn([5], torch.float64, generator: new Generator(seed)).data<double>();
        Assert.Equal(Draw(1), Draw(1));
        Assert.NotEqual(Draw(1), Draw(2));
        torch.manual_seed(42);
        var a = torch.rand([4]).data<float>();
        torch.manual_seed(42);
        Assert.Equal(a, torch.rand([4]).data<float>());

        var g = new Generator(9);
        var state = g.get_state();
        var first = torch.randn([3], generator: g).data<float>();
        g.set_state(state);
        Assert.Equal(first, torch.randn([3], generator: g).data<float>());
    }

    [Fact]
    public void Operators_broadcast_and_mix_with_scalars()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new[] { 1.0, 2.0, 3.0 }).reshape(3, 1);
        var b = torch.tensor(new[] { 10.0, 20.0 });
        Assert.Equal(new[] { 11.0, 21.0, 12.0, 22.0, 13.0, 23.0 }, (a + b).data<double>());
        Assert.Equal(new[] { 1.0, 0.0, -1.0 }, (2.0 - a).data<double>());
        Assert.Equal(new[] { 2.0, 1.0, 2.0 / 3.0 }, (2.0 / a).data<double>());
        Assert.Equal(new[] { 1.0, 4.0, 9.0 }, Tensor.Pow(a, 2.0).data<double>());
        Assert.Equal(new[] { 2.0, 4.0, 8.0 }, Tensor.Pow(2.0, a).data<double>());
        Assert.Equal(new[] { false, true, true }, a.gt(1.5).data<bool>());
        Assert.Equal(new[] { 1.0, 2.0, 2.0 }, a.clamp(max: 2.0).data<double>());
        Assert.Equal(ScalarType.Float32, (torch.ones([2]) * 2.5).dtype);  // a scalar does not promote
    }

    [Fact]
    public void Reductions_and_shape_ops_agree_with_hand_computation()
    {
        using var scope = torch.NewDisposeScope();
        var m = torch.tensor(new[,] { { 1.0, 5.0, 3.0 }, { 4.0, 2.0, 6.0 } });
        Assert.Equal(21.0, m.sum().ToDouble());
        Assert.Equal(new[] { 9.0, 12.0 }, m.sum(1).data<double>());
        Assert.Equal(new[] { 2.5, 3.5, 4.5 }, m.mean(0).data<double>());
        var (values, indices) = m.max(1);
        Assert.Equal(new[] { 5.0, 6.0 }, values.data<double>());
        Assert.Equal(new long[] { 1, 2 }, indices.data<long>());
        Assert.Equal(new long[] { 1, 0, 1 }, m.argmax(0).data<long>());
        Assert.Equal(4.0, m.var(1).data<double>()[0], 12);  // {1,5,3}: mean 3, Σ(x−3)² = 8, /(n−1)
        Assert.Equal(Math.Log(Math.Exp(1) + Math.Exp(5) + Math.Exp(3)), m.logsumexp(1).data<double>()[0], 12);
        Assert.Equal(new long[] { 3, 2 }, m.T.shape);
        Assert.Equal(new long[] { 2, 1, 3 }, m.unsqueeze(1).shape);
        Assert.Equal(new[] { 5.0, 3.0, 2.0, 6.0 }, m.slice(1, 1, 3).data<double>());
        Assert.Equal(new[] { 4.0, 2.0, 6.0 }, m[1].data<double>());
        Assert.Equal(new[] { 5.0, 4.0, 6.0 }, m[m.gt(3.5)].data<double>());
        Assert.Equal(new long[] { 4, 3 }, torch.cat([m, m], 0).shape);
        Assert.Equal(new long[] { 2, 2, 3 }, torch.stack([m, m], 0).shape);
        var parts = m.chunk(3, 1);
        Assert.Equal(3, parts.Length);
        Assert.Equal(new[] { 3.0, 6.0 }, parts[2].data<double>());
        Assert.Equal(new[] { 1.0, 5.0, 3.0, 1.0, 5.0, 3.0 }, m[0].repeat(2).data<double>());
        Assert.Equal(new[] { 1.0, 4.0 }, m.gather(1, torch.tensor(new long[] { 0, 0 }, [2, 1])).data<double>());
        Assert.Equal(new[] { 4.0, 2.0, 6.0, 1.0, 5.0, 3.0 }, m.index_select(0, torch.tensor(new long[] { 1, 0 })).data<double>());
        Assert.Equal(new[] { 0.0, 5.0, 0.0, 4.0, 0.0, 6.0 }, torch.where(m.gt(3.0), m, m * 0.0).data<double>());
    }

    [Fact]
    public void Matmul_agrees_with_a_plain_loop()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(5);
        var a = torch.randn([7, 5], torch.float64, generator: g);
        var b = torch.randn([5, 3], torch.float64, generator: g);
        var c = a.matmul(b).data<double>();
        var av = a.data<double>();
        var bv = b.data<double>();
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 3; j++)
            {
                double s = 0;
                for (int k = 0; k < 5; k++) s += av[i * 5 + k] * bv[k * 3 + j];
                Assert.Equal(s, c[i * 3 + j], 12);
            }
    }

    [Fact]
    public void Metadata_and_settings()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.zeros([2, 3], torch.float64);
        Assert.Equal(2, t.dim);
        Assert.Equal(6, t.numel);
        Assert.Equal(Device.CPU, t.device);
        Assert.Equal("cuda:1", Device.Parse("cuda:1").ToString());
        Assert.Contains("0", t.ToString());
        Assert.Equal(Settings.Threads, torch.get_num_threads());
        torch.set_num_threads(1);
        Assert.Equal(1, torch.get_num_threads());
        torch.set_num_threads(Settings.Threads);
    }

    [Fact]
    public void Every_native_op_is_reachable_from_CSharp()
    {
        var native = Native.NativeOpNames();
        var managed = Enum.GetNames<OpId>();
        Assert.Equal(native.OrderBy(n => n), managed.OrderBy(n => n));
    }
}
