namespace Research.Torch;

/// <summary>A failed collective or rendezvous: a timeout, a peer that died or disconnected, ranks that
/// disagree on shapes. Carries c10d's (or Gloo's) own message.</summary>
public sealed class DistributedException(string message) : Exception(message);
