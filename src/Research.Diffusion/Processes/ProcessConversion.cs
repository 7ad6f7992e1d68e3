using MathNet.Numerics.LinearAlgebra;

namespace Research.Diffusion;

/// <summary>
/// Processes with the same varsigma path are the same ODE up to scaling (PROC-08). A state (x, t) of
/// one process corresponds to (x', t') of another with varsigma'(t') = varsigma(t) and
/// x' = (alpha'(t') / alpha(t)) x; scores scale by the inverse factor.
/// </summary>
public static class ProcessConversion
{
    /// <summary>
    /// The time of <paramref name="to"/> with the same varsigma as <paramref name="from"/> at t. varsigma = inf
    /// (alpha = 0, as RF at t = 1) matches only a process that reaches alpha = 0 itself; for any other there is no
    /// such time, and this throws rather than return NaN.
    /// </summary>
    public static double MatchingTime(NoiseProcess from, NoiseProcess to, double t)
    {
        var varsigma = from.Varsigma(t);
        var time = to.TimeAtVarsigma(varsigma);
        if (!double.IsFinite(time))
            throw new ArgumentException($"{to.Name} never reaches varsigma = {varsigma:G6} ({from.Name} at t = {t:G6}): no matching time exists");
        return time;
    }

    /// <summary>
    /// (t', k) such that x' = k x is the state of <paramref name="to"/> at t' matching x at t. Equal varsigma makes
    /// k = alpha'(t')/alpha(t) = sigma'(t')/sigma(t); the ratio of the larger pair is used, so both endpoints
    /// (sigma = 0 at t = 0, alpha = 0 at varsigma = inf) give the exact limit instead of 0/0.
    /// </summary>
    public static (double Time, double Scale) Map(NoiseProcess from, NoiseProcess to, double t)
    {
        var tTo = MatchingTime(from, to, t);
        var scale = from.Varsigma(t) <= 1.0 ? to.Alpha(tTo) / from.Alpha(t) : to.Sigma(tTo) / from.Sigma(t);
        return (tTo, scale);
    }

    /// <summary>Maps x of <paramref name="from"/> at t to the matching state of <paramref name="to"/>.</summary>
    public static (Vector<double> X, double Time) MapState(NoiseProcess from, NoiseProcess to, Vector<double> x, double t)
    {
        var (tTo, scale) = Map(from, to, t);
        return (scale * x, tTo);
    }

    /// <summary>
    /// If x' = k x then p'(x') = p(x' / k) / k^d, so grad log p'(x') = grad log p(x) / k (PROC-07: with
    /// k = 1/c the VP-form score is c times the original one).
    /// </summary>
    public static Vector<double> MapScore(Vector<double> score, double scale) => score / scale;

    /// <summary>The VP normal form x^ = x / sqrt(alpha^2 + sigma^2) of any process (PROC-07).</summary>
    public static NoiseProcess VpNormalForm(NoiseProcess process) => new VpNormalForm(process);

    /// <summary>The VE normal form x^ = x / alpha, sigma^ = varsigma (PROC-08).</summary>
    public static NoiseProcess VeNormalForm(NoiseProcess process) => new VeNormalForm(process);
}

/// <summary>
/// alpha^ = alpha/c, sigma^ = sigma/c with c = sqrt(alpha^2 + sigma^2), on the same time axis (PROC-07).
/// alpha^2 + sigma^2 = 1 makes it VP, and its derived g^2 is beta^ = d/dt log(1 + varsigma^2).
/// </summary>
public sealed class VpNormalForm(NoiseProcess process) : NoiseProcess
{
    /// <summary>The process being normalised.</summary>
    public NoiseProcess Original { get; } = process;
    /// <inheritdoc/>
    public override string Name => $"VP form of {Original.Name}";
    /// <summary>The time interval of <see cref="Original"/>.</summary>
    public override double TMax => Original.TMax;

    /// <summary>c = sqrt(alpha^2 + sigma^2), so x^ = x / c.</summary>
    public double Scale(double t) => Math.Sqrt(Square(Original.Alpha(t)) + Square(Original.Sigma(t)));

    /// <summary>alpha / c.</summary>
    public override double Alpha(double t) => Original.Alpha(t) / Scale(t);
    /// <summary>sigma / c.</summary>
    public override double Sigma(double t) => Original.Sigma(t) / Scale(t);

    /// <summary>(alpha/c)' = sigma (alpha' sigma - alpha sigma') / c^3 = -Cross / c^3.</summary>
    public override double AlphaPrime(double t) => -Cross(t) / Cube(Scale(t));

    /// <summary>(sigma/c)' = alpha (alpha sigma' - sigma alpha') / c^3.</summary>
    public override double SigmaPrime(double t) => Original.Alpha(t) * Cross(t) / (Original.Sigma(t) * Cube(Scale(t)));

    /// <summary>sigma^2 = 1 - alpha^2 after normalisation, so (sigma^2)' = -2 alpha alpha'.</summary>
    public override double SigmaSquaredPrime(double t) => -2.0 * Alpha(t) * AlphaPrime(t);

    /// <summary>The same as the original's: normalising by c leaves alpha/sigma, hence lambda, unchanged.</summary>
    public override double TimeAtLogSnr(double logSnr) => Original.TimeAtLogSnr(logSnr);

    /// <summary>sigma (alpha sigma' - sigma alpha') = alpha (sigma^2)'/2 - sigma^2 alpha', finite at sigma = 0.</summary>
    double Cross(double t)
    {
        var sigma = Original.Sigma(t);
        return 0.5 * Original.Alpha(t) * Original.SigmaSquaredPrime(t) - sigma * sigma * Original.AlphaPrime(t);
    }

    static double Square(double x) => x * x;
    static double Cube(double x) => x * x * x;
}

/// <summary>alpha^ = 1, sigma^ = varsigma = sigma/alpha, on the same time axis (PROC-08).</summary>
public sealed class VeNormalForm(NoiseProcess process) : NoiseProcess
{
    /// <summary>The process being normalised.</summary>
    public NoiseProcess Original { get; } = process;
    /// <inheritdoc/>
    public override string Name => $"VE form of {Original.Name}";
    /// <summary>The time interval of <see cref="Original"/>.</summary>
    public override double TMax => Original.TMax;

    /// <summary>1: the VE form leaves the signal unscaled.</summary>
    public override double Alpha(double t) => 1.0;
    /// <summary>0.</summary>
    public override double AlphaPrime(double t) => 0.0;
    /// <summary>varsigma = sigma / alpha of the original.</summary>
    public override double Sigma(double t) => Original.Varsigma(t);
    /// <summary>varsigma' = (varsigma^2)' / (2 varsigma).</summary>
    public override double SigmaPrime(double t) => 0.5 * SigmaSquaredPrime(t) / Sigma(t);

    /// <summary>(varsigma^2)' = g^2 / alpha^2 by PROC-02, finite at t = 0 where varsigma' is not.</summary>
    public override double SigmaSquaredPrime(double t)
    {
        var alpha = Original.Alpha(t);
        return Original.DiffusionSquared(t) / (alpha * alpha);
    }

    /// <summary>The same as the original's: lambda = -2 log varsigma is unchanged by dividing by alpha.</summary>
    public override double TimeAtLogSnr(double logSnr) => Original.TimeAtLogSnr(logSnr);
}
