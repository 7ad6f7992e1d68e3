using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace Research.Diffusion;

/// <summary>
/// A Gaussian mixture sum_k pi_k N(m_k, S_k) in R^d (F2), the test bench of the diffusion layer: under any
/// noise process its time marginal is again a mixture, so the score, denoiser and density are exact.
/// Components may be Dirac atoms (S_k = 0) as data; their diffused marginals are then non-degenerate.
/// </summary>
public sealed class GaussianMixture
{
    /// <summary>
    /// A mixture of the given components; the weights are normalised to sum to 1. Throws ArgumentException for no
    /// components, a count mismatch, a negative weight or components of different dimensions.
    /// </summary>
    public GaussianMixture(IReadOnlyList<double> weights, IReadOnlyList<Gaussian> components)
    {
        if (weights.Count != components.Count || weights.Count == 0)
            throw new ArgumentException("need one weight per component and at least one component");
        if (weights.Any(w => !(w >= 0.0)))
            throw new ArgumentException("weights must be non-negative");
        if (components.Any(c => c.Dimension != components[0].Dimension))
            throw new ArgumentException("components differ in dimension");
        var total = weights.Sum();
        Weights = weights.Select(w => w / total).ToArray();
        Components = components.ToArray();
        logWeights = Weights.Select(w => Math.Log(w)).ToArray();
    }

    /// <summary>A mixture from weights, means and covariances, one of each per component.</summary>
    public GaussianMixture(IReadOnlyList<double> weights, IReadOnlyList<Vector<double>> means, IReadOnlyList<Matrix<double>> covariances)
        : this(weights, means.Zip(covariances, (m, c) => new Gaussian(m, c)).ToArray()) { }

    /// <summary>A 1-D mixture from weights, means and variances (F2 G1, G3).</summary>
    public static GaussianMixture OneDimensional(IReadOnlyList<double> weights, IReadOnlyList<double> means, IReadOnlyList<double> variances) =>
        new(weights, means.Zip(variances, (m, v) => Gaussian.Isotropic(Vector<double>.Build.Dense(1, m), v)).ToArray());

    readonly double[] logWeights;

    /// <summary>pi_k, normalised to sum to 1.</summary>
    public IReadOnlyList<double> Weights { get; }
    /// <summary>The components N(m_k, S_k).</summary>
    public IReadOnlyList<Gaussian> Components { get; }
    /// <summary>The dimension d shared by every component.</summary>
    public int Dimension => Components[0].Dimension;

    /// <summary>log pi_k + log N(x; m_k, C_k), the terms every other quantity is built from.</summary>
    double[] LogJoint(Vector<double> x) => Components.Select((c, k) => logWeights[k] + c.LogDensity(x)).ToArray();

    /// <summary>log p(x) by log-sum-exp, stable far from every component.</summary>
    public double LogDensity(Vector<double> x) => LogSumExp(LogJoint(x));

    /// <summary>Posterior component probabilities r_k(x) (F2), by log-sum-exp.</summary>
    public double[] Responsibilities(Vector<double> x)
    {
        var logJoint = LogJoint(x);
        var norm = LogSumExp(logJoint);
        return logJoint.Select(l => Math.Exp(l - norm)).ToArray();
    }

    /// <summary>grad log p(x) = sum_k r_k a_k with a_k = -C_k^{-1}(x - m_k) (F2).</summary>
    public Vector<double> Score(Vector<double> x)
    {
        var r = Responsibilities(x);
        var score = Vector<double>.Build.Dense(Dimension);
        for (var k = 0; k < r.Length; k++) score += r[k] * Components[k].Score(x);
        return score;
    }

    /// <summary>grad^2 log p = sum_k r_k (-C_k^{-1} + a_k a_k^T) - s s^T (F2).</summary>
    public Matrix<double> LogDensityHessian(Vector<double> x)
    {
        var r = Responsibilities(x);
        var identity = Matrix<double>.Build.DenseIdentity(Dimension);
        var hessian = Matrix<double>.Build.Dense(Dimension, Dimension);
        var score = Vector<double>.Build.Dense(Dimension);
        for (var k = 0; k < r.Length; k++)
        {
            var a = Components[k].Score(x);
            hessian += r[k] * (a.OuterProduct(a) - Components[k].Solve(identity));
            score += r[k] * a;
        }
        return hessian - score.OuterProduct(score);
    }

    /// <summary>Laplacian of log p, the trace of <see cref="LogDensityHessian"/>.</summary>
    public double LogDensityLaplacian(Vector<double> x) => LogDensityHessian(x).Trace();

    /// <summary>sum_k pi_k m_k.</summary>
    public Vector<double> Mean => Components.Select((c, k) => Weights[k] * c.Mean).Aggregate((a, b) => a + b);

    /// <summary>sum_k pi_k (S_k + m_k m_k^T) - m m^T.</summary>
    public Matrix<double> Covariance
    {
        get
        {
            var second = Components.Select((c, k) => Weights[k] * (c.Covariance + c.Mean.OuterProduct(c.Mean))).Aggregate((a, b) => a + b);
            var mean = Mean;
            return second - mean.OuterProduct(mean);
        }
    }

    /// <summary>One draw: a component k ~ Categorical(pi), then x ~ N(m_k, S_k).</summary>
    public Vector<double> Sample(Random random)
    {
        var k = Categorical.Sample(random, Weights.ToArray());
        return Components[k].Sample(random);
    }

    /// <summary><paramref name="count"/> independent draws.</summary>
    public Vector<double>[] Sample(Random random, int count) => Enumerable.Range(0, count).Select(_ => Sample(random)).ToArray();

    /// <summary>The law of x_t = alpha x_0 + sigma eps with x_0 from this mixture (F2).</summary>
    public DiffusedMixture Diffuse(NoiseProcess process, double t) => new(this, process.At(t));

    // 1-D conveniences: the same quantities for d = 1, in scalars.

    /// <summary>1-D convenience (d = 1): log p(x).</summary>
    public double LogDensity(double x) => LogDensity(Scalar(x));
    /// <summary>1-D convenience (d = 1): d/dx log p(x).</summary>
    public double Score(double x) => Score(Scalar(x))[0];

    /// <summary>F(x) = sum_k pi_k Phi((x - m_k)/sd_k) (F2, 1-D only).</summary>
    public double Cdf(double x)
    {
        RequireOneDimensional();
        return Components.Select((c, k) => Weights[k] * Normal.CDF(c.Mean[0], Math.Sqrt(c.Covariance[0, 0]), x)).Sum();
    }

    /// <summary>F^{-1}(u) by bisection on the monotone cdf, bracketed by the component quantiles (1-D only).</summary>
    public double Quantile(double u)
    {
        RequireOneDimensional();
        var lo = Components.Min(c => Normal.InvCDF(c.Mean[0], Math.Sqrt(c.Covariance[0, 0]), u));
        var hi = Components.Max(c => Normal.InvCDF(c.Mean[0], Math.Sqrt(c.Covariance[0, 0]), u));
        return Roots.Monotone(Cdf, u, lo, hi);
    }

    internal static Vector<double> Scalar(double x) => Vector<double>.Build.Dense(1, x);

    void RequireOneDimensional()
    {
        if (Dimension != 1) throw new InvalidOperationException($"defined for 1-D mixtures; this one is {Dimension}-D");
    }

    static double LogSumExp(double[] values)
    {
        var max = values.Max();
        return double.IsNegativeInfinity(max) ? max : max + Math.Log(values.Sum(v => Math.Exp(v - max)));
    }
}
