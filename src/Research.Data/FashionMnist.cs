using System.Buffers.Binary;
using System.IO.Compression;
using Research.Torch;

namespace Research.Data;

/// <summary>
/// Fashion-MNIST in the IDX format (optionally gzip-compressed), as Debian's dataset-fashion-mnist
/// installs it under /usr/share/datasets/fashion-mnist. Images are uint8 [N, 1, 28, 28], labels int64 [N].
/// </summary>
public static class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The training (60,000) or test (10,000) split.</summary>
    public static (Tensor images, Tensor labels) Load(bool train = true, string directory = DefaultDirectory)
    {
        string prefix = train ? "train" : "t10k";
        var images = ReadIdx(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"));
        var labels = ReadIdx(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"));
        if (images.shape.Length != 3 || labels.shape.Length != 1 || images.shape[0] != labels.shape[0])
            throw new InvalidDataException($"{directory}: image shape [{string.Join(", ", images.shape)}] does not match label shape [{string.Join(", ", labels.shape)}]");
        using (images)
        using (labels)
            return (images.unsqueeze(1).DetachFromDisposeScope(), labels.@long().DetachFromDisposeScope());
    }

    /// <summary>Reads an unsigned-byte IDX file: magic 0x00000800 + rank, big-endian dimensions, then data.
    /// The header is validated against the file length before the data is read.</summary>
    public static Tensor ReadIdx(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        // Every read goes through here: a corrupt gzip stream (GZipStream's own InvalidDataException
        // does not say which file) and a short file both become errors that name the file.
        void Read(Span<byte> buffer)
        {
            try { stream.ReadExactly(buffer); }
            catch (EndOfStreamException) { throw new InvalidDataException($"{path}: truncated (shorter than its header declares)"); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{path}: corrupt gzip data ({e.Message})", e); }
        }
        Span<byte> word = stackalloc byte[4];
        Read(word);
        if (word[0] != 0 || word[1] != 0 || word[2] != 0x08 || word[3] is 0 or > 4)
            throw new InvalidDataException($"{path}: not an unsigned-byte IDX file (magic {Convert.ToHexString(word)})");
        var shape = new long[word[3]];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            Read(word);
            shape[i] = BinaryPrimitives.ReadUInt32BigEndian(word);
            count *= shape[i];
            if (count > int.MaxValue) throw new InvalidDataException($"{path}: dimensions [{string.Join(", ", shape[..(i + 1)])}] are too large");
        }
        var data = new byte[count];
        Read(data);
        Span<byte> extra = stackalloc byte[1];
        int more;
        try { more = stream.Read(extra); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: corrupt gzip data ({e.Message})", e); }
        if (more != 0) throw new InvalidDataException($"{path}: data continues past the {count} bytes the header declares");
        return torch.tensor(data, shape);
    }
}
