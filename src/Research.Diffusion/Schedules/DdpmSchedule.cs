namespace Research.Diffusion;

/// <summary>
/// A discrete DDPM table beta_1..beta_T with alpha-bar_k = prod_{s &lt;= k} (1 - beta_s), alpha-bar_0 = 1
/// (0.2 "Discrete DDPM"). Step k is 1-based as in Ho et al.; diffusers' 0-based timestep tau is step
/// k = tau + 1 (its alphas_cumprod[tau] is AlphaBar(tau + 1)). Step k sits at continuous time k/T (PROC-04).
/// </summary>
public sealed class DdpmSchedule
{
    readonly double[] betas;
    readonly double[] alphaBars;

    /// <param name="betas">beta_1..beta_T, each in (0, 1].</param>
    /// <param name="continuousLimit">The process with beta(t) = T beta_{Tt}, where the table has one.</param>
    public DdpmSchedule(IReadOnlyList<double> betas, NoiseProcess? continuousLimit = null)
    {
        if (betas.Count == 0 || betas.Any(b => !(b > 0.0 && b <= 1.0)))
            throw new ArgumentException("betas must be a non-empty list in (0, 1]");
        this.betas = betas.ToArray();
        alphaBars = new double[this.betas.Length + 1];
        alphaBars[0] = 1.0;
        for (var k = 1; k <= this.betas.Length; k++) alphaBars[k] = alphaBars[k - 1] * (1.0 - this.betas[k - 1]);
        ContinuousLimit = continuousLimit;
    }

    /// <summary>T, the number of steps.</summary>
    public int Steps => betas.Length;

    /// <summary>The process with beta(t) = T beta_{Tt} (PROC-04, PROC-05), or null for a table without one.</summary>
    public NoiseProcess? ContinuousLimit { get; }

    /// <summary>beta_k, k = 1..T.</summary>
    public double Beta(int k) => betas[k - 1];

    /// <summary>alpha-bar_k, k = 0..T; the discrete counterpart of alpha(k/T)^2.</summary>
    public double AlphaBar(int k) => alphaBars[k];

    /// <summary>SNR_k = alpha-bar_k / (1 - alpha-bar_k) (0.2).</summary>
    public double Snr(int k) => alphaBars[k] / (1.0 - alphaBars[k]);

    /// <summary>beta_1..beta_T as an array (a copy).</summary>
    public double[] Betas() => (double[])betas.Clone();

    /// <summary>Ho et al.'s table, beta_k = betaStart + (betaEnd - betaStart)(k - 1)/(T - 1) (F7).</summary>
    public static DdpmSchedule Linear(int steps = 1000, double betaStart = 1e-4, double betaEnd = 0.02) =>
        new(Enumerable.Range(1, steps).Select(k => betaStart + (betaEnd - betaStart) * (k - 1) / (steps - 1)).ToArray(),
            VpLinear.FromDdpmLinear(betaStart, betaEnd, steps));

    /// <summary>diffusers' "scaled_linear": a linspace of sqrt(beta), squared (PROC-05).</summary>
    public static DdpmSchedule ScaledLinear(int steps = 1000, double betaStart = 0.00085, double betaEnd = 0.012)
    {
        var (first, last) = (Math.Sqrt(betaStart), Math.Sqrt(betaEnd));
        return new(Enumerable.Range(1, steps).Select(k => Square(first + (last - first) * (k - 1) / (steps - 1))).ToArray(),
            new VpScaledLinear(betaStart, betaEnd, steps));
    }

    /// <summary>
    /// Nichol &amp; Dhariwal's table, beta_k = min(1 - alpha-bar(k/T)/alpha-bar((k-1)/T), maxBeta) with the
    /// continuous cosine alpha-bar (F7); without the clip, alpha-bar_k = alpha(k/T)^2 exactly.
    /// </summary>
    public static DdpmSchedule Cosine(int steps = 1000, double offset = 0.008, double maxBeta = 0.999)
    {
        var cosine = new VpCosine(offset);
        return new(Enumerable.Range(1, steps)
                .Select(k => Math.Min(-Elementary.ExpM1(cosine.IntegratedBeta((k - 1.0) / steps) - cosine.IntegratedBeta((double)k / steps)), maxBeta))
                .ToArray(),
            cosine);
    }

    /// <summary>The DDPM discretisation of a VP process: beta_k = beta(k/T)/T (PROC-04).</summary>
    public static DdpmSchedule Discretize(VariancePreserving process, int steps) =>
        new(Enumerable.Range(1, steps).Select(k => process.Beta((double)k / steps) / steps).ToArray(), process);

    /// <summary>
    /// Lin et al. (2024), Algorithm 1: shift and scale sqrt(alpha-bar) so that alpha-bar_T = 0 (zero terminal
    /// SNR) while alpha-bar_1 is unchanged, then recover the betas. The result has beta_T = 1 and no
    /// continuous limit of the families here.
    /// </summary>
    public DdpmSchedule RescaleZeroTerminalSnr()
    {
        var first = Math.Sqrt(alphaBars[1]);
        var last = Math.Sqrt(alphaBars[Steps]);
        var rescaled = Enumerable.Range(0, Steps + 1).Select(k => Square((Math.Sqrt(alphaBars[k]) - last) * first / (first - last))).ToArray();
        rescaled[0] = 1.0; // alpha-bar_0 = 1 by definition; the shift applies to steps 1..T only
        return new(Enumerable.Range(1, Steps).Select(k => 1.0 - rescaled[k] / rescaled[k - 1]).ToArray());
    }

    static double Square(double x) => x * x;
}
