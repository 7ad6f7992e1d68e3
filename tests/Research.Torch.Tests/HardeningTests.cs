using System.Text;
using Xunit;
using static Research.Torch.torch;

namespace Research.Torch.Tests;

/// <summary>Loading is all or nothing; hyperparameters are validated; a disposed optimizer throws.</summary>
public class LoadingAndValidationTests
{
    private static nn.Sequential Mlp(ulong seed, long last = 2) => new(
        new nn.Linear(3, 4, options: new(dtype: float64, generator: new Generator(seed))), nn.SiLU(),
        new nn.Linear(4, last, options: new(dtype: float64, generator: new Generator(seed + 1))));

    private static Dictionary<string, double[]> Snapshot(nn.Module m) =>
        m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().data<double>());

    [Fact]
    public void A_wrong_last_layer_changes_no_parameter_and_every_problem_is_reported_at_once()
    {
        using var target = Mlp(1);
        using var source = Mlp(10, last: 3);  // last layer 4 -> 3 instead of 4 -> 2
        var before = Snapshot(target);
        var state = source.state_dict();
        state["extra.weight"] = state["0.weight"];
        state.Remove("0.bias");
        var e = Assert.Throws<ArgumentException>(() => target.load_state_dict(state));
        Assert.Contains("missing keys: 0.bias", e.Message);
        Assert.Contains("unexpected keys: extra.weight", e.Message);
        Assert.Contains("'2.weight' expected Float64 [2, 4], got Float64 [3, 4]", e.Message);
        Assert.Contains("'2.bias' expected Float64 [2], got Float64 [3]", e.Message);
        var after = Snapshot(target);
        foreach (var (name, values) in before) Assert.Equal(values, after[name]);  // the first layer was not overwritten
    }

    [Fact]
    public void Non_strict_loading_skips_missing_names_but_still_rejects_mismatches_before_copying()
    {
        using var target = Mlp(1);
        using var source = Mlp(10);
        using var scope = NewDisposeScope();
        var state = source.state_dict();
        state.Remove("2.bias");
        var before = Snapshot(target);
        target.load_state_dict(state, strict: false);
        Assert.Equal(source.state_dict()["0.weight"].data<double>(), target.state_dict()["0.weight"].data<double>());
        Assert.Equal(before["2.bias"], target.state_dict()["2.bias"].data<double>());

        using var other = Mlp(20);
        before = Snapshot(target);
        var bad = other.state_dict();
        bad["2.weight"] = zeros([2, 4], float32);
        var e = Assert.Throws<ArgumentException>(() => target.load_state_dict(bad, strict: false));
        Assert.Contains("'2.weight' expected Float64 [2, 4], got Float32 [2, 4]", e.Message);
        Assert.Equal(before["0.weight"], Snapshot(target)["0.weight"]);
    }

    private static (nn.Sequential, optim.Adam) Trained(ulong seed)
    {
        var m = Mlp(seed);
        var opt = new optim.Adam(m.parameters(), 1e-2);
        using var scope = NewDisposeScope();
        for (int i = 0; i < 2; i++)
        {
            opt.zero_grad();
            m.forward(ones([5, 3], float64)).square().sum().backward();
            opt.step();
        }
        return (m, opt);
    }

    [Fact]
    public void Optimizer_loading_is_all_or_nothing_and_lists_every_problem()
    {
        var (m, opt) = Trained(1);
        using var _m = m;
        using var _o = opt;
        var before = opt.state_dict();
        var bad = opt.state_dict();
        bad["1.exp_avg"] = zeros([7], float64);       // parameter 1 is the first bias, shape [4]
        bad["9.exp_avg"] = zeros([4], float64);       // no parameter 9
        bad["0.momentum_buffer"] = zeros([4, 3], float64);  // not a state Adam keeps
        var e = Assert.Throws<ArgumentException>(() => opt.load_state_dict(bad));
        Assert.Contains("unexpected keys: 0.momentum_buffer, 9.exp_avg", e.Message);
        Assert.Contains("'1.exp_avg' expected Float64 [4] like parameter 1, got Float64 [7]", e.Message);
        bad.Remove("step");
        Assert.Contains("missing key: step", Assert.Throws<ArgumentException>(() => opt.load_state_dict(bad)).Message);
        var after = opt.state_dict();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (k, v) in before) Assert.Equal(v.bytes(), after[k].bytes());

        // A valid state loads, step count included.
        var (m2, opt2) = Trained(5);
        using var _m2 = m2;
        using var _o2 = opt2;
        opt2.load_state_dict(before);
        Assert.Equal(2, opt2.step_count);
        foreach (var (k, v) in opt2.state_dict()) Assert.Equal(before[k].bytes(), v.bytes());
    }

    public static TheoryData<string> BadHyperparameters => new()
    {
        "lr=NaN", "lr=-1", "lr=inf", "beta1=1", "beta2=-0.1", "beta1=NaN", "eps=-1e-8", "eps=NaN", "weight_decay=-0.1",
        "sgd momentum=-0.5", "sgd weight_decay=NaN", "sgd nesterov without momentum",
    };

    [Theory]
    [MemberData(nameof(BadHyperparameters))]
    public void Invalid_hyperparameters_are_rejected_at_construction(string which)
    {
        using var p = zeros([2], requires_grad: true);
        Tensor[] ps = [p];
        Func<optim.Optimizer> make = which switch
        {
            "lr=NaN" => () => new optim.Adam(ps, double.NaN),
            "lr=-1" => () => new optim.SGD(ps, -1),
            "lr=inf" => () => new optim.AdamW(ps, double.PositiveInfinity),
            "beta1=1" => () => new optim.Adam(ps, beta1: 1),
            "beta2=-0.1" => () => new optim.AdamW(ps, beta2: -0.1),
            "beta1=NaN" => () => new optim.Adam(ps, beta1: double.NaN),
            "eps=-1e-8" => () => new optim.Adam(ps, eps: -1e-8),
            "eps=NaN" => () => new optim.Adam(ps, eps: double.NaN),
            "weight_decay=-0.1" => () => new optim.AdamW(ps, weight_decay: -0.1),
            "sgd momentum=-0.5" => () => new optim.SGD(ps, 0.1, momentum: -0.5),
            "sgd weight_decay=NaN" => () => new optim.SGD(ps, 0.1, weight_decay: double.NaN),
            "sgd nesterov without momentum" => () => new optim.SGD(ps, 0.1, nesterov: true),
            _ => throw new ArgumentException(which),
        };
        Assert.Throws<ArgumentException>(make);
    }

    [Fact]
    public void A_NaN_learning_rate_set_later_is_rejected_and_the_weights_stay_finite()
    {
        using var p = ones([2], requires_grad: true);
        using var opt = new optim.SGD([p], 0.1);
        Assert.Throws<ArgumentException>(() => opt.lr = double.NaN);
        Assert.Equal(0.1, opt.lr);
    }

    [Fact]
    public void A_disposed_optimizer_throws()
    {
        using var p = ones([2], requires_grad: true);
        var opt = new optim.Adam([p]);
        var state = opt.state_dict();
        opt.Dispose();
        Assert.Throws<ObjectDisposedException>(() => opt.step());
        Assert.Throws<ObjectDisposedException>(() => opt.zero_grad());
        Assert.Throws<ObjectDisposedException>(() => opt.state_dict());
        Assert.Throws<ObjectDisposedException>(() => opt.load_state_dict(state));
        opt.Dispose();  // twice is harmless
    }
}

public class SmallDefectTests
{
    [Fact]
    public void ToInt64_is_exact_above_two_to_the_53()
    {
        long[] values = [(1L << 53) + 1, long.MaxValue, long.MinValue + 1, -((1L << 60) + 3)];
        using var t = torch.tensor(values);
        for (int i = 0; i < values.Length; i++)
            using (var e = t[i]) Assert.Equal(values[i], e.ToInt64());
        using var f = torch.tensor(-2.75);
        Assert.Equal(-2, f.ToInt64());  // floating-point values truncate toward zero, as (long) does
    }

    [Fact]
    public void Chunk_and_split_with_a_non_positive_count_are_clear_errors()
    {
        using var x = torch.ones([6]);
        Assert.Contains("chunks >= 1", Assert.Throws<ArgumentOutOfRangeException>(() => x.chunk(-1)).Message);
        Assert.Contains("chunks >= 1", Assert.Throws<ArgumentOutOfRangeException>(() => x.chunk(0)).Message);
        Assert.Contains("split size >= 1", Assert.Throws<ArgumentOutOfRangeException>(() => x.split(0)).Message);
        var parts = x.chunk(1_000_000_000);  // more chunks than elements: one per element, as in PyTorch
        Assert.Equal(6, parts.Length);
        foreach (var p in parts) p.Dispose();
    }
}
