using System.IO.Compression;
using Research.Data;
using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

public class DataTests
{
    [Fact]
    public void Ring_of_Gaussians_has_its_exact_moments()
    {
        // Mean 0, covariance (r²/2 + s²) I = 2.0025 I. With n = 20000 the standard error of each
        // mean coordinate is √(2.0025/n) = 0.010; of each variance about √(Var(x²)/n) ≈ 0.014.
        using var scope = NewDisposeScope();
        var x = Toy2D.RingOfGaussians(20000, new Generator(3), dtype: ScalarType.Float64);
        var mean = x.mean(0).data<double>();
        var variance = x.var(0).data<double>();
        Assert.All(mean, m => Assert.InRange(m, -0.05, 0.05));                 // 5 SE
        Assert.All(variance, v => Assert.InRange(v, 2.0025 - 0.07, 2.0025 + 0.07));  // 5 SE
        var radius = x.square().sum(1).sqrt();
        Assert.InRange(radius.mean().ToDouble(), 1.99, 2.01);
    }

    [Fact]
    public void Fashion_mnist_test_split_loads_from_the_Debian_package()
    {
        var (images, labels) = FashionMnist.Load(train: false);
        Assert.Equal(new long[] { 10000, 1, 28, 28 }, images.shape);
        Assert.Equal(ScalarType.UInt8, images.dtype);
        Assert.Equal(new long[] { 10000 }, labels.shape);
        var counts = new int[10];
        foreach (var l in labels.data<long>()) counts[l]++;
        Assert.All(counts, c => Assert.Equal(1000, c));  // the test split is balanced
        images.Dispose();
        labels.Dispose();
    }

    private static string WriteIdx(byte[] content, bool gzip)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("idx-").FullName, gzip ? "x.gz" : "x");
        if (!gzip) File.WriteAllBytes(path, content);
        else
            using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
                gz.Write(content);
        return path;
    }

    [Fact]
    public void Idx_reader_reads_a_small_file_and_rejects_corrupt_ones()
    {
        byte[] header = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3];
        byte[] good = [.. header, 1, 2, 3, 4, 5, 6];
        using (var t = FashionMnist.ReadIdx(WriteIdx(good, gzip: true)))
        {
            Assert.Equal(new long[] { 2, 3 }, t.shape);
            Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, t.data<byte>());
        }
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => FashionMnist.ReadIdx(WriteIdx(good[..^1], gzip: true))).Message);
        Assert.Contains("past the", Assert.Throws<InvalidDataException>(() => FashionMnist.ReadIdx(WriteIdx([.. good, 7], gzip: false))).Message);
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => FashionMnist.ReadIdx(WriteIdx([0, 0, 9, 2, .. good[4..]], gzip: false))).Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => FashionMnist.ReadIdx(WriteIdx([0, 0, 8], gzip: false))).Message);
    }
}
