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

/// <summary>The kind of a device; the values are libtorch's c10::DeviceType.</summary>
public enum DeviceType
{
    /// <summary>The host CPU.</summary>
    CPU = 0,
    /// <summary>An NVIDIA GPU through CUDA.</summary>
    CUDA = 1,
}

/// <summary>Where a tensor lives: <c>cpu</c> or <c>cuda:N</c>.</summary>
public readonly record struct Device(DeviceType type, int index = 0)
{
    /// <summary>The CPU.</summary>
    public static readonly Device CPU = new(DeviceType.CPU);
    /// <summary>CUDA device 0.</summary>
    public static readonly Device CUDA = new(DeviceType.CUDA);

    /// <summary>Parses "cpu", "cuda" or "cuda:1".</summary>
    public static Device Parse(string spec)
    {
        var parts = spec.Trim().ToLowerInvariant().Split(':');
        var type = parts[0] switch
        {
            "cpu" => DeviceType.CPU,
            "cuda" => DeviceType.CUDA,
            _ => throw new ArgumentException($"unknown device '{spec}': expected cpu, cuda or cuda:N"),
        };
        int index = parts.Length > 1 ? int.Parse(parts[1]) : 0;
        return new Device(type, index);
    }

    /// <summary>"cpu" or "cuda:N", the form <see cref="Parse"/> reads.</summary>
    public override string ToString() => type == DeviceType.CPU ? "cpu" : $"cuda:{index}";
}
