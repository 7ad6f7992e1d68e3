using Xunit;

namespace Research.Torch.Tests;

/// <summary>Every libtorch failure arrives as a .NET exception carrying libtorch's message; the process
/// survives it and the tensors involved stay usable.</summary>
public class ErrorTests
{
    [Fact]
    public void Shape_mismatch_throws_with_libtorchs_message()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones([2, 3]);
        var b = torch.ones([4, 5]);
        var e = Assert.Throws<TorchException>(() => a.matmul(b));
        Assert.Contains("cannot be multiplied", e.Message);
        var e2 = Assert.Throws<TorchException>(() => a + torch.ones([2, 4]));
        Assert.Contains("must match the size", e2.Message);
        Assert.DoesNotContain("frame #", e2.Message);  // no C++ backtrace, just the message
        Assert.Equal(6.0, a.sum().ToDouble());        // the inputs are untouched
    }

    [Fact]
    public void Dtype_mismatch_throws()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones([2, 2], torch.float32);
        var b = torch.ones([2, 2], torch.float64);
        var e = Assert.Throws<TorchException>(() => a.matmul(b));
        Assert.Contains("expected scalar type", e.Message);
        var wrongRead = Assert.Throws<ArgumentException>(() => a.data<double>());
        Assert.Contains("Float32", wrongRead.Message);
    }

    [Fact]
    public void Bad_index_throws()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.arange(0, 6, 1, torch.float64).reshape(2, 3);
        var e = Assert.Throws<TorchException>(() => a.select(1, 7));
        Assert.Contains("out of range", e.Message);
        Assert.Throws<TorchException>(() => a.index_select(0, torch.tensor(new long[] { 0, 5 })));
        Assert.Throws<TorchException>(() => a.permute(0, 2));
        Assert.Throws<TorchException>(() => a.view(4, 2));
    }

    [Fact]
    public void Cuda_absent_throws_instead_of_aborting()
    {
        if (torch.cuda.is_available()) return;  // this check is about machines without a GPU
        using var scope = torch.NewDisposeScope();
        var a = torch.ones([2]);
        Assert.Throws<TorchException>(() => a.cuda());
        Assert.Throws<TorchException>(() => torch.zeros([2], device: torch.CUDA));
    }

    [Fact]
    public void Disposed_tensor_throws_ObjectDisposedException()
    {
        var a = torch.ones([2]);
        var b = a.alias();
        a.Dispose();
        a.Dispose();  // idempotent
        Assert.True(a.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => a + 1.0);
        Assert.Throws<ObjectDisposedException>(() => a.shape);
        Assert.Throws<ObjectDisposedException>(() => a.data<float>());
        Assert.Throws<ObjectDisposedException>(() => b + a);
        Assert.Equal("Tensor(disposed)", a.ToString());
        Assert.Equal(2.0, b.sum().ToDouble());  // another handle to the same data lives on
        b.Dispose();
    }

    [Fact]
    public void Wrong_data_length_and_backward_on_non_scalar_throw()
    {
        Assert.Throws<ArgumentException>(() => torch.tensor(new[] { 1.0, 2.0, 3.0 }, [2, 2]));
        using var scope = torch.NewDisposeScope();
        var w = torch.ones([3], requires_grad: true);
        var e = Assert.Throws<TorchException>(() => (w * 2.0).backward());
        Assert.Contains("scalar", e.Message);
        Assert.Throws<TorchException>(() => torch.ones([2]).backward());
    }

    [Fact]
    public void Errors_are_per_call_and_leave_the_engine_working()
    {
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < 100; i++)
            Assert.Throws<TorchException>(() => torch.ones([2]).matmul(torch.ones([3])));
        Assert.Equal(4.0, (torch.ones([2]) * 2.0).sum().ToDouble());
    }
}

public class NativeLibraryTests
{
    private static (int code, string stdout, string stderr) RunFresh(string nativePath)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.ArgumentList.Add("ones");
        start.Environment["RESEARCH_TORCH_NATIVE"] = nativePath;
        using var p = System.Diagnostics.Process.Start(start)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    [Fact]
    public void A_missing_native_library_says_how_to_build_it_or_where_to_point()
    {
        var (code, _, stderr) = RunFresh("/nonexistent/libresearch_torch.so");
        Assert.Equal(1, code);
        Assert.Contains("RESEARCH_TORCH_NATIVE=/nonexistent/libresearch_torch.so: no such file", stderr);
        Assert.Contains("dotnet build", stderr);
        var (okCode, stdout, _) = RunFresh(Path.Combine(AppContext.BaseDirectory, "libresearch_torch.so"));
        Assert.Equal(0, okCode);
        Assert.Equal("2", stdout.Trim());
    }
}
