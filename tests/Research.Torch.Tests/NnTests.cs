using Xunit;
using static Research.Torch.torch;

namespace Research.Torch.Tests;

public class ModuleTests
{
    private sealed class TwoLayer : nn.Module<Tensor, Tensor>
    {
        public readonly nn.Sequential body;
        public readonly Tensor scale;

        public TwoLayer(Generator g)
        {
            body = register_module("body", new nn.Sequential(
                new nn.Linear(3, 4, options: new(dtype: float64, generator: g)), nn.SiLU(), new nn.Dropout(0.5),
                new nn.Linear(4, 2, options: new(dtype: float64, generator: g))));
            scale = register_buffer("scale", full([2], 2.0, float64));
        }

        public override Tensor forward(Tensor x) => body.forward(x) * scale;
    }

    [Fact]
    public void Parameters_buffers_and_state_dict_are_named_as_in_PyTorch()
    {
        using var m = new TwoLayer(new Generator(1));
        Assert.Equal(new[] { "body.0.weight", "body.0.bias", "body.3.weight", "body.3.bias" }, m.named_parameters().Select(p => p.name));
        Assert.Equal(new[] { "scale" }, m.named_buffers().Select(b => b.name));
        Assert.Equal(3 * 4 + 4 + 4 * 2 + 2, m.parameter_count());
        Assert.All(m.parameters(), p => Assert.True(p.requires_grad));
        Assert.Equal(5, m.state_dict().Count);
    }

    [Fact]
    public void Load_state_dict_copies_values_and_rejects_mismatches()
    {
        using var a = new TwoLayer(new Generator(1));
        using var b = new TwoLayer(new Generator(2));
        using var scope = NewDisposeScope();
        var x = randn([5, 3], float64);
        a.eval(); b.eval();
        Assert.False(a.forward(x).allclose(b.forward(x)));
        b.load_state_dict(a.state_dict());
        Assert.True(a.forward(x).allclose(b.forward(x), 0, 0));
        var wrong = a.state_dict();
        wrong["body.0.bias"] = zeros([5], float64);
        Assert.Throws<ArgumentException>(() => b.load_state_dict(wrong));
        wrong.Remove("body.0.bias");
        Assert.Throws<ArgumentException>(() => b.load_state_dict(wrong));
    }

    [Fact]
    public void Eval_mode_turns_dropout_off()
    {
        using var m = new TwoLayer(new Generator(3));
        using var scope = NewDisposeScope();
        var x = randn([64, 3], float64);
        m.eval();
        Assert.True(m.forward(x).allclose(m.forward(x), 0, 0));
        m.train();
        Assert.False(m.forward(x).allclose(m.forward(x)));
    }

    [Fact]
    public void To_converts_in_place_and_keeps_parameter_objects()
    {
        using var lin = new nn.Linear(3, 2, options: new(generator: new Generator(4)));
        var before = lin.weight;
        var values = lin.weight.data<float>();
        lin.to(float64);
        Assert.Same(before, lin.weight);
        Assert.Equal(float64, lin.weight.dtype);
        Assert.True(lin.weight.requires_grad && lin.weight.is_leaf);
        Assert.Equal(values.Select(v => (double)v), lin.weight.data<double>());
    }

    [Fact]
    public void Default_initialisation_has_PyTorchs_bounds()
    {
        // Linear(in, out): weight and bias uniform in ±1/√in; the sample extremes must approach it.
        using var lin = new nn.Linear(400, 300, options: new(generator: new Generator(5)));
        double bound = 1 / Math.Sqrt(400);
        var w = lin.weight.data<float>();
        Assert.True(w.Max() <= bound && w.Min() >= -bound);
        Assert.True(w.Max() > 0.99 * bound && w.Min() < -0.99 * bound);
        var conv = new nn.Conv2d(8, 4, 3, options: new(generator: new Generator(6)));
        Assert.True(conv.weight.data<float>().Max() <= 1 / Math.Sqrt(8 * 9));
        using var t = zeros([100, 200]);
        nn.init.xavier_uniform_(t, 1, new Generator(7));
        Assert.True(t.data<float>().Max() <= Math.Sqrt(6.0 / 300));
    }

    [Fact]
    public void Layers_produce_documented_shapes()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(8);
        var x = randn([2, 3, 8, 8]);
        Assert.Equal(new long[] { 2, 6, 8, 8 }, new nn.Conv2d(3, 6, 3, padding: 1, options: new(generator: g)).forward(x).shape);
        Assert.Equal(new long[] { 2, 6, 4, 4 }, new nn.Conv2d(3, 6, 3, stride: 2, padding: 1, options: new(generator: g)).forward(x).shape);
        Assert.Equal(new long[] { 2, 5, 16, 16 }, new nn.ConvTranspose2d(3, 5, 4, stride: 2, padding: 1, options: new(generator: g)).forward(x).shape);
        Assert.Equal(new long[] { 2, 3, 8, 8 }, new nn.GroupNorm(3, 3).forward(x).shape);
        Assert.Equal(new long[] { 2, 3, 8, 8 }, new nn.LayerNorm([8]).forward(x).shape);
        Assert.Equal(new long[] { 4, 7 }, new nn.Embedding(10, 7).forward(tensor(new long[] { 1, 2, 3, 9 })).shape);
        Assert.Equal(new long[] { 2, 3, 16, 16 }, nn.functional.upsample_nearest(x, 2).shape);
        Assert.Equal(new long[] { 2, 3, 4, 4 }, nn.functional.avg_pool2d(x, 2).shape);
    }

    [Fact]
    public void Group_norm_normalises_each_group()
    {
        using var scope = NewDisposeScope();
        var x = randn([2, 4, 3, 3], float64) * 5.0 + 3.0;
        var y = nn.functional.group_norm(x, 2).reshape(2, 2, 18);
        Assert.True(y.mean(2).abs().max().ToDouble() < 1e-12);
        Assert.True((y.var(2, unbiased: false) - 1.0).abs().max().ToDouble() < 1e-4);  // eps = 1e-5 in the denominator
    }
}

public class OptimizerTests
{
    /// <summary>Runs two steps of loss = p² from p = 1 and returns p after each.</summary>
    private static double[] TwoSteps(Func<Tensor[], optim.Optimizer> make)
    {
        using var scope = NewDisposeScope();
        var p = tensor(new[] { 1.0 }).requires_grad_();
        using var opt = make([p]);
        var trace = new List<double>();
        for (int i = 0; i < 2; i++)
        {
            opt.zero_grad();
            (p * p).sum().backward();
            opt.step();
            trace.Add(p.data<double>()[0]);
        }
        return trace.ToArray();
    }

    [Fact]
    public void SGD_with_momentum_matches_hand_computation()
    {
        // g=2, b=2, p=0.8; g=1.6, b=0.9·2+1.6=3.4, p=0.8−0.34=0.46
        Assert.Equal(new[] { 0.8, 0.46 }, TwoSteps(ps => new optim.SGD(ps, 0.1, momentum: 0.9)), new Tolerance(1e-15));
        // Nesterov: step 1 g=2+0.9·2=3.8 → 0.62; step 2 g=1.24, b=3.04, g=1.24+2.736 → 0.2224
        Assert.Equal(new[] { 0.62, 0.2224 }, TwoSteps(ps => new optim.SGD(ps, 0.1, momentum: 0.9, nesterov: true)), new Tolerance(1e-15));
    }

    [Fact]
    public void Adam_and_AdamW_match_hand_computation()
    {
        // Step 1: m=0.1·2=0.2, v=0.001·4=0.004, m̂=2, v̂=4 → p = 1 − 0.1·2/(2+1e-8).
        double p1 = 1 - 0.1 * 2 / (2 + 1e-8);
        double g2 = 2 * p1;
        double m = 0.9 * 0.2 + 0.1 * g2, v = 0.999 * 0.004 + 0.001 * g2 * g2;
        double p2 = p1 - 0.1 / (1 - 0.81) * m / (Math.Sqrt(v) / Math.Sqrt(1 - 0.999 * 0.999) + 1e-8);
        Assert.Equal(new[] { p1, p2 }, TwoSteps(ps => new optim.Adam(ps, 0.1)), new Tolerance(1e-14));

        // AdamW decays the weight first: p ← p(1 − lr·wd), then the Adam step (gradient from the old p).
        double q1 = 1 * (1 - 0.1 * 0.5) - 0.1 * 2 / (2 + 1e-8);
        double h2 = 2 * q1;
        double mw = 0.9 * 0.2 + 0.1 * h2, vw = 0.999 * 0.004 + 0.001 * h2 * h2;
        double q2 = q1 * (1 - 0.1 * 0.5) - 0.1 / (1 - 0.81) * mw / (Math.Sqrt(vw) / Math.Sqrt(1 - 0.999 * 0.999) + 1e-8);
        Assert.Equal(new[] { q1, q2 }, TwoSteps(ps => new optim.AdamW(ps, 0.1, weight_decay: 0.5)), new Tolerance(1e-14));

        // Adam's (coupled) weight decay adds wd·p to the gradient: g = 2 + 0.5 = 2.5, first step still ≈ lr.
        Assert.Equal(1 - 0.1 * 2.5 / (2.5 + 1e-8), TwoSteps(ps => new optim.Adam(ps, 0.1, weight_decay: 0.5))[0], 14);
    }

    private sealed record Tolerance(double Eps) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= Eps;
        public int GetHashCode(double x) => 0;
    }

    [Fact]
    public void Non_finite_gradient_throws_and_changes_nothing()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 1.0, 2.0 }).requires_grad_();
        var b = tensor(new[] { 3.0 }).requires_grad_();
        using var opt = new optim.Adam([a, b], 0.1);
        (a.sum() + b.sum()).backward();
        opt.step();
        var before = (a.data<double>(), b.data<double>(), opt.state_dict());
        opt.zero_grad();
        (a.sum() + b.log().sum() * double.NaN).backward();
        Assert.Throws<ArithmeticException>(() => opt.step());
        Assert.Equal(before.Item1, a.data<double>());
        Assert.Equal(before.Item2, b.data<double>());
        Assert.Equal(1, opt.step_count);
        var after = opt.state_dict();
        foreach (var (k, t) in before.Item3) Assert.True(t.allclose(after[k], 0, 0), k);
    }

    [Fact]
    public void Gradient_clipping_scales_to_the_max_norm()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 3.0 }).requires_grad_();
        var b = tensor(new[] { 4.0 }).requires_grad_();
        ((a * a + b * b) * 0.5).sum().backward();  // gradients (3, 4), norm 5
        double norm = nn.utils.clip_grad_norm_([a, b], 1.0);
        Assert.Equal(5.0, norm, 12);
        Assert.Equal(0.6, a.grad!.data<double>()[0], 6);  // 1e-6 in the denominator, as PyTorch
        Assert.Equal(0.8, b.grad!.data<double>()[0], 6);
    }

    [Fact]
    public void Learning_rate_schedules()
    {
        var cosine = new optim.CosineLR(1.0, 100, 0.1);
        Assert.Equal(1.0, cosine.At(0));
        Assert.Equal(0.55, cosine.At(50), 12);
        Assert.Equal(0.1, cosine.At(100), 12);
        Assert.Equal(0.1, cosine.At(150), 12);
        var warm = new optim.WarmupLR(10, new optim.ConstantLR(2.0));
        Assert.Equal(0.2, warm.At(0), 12);
        Assert.Equal(2.0, warm.At(9), 12);
        Assert.Equal(2.0, warm.At(500), 12);
    }

    [Fact]
    public void EMA_tracks_the_parameter_average()
    {
        using var lin = new nn.Linear(1, 1, hasBias: false, options: new(dtype: float64));
        using (no_grad()) lin.weight.fill_(0.0);
        using var ema = new optim.EMA(lin, 0.9);
        using (no_grad()) lin.weight.fill_(1.0);
        ema.update();  // 0.9·0 + 0.1·1
        ema.update();  // 0.9·0.1 + 0.1·1
        using var copy = new nn.Linear(1, 1, hasBias: false, options: new(dtype: float64));
        ema.copy_to(copy);
        Assert.Equal(0.19, copy.weight.data<double>()[0], 14);
    }
}
