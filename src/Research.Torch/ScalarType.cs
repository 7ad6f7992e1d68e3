namespace Research.Torch;

/// <summary>Element types. The values are libtorch's own (c10::ScalarType), stable across 1.x and 2.x.</summary>
public enum ScalarType
{
    /// <summary>8-bit unsigned integer (torch.uint8).</summary>
    UInt8 = 0,
    /// <summary>32-bit signed integer (torch.int32).</summary>
    Int32 = 3,
    /// <summary>64-bit signed integer (torch.int64).</summary>
    Int64 = 4,
    /// <summary>32-bit float (torch.float32).</summary>
    Float32 = 6,
    /// <summary>64-bit float (torch.float64).</summary>
    Float64 = 7,
    /// <summary>Boolean (torch.bool).</summary>
    Bool = 11,
}

/// <summary>The values are c10::DeviceType's. <see cref="Meta"/> tensors have shapes, dtypes and autograd but no
/// data: every op checks devices and shapes as on CUDA without computing, so CPU-only tests use it to check
/// that code follows the device of its inputs (reading a value from one throws).</summary>
public enum DeviceType
{
    /// <summary>The host CPU.</summary>
    CPU = 0,
    /// <summary>An NVIDIA GPU through CUDA.</summary>
    CUDA = 1,
    /// <summary>No data: shapes, dtypes and device checks only.</summary>
    Meta = 14,
}

/// <summary>Where a tensor lives: <c>cpu</c>, <c>cuda:N</c> or <c>meta</c>.</summary>
public readonly record struct Device(DeviceType type, int index = 0)
{
    /// <summary>The CPU.</summary>
    public static readonly Device CPU = new(DeviceType.CPU);
    /// <summary>CUDA device 0.</summary>
    public static readonly Device CUDA = new(DeviceType.CUDA);
    /// <summary>The meta device.</summary>
    public static readonly Device Meta = new(DeviceType.Meta);

    /// <summary>Parses "cpu", "cuda" or "cuda:1".</summary>
    public static Device Parse(string spec)
    {
        var parts = spec.Trim().ToLowerInvariant().Split(':');
        var type = parts[0] switch
        {
            "cpu" => DeviceType.CPU,
            "cuda" => DeviceType.CUDA,
            "meta" => DeviceType.Meta,
            _ => throw new ArgumentException($"unknown device '{spec}': expected cpu, cuda, cuda:N or meta"),
        };
        int index = parts.Length > 1 ? int.Parse(parts[1]) : 0;
        return new Device(type, index);
    }

    /// <summary>"cpu", "cuda:N" or "meta", the form <see cref="Parse"/> reads.</summary>
    public override string ToString() => type switch
    {
        DeviceType.CPU => "cpu",
        DeviceType.Meta => "meta",
        _ => $"cuda:{index}",
    };
}
