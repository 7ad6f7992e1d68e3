using MathNet.Numerics.LinearAlgebra;

namespace Research.Diffusion;

/// <summary>
/// A Gaussian prior with a linear-Gaussian likelihood (LG-01): z ~ N(mu, Lambda^{-1}),
/// x | z ~ N(A z + b, L^{-1}). Evidence and posterior are Gaussian in closed form, which makes it the
/// exact reference for ELBO checks (VAE-01) and for PPCA / factor analysis (F5).
/// </summary>
public sealed class LinearGaussian
{
    /// <summary>
    /// The model z ~ prior, x | z ~ N(weight z + bias, noiseCovariance). Throws ArgumentException when weight is not
    /// (dim x) by (dim z).
    /// </summary>
    public LinearGaussian(Gaussian prior, Matrix<double> weight, Vector<double> bias, Matrix<double> noiseCovariance)
    {
        if (weight.ColumnCount != prior.Dimension || weight.RowCount != bias.Count)
            throw new ArgumentException($"weight is {weight.RowCount}x{weight.ColumnCount}; expected {bias.Count}x{prior.Dimension}");
        Prior = prior;
        Weight = weight;
        Bias = bias;
        Noise = new Gaussian(Vector<double>.Build.Dense(bias.Count), noiseCovariance);
    }

    /// <summary>The latent model of PPCA (F5): z ~ N(0, I_k), x | z ~ N(W z + b, s^2 I).</summary>
    public static LinearGaussian LatentModel(Matrix<double> weight, Vector<double> bias, double noiseVariance) =>
        new(Gaussian.Standard(weight.ColumnCount), weight, bias, noiseVariance * Matrix<double>.Build.DenseIdentity(weight.RowCount));

    /// <summary>The prior N(mu, Lambda^{-1}) of the latent z.</summary>
    public Gaussian Prior { get; }

    /// <summary>A.</summary>
    public Matrix<double> Weight { get; }

    /// <summary>b.</summary>
    public Vector<double> Bias { get; }

    /// <summary>The observation noise N(0, L^{-1}).</summary>
    public Gaussian Noise { get; }

    /// <summary>p(x | z) = N(A z + b, L^{-1}).</summary>
    public Gaussian Likelihood(Vector<double> z) => new(Weight * z + Bias, Noise.Covariance);

    /// <summary>p(x) = N(A mu + b, L^{-1} + A Lambda^{-1} A^T) (LG-01).</summary>
    public Gaussian Evidence =>
        new(Weight * Prior.Mean + Bias, Noise.Covariance + Weight * Prior.Covariance * Weight.Transpose());

    /// <summary>
    /// p(z | x) = N(Sigma [A^T L (x - b) + Lambda mu], Sigma), Sigma = (Lambda + A^T L A)^{-1} (LG-01),
    /// in the information form (the Schur-complement form is the independent side of the test).
    /// </summary>
    public Gaussian Posterior(Vector<double> x)
    {
        var precision = Prior.Solve(Matrix<double>.Build.DenseIdentity(Prior.Dimension))
                        + Weight.Transpose() * Noise.Solve(Weight);
        var covariance = precision.Inverse();
        covariance = 0.5 * (covariance + covariance.Transpose()); // symmetric to rounding, for the Cholesky of later uses
        var mean = covariance * (Weight.Transpose() * Noise.Solve(x - Bias) + Prior.Solve(Prior.Mean));
        return new Gaussian(mean, covariance);
    }

    /// <summary>
    /// ELBO(x, q) = E_q[log p(x | z)] + E_q[log p(z)] + H[q] for a Gaussian q = N(m, V), in closed form:
    /// E_q[log p(x | z)] = log N(x; A m + b, L^{-1}) - tr(L A V A^T)/2. Equals log p(x) iff q is the posterior (VAE-01).
    /// </summary>
    public double Elbo(Vector<double> x, Gaussian q)
    {
        var expectedLogLikelihood = Likelihood(q.Mean).LogDensity(x) - 0.5 * Noise.Solve(Weight * q.Covariance * Weight.Transpose()).Trace();
        return expectedLogLikelihood + Prior.ExpectedLogDensity(q) + q.Entropy;
    }
}
