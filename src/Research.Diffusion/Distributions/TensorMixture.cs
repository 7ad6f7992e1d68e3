using MathNet.Numerics.LinearAlgebra;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>
/// A <see cref="GaussianMixture"/> on tensors, batched: its exact time marginal p_t, score and denoiser
/// E[x_0 | x_t] under any noise process (F2), differentiable in x (autograd divergences, likelihoods).
/// Why eigenvectors rather than a Cholesky factor: C_k(t) = alpha^2 S_k + sigma^2 I changes with t, but in the
/// eigenbasis S_k = U_k diag(L_k) U_k^T it is diagonal, alpha^2 L_k + sigma^2, so one decomposition made here
/// gives C_k^{-1}, log det C_k and S_k C_k^{-1} at every t in closed form, Dirac atoms (L_k = 0) included.
/// Components may carry class labels (the conditional models p_t(x | y) of GUIDE-01..03).
/// </summary>
public sealed class TensorMixture : IDisposable
{
    static readonly double Log2Pi = Math.Log(2.0 * Math.PI);
    readonly Tensor logWeights, means, eigenvectors, eigenvalues, classes, classLogPrior;

    /// <summary>Moves <paramref name="mixture"/> to tensors, decomposing each covariance once.</summary>
    /// <param name="mixture">The mixture p_0.</param>
    /// <param name="classes">The class of each component (0-based), or null for one class.</param>
    /// <param name="dtype">The dtype of the tensors (float64 by default, for reference computations).</param>
    /// <param name="device">Where the tensors live (CPU by default).</param>
    public TensorMixture(GaussianMixture mixture, IReadOnlyList<int>? classes = null, ScalarType dtype = ScalarType.Float64, Device? device = null)
    {
        Mixture = mixture;
        var (k, d) = (mixture.Components.Count, mixture.Dimension);
        var labels = classes?.ToArray() ?? new int[k];
        if (labels.Length != k) throw new ArgumentException($"{labels.Length} class labels for {k} components");
        Classes = labels;
        var evds = mixture.Components.Select(c => c.Covariance.Evd(Symmetricity.Symmetric)).ToArray();
        Tensor Make(double[] values, long[] shape) => tensor(values, shape, dtype, device).DetachFromDisposeScope();
        logWeights = Make(mixture.Weights.Select(w => Math.Log(w)).ToArray(), [k]);
        means = Make(mixture.Components.SelectMany(c => c.Mean.ToArray()).ToArray(), [k, d]);
        eigenvectors = Make(evds.SelectMany(e => e.EigenVectors.ToRowMajorArray()).ToArray(), [k, d, d]);
        // rounding can leave eigenvalues of a PSD matrix a hair below 0
        eigenvalues = Make(evds.SelectMany(e => e.EigenValues.Select(z => Math.Max(0.0, z.Real))).ToArray(), [k, d]);
        this.classes = tensor(labels.Select(c => (long)c).ToArray(), [k], device).DetachFromDisposeScope();
        var classCount = labels.Max() + 1;
        classLogPrior = Make(Enumerable.Range(0, classCount)
            .Select(c => Math.Log(Enumerable.Range(0, k).Where(j => labels[j] == c).Sum(j => mixture.Weights[j]))).ToArray(), [classCount]);
    }

    /// <summary>The mixture these tensors were built from (float64, MathNet).</summary>
    public GaussianMixture Mixture { get; }
    /// <summary>The class label of each component (all 0 when none were given).</summary>
    public IReadOnlyList<int> Classes { get; }
    /// <summary>The dimension d; batched inputs are [batch, d].</summary>
    public int Dimension => Mixture.Dimension;

    /// <summary>log p_t(x), or log p_t(x | y) = log sum_{k in y} pi_k N_k - log pi(y) with labels y [batch].</summary>
    public Tensor LogDensity(Tensor x, ProcessPoint p, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        var logJoint = LogJoint(x, p, labels).Value;
        var logDensity = logJoint.logsumexp(1);
        if (labels is not null) logDensity = logDensity - classLogPrior.index_select(0, labels);
        return logDensity.MoveToOuterScope();
    }

    /// <summary>grad log p_t(x) = sum_k r_k a_k, a_k = -C_k^{-1}(x - alpha m_k) (F2).</summary>
    public Tensor Score(Tensor x, ProcessPoint p, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        var terms = LogJoint(x, p, labels);
        var componentScores = InBasis(-(terms.Coordinates / terms.Variance)); // -U diag(1/var) U^T (x - alpha m)
        return Mix(terms.Value, componentScores).MoveToOuterScope();
    }

    /// <summary>E[x_0 | x_t = x] = sum_k r_k (m_k + alpha S_k C_k^{-1}(x - alpha m_k)) (F2).</summary>
    public Tensor PosteriorMean(Tensor x, ProcessPoint p, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        var terms = LogJoint(x, p, labels);
        var componentMeans = means + InBasis(terms.Coordinates * (eigenvalues * p.Alpha / terms.Variance));
        return Mix(terms.Value, componentMeans).MoveToOuterScope();
    }

    /// <summary>The exact denoiser of the diffused data under <paramref name="process"/>, predicting x_0.</summary>
    public Denoiser Denoiser(NoiseProcess process) => new(process, Prediction.X0, (x, t) => PosteriorMean(x, process.At(t)));

    /// <summary>The exact class-conditional denoiser; null labels give the unconditional mixture.</summary>
    public ConditionalDenoiser ConditionalDenoiser(NoiseProcess process) =>
        new(process, Prediction.X0, (x, t, labels) => PosteriorMean(x, process.At(t), labels));

    /// <summary>
    /// log pi_k + log N(x; alpha m_k, C_k) as [batch, K] (minus infinity off the labelled class), with the
    /// eigen-coordinates U_k^T (x - alpha m_k) [batch, K, d] and the variances alpha^2 L_k + sigma^2 [K, d].
    /// </summary>
    (Tensor Value, Tensor Coordinates, Tensor Variance) LogJoint(Tensor x, ProcessPoint p, Tensor? labels)
    {
        var variance = eigenvalues * (p.Alpha * p.Alpha) + p.Sigma * p.Sigma;
        var centred = x.unsqueeze(1) - means * p.Alpha;                            // [B, K, d]
        var coordinates = centred.unsqueeze(-2).matmul(eigenvectors).squeeze(-2); // row-vector times U_k
        var mahalanobis = (coordinates.square() / variance).sum(-1);
        var logDeterminant = variance.log().sum(-1);
        var value = logWeights - (mahalanobis + logDeterminant + Dimension * Log2Pi) * 0.5;
        if (labels is not null)
        {
            var inClass = classes.unsqueeze(0).eq(labels.unsqueeze(1));
            value = value.masked_fill(inClass.logical_not(), double.NegativeInfinity);
        }
        return (value, coordinates, variance);
    }

    /// <summary>U_k v for v in eigen-coordinates [batch, K, d].</summary>
    Tensor InBasis(Tensor coordinates) => eigenvectors.matmul(coordinates.unsqueeze(-1)).squeeze(-1);

    /// <summary>sum_k r_k v_k with responsibilities r = softmax of the log-joint (log-sum-exp, F2).</summary>
    static Tensor Mix(Tensor logJoint, Tensor perComponent) =>
        (nn.functional.softmax(logJoint, 1).unsqueeze(-1) * perComponent).sum(1);

    /// <summary>Releases the tensors (means, eigenvectors, eigenvalues, weights) held by this mixture.</summary>
    public void Dispose()
    {
        foreach (var t in new[] { logWeights, means, eigenvectors, eigenvalues, classes, classLogPrior }) t.Dispose();
    }
}
