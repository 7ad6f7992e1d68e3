using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace Research.Diffusion;

/// <summary>
/// A multivariate normal N(mean, covariance). The covariance may be singular (a Dirac atom, S = 0):
/// sampling and moments still work; the density, score and solves need it positive definite.
/// </summary>
public sealed class Gaussian
{
    static readonly double Log2Pi = Math.Log(2.0 * Math.PI);
    readonly Lazy<MathNet.Numerics.LinearAlgebra.Factorization.Cholesky<double>> cholesky;
    readonly Lazy<Matrix<double>> sampleFactor;

    /// <summary>
    /// N(mean, covariance) with a d-vector mean and a d x d covariance; throws ArgumentException when the shapes
    /// disagree.
    /// </summary>
    public Gaussian(Vector<double> mean, Matrix<double> covariance)
    {
        if (covariance.RowCount != mean.Count || covariance.ColumnCount != mean.Count)
            throw new ArgumentException($"covariance is {covariance.RowCount}x{covariance.ColumnCount}, mean has {mean.Count} entries");
        Mean = mean;
        Covariance = covariance;
        cholesky = new(() => covariance.Cholesky());
        sampleFactor = new(() => SquareRoot(covariance));
    }

    /// <summary>N(mean, variance I).</summary>
    public static Gaussian Isotropic(Vector<double> mean, double variance) =>
        new(mean, variance * Matrix<double>.Build.DenseIdentity(mean.Count));

    /// <summary>The standard normal N(0, I_d).</summary>
    public static Gaussian Standard(int dimension) => Isotropic(Vector<double>.Build.Dense(dimension), 1.0);

    /// <summary>The mean vector m (d entries).</summary>
    public Vector<double> Mean { get; }
    /// <summary>The covariance matrix C (d x d), possibly singular.</summary>
    public Matrix<double> Covariance { get; }
    /// <summary>The dimension d.</summary>
    public int Dimension => Mean.Count;

    /// <summary>log det Covariance.</summary>
    public double LogDeterminant => cholesky.Value.DeterminantLn;

    /// <summary>Covariance^{-1} v.</summary>
    public Vector<double> Solve(Vector<double> v) => cholesky.Value.Solve(v);

    /// <summary>Covariance^{-1} M.</summary>
    public Matrix<double> Solve(Matrix<double> m) => cholesky.Value.Solve(m);

    /// <summary>
    /// log N(x; m, C) = -(d log 2 pi + log det C + (x - m)^T C^{-1} (x - m))/2; needs C positive definite.
    /// </summary>
    public double LogDensity(Vector<double> x)
    {
        var r = x - Mean;
        return -0.5 * (Dimension * Log2Pi + LogDeterminant + r.DotProduct(Solve(r)));
    }

    /// <summary>grad log N(x; m, C) = -C^{-1}(x - m).</summary>
    public Vector<double> Score(Vector<double> x) => -Solve(x - Mean);

    /// <summary>Differential entropy (1/2) log det(2 pi e C).</summary>
    public double Entropy => 0.5 * (Dimension * (Log2Pi + 1.0) + LogDeterminant);

    /// <summary>E_q[log N(z; Mean, Covariance)] = log N(m_q; Mean, Covariance) - tr(C^{-1} V_q)/2, for q = N(m_q, V_q).</summary>
    public double ExpectedLogDensity(Gaussian q) => LogDensity(q.Mean) - 0.5 * Solve(q.Covariance).Trace();

    /// <summary>One draw m + L z, z ~ N(0, I), with L a square root of C (works for singular C).</summary>
    public Vector<double> Sample(Random random)
    {
        var eps = Vector<double>.Build.Dense(Dimension, _ => Normal.Sample(random, 0.0, 1.0));
        return Mean + sampleFactor.Value * eps;
    }

    /// <summary>
    /// A factor L with L L^T = C: Cholesky when C is positive definite, else the symmetric square root
    /// from the eigendecomposition with negative rounding noise clamped to 0 (Dirac atoms, rank-deficient C).
    /// </summary>
    static Matrix<double> SquareRoot(Matrix<double> c)
    {
        try { return c.Cholesky().Factor; }
        catch (ArgumentException)
        {
            var evd = c.Evd(Symmetricity.Symmetric);
            var roots = evd.EigenValues.Map(z => Math.Sqrt(Math.Max(0.0, z.Real)));
            return evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(roots) * evd.EigenVectors.Transpose();
        }
    }
}
