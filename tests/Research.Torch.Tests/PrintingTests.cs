using Xunit;

namespace Research.Torch.Tests;

/// <summary>Tensors print as PyTorch prints them; the expected strings are PyTorch 1.13's repr of the same tensors.</summary>
public class PrintingTests
{
    private static readonly Dictionary<string, (Func<Tensor> make, string expected)> Cases = new()
    {
        ["f64_row"] = (() => torch.tensor(new[,] { { 1.0, 2.0 } }), "tensor([[1., 2.]], dtype=torch.float64)"),
        ["decimals"] = (() => torch.tensor(new[,] { { 1.5, -2.25 }, { 3.0, 4.125 } }, torch.float32), "tensor([[ 1.5000, -2.2500],\n        [ 3.0000,  4.1250]])"),
        ["scientific"] = (() => torch.tensor(new[] { 1e-5, 1.0, 1000.0 }, torch.float32), "tensor([1.0000e-05, 1.0000e+00, 1.0000e+03])"),
        ["integers"] = (() => torch.tensor(new[] { 1.0, 2.0, 3.0 }, torch.float32), "tensor([1., 2., 3.])"),
        ["scalar"] = (() => torch.tensor(2.5, torch.float32), "tensor(2.5000)"),
        ["summarised_int"] = (() => torch.arange(2000), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
        ["summarised_wrapped"] = (() => torch.arange(0, 2000).reshape(40, 50), "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n         4.9000e+01],\n        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n         9.9000e+01],\n        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n         1.4900e+02],\n        ...,\n        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n         1.8990e+03],\n        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,\n         1.9490e+03],\n        [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,\n         1.9990e+03]])"),
        ["rank3"] = (() => torch.arange(0, 8).reshape(2, 2, 2), "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])"),
        ["bool"] = (() => torch.tensor(new[] { true, false }), "tensor([ True, False])"),
        ["int32"] = (() => torch.tensor(new[] { 1, 2, 3 }), "tensor([1, 2, 3], dtype=torch.int32)"),
        ["empty2d"] = (() => torch.zeros([0, 4]), "tensor([], size=(0, 4))"),
        ["empty"] = (() => torch.zeros([0]), "tensor([])"),
        ["nonfinite"] = (() => torch.tensor(new[] { double.NaN, double.PositiveInfinity, -1.5 }, torch.float32), "tensor([    nan,     inf, -1.5000])"),
        ["leaf"] = (() => torch.ones([2], requires_grad: true), "tensor([1., 1.], requires_grad=True)"),
        ["grad_fn"] = (() => torch.ones([2], requires_grad: true) * torch.full([2], 2.0), "tensor([2., 2.], grad_fn=<MulBackward0>)"),
        ["wrapped"] = (() => torch.arange(0, 30) / 7.0, "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,\n        3.8571, 4.0000, 4.1429])"),
        ["big"] = (() => torch.tensor(new[] { 123456789.0, 1.0 }, torch.float32), "tensor([1.2346e+08, 1.0000e+00])"),
        ["int_matrix"] = (() => torch.arange(12).reshape(3, 4), "tensor([[ 0,  1,  2,  3],\n        [ 4,  5,  6,  7],\n        [ 8,  9, 10, 11]])"),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Prints_as_PyTorch(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (make, expected) = Cases[name];
        Assert.Equal(expected, make().ToString());
    }

    [Fact]
    public void The_dtype_suffix_follows_the_default_dtype()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new[] { 1.0, 2.0 });
        Assert.Equal("tensor([1., 2.], dtype=torch.float64)", x.ToString());
        torch.set_default_dtype(torch.float64);
        try
        {
            Assert.Equal("tensor([1., 2.])", x.ToString());
            Assert.Equal(torch.float64, torch.zeros([2]).dtype);
            using var layer = new torch.nn.Linear(2, 3);
            Assert.Equal(torch.float64, layer.weight.dtype);
            Assert.Equal(torch.float64, layer.forward(x).dtype);  // torch.tensor(double[]) and layers now agree
        }
        finally { torch.set_default_dtype(torch.float32); }
        Assert.Equal(torch.float32, torch.zeros([2]).dtype);
        Assert.Throws<ArgumentException>(() => torch.set_default_dtype(torch.int64));
    }

    [Fact]
    public void Dtype_and_shape_errors_name_the_op_and_its_operands()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new torch.nn.Linear(2, 3);
        var x = torch.tensor(new[,] { { 1.0, 2.0 } });
        var e = Assert.Throws<TorchException>(() => layer.forward(x));
        Assert.Contains("linear: ", e.Message);
        Assert.Contains("(operands: Float64 [1, 2], Float32 [3, 2], Float32 [3])", e.Message);
        Assert.Contains("torch.tensor(double[]) makes float64", e.Message);
        var shape = Assert.Throws<TorchException>(() => torch.ones([2, 3]).matmul(torch.ones([2, 3])));
        Assert.Contains("matmul: ", shape.Message);
        Assert.Contains("(operands: Float32 [2, 3], Float32 [2, 3])", shape.Message);
    }
}
