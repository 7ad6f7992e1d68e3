using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

/// <summary>The normalizing-flow layers (NF-01 .. NF-03) in float64: inverses, log-dets against the
/// autograd Jacobian, the two directions' log-densities, and bad input.</summary>
public class FlowTests
{
    private static nn.LayerOptions Float64(ulong seed) => new(float64, generator: new Generator(seed));

    /// <summary>A 5-D flow: affine, two couplings with alternating masks, affine; the couplings'
    /// weights redrawn N(0, 0.5²) so that s and t are far from zero.</summary>
    private static NormalizingFlow Flow5(ulong seed)
    {
        using var g = new Generator(seed + 100);
        var a = new AffineFlow(randn([5, 5], float64, generator: g) * 0.4 + eye(5, float64), randn([5], float64, generator: g));
        var c1 = AffineCoupling.WithTanhMlps(AffineCoupling.AlternatingMask(5, 0), 8, Float64(seed));
        var c2 = AffineCoupling.WithTanhMlps(AffineCoupling.AlternatingMask(5, 1), 8, Float64(seed + 1));
        var b = new AffineFlow(5, Float64(seed));
        foreach (var p in c1.parameters().Concat(c2.parameters())) nn.init.normal_(p, 0, 0.5, g);
        return new NormalizingFlow(a, c1, c2, b);
    }

    /// <summary>∂f/∂x at one point x [D] by autograd, one backward pass per output.</summary>
    private static Tensor AutogradJacobian(Func<Tensor, Tensor> f, Tensor x)
    {
        var leaf = x.detach().reshape(1, -1).requires_grad_();
        var y = f(leaf).reshape(-1);
        var rows = Enumerable.Range(0, (int)y.size(0)).Select(i => autograd.grad([y[i]], [leaf], retain_graph: true)[0]!.reshape(-1)).ToArray();
        return stack(rows, 0);
    }

    private static double MaxAbs(Tensor t) => t.abs().max().ToDouble();

    [Fact]
    public void Inverse_undoes_forward_and_forward_undoes_inverse_for_every_layer_and_the_composition()
    {
        using var scope = NewDisposeScope();
        using var flow = Flow5(1);
        var x = randn([64, 5], float64, generator: new Generator(2));
        foreach (var layer in flow.Layers.Append(flow))
        {
            var (y, forwardLogDet) = layer.Forward(x);
            var (back, inverseLogDet) = layer.Inverse(y);
            var (again, _) = layer.Forward(layer.Inverse(x).x);
            Assert.True(MaxAbs(back - x) <= 1e-12 * MaxAbs(x), $"{layer.GetType().Name}: inverse(forward(x)) - x = {MaxAbs(back - x):E2}");
            Assert.True(MaxAbs(again - x) <= 1e-12 * MaxAbs(x), $"{layer.GetType().Name}: forward(inverse(y)) - y = {MaxAbs(again - x):E2}");
            // Each direction reports the log|det| of its own map: at corresponding points they cancel.
            Assert.True(MaxAbs(forwardLogDet + inverseLogDet) <= 1e-12, $"{layer.GetType().Name}: forward and inverse log-dets do not cancel");
        }
    }

    [Fact]
    public void Log_det_of_each_direction_equals_log_abs_det_of_the_autograd_Jacobian()
    {
        using var scope = NewDisposeScope();
        using var flow = Flow5(3);
        var points = randn([6, 5], float64, generator: new Generator(4));
        foreach (var layer in flow.Layers.Append(flow))
            for (long i = 0; i < points.size(0); i++)
            {
                var x = points[i];
                var forward = linalg.slogdet(AutogradJacobian(v => layer.Forward(v).y, x)).logabsdet.ToDouble();
                var y = layer.Forward(x.reshape(1, -1)).y[0];
                var inverse = linalg.slogdet(AutogradJacobian(v => layer.Inverse(v).x, y)).logabsdet.ToDouble();
                Assert.Equal(forward, layer.Forward(x.reshape(1, -1)).logDet.ToDouble(), 1e-10);
                Assert.Equal(inverse, layer.Inverse(y.reshape(1, -1)).logDet.ToDouble(), 1e-10);
            }
    }

    [Fact]
    public void Coupling_Jacobian_is_block_triangular_with_exp_s_on_the_transformed_diagonal()
    {
        using var scope = NewDisposeScope();
        using var coupling = AffineCoupling.WithTanhMlps([true, false, true, false, false], 8, Float64(5));
        var x = randn([5], float64, generator: new Generator(6));
        var j = AutogradJacobian(v => coupling.Forward(v).y, x);
        var s = coupling.Scale.forward(x.index_select(0, tensor(new long[] { 0, 2 })).reshape(1, -1)).reshape(-1);
        long[] cond = [0, 2], rest = [1, 3, 4];
        foreach (var r in cond)
            for (long c = 0; c < 5; c++)
                Assert.Equal(r == c ? 1.0 : 0.0, j[r][c].ToDouble(), 1e-15);  // y_c = x_c
        for (int a = 0; a < rest.Length; a++)
            for (int b = 0; b < rest.Length; b++)
                Assert.Equal(a == b ? Math.Exp(s[a].ToDouble()) : 0.0, j[rest[a]][rest[b]].ToDouble(), 1e-14);
    }

    [Fact]
    public void Sampling_direction_log_density_equals_log_prob_of_the_sample()
    {
        using var scope = NewDisposeScope();
        using var flow = Flow5(7);
        var (x, logProb) = flow.SampleWithLogProb(256, new Generator(8));
        Assert.Equal(float64, x.dtype);
        Assert.True(MaxAbs(flow.LogProb(x) - logProb) <= 1e-11, $"log p differs by {MaxAbs(flow.LogProb(x) - logProb):E2}");
    }

    [Fact]
    public void Affine_flow_log_prob_is_the_Gaussian_law_of_x()
    {
        // z = W x + b ~ N(0, I) means x ~ N(-W⁻¹b, (WᵀW)⁻¹).
        using var scope = NewDisposeScope();
        var w = tensor(new double[,] { { 1.5, 0.3 }, { -0.4, 0.8 } });
        var b = tensor(new[] { 0.2, -1.0 });
        using var flow = new NormalizingFlow(new AffineFlow(w, b));
        var x = randn([16, 2], float64, generator: new Generator(9));
        var mean = -linalg.solve(w, b.reshape(2, 1)).reshape(-1);
        var cov = linalg.inv(w.mT.matmul(w));
        var r = x - mean;
        var expected = -0.5 * (r.matmul(linalg.inv(cov)) * r).sum(1) - 0.5 * linalg.slogdet(cov).logabsdet - Math.Log(2 * Math.PI);
        Assert.True(MaxAbs(flow.LogProb(x) - expected) <= 1e-12);
    }

    [Fact]
    public void Bad_input_is_rejected_with_ArgumentException()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => AffineCoupling.WithTanhMlps([true, true], 4));
        Assert.Throws<ArgumentException>(() => AffineCoupling.WithTanhMlps([true, false], 0));
        Assert.Throws<ArgumentException>(() => AffineCoupling.AlternatingMask(4, 2));
        Assert.Throws<ArgumentException>(() => new AffineFlow(zeros([2, 2], float64), zeros([2], float64)));
        Assert.Throws<ArgumentException>(() => new AffineFlow(eye(3, float64), zeros([2], float64)));
        Assert.Throws<ArgumentException>(() => new AffineFlow(zeros([2, 3], float64), zeros([2], float64)));
        Assert.Throws<ArgumentException>(() => new NormalizingFlow());
        Assert.Throws<ArgumentException>(() => new NormalizingFlow(new AffineFlow(2), new AffineFlow(3)));
        using var flow = new NormalizingFlow(new AffineFlow(2, new nn.LayerOptions(float64)), AffineCoupling.WithTanhMlps([true, false], 4, new nn.LayerOptions(float64)));
        Assert.Throws<ArgumentException>(() => flow.LogProb(zeros([4, 3], float64)));
        Assert.Throws<ArgumentException>(() => flow.Inverse(zeros([4], float64)));
        Assert.Throws<ArgumentException>(() => flow.Sample(0));
    }
}
