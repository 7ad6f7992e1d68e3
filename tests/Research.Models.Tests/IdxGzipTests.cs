using System.IO.Compression;
using Research.Data;
using Xunit;

namespace Research.Models.Tests;

public class IdxGzipTests
{
    [Fact]
    public void A_corrupt_gzip_IDX_file_is_an_error_that_names_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("idx-gz-").FullName;
        try
        {
            byte[] idx = [0, 0, 8, 1, 0, 0, 0, 64, .. Enumerable.Range(0, 64).Select(i => (byte)i)];
            using var buffer = new MemoryStream();
            using (var gz = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(idx);
            var good = buffer.ToArray();
            var cases = new Dictionary<string, byte[]>
            {
                ["not-gzip.gz"] = Enumerable.Range(0, 100).Select(i => (byte)(i * 37 + 11)).ToArray(),
                // compression method 7 instead of deflate (8): the gzip header itself is corrupt
                ["bad-method.gz"] = [good[0], good[1], 7, .. good[3..]],
            };
            foreach (var (name, bytes) in cases)
            {
                var path = Path.Combine(dir, name);
                File.WriteAllBytes(path, bytes);
                var e = Assert.Throws<InvalidDataException>(() => FashionMnist.ReadIdx(path));
                Assert.StartsWith(path, e.Message);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
