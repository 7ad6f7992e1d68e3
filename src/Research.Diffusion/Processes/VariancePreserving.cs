namespace Research.Diffusion;

/// <summary>
/// Variance-preserving processes, dx = -beta/2 x dt + sqrt(beta) dw: alpha = exp(-B/2) with
/// B(t) = int_0^t beta, and sigma^2 = 1 - alpha^2 (PROC-04). A family gives beta, B and the inverse of B.
/// sigma^2 is computed as -expm1(-B) so that it keeps full relative precision as t -> 0.
/// </summary>
public abstract class VariancePreserving : NoiseProcess
{
    /// <summary>beta(t) = -2 alpha'/alpha.</summary>
    public abstract double Beta(double t);

    /// <summary>B(t) = int_0^t beta(s) ds = -2 log alpha(t).</summary>
    public abstract double IntegratedBeta(double t);

    /// <summary>The time t with B(t) = integratedBeta (closed form in every family here).</summary>
    public abstract double TimeAtIntegratedBeta(double integratedBeta);

    /// <summary>alpha = exp(-B/2).</summary>
    public sealed override double Alpha(double t) => Math.Exp(-0.5 * IntegratedBeta(t));
    /// <summary>alpha' = -beta alpha / 2.</summary>
    public sealed override double AlphaPrime(double t) => -0.5 * Beta(t) * Alpha(t);
    /// <summary>sigma = sqrt(1 - alpha^2), computed as sqrt(-expm1(-B)).</summary>
    public sealed override double Sigma(double t) => Math.Sqrt(-Elementary.ExpM1(-IntegratedBeta(t)));

    /// <summary>sigma' = beta alpha^2 / (2 sigma): +inf at t = 0, where sigma ~ sqrt(beta(0) t).</summary>
    public sealed override double SigmaPrime(double t) => 0.5 * SigmaSquaredPrime(t) / Sigma(t);

    /// <summary>(sigma^2)' = (1 - alpha^2)' = beta alpha^2, finite at t = 0.</summary>
    public sealed override double SigmaSquaredPrime(double t)
    {
        var alpha = Alpha(t);
        return Beta(t) * alpha * alpha;
    }

    /// <summary>alpha^2 = sigmoid(lambda) on VP, so B = -log sigmoid(lambda) = softplus(-lambda).</summary>
    public sealed override double TimeAtLogSnr(double logSnr) => TimeAtIntegratedBeta(Elementary.Softplus(-logSnr));
}

/// <summary>VP with linear beta(t) = betaMin + t (betaMax - betaMin) (Song et al. 2021; F6 VP-lin).</summary>
public sealed class VpLinear(double betaMin = 0.1, double betaMax = 20.0) : VariancePreserving
{
    /// <summary>beta(0) = betaMin.</summary>
    public double BetaMin { get; } = betaMin;
    /// <summary>beta(1) = betaMax.</summary>
    public double BetaMax { get; } = betaMax;
    /// <inheritdoc/>
    public override string Name => "VP-linear";

    /// <summary>
    /// The continuous limit beta(t) = T beta_{Tt} of the DDPM linear table
    /// beta_k = betaStart + (betaEnd - betaStart)(k - 1)/(T - 1), k = 1..T (PROC-04).
    /// </summary>
    public static VpLinear FromDdpmLinear(double betaStart = 1e-4, double betaEnd = 0.02, int steps = 1000)
    {
        var slope = (betaEnd - betaStart) / (steps - 1);
        return new VpLinear(steps * (betaStart - slope), steps * betaEnd);
    }

    /// <summary>beta(t) = betaMin + t (betaMax - betaMin).</summary>
    public override double Beta(double t) => BetaMin + t * (BetaMax - BetaMin);
    /// <summary>B(t) = betaMin t + (betaMax - betaMin) t^2 / 2.</summary>
    public override double IntegratedBeta(double t) => t * (BetaMin + 0.5 * t * (BetaMax - BetaMin));

    /// <summary>Root of (betaMax - betaMin)/2 t^2 + betaMin t - B, in the form without cancellation.</summary>
    public override double TimeAtIntegratedBeta(double integratedBeta) =>
        2.0 * integratedBeta / (BetaMin + Math.Sqrt(BetaMin * BetaMin + 2.0 * (BetaMax - BetaMin) * integratedBeta));
}

/// <summary>
/// The cosine schedule of Nichol &amp; Dhariwal (2021): alpha^2 = cos^2(theta(t)) / cos^2(theta(0)),
/// theta(t) = pi/2 (t + s)/(1 + s) (F6 VP-cos). At t = 1, alpha = 0 in exact arithmetic; in float64
/// cos(pi/2) = 6e-17, so alpha(1) ~ 6e-17 and beta(1) ~ 1e16 (both mathematically infinite/zero).
/// </summary>
public sealed class VpCosine(double offset = 0.008) : VariancePreserving
{
    /// <summary>The offset s of the cosine schedule (0.008), which keeps beta(0) finite and positive.</summary>
    public double Offset { get; } = offset;
    /// <inheritdoc/>
    public override string Name => "VP-cosine";

    double Theta(double t) => 0.5 * Math.PI * (t + Offset) / (1.0 + Offset);

    /// <summary>beta(t) = pi/(1 + s) tan(theta(t)).</summary>
    public override double Beta(double t) => Math.PI / (1.0 + Offset) * Math.Tan(Theta(t));
    /// <summary>B(t) = 2 (log cos theta(0) - log cos theta(t)).</summary>
    public override double IntegratedBeta(double t) => 2.0 * (Math.Log(Math.Cos(Theta(0.0))) - Math.Log(Math.Cos(Theta(t))));

    /// <summary>theta(t) = acos(cos(theta(0)) exp(-B/2)); clamped at 0, where acos rounding could give -1e-18.</summary>
    public override double TimeAtIntegratedBeta(double integratedBeta) =>
        Math.Max(0.0, Math.Acos(Math.Cos(Theta(0.0)) * Math.Exp(-0.5 * integratedBeta)) * 2.0 * (1.0 + Offset) / Math.PI - Offset);
}

/// <summary>
/// The Stable-Diffusion "scaled_linear" schedule in continuous closed form (PROC-05):
/// beta(t) = (a t + b)^2 = T beta_{Tt}, alpha(t) = exp(-((a t + b)^3 - b^3)/(6a)).
/// </summary>
public sealed class VpScaledLinear : VariancePreserving
{
    /// <param name="betaStart">beta_1 of the discrete table (0.00085 in Stable Diffusion).</param>
    /// <param name="betaEnd">beta_T of the discrete table (0.012).</param>
    /// <param name="steps">T (1000).</param>
    public VpScaledLinear(double betaStart = 0.00085, double betaEnd = 0.012, int steps = 1000)
    {
        // sqrt(T beta_k) is linear in k, so sqrt(beta(t)) = a t + b interpolates k = T t exactly (PROC-05).
        var first = Math.Sqrt(steps * betaStart);
        var last = Math.Sqrt(steps * betaEnd);
        A = (last - first) * steps / (steps - 1);
        B = first - (last - first) / (steps - 1);
    }

    /// <summary>Slope a of sqrt(beta(t)) = a t + b.</summary>
    public double A { get; }
    /// <summary>Intercept b of sqrt(beta(t)) = a t + b (beta(0) = b^2 is an extrapolation).</summary>
    public double B { get; }
    /// <inheritdoc/>
    public override string Name => "VP-scaled-linear (SD)";

    /// <summary>beta(t) = (a t + b)^2.</summary>
    public override double Beta(double t)
    {
        var r = A * t + B;
        return r * r;
    }

    /// <summary>((a t + b)^3 - b^3)/(3a), expanded so that small t does not cancel.</summary>
    public override double IntegratedBeta(double t) => t * (B * B + A * B * t + A * A * t * t / 3.0);

    /// <summary>t = (u - b)/a with u^3 = b^3 + 3aB, written as 3B/(u^2 + u b + b^2) to avoid cancellation.</summary>
    public override double TimeAtIntegratedBeta(double integratedBeta)
    {
        var u = Math.Cbrt(B * B * B + 3.0 * A * integratedBeta);
        return 3.0 * integratedBeta / (u * u + u * B + B * B);
    }
}
