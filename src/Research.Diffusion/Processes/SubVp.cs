namespace Research.Diffusion;

/// <summary>
/// sub-VP (Song et al. 2021): the alpha of a VP process with sigma = 1 - alpha^2, so
/// sigma^2 = (1 - alpha^2)^2 &lt;= 1 - alpha^2 and g^2 = beta (1 - alpha^4) (PROC-06).
/// </summary>
public sealed class SubVp(VariancePreserving? variancePreserving = null) : NoiseProcess
{
    /// <summary>The VP process whose alpha this sub-VP shares (VP-linear by default).</summary>
    public VariancePreserving VariancePreserving { get; } = variancePreserving ?? new VpLinear();
    /// <inheritdoc/>
    public override string Name => "sub-VP";

    /// <summary>alpha(t) of the underlying VP process.</summary>
    public override double Alpha(double t) => VariancePreserving.Alpha(t);
    /// <summary>alpha'(t) of the underlying VP process.</summary>
    public override double AlphaPrime(double t) => VariancePreserving.AlphaPrime(t);
    /// <summary>sigma = 1 - alpha^2, computed as -expm1(-B) for precision at small t.</summary>
    public override double Sigma(double t) => -Elementary.ExpM1(-VariancePreserving.IntegratedBeta(t));
    /// <summary>sigma' = (1 - alpha^2)' is the VP (sigma^2)' = beta alpha^2, finite at t = 0.</summary>
    public override double SigmaPrime(double t) => VariancePreserving.SigmaSquaredPrime(t);

    /// <summary>alpha(varsigma) = 2/(varsigma + sqrt(varsigma^2 + 4)) (PROC-06), so B = -2 log alpha = 2 asinh(varsigma/2).</summary>
    public override double TimeAtLogSnr(double logSnr) =>
        VariancePreserving.TimeAtIntegratedBeta(2.0 * Math.Asinh(0.5 * Math.Exp(-0.5 * logSnr)));
}
