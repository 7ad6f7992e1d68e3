using MathNet.Numerics.LinearAlgebra;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>The mean and covariance of a feature set, in float64.</summary>
public sealed record FeatureStatistics(Vector<double> Mean, Matrix<double> Covariance, long Count)
{
    /// <summary>Mean and unbiased covariance of features [N, d] (N ≥ 2).</summary>
    public static FeatureStatistics Of(Tensor features)
    {
        if (features.dim != 2 || features.size(0) < 2) throw new ArgumentException($"features must be [N >= 2, d], got [{string.Join(", ", features.shape)}]");
        using var scope = NewDisposeScope();
        var f = features.to(ScalarType.Float64);
        long n = f.size(0), d = f.size(1);
        var mean = f.mean([0]);
        var centred = f - mean;
        var cov = centred.transpose(0, 1).matmul(centred) / (n - 1);
        var meanArray = mean.data<double>();
        var covArray = cov.contiguous().data<double>();
        return new(Vector<double>.Build.DenseOfArray(meanArray),
            Matrix<double>.Build.Dense((int)d, (int)d, (i, j) => covArray[i * d + j]), n);
    }
}

/// <summary>
/// Sample-quality metrics as pure functions of classifier features (computed once per image set): the
/// Fréchet distance, k-NN precision and recall, and class consistency.
/// </summary>
public static class ImageMetrics
{
    /// <summary>
    /// Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017):
    /// ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½. The trace of the square root uses the symmetric
    /// form and symmetric eigendecompositions, so it is real and stable even when Σ₁ Σ₂ is ill-conditioned;
    /// round-off eigenvalues below zero are clamped.
    /// </summary>
    public static double FrechetDistance(FeatureStatistics a, FeatureStatistics b)
    {
        var root = SymmetricSqrt(a.Covariance);
        var middle = root * b.Covariance * root;
        middle = (middle + middle.Transpose()) * 0.5;
        var traceRoot = middle.Evd(Symmetricity.Symmetric).EigenValues.Sum(e => Math.Sqrt(Math.Max(e.Real, 0.0)));
        var diff = a.Mean - b.Mean;
        return diff.DotProduct(diff) + a.Covariance.Trace() + b.Covariance.Trace() - 2.0 * traceRoot;
    }

    /// <summary>The Fréchet distance between the Gaussians fitted to two feature sets [N, D] and [M, D].</summary>
    public static double FrechetDistance(Tensor featuresA, Tensor featuresB) =>
        FrechetDistance(FeatureStatistics.Of(featuresA), FeatureStatistics.Of(featuresB));

    private static Matrix<double> SymmetricSqrt(Matrix<double> m)
    {
        var evd = ((m + m.Transpose()) * 0.5).Evd(Symmetricity.Symmetric);
        var roots = evd.EigenValues.Map(e => Math.Sqrt(Math.Max(e.Real, 0.0)));
        return evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(roots) * evd.EigenVectors.Transpose();
    }

    /// <summary>
    /// Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of balls around
    /// its points with radius the distance to the k-th nearest other point of the same set. Precision is the
    /// fraction of generated points inside the real manifold, recall the fraction of real points inside the
    /// generated one. Distances are computed in row blocks, so memory is linear in the set sizes.
    /// </summary>
    public static (double precision, double recall) PrecisionRecall(Tensor real, Tensor generated, int k = 3, int block = 1024)
    {
        using var scope = NewDisposeScope();
        var r = real.to(ScalarType.Float64);
        var g = generated.to(ScalarType.Float64);
        var realRadii = KthNeighbourDistance(r, k, block);
        var generatedRadii = KthNeighbourDistance(g, k, block);
        return (FractionInside(g, r, realRadii, block), FractionInside(r, g, generatedRadii, block));
    }

    private static Tensor SquaredDistances(Tensor a, Tensor b) =>
        (a.square().sum([1], keepdim: true) - a.matmul(b.transpose(0, 1)) * 2.0 + b.square().sum([1]).unsqueeze(0)).clamp_min(0.0);

    /// <summary>Distance from each point to its k-th nearest neighbour in the same set (itself excluded).</summary>
    public static Tensor KthNeighbourDistance(Tensor points, int k, int block = 1024)
    {
        if (k < 1 || k >= points.size(0)) throw new ArgumentException($"k must lie in 1..{points.size(0) - 1}, got {k}");
        var parts = new List<Tensor>();
        for (long i = 0; i < points.size(0); i += block)
        {
            using var scope = NewDisposeScope();
            var rows = points.narrow(0, i, Math.Min(block, points.size(0) - i));
            var (nearest, _) = SquaredDistances(rows, points).topk(k + 1, 1, largest: false);
            parts.Add(nearest.select(1, k).sqrt().MoveToOuterScope());   // column 0 is the point itself
        }
        return cat(parts.ToArray(), 0);
    }

    /// <summary>The fraction of <paramref name="queries"/> inside at least one ball (centre, radius).</summary>
    private static double FractionInside(Tensor queries, Tensor centres, Tensor radii, int block)
    {
        long inside = 0;
        var r2 = radii.square().unsqueeze(0);
        for (long i = 0; i < queries.size(0); i += block)
        {
            using var scope = NewDisposeScope();
            var rows = queries.narrow(0, i, Math.Min(block, queries.size(0) - i));
            inside += (long)SquaredDistances(rows, centres).le(r2).to(ScalarType.Float64).amax([1]).sum().ToDouble();
        }
        return (double)inside / queries.size(0);
    }

    /// <summary>The fraction of samples the classifier assigns to the class they were conditioned on.</summary>
    public static double ClassConsistency(FashionClassifier classifier, Tensor samples, Tensor labels)
    {
        using var scope = NewDisposeScope();
        return classifier.Predict(samples).eq(labels).to(ScalarType.Float64).mean().ToDouble();
    }
}
