using Xunit;
using static Research.Torch.torch;

namespace Research.Torch.Tests;

/// <summary>
/// Common PyTorch idioms written in C#: each must compile and give PyTorch's result. The expected values
/// are PyTorch 1.13's for x = torch.arange(12.).reshape(3, 4).double(); the F# twin of this list is
/// tests/Research.FSharp.Tests/TorchIdioms.fs.
/// </summary>
public class IdiomTests
{
    private static Tensor X() => arange(0, 12, dtype: float64).reshape(3, 4);
    private static Tensor T(params double[] v) => tensor(v);

    /// <summary>The idioms: the PyTorch line, our C# line, and PyTorch's result (shape, values).</summary>
    public static readonly Dictionary<string, (Func<Tensor, Tensor> ours, long[] shape, double[] expected)> Idioms = new()
    {
        ["x[0, 1]"] = (x => x[0, 1], [], [1]),
        ["x[1:]"] = (x => x[1..], [2, 4], [4, 5, 6, 7, 8, 9, 10, 11]),
        ["x[-1]"] = (x => x[^1], [4], [8, 9, 10, 11]),
        ["x[:, 0]"] = (x => x[.., 0], [3], [0, 4, 8]),
        ["x[None]"] = (x => x[TensorIndex.NewAxis], [1, 3, 4], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
        ["x[..., 0]"] = (x => x[TensorIndex.Ellipsis, 0], [3], [0, 4, 8]),
        ["x[x > 5]"] = (x => x[x > 5], [6], [6, 7, 8, 9, 10, 11]),
        ["x[row_mask]"] = (x => x[tensor(new[] { true, false, true })], [2, 4], [0, 1, 2, 3, 8, 9, 10, 11]),
        ["x[torch.tensor([2, 0])]"] = (x => x[tensor(new long[] { 2, 0 })], [2, 4], [8, 9, 10, 11, 0, 1, 2, 3]),
        ["x[0:2, 1:3]"] = (x => x[0..2, 1..3], [2, 2], [1, 2, 5, 6]),
        ["x[::2]"] = (x => x[TensorIndex.Slice(step: 2)], [2, 4], [0, 1, 2, 3, 8, 9, 10, 11]),
        ["x[:, -1]"] = (x => x[.., ^1], [3], [3, 7, 11]),
        ["x[1, 1:]"] = (x => x[1, 1..], [3], [5, 6, 7]),
        ["x[None, ..., 1]"] = (x => x[TensorIndex.NewAxis, TensorIndex.Ellipsis, 1], [1, 3], [1, 5, 9]),
        ["x[1:, [0, 3]]"] = (x => x[1.., tensor(new long[] { 0, 3 })], [2, 2], [4, 7, 8, 11]),
        ["y[0] = torch.zeros(4)"] = (x => { x[0] = zeros([4], float64); return x; }, [3, 4], [0, 0, 0, 0, 4, 5, 6, 7, 8, 9, 10, 11]),
        ["y[:, 0] = 1"] = (x => { x[.., 0] = tensor(1.0); return x; }, [3, 4], [1, 1, 2, 3, 1, 5, 6, 7, 1, 9, 10, 11]),
        ["y[y > 5] = 0"] = (x => { x[x > 5] = tensor(0.0); return x; }, [3, 4], [0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0]),
        ["y[1:, 2:] = torch.tensor([7., 8.])"] = (x => { x[1.., 2..] = T(7, 8); return x; }, [3, 4], [0, 1, 2, 3, 4, 5, 7, 8, 8, 9, 7, 8]),
        ["((x > 2) & (x < 8)).sum()"] = (x => ((x > 2) & (x < 8)).sum(), [], [5]),
        ["x * 2 + 1 - x ** 2 / 2"] = (x => x * 2 + 1 - x.pow(2) / 2, [3, 4], [1, 2.5, 3, 2.5, 1, -1.5, -5, -9.5, -15, -21.5, -29, -37.5]),
        ["torch.max(x, 1) values"] = (x => x.max(1).values, [3], [3, 7, 11]),
        ["torch.max(x, 1) indices"] = (x => { var (_, i) = x.max(1); return i.@double(); }, [3], [3, 3, 3]),
        ["x.flip(1).sort(1) indices"] = (x => x.flip(1).sort(1).indices.@double(), [3, 4], [3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0]),
        ["torch.round([0.5, 1.5, 2.5, -0.5])"] = (_ => Tensor.Round(T(0.5, 1.5, 2.5, -0.5)), [4], [0, 2, 2, -0.0]),
        ["torch.trunc([-2.7, 2.7])"] = (_ => Tensor.Truncate(T(-2.7, 2.7)), [2], [-2, 2]),
    };

    public static TheoryData<string> Names => new(Idioms.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void The_CSharp_idiom_gives_PyTorchs_result(string pytorch)
    {
        using var scope = NewDisposeScope();
        var (ours, shape, expected) = Idioms[pytorch];
        var result = ours(X());
        Assert.Equal(shape, result.shape);
        Assert.Equal(expected, result.to(float64).data<double>());
    }

    [Fact]
    public void Elementwise_math_through_static_members_matches_PyTorch()
    {
        using var scope = NewDisposeScope();
        var x = X();
        var r = Tensor.Sqrt(x) + Tensor.Exp(-x) + Tensor.Log(x + 1) + Tensor.Abs(x - 5) + Tensor.Tanh(x) + Tensor.Sin(x)
              + Tensor.Cos(x) + Tensor.Floor(x / 3) + Tensor.Round(x / 4);
        double[] pytorch = [7.0, 8.20439406836319, 7.105339304632174, 7.314314502202785, 6.216636734890361, 6.359212508789614,
            11.078621144117392, 13.13699192471602, 13.869845152454758, 14.803696695695255, 15.177125688808383, 17.805983632723645];
        Assert.Equal(pytorch, r.data<double>(), new Tolerance(1e-14));  // float64 round-off of nine terms of size <= 12
    }

    [Fact]
    public void Views_from_indexing_share_data_and_scalars_convert_explicitly()
    {
        using var scope = NewDisposeScope();
        var x = X();
        x[1, 1..].fill_(-1);  // basic indexing gives views, as in PyTorch
        Assert.Equal(new double[] { 4, -1, -1, -1 }, x[1].data<double>());
        Assert.Equal(-3.0, (double)x[1, 1..].sum());
        Assert.Equal(11L, (long)x[^1, ^1]);
        Assert.Throws<ArgumentException>(() => x[0, 0, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => x[^0]);
    }
}

/// <summary>Tolerance comparer for double arrays.</summary>
file sealed class Tolerance(double tol) : IEqualityComparer<double>
{
    public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;
    public int GetHashCode(double d) => 0;
}
