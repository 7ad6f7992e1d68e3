namespace Research.Torch;

/// <summary>A libtorch failure (shape or dtype mismatch, bad index, missing CUDA, ...), carrying
/// libtorch's own message.</summary>
public sealed class TorchException(string message) : Exception(message);
