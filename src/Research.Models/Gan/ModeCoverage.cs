using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// Mode collapse on a mixture of known, well-separated modes (DIV-03's picture on data): each sample is
/// assigned to its nearest centre and counts as "high quality" if it lies within <c>radius</c> of it (3 sd of
/// the component); a mode is covered when it holds at least <c>minShare</c> of the share a uniform spread over
/// the modes would give it.
/// </summary>
public sealed record ModeCoverage(int Covered, int Modes, double HighQualityFraction, double[] Shares)
{
    /// <param name="samples">[N, d].</param>
    /// <param name="centres">[K, d].</param>
    /// <param name="radius">The distance to its centre within which a sample is of high quality.</param>
    /// <param name="minShare">The fraction of the uniform share 1/K a mode needs to count as covered.</param>
    public static ModeCoverage Of(Tensor samples, double[,] centres, double radius, double minShare = 0.25)
    {
        if (samples.dim != 2 || samples.size(1) != centres.GetLength(1))
            throw new ArgumentException($"samples must be [N, {centres.GetLength(1)}], got [{string.Join(", ", samples.shape)}]");
        using var scope = NewDisposeScope();
        int k = centres.GetLength(0), d = centres.GetLength(1);
        var flat = new double[k * d];
        Buffer.BlockCopy(centres, 0, flat, 0, flat.Length * sizeof(double));
        var c = tensor(flat).reshape(k, d);
        var x = samples.detach().to(ScalarType.Float64);
        var distance = (x.unsqueeze(1) - c.unsqueeze(0)).square().sum(2).sqrt();   // [N, K]
        var (nearest, which) = distance.min(1);
        var good = nearest.le(radius);
        long n = x.size(0);
        var counts = new double[k];
        var w = which.data<long>();
        var ok = good.data<bool>();
        for (int i = 0; i < n; i++) if (ok[i]) counts[w[i]]++;
        var shares = counts.Select(v => v / n).ToArray();
        int covered = shares.Count(s => s >= minShare / k);
        return new ModeCoverage(covered, k, counts.Sum() / n, shares);
    }
}
