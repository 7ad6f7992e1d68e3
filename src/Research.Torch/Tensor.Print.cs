using System.Globalization;
using System.Text;

namespace Research.Torch;

// ToString as PyTorch prints: tensor([[1.0000, 2.0000]], dtype=torch.float64). Same rules as PyTorch's
// _tensor_str: floats with 4 decimals, or "1." when every value is an integer, or scientific notation
// when the magnitudes span more than 1000x (or exceed 1e8, or go below 1e-4); all elements padded to
// one width; more than 1000 elements summarised with the first and last 3 along each dimension;
// rows wrapped at 80 characters; dtype shown unless it is the default float dtype, int64 or bool.
public sealed partial class Tensor
{
    private const int PrintThreshold = 1000, EdgeItems = 3, LineWidth = 80;

    /// <summary>
    /// The tensor as PyTorch prints it, e.g. tensor([[1.0000, 2.0000]], dtype=torch.float64); more than 1000 elements
    /// are summarised by the first and last 3 along each dimension.
    /// </summary>
    public override string ToString()
    {
        if (IsDisposed) return "Tensor(disposed)";
        var t = dtype;
        var shape = this.shape;
        bool summarize = numel > PrintThreshold;
        string[] texts;
        long[] kept;  // flat indices of the printed elements, in order
        using (var host = detach().cpu())
        {
            kept = PrintedIndices(shape, summarize);
            texts = FormatElements(host, t, kept);
        }
        int width = texts.Length == 0 ? 0 : texts.Max(s => s.Length);
        var sb = new StringBuilder("tensor(");
        if (shape.Length == 0) sb.Append(texts[0]);
        else
        {
            int next = 0;
            AppendLevel(sb, shape, 0, summarize, texts, ref next, width, "tensor(".Length);
        }
        var suffixes = new List<string>();
        if (numel == 0 && shape.Length != 1) suffixes.Add($"size=({string.Join(", ", shape)})");
        var dev = device;
        if (dev.type != DeviceType.CPU) suffixes.Add($"device='{dev}'");
        if (t != torch.get_default_dtype() && t != ScalarType.Int64 && t != ScalarType.Bool) suffixes.Add($"dtype=torch.{DtypeName(t)}");
        if (requires_grad) suffixes.Add(is_leaf ? "requires_grad=True" : $"grad_fn=<{GradFnName()}>");
        foreach (var s in suffixes) sb.Append(", ").Append(s);
        return sb.Append(')').ToString();
    }

    private string GradFnName()
    {
        var s = Native.rt_grad_fn_name(Handle);
        GC.KeepAlive(this);
        if (s == IntPtr.Zero) throw Native.LastError();
        try { return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(s)!; }
        finally { Native.rt_free_string(s); }
    }

    internal static string DtypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Int64 => "int64",
        ScalarType.Int32 => "int32",
        ScalarType.UInt8 => "uint8",
        ScalarType.Bool => "bool",
        _ => t.ToString().ToLowerInvariant(),
    };

    /// <summary>Indices along one dimension that are printed: all, or the first and last EdgeItems.</summary>
    private static long[] Shown(long size, bool summarize) =>
        summarize && size > 2 * EdgeItems
            ? [.. Enumerable.Range(0, EdgeItems).Select(i => (long)i), .. Enumerable.Range(0, EdgeItems).Select(i => size - EdgeItems + i)]
            : [.. Enumerable.Range(0, (int)size).Select(i => (long)i)];

    private static long[] PrintedIndices(long[] shape, bool summarize)
    {
        var flat = new List<long> { 0 };
        for (int d = 0; d < shape.Length; d++)
        {
            var shown = Shown(shape[d], summarize);
            flat = flat.SelectMany(f => shown.Select(i => f * shape[d] + i)).ToList();
        }
        return shape.Any(s => s == 0) ? [] : flat.ToArray();
    }

    private static string[] FormatElements(Tensor host, ScalarType t, long[] kept)
    {
        switch (t)
        {
            case ScalarType.Bool:
            {
                var v = host.data<bool>();
                return kept.Select(i => v[i] ? "True" : "False").ToArray();
            }
            case ScalarType.Float32 or ScalarType.Float64:
            {
                using var d = host.to(ScalarType.Float64);
                var all = d.data<double>();
                var v = kept.Select(i => all[i]).ToArray();
                return FormatFloats(v);
            }
            default:
            {
                using var l = host.to(ScalarType.Int64);
                var all = l.data<long>();
                return kept.Select(i => all[i].ToString(CultureInfo.InvariantCulture)).ToArray();
            }
        }
    }

    private static string[] FormatFloats(double[] v)
    {
        var finite = v.Where(double.IsFinite).Select(Math.Abs).Where(x => x != 0).ToArray();
        bool intMode = v.Where(double.IsFinite).All(x => x == Math.Ceiling(x));
        bool sci = false;
        if (finite.Length > 0)
        {
            double max = finite.Max(), min = finite.Min();
            sci = intMode ? max / min > 1000 || max > 1e8 : max / min > 1000 || max > 1e8 || min < 1e-4;
        }
        var ci = CultureInfo.InvariantCulture;
        return v.Select(x =>
            double.IsNaN(x) ? "nan"
            : double.IsPositiveInfinity(x) ? "inf"
            : double.IsNegativeInfinity(x) ? "-inf"
            : sci ? x.ToString("0.0000e+00", ci)
            : intMode ? x.ToString("0", ci) + "."
            : x.ToString("0.0000", ci)).ToArray();
    }

    private static void AppendLevel(StringBuilder sb, long[] shape, int d, bool summarize, string[] texts, ref int next, int width, int indent)
    {
        sb.Append('[');
        var shown = Shown(shape[d], summarize);
        bool gap = shown.Length < shape[d];
        if (d == shape.Length - 1)
        {
            // The innermost dimension: elements padded to one width, " ..." for the elided middle,
            // as many per line as fit in the line width.
            var items = new List<string>();
            for (int k = 0; k < shown.Length; k++)
            {
                if (gap && k == EdgeItems) items.Add(" ...");
                items.Add(new string(' ', width - texts[next].Length) + texts[next++]);
            }
            int perLine = Math.Max(1, (LineWidth - indent) / (width + 2));
            var lines = items.Chunk(perLine).Select(line => string.Join(", ", line));
            sb.AppendJoin(",\n" + new string(' ', indent + 1), lines);
        }
        else
        {
            // Outer dimensions: one sub-block per line, blank lines between blocks of rank >= 2.
            string separator = "," + new string('\n', shape.Length - d - 1) + new string(' ', indent + 1);
            for (int k = 0; k < shown.Length; k++)
            {
                if (k > 0) sb.Append(separator);
                if (gap && k == EdgeItems) sb.Append("...").Append(separator);
                AppendLevel(sb, shape, d + 1, summarize, texts, ref next, width, indent + 1);
            }
        }
        sb.Append(']');
    }
}
