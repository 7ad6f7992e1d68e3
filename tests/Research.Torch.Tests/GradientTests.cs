using Research.Torch;
using Xunit;
using F = Research.Torch.torch.nn.functional;

namespace Research.Torch.Tests;

/// <summary>Autograd against central finite differences in float64 for every differentiable op the
/// API exposes (tolerances: see torch.autograd.gradcheck).</summary>
public class GradientTests
{
    private static Tensor Randn(params long[] shape) => torch.randn(shape, torch.float64, generator: Rng());
    private static Tensor Positive(params long[] shape) => torch.rand(shape, torch.float64, generator: Rng()) + 0.5;
    private static Tensor Unit(params long[] shape) => torch.rand(shape, torch.float64, generator: Rng()) * 1.6 - 0.8;
    private static Tensor Spd(long n)
    {
        var a = Randn(n, n);
        return a.matmul(a.T) + torch.eye(n, torch.float64) * n;
    }
    private static int seed = 17;
    private static Generator Rng() => new((ulong)Interlocked.Increment(ref seed));

    /// <summary>Name, function, inputs. Inputs avoid kinks (relu at 0, max ties, abs at 0).</summary>
    public static TheoryData<string> Cases => new(OpCases.Keys);

    private static readonly Dictionary<string, (Func<Tensor[], Tensor> f, Func<Tensor[]> inputs)> OpCases = new()
    {
        ["neg"] = (x => -x[0], () => [Randn(3, 2)]),
        ["abs"] = (x => x[0].abs(), () => [Positive(3) * torch.tensor(new[] { 1.0, -1.0, 1.0 })]),
        ["exp"] = (x => x[0].exp(), () => [Randn(3, 2)]),
        ["log"] = (x => x[0].log(), () => [Positive(4)]),
        ["log1p"] = (x => x[0].log1p(), () => [Positive(4)]),
        ["expm1"] = (x => x[0].expm1(), () => [Randn(4)]),
        ["log2"] = (x => x[0].log2(), () => [Positive(4)]),
        ["sqrt"] = (x => x[0].sqrt(), () => [Positive(4)]),
        ["rsqrt"] = (x => x[0].rsqrt(), () => [Positive(4)]),
        ["square"] = (x => x[0].square(), () => [Randn(4)]),
        ["reciprocal"] = (x => x[0].reciprocal(), () => [Positive(4)]),
        ["sin"] = (x => x[0].sin(), () => [Randn(4)]),
        ["cos"] = (x => x[0].cos(), () => [Randn(4)]),
        ["tan"] = (x => x[0].tan(), () => [Unit(4)]),
        ["asin"] = (x => x[0].asin(), () => [Unit(4)]),
        ["acos"] = (x => x[0].acos(), () => [Unit(4)]),
        ["atan"] = (x => x[0].atan(), () => [Randn(4)]),
        ["sinh"] = (x => x[0].sinh(), () => [Randn(4)]),
        ["cosh"] = (x => x[0].cosh(), () => [Randn(4)]),
        ["tanh"] = (x => x[0].tanh(), () => [Randn(4)]),
        ["sigmoid"] = (x => x[0].sigmoid(), () => [Randn(4)]),
        ["logsigmoid"] = (x => F.logsigmoid(x[0]), () => [Randn(4)]),
        ["relu"] = (x => x[0].relu(), () => [Positive(3) * torch.tensor(new[] { 1.0, -1.0, 1.0 })]),
        ["silu"] = (x => F.silu(x[0]), () => [Randn(4)]),
        ["gelu"] = (x => F.gelu(x[0]), () => [Randn(4)]),
        ["softplus"] = (x => F.softplus(x[0], 2.0), () => [Randn(4)]),
        ["erf"] = (x => x[0].erf(), () => [Randn(4)]),
        ["erfinv"] = (x => x[0].erfinv(), () => [Unit(4)]),
        ["lgamma"] = (x => x[0].lgamma(), () => [Positive(4)]),
        ["clamp"] = (x => x[0].clamp(-0.25, 0.25), () => [torch.tensor(new[] { -0.9, -0.1, 0.05, 0.2, 0.7 })]),
        ["pow_scalar"] = (x => x[0].pow(2.5), () => [Positive(4)]),
        ["pow_tensor"] = (x => x[0].pow(x[1]), () => [Positive(4), Randn(4)]),
        ["scalar_pow"] = (x => Tensor.Pow(1.7, x[0]), () => [Randn(4)]),
        ["add"] = (x => x[0] + x[1], () => [Randn(3, 1), Randn(1, 4)]),
        ["sub"] = (x => x[0] - x[1], () => [Randn(3, 4), Randn(4)]),
        ["mul"] = (x => x[0] * x[1], () => [Randn(3, 4), Randn(3, 1)]),
        ["div"] = (x => x[0] / x[1], () => [Randn(3, 4), Positive(4)]),
        ["scalar_ops"] = (x => (2.0 - x[0]) * 3.0 / (1.5 + x[0].square()) + 4.0 / (x[0].square() + 1.0), () => [Randn(5)]),
        ["atan2"] = (x => x[0].atan2(x[1]), () => [Randn(4), Positive(4)]),
        ["maximum"] = (x => x[0].maximum(x[1]), () => [torch.tensor(new[] { 0.1, 0.9, -0.3 }), torch.tensor(new[] { 0.5, 0.2, -0.8 })]),
        ["minimum"] = (x => x[0].minimum(x[1]), () => [torch.tensor(new[] { 0.1, 0.9, -0.3 }), torch.tensor(new[] { 0.5, 0.2, -0.8 })]),
        ["lerp"] = (x => x[0].lerp(x[1], x[2]), () => [Randn(4), Randn(4), Unit(4)]),
        ["where"] = (x => torch.where(x[0].gt(0.0), x[0], x[1] * 2.0), () => [Randn(6), Randn(6)]),
        ["sum"] = (x => x[0].sum(1), () => [Randn(3, 4)]),
        ["sum_all"] = (x => x[0].sum(), () => [Randn(3, 4)]),
        ["mean"] = (x => x[0].mean([0L, 2L], keepdim: true), () => [Randn(2, 3, 4)]),
        ["prod"] = (x => x[0].prod(), () => [Positive(4)]),
        ["max_all"] = (x => x[0].max(), () => [torch.tensor(new[] { 0.1, 0.9, -0.3 })]),
        ["min_all"] = (x => x[0].min(), () => [torch.tensor(new[] { 0.1, 0.9, -0.3 })]),
        ["max_dim"] = (x => x[0].max(1).values, () => [torch.tensor(new[,] { { 0.1, 0.9, -0.3 }, { 0.4, -0.2, 0.3 } })]),
        ["min_dim"] = (x => x[0].min(0, keepdim: true).values, () => [torch.tensor(new[,] { { 0.1, 0.9, -0.3 }, { 0.4, -0.2, 0.3 } })]),
        ["amax"] = (x => x[0].amax(1), () => [torch.tensor(new[,] { { 0.1, 0.9, -0.3 }, { 0.4, -0.2, 0.3 } })]),
        ["amin"] = (x => x[0].amin(1), () => [torch.tensor(new[,] { { 0.1, 0.9, -0.3 }, { 0.4, -0.2, 0.3 } })]),
        ["logsumexp"] = (x => x[0].logsumexp(1), () => [Randn(3, 4)]),
        ["var"] = (x => x[0].var(1), () => [Randn(3, 4)]),
        ["var_all_biased"] = (x => x[0].var(unbiased: false), () => [Randn(3, 4)]),
        ["std"] = (x => x[0].std(0), () => [Randn(3, 4)]),
        ["norm"] = (x => x[0].norm(), () => [Randn(3, 4)]),
        ["norm_dims"] = (x => x[0].norm(3.0, [1L]), () => [Randn(3, 4)]),
        ["cumsum"] = (x => x[0].cumsum(1), () => [Randn(3, 4)]),
        ["reshape"] = (x => x[0].reshape(4, 3) * torch.arange(0, 12, 1, torch.float64).reshape(4, 3), () => [Randn(3, 4)]),
        ["view"] = (x => x[0].view(12), () => [Randn(3, 4)]),
        ["permute"] = (x => x[0].permute(2, 0, 1), () => [Randn(2, 3, 4)]),
        ["transpose"] = (x => x[0].transpose(0, 2), () => [Randn(2, 3, 4)]),
        ["flatten"] = (x => x[0].flatten(1), () => [Randn(2, 3, 4)]),
        ["squeeze"] = (x => x[0].squeeze(), () => [Randn(3, 1, 2)]),
        ["unsqueeze"] = (x => x[0].unsqueeze(1), () => [Randn(3, 2)]),
        ["expand"] = (x => x[0].expand(4, 3, 2), () => [Randn(3, 1)]),
        ["repeat"] = (x => x[0].repeat(2, 3), () => [Randn(2, 2)]),
        ["flip"] = (x => x[0].flip(0), () => [Randn(3, 2)]),
        ["cat"] = (x => torch.cat([x[0], x[1]], 1), () => [Randn(2, 3), Randn(2, 1)]),
        ["stack"] = (x => torch.stack([x[0], x[1]], 0), () => [Randn(2, 3), Randn(2, 3)]),
        ["chunk"] = (x => x[0].chunk(2, 1)[1], () => [Randn(2, 4)]),
        ["split"] = (x => x[0].split(3, 1)[0], () => [Randn(2, 4)]),
        ["slice"] = (x => x[0].slice(1, 1, 4, 2), () => [Randn(2, 5)]),
        ["narrow"] = (x => x[0].narrow(0, 1, 2), () => [Randn(4, 2)]),
        ["select"] = (x => x[0][2], () => [Randn(4, 2)]),
        ["index_select"] = (x => x[0].index_select(0, torch.tensor(new long[] { 2, 0, 2 })), () => [Randn(4, 2)]),
        ["gather"] = (x => x[0].gather(1, torch.tensor(new long[] { 1, 0, 0, 0 }, [2, 2])), () => [Randn(2, 3)]),
        ["scatter_add"] = (x => x[0].scatter_add(1, torch.tensor(new long[] { 1, 0, 0, 0 }, [2, 2]), x[1]), () => [Randn(2, 3), Randn(2, 2)]),
        ["masked_fill"] = (x => x[0].masked_fill(torch.tensor(new[] { true, false, true }), 0.5), () => [Randn(3)]),
        ["masked_select"] = (x => x[0].masked_select(torch.tensor(new[] { true, false, true })), () => [Randn(3)]),
        ["tril"] = (x => x[0].tril(), () => [Randn(3, 3)]),
        ["triu"] = (x => x[0].triu(1), () => [Randn(3, 3)]),
        ["diagonal"] = (x => x[0].diagonal(), () => [Randn(3, 3)]),
        ["diag_embed"] = (x => x[0].diag_embed(), () => [Randn(3)]),
        ["sort"] = (x => x[0].sort().values * torch.tensor(new[] { 1.0, 2.0, 3.0 }), () => [torch.tensor(new[] { 0.3, -0.5, 0.9 })]),
        ["matmul"] = (x => x[0].matmul(x[1]), () => [Randn(2, 3, 4), Randn(4, 2)]),
        ["mm"] = (x => x[0].mm(x[1]), () => [Randn(3, 4), Randn(4, 2)]),
        ["bmm"] = (x => x[0].bmm(x[1]), () => [Randn(2, 3, 4), Randn(2, 4, 2)]),
        ["outer"] = (x => x[0].outer(x[1]), () => [Randn(3), Randn(2)]),
        ["cholesky"] = (x => torch.linalg.cholesky(x[0].matmul(x[0].T) + torch.eye(3, torch.float64) * 3.0), () => [Randn(3, 3)]),
        ["solve"] = (x => torch.linalg.solve(x[0] + torch.eye(3, torch.float64) * 4.0, x[1]), () => [Randn(3, 3), Randn(3, 2)]),
        ["solve_triangular"] = (x => torch.linalg.solve_triangular(x[0].tril() + torch.eye(3, torch.float64) * 4.0, x[1], upper: false), () => [Randn(3, 3), Randn(3, 2)]),
        ["inv"] = (x => torch.linalg.inv(x[0] + torch.eye(3, torch.float64) * 4.0), () => [Randn(3, 3)]),
        ["slogdet"] = (x => torch.linalg.slogdet(x[0] + torch.eye(3, torch.float64) * 4.0).logabsdet, () => [Randn(3, 3)]),
        ["clone_contiguous"] = (x => x[0].T.contiguous().clone(), () => [Randn(3, 2)]),
        ["in_place"] = (x =>
        {
            var y = x[0].clone();
            y.mul_(x[1]).add_(x[1], 0.5).add_(1.0).mul_(2.0).sub_(x[0]).div_(x[1].square() + 1.0);
            return y.addcmul_(x[0], x[1], 0.3).addcdiv_(x[0], x[1].square() + 1.0, 0.7).lerp_(x[0], 0.25);
        }, () => [Randn(4), Randn(4)]),
        ["linear"] = (x => F.linear(x[0], x[1], x[2]), () => [Randn(3, 4), Randn(2, 4), Randn(2)]),
        ["conv2d"] = (x => F.conv2d(x[0], x[1], x[2], stride: 1, padding: 1), () => [Randn(1, 2, 4, 4), Randn(3, 2, 3, 3), Randn(3)]),
        ["conv2d_stride2"] = (x => F.conv2d(x[0], x[1], null, stride: 2, padding: 0), () => [Randn(1, 1, 5, 5), Randn(2, 1, 3, 3)]),
        ["conv_transpose2d"] = (x => F.conv_transpose2d(x[0], x[1], x[2], stride: 2, padding: 1, output_padding: 1), () => [Randn(1, 2, 3, 3), Randn(2, 3, 3, 3), Randn(3)]),
        ["group_norm"] = (x => F.group_norm(x[0], 2, x[1], x[2]), () => [Randn(2, 4, 2, 2), Randn(4), Randn(4)]),
        ["layer_norm"] = (x => F.layer_norm(x[0], [4L], x[1], x[2]), () => [Randn(3, 4), Randn(4), Randn(4)]),
        ["softmax"] = (x => F.softmax(x[0], 1), () => [Randn(3, 4)]),
        ["log_softmax"] = (x => F.log_softmax(x[0], 0), () => [Randn(3, 4)]),
        ["attention"] = (x => F.scaled_dot_product_attention(x[0], x[1], x[2]), () => [Randn(2, 3, 4), Randn(2, 5, 4), Randn(2, 5, 2)]),
        ["avg_pool2d"] = (x => F.avg_pool2d(x[0], 2), () => [Randn(1, 2, 4, 4)]),
        ["max_pool2d"] = (x => F.max_pool2d(x[0], 2), () => [Randn(1, 2, 4, 4)]),
        ["upsample_nearest"] = (x => F.upsample_nearest(x[0], 2), () => [Randn(1, 2, 2, 3)]),
        ["embedding"] = (x => F.embedding(torch.tensor(new long[] { 2, 0, 2, 1 }), x[0]), () => [Randn(3, 2)]),
        ["mse_loss"] = (x => F.mse_loss(x[0], x[1]), () => [Randn(3, 4), Randn(3, 4)]),
        ["bce_with_logits"] = (x => F.binary_cross_entropy_with_logits(x[0], x[1]), () => [Randn(3, 4), torch.rand([3, 4], torch.float64)]),
        ["cross_entropy"] = (x => F.cross_entropy(x[0], torch.tensor(new long[] { 0, 2, 1 }), label_smoothing: 0.1), () => [Randn(3, 4)]),
        ["gaussian_nll"] = (x => F.gaussian_nll_loss(x[0], x[1], x[2], full: true), () => [Randn(5), Randn(5), Positive(5)]),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Autograd_matches_central_differences(string op)
    {
        using var scope = torch.NewDisposeScope();
        var (f, inputs) = OpCases[op];
        var result = torch.autograd.gradcheck(f, inputs());
        Assert.True(result.Checked > 0);
        Assert.True(result.Passed, $"{op}: max |autograd - finite difference| = {result.MaxAbsError:E2}");
    }

    [Fact]
    public void Gradcheck_rejects_a_wrong_derivative()
    {
        // d/dx of x·stopgrad(x) by autograd is x, while the true derivative of x² is 2x.
        using var scope = torch.NewDisposeScope();
        var result = torch.autograd.gradcheck(x => x[0] * x[0].detach(), [torch.tensor(new[] { 0.5, 1.5, -2.0 })]);
        Assert.False(result.Passed);
        Assert.True(result.MaxAbsError > 0.4);
    }

    [Fact]
    public void Laplacian_by_double_backward_equals_closed_form()
    {
        // f(x) = Σ sin(x_i) x_{i+1} + ‖x‖⁴ has Δf = Σ −sin(x_i) x_{i+1} + (4d + 8)‖x‖².
        using var scope = torch.NewDisposeScope();
        int d = 5;
        var x = torch.randn([d], torch.float64, generator: new Generator(3)).requires_grad_();
        Tensor F_(Tensor v) => (v.narrow(0, 0, d - 1).sin() * v.narrow(0, 1, d - 1)).sum() + v.square().sum().square();
        var g = torch.autograd.grad(F_(x), x, create_graph: true);
        double laplacian = 0;
        for (int i = 0; i < d; i++)
            laplacian += torch.autograd.grad([g[i]], [x], retain_graph: true)[0]!.data<double>()[i];
        var xs = x.detach().data<double>();
        double r2 = xs.Sum(v => v * v);
        double expected = (4 * d + 8) * r2;
        for (int i = 0; i < d - 1; i++) expected -= Math.Sin(xs[i]) * xs[i + 1];
        Assert.Equal(expected, laplacian, 1e-10);
    }

    [Fact]
    public void Backward_accumulates_into_leaf_grad()
    {
        using var scope = torch.NewDisposeScope();
        var w = torch.tensor(new[] { 1.0, 2.0, 3.0 }).requires_grad_();
        (w * w).sum().backward();
        (w * 3.0).sum().backward();
        Assert.Equal(new[] { 5.0, 7.0, 9.0 }, w.grad!.data<double>());
        w.grad = null;
        Assert.Null(w.grad);
    }

    [Fact]
    public void No_grad_records_no_graph()
    {
        using var scope = torch.NewDisposeScope();
        var w = torch.ones([2], torch.float64, requires_grad: true);
        using (torch.no_grad())
        {
            Assert.False(torch.is_grad_enabled());
            Assert.False((w * 2.0).requires_grad);
        }
        Assert.True(torch.is_grad_enabled());
        Assert.True((w * 2.0).requires_grad);
    }

    [Fact]
    public void Autograd_grad_reports_unused_inputs_as_null_when_allowed()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones([2], torch.float64, requires_grad: true);
        var b = torch.ones([2], torch.float64, requires_grad: true);
        var r = torch.autograd.grad([(a * 2.0).sum()], [a, b], allow_unused: true);
        Assert.Equal(new[] { 2.0, 2.0 }, r[0]!.data<double>());
        Assert.Null(r[1]);
        Assert.Throws<TorchException>(() => torch.autograd.grad([(a * 2.0).sum()], [a, b]));
    }
}
