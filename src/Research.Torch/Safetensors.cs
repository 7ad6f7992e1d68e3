using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Research.Torch;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
/// then the raw little-endian tensor bytes, offsets relative to the end of the header. Files written
/// here are readable by Python's safetensors; files read here are validated completely (header
/// length, JSON, dtypes, shapes, offsets in range, no overlap, no holes) before any tensor data is read.
/// </summary>
public static class safetensors
{
    /// <summary>The safetensors library's own limit on the header size.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly Dictionary<ScalarType, (string code, int size)> Codes = new()
    {
        [ScalarType.Float32] = ("F32", 4),
        [ScalarType.Float64] = ("F64", 8),
        [ScalarType.Int64] = ("I64", 8),
        [ScalarType.Int32] = ("I32", 4),
        [ScalarType.UInt8] = ("U8", 1),
        [ScalarType.Bool] = ("BOOL", 1),
    };

    /// <summary>Writes the tensors (moved to the CPU, made contiguous) atomically: to a temporary file in
    /// the same folder, flushed to disk, then renamed over <paramref name="path"/>, so a crash leaves
    /// either the old file or the new one, never half of one.</summary>
    /// <remarks>Any dictionary or sequence of name-tensor pairs (an F# Map too); a name given twice is an error.</remarks>
    public static void save(IEnumerable<KeyValuePair<string, Tensor>> named, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian");
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in named)
            if (!tensors.TryAdd(name, t)) throw new ArgumentException($"'{name}' is given twice");
        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var name in names)
        {
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved");
            var t = tensors[name];
            if (!Codes.TryGetValue(t.dtype, out var code)) throw new ArgumentException($"'{name}': {t.dtype} has no safetensors dtype");
            long bytes = t.numel * code.size;
            header[name] = new Dictionary<string, object> { ["dtype"] = code.code, ["shape"] = t.shape, ["data_offsets"] = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8;  // keep the data 8-byte aligned, padding with spaces as the spec allows

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
                stream.Write(length);
                stream.Write(json);
                for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
                foreach (var name in names) stream.Write(tensors[name].bytes());
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        RemoveStaleTemporaries(directory, Path.GetFileName(path));
    }

    /// <summary>Saves a sequence of (name, tensor) pairs, such as an F# list <c>[ "w", w; "b", b ]</c>.</summary>
    public static void save(IEnumerable<Tuple<string, Tensor>> named, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        save(named.Select(p => KeyValuePair.Create(p.Item1, p.Item2)), path, metadata);

    /// <summary>Deletes the temporaries ".name.GUID.tmp" that saves of the same target left when they were
    /// killed. Only names of exactly that form, and only when no process has the file open: a save in
    /// progress keeps its temporary open (locked), so it is never touched. The target itself never is.</summary>
    private static void RemoveStaleTemporaries(string directory, string fileName)
    {
        string prefix = "." + fileName + ".";
        try
        {
            foreach (var candidate in Directory.EnumerateFiles(directory, ".*.tmp"))
            {
                var name = Path.GetFileName(candidate);
                if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(".tmp", StringComparison.Ordinal)) continue;
                var guid = name[prefix.Length..^4];
                if (guid.Length != 32 || !guid.All(char.IsAsciiHexDigitLower)) continue;
                try
                {
                    // .NET takes an exclusive advisory lock for FileShare.None; it fails while a writer has the file open.
                    using var exclusive = new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                    File.Delete(candidate);
                }
                catch (IOException) { }  // in use by another save, or already gone
                catch (UnauthorizedAccessException) { }
            }
        }
        catch (IOException) { }  // cleaning up is best effort: the save itself has succeeded
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// The tensors of a safetensors file by name, on <paramref name="device"/> (the CPU by default); metadata dropped,
    /// see load_with_metadata.
    /// </summary>
    public static Dictionary<string, Tensor> load(string path, Device? device = null) => load_with_metadata(path, device).tensors;

    /// <summary>Reads and validates a file; every problem is an <see cref="InvalidDataException"/> naming it.</summary>
    public static (Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata) load_with_metadata(string path, Device? device = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        var (entries, metadata, dataStart) = ReadHeader(stream, path);
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var e in entries)
            {
                var buffer = new byte[e.end - e.begin];
                stream.Position = dataStart + e.begin;
                stream.ReadExactly(buffer);
                result[e.name] = Tensor.FromBytes(buffer, e.dtype, e.shape, device).DetachFromDisposeScope();
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return (result, metadata);
    }

    private sealed record Entry(string name, ScalarType dtype, long[] shape, long begin, long end);

    private static (List<Entry>, Dictionary<string, string>, long dataStart) ReadHeader(FileStream stream, string path)
    {
        InvalidDataException Bad(string why) => new($"{path} is not a valid safetensors file: {why}");
        long fileLength = stream.Length;
        if (fileLength < 8) throw Bad($"{fileLength} bytes, shorter than the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes) throw Bad($"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if ((long)headerLength > fileLength - 8) throw Bad($"header length {headerLength} exceeds the {fileLength - 8} bytes after it (truncated file?)");
        var json = new byte[headerLength];
        stream.ReadExactly(json);
        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;

        // Names, dtypes and metadata are UTF-8 strings; checking the whole header first turns a bad byte
        // anywhere into one clear error (System.Text.Json would throw InvalidOperationException on access).
        try { StrictUtf8.GetCharCount(json); }
        catch (DecoderFallbackException e) { throw Bad($"header is not valid UTF-8 (byte {e.Index} of the header)"); }
        JsonElement root;
        try { root = JsonDocument.Parse(json).RootElement; }
        catch (JsonException e) { throw Bad($"header is not JSON ({e.Message})"); }
        if (root.ValueKind != JsonValueKind.Object) throw Bad("header is not a JSON object");

        var metadata = new Dictionary<string, string>();
        var entries = new List<Entry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try { ParseProperties(); }
        catch (InvalidOperationException e) { throw Bad($"header has an unreadable value ({e.Message})"); }  // e.g. an escaped lone surrogate

        void ParseProperties()
        {
            foreach (var property in root.EnumerateObject())
            {
                // JSON allows repeated names; a tensor silently replaced by a later one is not a valid file.
                if (!seen.Add(property.Name)) throw Bad($"'{property.Name}' appears twice in the header");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ is not an object");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (metadata.ContainsKey(m.Name)) throw Bad($"metadata '{m.Name}' appears twice");
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw Bad($"metadata '{m.Name}' is not a string");
                    }
                    continue;
                }
                entries.Add(ParseEntry(property, dataLength, Bad));
            }
        }

        // Offsets must tile the data exactly: sorted by begin, each starts where the previous ended.
        entries.Sort((a, b) => a.begin.CompareTo(b.begin));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.begin < expected) throw Bad($"'{e.name}' overlaps the tensor before it");
            if (e.begin > expected) throw Bad($"{e.begin - expected} bytes before '{e.name}' belong to no tensor");
            expected = e.end;
        }
        if (expected != dataLength) throw Bad($"data holds {dataLength} bytes but the tensors cover {expected}");
        return (entries, metadata, dataStart);
    }

    private static Entry ParseEntry(JsonProperty property, long dataLength, Func<string, InvalidDataException> bad)
    {
        var name = property.Name;
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object) throw bad($"'{name}' is not an object");
        if (!v.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw bad($"'{name}' has no dtype");
        var code = dtypeElement.GetString();
        var match = Codes.Where(kv => kv.Value.code == code).Select(kv => (ScalarType?)kv.Key).FirstOrDefault()
            ?? throw bad($"'{name}' has unsupported dtype '{code}'");
        if (!v.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw bad($"'{name}' has no shape");
        var shape = new long[shapeElement.GetArrayLength()];
        long numel = 1;
        int i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var n) || n < 0) throw bad($"'{name}' has an invalid shape");
            shape[i++] = n;
            numel = n == 0 || numel <= long.MaxValue / n ? numel * n : throw bad($"'{name}' has a shape too large");
        }
        if (!v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw bad($"'{name}' has no data_offsets pair");
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw bad($"'{name}' has invalid data_offsets");
        if (end > dataLength) throw bad($"'{name}' ends at byte {end}, past the {dataLength} bytes of data");
        int size = Codes[match].size;
        if (numel > long.MaxValue / size || end - begin != numel * size)
            throw bad($"'{name}' spans {end - begin} bytes but {code} {string.Join("x", shape)} needs {numel * (long)size}");
        return new Entry(name, match, shape, begin, end);
    }
}
