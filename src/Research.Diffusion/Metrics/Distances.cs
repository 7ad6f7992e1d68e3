using MathNet.Numerics.Integration;
using MathNet.Numerics.LinearAlgebra;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>An estimate with its standard error.</summary>
public readonly record struct Estimate(double Value, double StandardError);

/// <summary>
/// Distances between distributions for judging samples in low dimension: sample-based (sliced Wasserstein,
/// MMD) on tensors [n, d], and exact ones between Gaussians and 1-D mixtures.
/// </summary>
public static class Distances
{
    /// <summary>
    /// Sliced Wasserstein-p between two equal-size samples: (E_theta W_p^p(theta^T x, theta^T y))^(1/p) over
    /// <paramref name="projections"/> directions uniform on the sphere; each 1-D W_p pairs the sorted projections. The
    /// directions are drawn at once (d × projections, as one draw from the generator) and projected
    /// <paramref name="block"/> at a time, so memory is n × block; the sum is accumulated in float64.
    /// </summary>
    public static double SlicedWasserstein(Tensor x, Tensor y, int projections, Generator? generator = null, double p = 2.0, int block = 64)
    {
        if (x.size(0) != y.size(0)) throw new ArgumentException("sliced Wasserstein here pairs order statistics: the samples must have the same size");
        if (block < 1) throw new ArgumentOutOfRangeException(nameof(block), "the block size must be positive");
        using var scope = NewDisposeScope();
        var directions = randn([x.size(1), projections], x.dtype, x.device, generator);
        directions = directions / directions.norm(2, [0], keepdim: true);
        var total = 0.0;
        for (long j = 0; j < projections; j += block)
        {
            using var inner = NewDisposeScope();
            var slice = directions.narrow(1, j, Math.Min(block, projections - j));
            var (px, _) = x.matmul(slice).sort(0);
            var (py, _) = y.matmul(slice).sort(0);
            total += (px - py).abs().pow(p).sum().ToDouble();
        }
        return Math.Pow(total / ((double)x.size(0) * projections), 1.0 / p);
    }

    /// <summary>The Gaussian (RBF) kernel k(x, y) = exp(-|x - y|^2 / (2 l^2)) between all rows, [n, m].</summary>
    public static Tensor GaussianKernel(Tensor x, Tensor y, double lengthscale)
    {
        using var scope = NewDisposeScope();
        var squared = x.square().sum(1, keepdim: true) + y.square().sum(1).unsqueeze(0) - x.matmul(y.T) * 2.0;
        return (squared.clamp_min(0.0) / (-2.0 * lengthscale * lengthscale)).exp().MoveToOuterScope();
    }

    /// <summary>Default tile side of the pairwise sums: a 1024 × 1024 float64 tile is 8 MiB.</summary>
    public const int KernelBlock = 1024;

    /// <summary>
    /// The unbiased estimator of MMD^2 with the Gaussian kernel of <see cref="GaussianKernel"/> (Gretton et al. 2012,
    /// eq. 3): mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(x_i, y_j). The kernel matrices are
    /// summed tile by tile (<paramref name="block"/> rows and columns at a time, the upper triangle of the symmetric
    /// ones), so memory does not grow with n beyond the samples themselves.
    /// </summary>
    public static double MmdSquared(Tensor x, Tensor y, double lengthscale, int block = KernelBlock)
    {
        double n = x.size(0), m = y.size(0);
        return OffDiagonalSum(x, lengthscale, block) / (n * (n - 1.0)) + OffDiagonalSum(y, lengthscale, block) / (m * (m - 1.0))
            - 2.0 * CrossSum(x, y, lengthscale, block) / (n * m);
    }

    /// <summary>
    /// MMD^2 between a sample y and a Gaussian mixture p, the expectations over p in closed form: with the Gaussian
    /// kernel, k(x, y) = (2 pi l^2)^(d/2) N(x; y, l^2 I), so mu(y) = E_p k(x, y) = (2 pi l^2)^(d/2) p_l(y) with p_l the
    /// mixture convolved with N(0, l^2 I) (F2 at alpha = 1, sigma = l), and E_{p,p} k = (2 pi l^2)^(d/2) sum_jk pi_j pi_k
    /// N(m_j; m_k, S_j + S_k + l^2 I). The estimate is the U-statistic with kernel
    /// h(y, y') = k(y, y') - mu(y) - mu(y') + E_{p,p} k, unbiased for MMD^2(law of y, p). Its standard error is
    /// sqrt(4 zeta_1 / n + 2 zeta_2 / (n (n - 1))) (Hoeffding's variance of a U-statistic of degree 2), with
    /// zeta_1 = Var_i mean_j h(y_i, y_j) and zeta_2 = mean h^2 estimated from the sample: of order 1/n when the law
    /// of y is p (zeta_1 = 0), 1/sqrt(n) otherwise. h is summed tile by tile over the upper triangle (as the two-sample
    /// estimator), keeping only its row sums, so memory is linear in n.
    /// </summary>
    public static Estimate MmdSquared(Tensor y, GaussianMixture p, double lengthscale, int block = KernelBlock)
    {
        using var scope = NewDisposeScope();
        var n = y.size(0);
        var d = p.Dimension;
        var normaliser = Math.Pow(2.0 * Math.PI * lengthscale * lengthscale, 0.5 * d);
        using var smoothed = new TensorMixture(p, dtype: y.dtype, device: y.device);
        var mu = smoothed.LogDensity(y, new ProcessPoint(1.0, lengthscale, 0.0, 0.0)).exp() * normaliser;
        var identity = Matrix<double>.Build.DenseIdentity(d);
        var expectedKernel = 0.0;
        for (var j = 0; j < p.Components.Count; j++)
            for (var k = 0; k < p.Components.Count; k++)
            {
                var (a, b) = (p.Components[j], p.Components[k]);
                var joint = new Gaussian(b.Mean, a.Covariance + b.Covariance + lengthscale * lengthscale * identity);
                expectedKernel += p.Weights[j] * p.Weights[k] * normaliser * Math.Exp(joint.LogDensity(a.Mean));
            }
        // The sums over i != j of h and h^2, and the row sums of h with its diagonal left out.
        double sum = 0.0, sumOfSquares = 0.0;
        var rowSums = new Tensor?[(n + block - 1) / block];
        ForEachTile(y, y, lengthscale, block, symmetric: true, (i, j, kernel) =>
        {
            var h = kernel - mu.narrow(0, j, kernel.size(1)).unsqueeze(0) - mu.narrow(0, i, kernel.size(0)).unsqueeze(1) + expectedKernel;
            if (i == j)
            {
                var diagonal = h.diagonal();
                sum += h.sum().ToDouble() - diagonal.sum().ToDouble();
                sumOfSquares += h.square().sum().ToDouble() - diagonal.square().sum().ToDouble();
                Accumulate(rowSums, i / block, h.sum(1) - diagonal);
            }
            else
            {
                sum += 2.0 * h.sum().ToDouble();
                sumOfSquares += 2.0 * h.square().sum().ToDouble();
                Accumulate(rowSums, i / block, h.sum(1));
                Accumulate(rowSums, j / block, h.sum(0));
            }
        });
        var value = sum / (n * (n - 1.0));
        var rowMeans = cat(rowSums.Select(r => r!).ToArray()) / (n - 1.0);
        var zeta1 = rowMeans.var().ToDouble();
        var zeta2 = sumOfSquares / (n * (n - 1.0));
        return new(value, Math.Sqrt(4.0 * zeta1 / n + 2.0 * zeta2 / (n * (n - 1.0))));
    }

    /// <summary>sum_{i != j} k(x_i, x_j), over the upper triangle of tiles.</summary>
    static double OffDiagonalSum(Tensor x, double lengthscale, int block)
    {
        var total = 0.0;
        ForEachTile(x, x, lengthscale, block, symmetric: true, (i, j, kernel) =>
            total += i == j ? kernel.sum().ToDouble() - kernel.diagonal().sum().ToDouble() : 2.0 * kernel.sum().ToDouble());
        return total;
    }

    /// <summary>sum_{i, j} k(x_i, y_j).</summary>
    static double CrossSum(Tensor x, Tensor y, double lengthscale, int block)
    {
        var total = 0.0;
        ForEachTile(x, y, lengthscale, block, symmetric: false, (_, _, kernel) => total += kernel.sum().ToDouble());
        return total;
    }

    /// <summary>
    /// Calls visit(i, j, k(x[i..i+b], y[j..j+b])) for every tile of at most block × block, each in its own dispose
    /// scope; with <paramref name="symmetric"/> (y is x) only the tiles with j &gt;= i.
    /// </summary>
    static void ForEachTile(Tensor x, Tensor y, double lengthscale, int block, bool symmetric, Action<long, long, Tensor> visit)
    {
        if (block < 1) throw new ArgumentOutOfRangeException(nameof(block), "the block size must be positive");
        long n = x.size(0), m = y.size(0);
        for (long i = 0; i < n; i += block)
            for (long j = symmetric ? i : 0; j < m; j += block)
            {
                using var scope = NewDisposeScope();
                var rows = x.narrow(0, i, Math.Min(block, n - i));
                var columns = y.narrow(0, j, Math.Min(block, m - j));
                visit(i, j, GaussianKernel(rows, columns, lengthscale));
            }
    }

    /// <summary>sums[k] += value, the running sum held by the scope enclosing the tile's.</summary>
    static void Accumulate(Tensor?[] sums, long k, Tensor value)
    {
        var previous = sums[k];
        sums[k] = (previous is null ? value : previous + value).MoveToOuterScope();
        previous?.Dispose();
    }

    /// <summary>
    /// W2 between Gaussians: W2^2 = |m_1 - m_2|^2 + tr(S_1 + S_2 - 2 (S_2^(1/2) S_1 S_2^(1/2))^(1/2)) (Dowson &amp; Landau 1982).
    /// </summary>
    public static double WassersteinGaussian(Gaussian a, Gaussian b)
    {
        var root = SymmetricSquareRoot(b.Covariance);
        var cross = SymmetricSquareRoot(root * a.Covariance * root);
        var squared = (a.Mean - b.Mean).DotProduct(a.Mean - b.Mean) + (a.Covariance + b.Covariance - 2.0 * cross).Trace();
        return Math.Sqrt(Math.Max(0.0, squared));
    }

    /// <summary>KL(q || p) = -H(q) - E_q log p for Gaussians (DIV-02), from <see cref="Gaussian"/>'s closed forms.</summary>
    public static double KullbackLeibler(Gaussian q, Gaussian p) => -q.Entropy - p.ExpectedLogDensity(q);

    /// <summary>
    /// KL(q || p) = int q log(q / p) for 1-D mixtures by adaptive Gauss–Kronrod (section 0.3 [Q] with the section-15
    /// correction): the line is cut at every component mean, and the integral ends 12 standard deviations beyond q's
    /// outermost components, where q &lt; 1e-31 while log(q / p) grows only quadratically.
    /// </summary>
    public static double KullbackLeibler(GaussianMixture q, GaussianMixture p)
    {
        if (q.Dimension != 1 || p.Dimension != 1) throw new ArgumentException("the quadrature KL is for 1-D mixtures");
        var lo = q.Components.Min(c => c.Mean[0] - 12.0 * Math.Sqrt(c.Covariance[0, 0]));
        var hi = q.Components.Max(c => c.Mean[0] + 12.0 * Math.Sqrt(c.Covariance[0, 0]));
        var cuts = q.Components.Concat(p.Components).Select(c => c.Mean[0]).Where(m => m > lo && m < hi)
            .Append(lo).Append(hi).Distinct().Order().ToArray();
        double Integrand(double x)
        {
            var logQ = q.LogDensity(x);
            return Math.Exp(logQ) * (logQ - p.LogDensity(x));
        }
        var total = 0.0;
        for (var i = 0; i + 1 < cuts.Length; i++)
            total += GaussKronrodRule.Integrate(Integrand, cuts[i], cuts[i + 1], out _, out _, 1e-12, maximumDepth: 20, order: 21);
        return total;
    }

    /// <summary>The symmetric positive semi-definite square root, by eigendecomposition (negative rounding clamped).</summary>
    static Matrix<double> SymmetricSquareRoot(Matrix<double> m)
    {
        var evd = m.Evd(Symmetricity.Symmetric);
        var roots = evd.EigenValues.Map(z => Math.Sqrt(Math.Max(0.0, z.Real)));
        return evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(roots) * evd.EigenVectors.Transpose();
    }
}
