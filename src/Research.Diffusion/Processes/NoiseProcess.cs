namespace Research.Diffusion;

/// <summary>
/// A noise process x_t = alpha(t) x_0 + sigma(t) eps, eps ~ N(0, I).
/// Time convention (used everywhere in this library): data at t = 0 (alpha = 1, sigma = 0), noise at
/// t = TMax (usually 1). Flow matching uses the opposite direction; see <see cref="FlowMatchingTime"/>.
/// A family supplies only the closed forms alpha, sigma, alpha', sigma'; everything else is derived
/// here, once (PROC-02, PROC-03). Endpoints: LogSnr(0) = +inf and Snr(0) = +inf are genuine infinities;
/// every quantity that is finite at an endpoint is returned finite.
/// </summary>
public abstract class NoiseProcess
{
    /// <summary>A short name from the literature, e.g. "VP-linear".</summary>
    public abstract string Name { get; }

    /// <summary>Right end of the time interval; the process is defined on [0, TMax].</summary>
    public virtual double TMax => 1.0;

    /// <summary>alpha(t), the scale of the data in x_t; 1 at t = 0.</summary>
    public abstract double Alpha(double t);
    /// <summary>sigma(t), the standard deviation of the noise in x_t; 0 at t = 0.</summary>
    public abstract double Sigma(double t);
    /// <summary>d alpha / dt.</summary>
    public abstract double AlphaPrime(double t);
    /// <summary>d sigma / dt (may be +inf at t = 0, see <see cref="SigmaSquaredPrime"/>).</summary>
    public abstract double SigmaPrime(double t);

    /// <summary>
    /// d(sigma^2)/dt. Families whose sigma behaves like sqrt(t) at t = 0 (VP, VE) override this with a
    /// closed form, because there sigma' = inf while (sigma^2)' is finite and 2 sigma sigma' is 0 * inf.
    /// </summary>
    public virtual double SigmaSquaredPrime(double t) => 2.0 * Sigma(t) * SigmaPrime(t);

    /// <summary>The four closed forms at one time, the input of every parameterization conversion.</summary>
    public ProcessPoint At(double t) => new(Alpha(t), Sigma(t), AlphaPrime(t), SigmaPrime(t));

    /// <summary>Drift coefficient f(t) = alpha'/alpha of dx = f x dt + g dw (PROC-02).</summary>
    public double Drift(double t) => AlphaPrime(t) / Alpha(t);

    /// <summary>
    /// g(t)^2 = alpha^2 d/dt(sigma^2/alpha^2) = (sigma^2)' - 2 (alpha'/alpha) sigma^2 (PROC-02).
    /// </summary>
    public double DiffusionSquared(double t)
    {
        var sigma = Sigma(t);
        return SigmaSquaredPrime(t) - 2.0 * Drift(t) * sigma * sigma;
    }

    /// <summary>g(t); rounding can make g^2 a hair negative where it is zero, hence the clamp.</summary>
    public double Diffusion(double t) => Math.Sqrt(Math.Max(0.0, DiffusionSquared(t)));

    /// <summary>SNR = alpha^2 / sigma^2 (+inf at t = 0).</summary>
    public double Snr(double t)
    {
        var r = Alpha(t) / Sigma(t);
        return r * r;
    }

    /// <summary>lambda = log SNR = 2 (log alpha - log sigma); +inf at t = 0, -inf where alpha = 0.</summary>
    public double LogSnr(double t) => 2.0 * (Math.Log(Alpha(t)) - Math.Log(Sigma(t)));

    /// <summary>lambda'(t) = -g^2 / sigma^2 (PROC-03): lambda is non-increasing.</summary>
    public double LogSnrPrime(double t)
    {
        var sigma = Sigma(t);
        return -DiffusionSquared(t) / (sigma * sigma);
    }

    /// <summary>varsigma = sigma / alpha, the noise level of the VE normal form (PROC-08).</summary>
    public double Varsigma(double t) => Sigma(t) / Alpha(t);

    /// <summary>
    /// The time t with LogSnr(t) = lambda. Families override this with a closed form; the default is a
    /// bracketed bisection on [0, TMax], which is robust because lambda is monotone (PROC-03).
    /// </summary>
    public virtual double TimeAtLogSnr(double logSnr) => Roots.Monotone(LogSnr, logSnr, 0.0, TMax);

    /// <summary>The time t with Varsigma(t) = varsigma; varsigma = 0 gives t = 0.</summary>
    public double TimeAtVarsigma(double varsigma) => TimeAtLogSnr(-2.0 * Math.Log(varsigma));

    /// <summary>The process's <see cref="Name"/>.</summary>
    public override string ToString() => Name;
}

/// <summary>(alpha, sigma, alpha', sigma') of a process at one time.</summary>
public readonly record struct ProcessPoint(double Alpha, double Sigma, double AlphaPrime, double SigmaPrime);

/// <summary>
/// The flow-matching convention (Lipman et al.) runs time the other way: data at s = 1, noise at s = 0.
/// With s = 1 - t, alpha_fm(s) = alpha(1 - s), and velocities change sign: u_fm = -dx/dt.
/// </summary>
public static class FlowMatchingTime
{
    /// <summary>s = 1 - t: flow-matching time of diffusion time t.</summary>
    public static double FromDiffusionTime(double t) => 1.0 - t;
    /// <summary>t = 1 - s: diffusion time of flow-matching time s.</summary>
    public static double ToDiffusionTime(double s) => 1.0 - s;
}
