using MathNet.Numerics.LinearAlgebra;

namespace Research.Diffusion;

/// <summary>
/// A Gaussian mixture pushed through x_t = alpha x_0 + sigma eps at one time (F2): the marginal
/// sum_k pi_k N(alpha m_k, alpha^2 S_k + sigma^2 I) and the exact posterior over x_0.
/// </summary>
public sealed class DiffusedMixture
{
    internal DiffusedMixture(GaussianMixture data, ProcessPoint point)
    {
        Data = data;
        Point = point;
        var identity = Matrix<double>.Build.DenseIdentity(data.Dimension);
        Marginal = new GaussianMixture(data.Weights, data.Components
            .Select(c => new Gaussian(point.Alpha * c.Mean, point.Alpha * point.Alpha * c.Covariance + point.Sigma * point.Sigma * identity))
            .ToArray());
    }

    /// <summary>The data mixture p_0 = sum_k pi_k N(m_k, S_k) before noising.</summary>
    public GaussianMixture Data { get; }

    /// <summary>alpha, sigma and their derivatives at this time.</summary>
    public ProcessPoint Point { get; }

    /// <summary>p_t as a mixture: component k is N(alpha m_k, alpha^2 S_k + sigma^2 I).</summary>
    public GaussianMixture Marginal { get; }

    /// <summary>log p_t(x) of the marginal mixture.</summary>
    public double LogDensity(Vector<double> x) => Marginal.LogDensity(x);
    /// <summary>The exact score grad_x log p_t(x).</summary>
    public Vector<double> Score(Vector<double> x) => Marginal.Score(x);
    /// <summary>Posterior component probabilities r_k(x) = p(k | x_t = x), summing to 1.</summary>
    public double[] Responsibilities(Vector<double> x) => Marginal.Responsibilities(x);

    /// <summary>
    /// p(x_0 | x_t = x) = sum_k r_k N(m~_k, S~_k), m~_k = m_k + alpha S_k C_k^{-1}(x - alpha m_k),
    /// S~_k = S_k - alpha^2 S_k C_k^{-1} S_k (F2).
    /// </summary>
    public GaussianMixture Posterior(Vector<double> x)
    {
        var alpha = Point.Alpha;
        var components = Data.Components.Select((c, k) =>
        {
            var marginal = Marginal.Components[k];
            var gain = marginal.Solve(c.Covariance).Transpose(); // S_k C_k^{-1}; both symmetric
            return new Gaussian(c.Mean + alpha * (gain * (x - marginal.Mean)), c.Covariance - alpha * alpha * gain * c.Covariance);
        }).ToArray();
        return new GaussianMixture(Responsibilities(x), components);
    }

    /// <summary>The denoiser E[x_0 | x_t = x], from the posterior (independent of the score).</summary>
    public Vector<double> PosteriorMean(Vector<double> x) => Posterior(x).Mean;

    /// <summary>Cov[x_0 | x_t = x] (second-order Tweedie checks, SCORE-01).</summary>
    public Matrix<double> PosteriorCovariance(Vector<double> x) => Posterior(x).Covariance;

    /// <summary>Any prediction (eps, x_0, v, score, velocity), from the posterior mean (PROC-09).</summary>
    public Vector<double> Predict(Prediction prediction, Vector<double> x) =>
        Parameterization.Convert(Point, Prediction.X0, prediction, x, PosteriorMean(x));

    /// <summary>1-D conveniences (d = 1, scalars): log p_t(x).</summary>
    public double LogDensity(double x) => Marginal.LogDensity(x);
    /// <summary>d/dx log p_t(x) for d = 1.</summary>
    public double Score(double x) => Marginal.Score(x);
    /// <summary>E[x_0 | x_t = x] for d = 1.</summary>
    public double PosteriorMean(double x) => PosteriorMean(GaussianMixture.Scalar(x))[0];
    /// <summary>
    /// The exact network target of the given prediction type (eps, x_0, v, score, velocity) at x, for d = 1.
    /// </summary>
    public double Predict(Prediction prediction, double x) => Predict(prediction, GaussianMixture.Scalar(x))[0];
}
