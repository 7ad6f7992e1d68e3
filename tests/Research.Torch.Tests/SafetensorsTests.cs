using System.Text;
using Xunit;
using static Research.Torch.torch;

namespace Research.Torch.Tests;

public class SafetensorsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("safetensors-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    private string PathOf(string name) => System.IO.Path.Combine(dir, name);

    private static byte[] File_(string header, int dataBytes, ulong? declaredLength = null)
    {
        // DEL (0x7F) in the header stands for 0xFF, a byte that is never valid UTF-8.
        var h = Encoding.UTF8.GetBytes(header).Select(b => b == 0x7F ? (byte)0xFF : b).ToArray();
        var bytes = new byte[8 + h.Length + dataBytes];
        BitConverter.GetBytes(declaredLength ?? (ulong)h.Length).CopyTo(bytes, 0);
        h.CopyTo(bytes, 8);
        for (int i = 0; i < dataBytes; i++) bytes[8 + h.Length + i] = (byte)i;
        return bytes;
    }

    [Fact]
    public void Round_trip_of_every_dtype_with_metadata()
    {
        var path = PathOf("all.safetensors");
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = randn([2, 3]),
            ["f64"] = randn([4], float64),
            ["i64"] = tensor(new long[] { long.MinValue, 0, long.MaxValue }),
            ["i32"] = tensor(new[] { -5, 7 }),
            ["u8"] = tensor(new byte[] { 0, 128, 255 }),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(3.5, float64),
            ["empty"] = zeros([0, 4]),
            ["strided"] = randn([3, 2]).T,
        };
        safetensors.save(tensors, path, new Dictionary<string, string> { ["format"] = "pt", ["step"] = "12" });
        var (loaded, metadata) = safetensors.load_with_metadata(path);
        Assert.Equal("12", metadata["step"]);
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, loaded[name].dtype);
            Assert.Equal(t.shape, loaded[name].shape);
            Assert.Equal(t.bytes(), loaded[name].bytes());
            loaded[name].Dispose();
        }
        Assert.Equal(0, BitConverter.ToInt64(File.ReadAllBytes(path), 0) % 8);  // data starts 8-byte aligned
    }

    [Fact]
    public void Reads_the_example_of_the_format_description()
    {
        // The example file of the safetensors format: a 2x2 I32 tensor and string metadata.
        var header = "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]},\"__metadata__\":{\"foo\":\"bar\"}}";
        var bytes = File_(header, 0);
        var data = new byte[16];
        for (int i = 0; i < 4; i++) BitConverter.GetBytes(i + 1).CopyTo(data, 4 * i);
        File.WriteAllBytes(PathOf("example.safetensors"), bytes.Concat(data).ToArray());
        var (t, meta) = safetensors.load_with_metadata(PathOf("example.safetensors"));
        Assert.Equal("bar", meta["foo"]);
        Assert.Equal(new long[] { 2, 2 }, t["test"].shape);
        Assert.Equal(new[] { 1, 2, 3, 4 }, t["test"].data<int>());
    }

    public static TheoryData<string, string> Corrupt => new()
    {
        { "truncated", "header length" },
        { "oversized", "exceeds the 100000000-byte limit" },
        { "tiny", "shorter than the 8-byte" },
        { "not-json", "not JSON" },
        { "overlap", "overlaps" },
        { "hole", "belong to no tensor" },
        { "wrong-size", "needs 16" },
        { "past-end", "past the" },
        { "dtype", "unsupported dtype" },
        { "trailing", "data holds" },
        { "negative", "invalid data_offsets" },
        { "duplicate", "'a' appears twice" },
        { "duplicate-metadata", "metadata 'k' appears twice" },
        { "string-offset", "invalid data_offsets" },
        { "fractional-offset", "invalid data_offsets" },
        { "utf8-name", "not valid UTF-8" },
        { "utf8-dtype", "not valid UTF-8" },
        { "utf8-metadata", "not valid UTF-8" },
        { "lone-surrogate", "unreadable value" },
    };

    [Theory]
    [MemberData(nameof(Corrupt))]
    public void Corrupt_files_are_rejected_before_any_read(string kind, string message)
    {
        string Entry(string name, string dtype, string shape, long b, long e) =>
            $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{b},{e}]}}";
        byte[] bytes = kind switch
        {
            "truncated" => File_("{" + Entry("a", "F32", "[4]", 0, 16) + "}", 16, declaredLength: 5000),
            "oversized" => File_("{}", 0, declaredLength: 1UL << 40),
            "tiny" => [1, 2, 3],
            "not-json" => File_("{\"a\": [1, 2", 0),
            "overlap" => File_("{" + Entry("a", "F32", "[4]", 0, 16) + "," + Entry("b", "F32", "[4]", 8, 24) + "}", 24),
            "hole" => File_("{" + Entry("a", "F32", "[4]", 4, 20) + "}", 20),
            "wrong-size" => File_("{" + Entry("a", "F32", "[2,2]", 0, 12) + "}", 12),
            "past-end" => File_("{" + Entry("a", "F32", "[4]", 0, 16) + "}", 8),
            "dtype" => File_("{" + Entry("a", "C64", "[1]", 0, 8) + "}", 8),
            "trailing" => File_("{" + Entry("a", "F32", "[1]", 0, 4) + "}", 12),
            "negative" => File_("{" + Entry("a", "F32", "[1]", -4, 0) + "}", 4),
            "duplicate" => File_("{" + Entry("a", "F32", "[1]", 0, 4) + "," + Entry("a", "F32", "[1]", 4, 8) + "}", 8),
            "duplicate-metadata" => File_("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}," + Entry("a", "F32", "[1]", 0, 4) + "}", 4),
            "string-offset" => File_("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4),
            "fractional-offset" => File_("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}", 4),
            "utf8-name" => File_("{" + Entry("a\x7f", "F32", "[1]", 0, 4) + "}", 4),
            "utf8-dtype" => File_("{" + Entry("a", "F3\x7f", "[1]", 0, 4) + "}", 4),
            "utf8-metadata" => File_("{\"__metadata__\":{\"k\":\"\x7f\"}," + Entry("a", "F32", "[1]", 0, 4) + "}", 4),
            "lone-surrogate" => File_("{" + Entry("\\udc00", "F32", "[1]", 0, 4) + "}", 4),
            _ => throw new ArgumentException(kind),
        };
        var path = PathOf(kind + ".safetensors");
        File.WriteAllBytes(path, bytes);
        long live = Tensor.LiveCount;
        var e = Assert.Throws<InvalidDataException>(() => safetensors.load(path));
        Assert.Contains(message, e.Message);
        Assert.StartsWith(path, e.Message);  // names the file
        Assert.True(Tensor.LiveCount <= live);  // no tensor was created (finalizers may free others meanwhile)
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_file_intact()
    {
        var path = PathOf("model.safetensors");
        using var scope = NewDisposeScope();
        var good = new Dictionary<string, Tensor> { ["w"] = ones([3]) };
        safetensors.save(good, path);
        var original = File.ReadAllBytes(path);
        var disposed = ones([2]);
        disposed.Dispose();
        var bad = new Dictionary<string, Tensor> { ["a"] = zeros([1000]), ["z"] = disposed };
        Assert.Throws<ObjectDisposedException>(() => safetensors.save(bad, path));
        Assert.Equal(original, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir));  // no temporary file left behind
    }

    [Fact]
    public void Saving_removes_stale_temporaries_of_the_same_target_only()
    {
        var path = PathOf("model.safetensors");
        string Temporary(string target) => PathOf($".{target}.{Guid.NewGuid():N}.tmp");
        var stale = new[] { Temporary("model.safetensors"), Temporary("model.safetensors") };
        var otherTarget = Temporary("other.safetensors");
        var notOurs = PathOf(".model.safetensors.backup.tmp");
        var inProgress = Temporary("model.safetensors");
        foreach (var f in stale.Append(otherTarget).Append(notOurs).Append(inProgress)) File.WriteAllBytes(f, new byte[100]);
        File.WriteAllBytes(PathOf("model.safetensors.bak"), new byte[10]);
        using var scope = NewDisposeScope();
        // A save in progress (another thread or process) holds its temporary open.
        using (var writer = new FileStream(inProgress, FileMode.Open, FileAccess.Write, FileShare.Read))
            safetensors.save(new Dictionary<string, Tensor> { ["w"] = ones([3]) }, path);
        Assert.All(stale, f => Assert.False(File.Exists(f), $"{f} was not removed"));
        Assert.True(File.Exists(otherTarget));
        Assert.True(File.Exists(notOurs));
        Assert.True(File.Exists(inProgress));
        Assert.True(File.Exists(PathOf("model.safetensors.bak")));
        Assert.Equal(new[] { 1f, 1f, 1f }, safetensors.load(path)["w"].data<float>());
    }
}
