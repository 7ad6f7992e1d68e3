namespace Research.Diffusion;

/// <summary>
/// VE with geometric noise (Song et al.), shifted so that sigma(0) = 0 (F6 VE-geo):
/// alpha = 1, sigma^2 = sigmaMin^2 ((sigmaMax/sigmaMin)^(2t) - 1).
/// </summary>
public sealed class VeGeometric(double sigmaMin = 0.01, double sigmaMax = 50.0) : NoiseProcess
{
    /// <summary>The noise level sigma_min setting the scale near t = 0.</summary>
    public double SigmaMin { get; } = sigmaMin;
    /// <summary>The noise level sigma_max (sigma(1) = sqrt(sigma_max^2 - sigma_min^2)).</summary>
    public double SigmaMax { get; } = sigmaMax;
    /// <inheritdoc/>
    public override string Name => "VE-geometric";

    double LogRatio => Math.Log(SigmaMax / SigmaMin);

    /// <summary>1: VE does not scale the data.</summary>
    public override double Alpha(double t) => 1.0;
    /// <summary>0.</summary>
    public override double AlphaPrime(double t) => 0.0;
    /// <summary>sigma(t) = sigma_min sqrt((sigma_max/sigma_min)^(2t) - 1).</summary>
    public override double Sigma(double t) => SigmaMin * Math.Sqrt(Elementary.ExpM1(2.0 * t * LogRatio));

    /// <summary>+inf at t = 0, where sigma ~ sqrt(t).</summary>
    public override double SigmaPrime(double t) => 0.5 * SigmaSquaredPrime(t) / Sigma(t);

    /// <summary>(sigma^2)' = 2 sigma_min^2 log(r) r^(2t), r = sigma_max/sigma_min; finite at t = 0.</summary>
    public override double SigmaSquaredPrime(double t) => 2.0 * SigmaMin * SigmaMin * LogRatio * Math.Exp(2.0 * t * LogRatio);

    /// <summary>sigma^2 = exp(-lambda) solved for t.</summary>
    public override double TimeAtLogSnr(double logSnr) =>
        Elementary.Log1P(Math.Exp(-logSnr) / (SigmaMin * SigmaMin)) / (2.0 * LogRatio);
}

/// <summary>
/// score_sde's VE marginal (Song et al. 2021, VESDE.marginal_prob): alpha = 1, sigma(t) = sigmaMin (sigmaMax/sigmaMin)^t.
/// It has the SDE of <see cref="VeGeometric"/> (the same g^2 = 2 sigmaMin^2 log(r) r^(2t), r = sigmaMax/sigmaMin) but
/// sigma(0) = sigmaMin, not 0: its sigma^2 exceeds VeGeometric's by exactly sigmaMin^2, so its t = 0 is the data
/// blurred by N(0, sigmaMin^2), which is why score_sde ends sampling at sigmaMin with a denoising step. This library's
/// convention (data at t = 0) is VeGeometric; this class reproduces score_sde's numbers. LogSnr(0) is finite here, and
/// levels below sigmaMin have no time.
/// </summary>
public sealed class VeScoreSde(double sigmaMin = 0.01, double sigmaMax = 50.0) : NoiseProcess
{
    /// <summary>sigma(0) = sigma_min.</summary>
    public double SigmaMin { get; } = sigmaMin;
    /// <summary>sigma(1) = sigma_max.</summary>
    public double SigmaMax { get; } = sigmaMax;
    /// <inheritdoc/>
    public override string Name => "VE (score_sde marginal)";

    double LogRatio => Math.Log(SigmaMax / SigmaMin);

    /// <summary>1: VE does not scale the data.</summary>
    public override double Alpha(double t) => 1.0;
    /// <summary>0.</summary>
    public override double AlphaPrime(double t) => 0.0;
    /// <summary>sigma(t) = sigma_min (sigma_max/sigma_min)^t.</summary>
    public override double Sigma(double t) => SigmaMin * Math.Exp(t * LogRatio);
    /// <summary>sigma'(t) = sigma(t) log(sigma_max/sigma_min).</summary>
    public override double SigmaPrime(double t) => Sigma(t) * LogRatio;

    /// <summary>sigma = exp(-lambda/2) solved for t; throws below sigmaMin, which the process never reaches.</summary>
    public override double TimeAtLogSnr(double logSnr)
    {
        var t = (-0.5 * logSnr - Math.Log(SigmaMin)) / LogRatio;
        if (t < -1e-12) throw new ArgumentOutOfRangeException(nameof(logSnr), logSnr, $"noise level below sigmaMin = {SigmaMin}: no time of {Name} has it");
        return Math.Max(0.0, t);
    }
}

/// <summary>
/// The EDM process of Karras et al. (2022): alpha = 1, sigma = t, so g^2 = 2t (F6 EDM); t runs up to
/// sigmaMax (80 in EDM), and t is the noise level itself.
/// </summary>
public sealed class Edm(double sigmaMax = 80.0) : NoiseProcess
{
    /// <inheritdoc/>
    public override string Name => "EDM";
    /// <summary>sigma_max: EDM's time is its noise level.</summary>
    public override double TMax => sigmaMax;

    /// <summary>1: EDM does not scale the data.</summary>
    public override double Alpha(double t) => 1.0;
    /// <summary>0.</summary>
    public override double AlphaPrime(double t) => 0.0;
    /// <summary>sigma(t) = t.</summary>
    public override double Sigma(double t) => t;
    /// <summary>1.</summary>
    public override double SigmaPrime(double t) => 1.0;
    /// <summary>t = sigma = exp(-lambda/2).</summary>
    public override double TimeAtLogSnr(double logSnr) => Math.Exp(-0.5 * logSnr);
}

/// <summary>
/// Rectified flow / linear interpolation (Liu et al. 2022; Lipman et al. 2022 in the opposite time
/// direction): alpha = 1 - t, sigma = t. f = -1/(1 - t) and g^2 = 2t/(1 - t) diverge at t = 1 (PROC-06).
/// </summary>
public sealed class RectifiedFlow : NoiseProcess
{
    /// <inheritdoc/>
    public override string Name => "RF";

    /// <summary>alpha(t) = 1 - t.</summary>
    public override double Alpha(double t) => 1.0 - t;
    /// <summary>-1.</summary>
    public override double AlphaPrime(double t) => -1.0;
    /// <summary>sigma(t) = t.</summary>
    public override double Sigma(double t) => t;
    /// <summary>1.</summary>
    public override double SigmaPrime(double t) => 1.0;

    /// <summary>varsigma = t/(1 - t), so t = varsigma/(1 + varsigma) = sigmoid(-lambda/2).</summary>
    public override double TimeAtLogSnr(double logSnr) => 1.0 / (1.0 + Math.Exp(0.5 * logSnr));
}
