namespace Research.Diffusion;

/// <summary>
/// flow_matching's PolynomialConvexScheduler in this library's time (data at t = 0): in flow-matching time s = 1 - t
/// (<see cref="FlowMatchingTime"/>) alpha_fm(s) = s^n, sigma_fm(s) = 1 - s^n, so alpha(t) = (1 - t)^n and
/// sigma = 1 - alpha. n = 1 is rectified flow; larger n spends more of the path near the noise.
/// </summary>
public sealed class PolynomialConvex : NoiseProcess
{
    /// <summary>alpha = (1 - t)^n; throws ArgumentOutOfRangeException unless n &gt; 0.</summary>
    public PolynomialConvex(double exponent)
    {
        if (!(exponent > 0.0)) throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "the exponent n must be positive");
        Exponent = exponent;
    }

    /// <summary>The exponent n of alpha = (1 - t)^n.</summary>
    public double Exponent { get; }
    /// <inheritdoc/>
    public override string Name => $"polynomial-convex (n = {Exponent:G3})";

    /// <summary>alpha(t) = (1 - t)^n.</summary>
    public override double Alpha(double t) => Math.Pow(1.0 - t, Exponent);
    /// <summary>sigma(t) = 1 - (1 - t)^n.</summary>
    public override double Sigma(double t) => 1.0 - Alpha(t);
    /// <summary>alpha'(t) = -n (1 - t)^(n - 1).</summary>
    public override double AlphaPrime(double t) => -Exponent * Math.Pow(1.0 - t, Exponent - 1.0);
    /// <summary>sigma'(t) = n (1 - t)^(n - 1).</summary>
    public override double SigmaPrime(double t) => -AlphaPrime(t);

    /// <summary>varsigma = (1 - alpha)/alpha gives alpha = 1/(1 + varsigma) = sigmoid(lambda/2), so t = 1 - alpha^(1/n).</summary>
    public override double TimeAtLogSnr(double logSnr) => 1.0 - Math.Pow(1.0 / (1.0 + Math.Exp(-0.5 * logSnr)), 1.0 / Exponent);
}

/// <summary>
/// flow_matching's LinearVPScheduler in this library's time: alpha_fm(s) = s, sigma_fm(s) = sqrt(1 - s^2), so
/// alpha(t) = 1 - t and sigma = sqrt(1 - (1 - t)^2): variance preserving, with B(t) = -2 log(1 - t) and
/// beta(t) = 2/(1 - t), which diverges at t = 1 where alpha = 0.
/// </summary>
public sealed class LinearVp : VariancePreserving
{
    /// <inheritdoc/>
    public override string Name => "linear-VP";
    /// <summary>beta(t) = 2/(1 - t), +inf at t = 1.</summary>
    public override double Beta(double t) => 2.0 / (1.0 - t);
    /// <summary>B(t) = -2 log(1 - t).</summary>
    public override double IntegratedBeta(double t) => -2.0 * Elementary.Log1P(-t);
    /// <summary>t = 1 - exp(-B/2).</summary>
    public override double TimeAtIntegratedBeta(double integratedBeta) => -Elementary.ExpM1(-0.5 * integratedBeta);
}
