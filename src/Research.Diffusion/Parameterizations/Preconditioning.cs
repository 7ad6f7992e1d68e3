using MathNet.Numerics.LinearAlgebra;

namespace Research.Diffusion;

/// <summary>
/// A network preconditioning of Karras et al. (2022), Table 1: the denoiser of the VE normal form
/// (x = x_0 + sigma eps, sigma = varsigma) is D(x; sigma) = c_skip x + c_out F(c_in x; c_noise).
/// VP, VE, iDDPM and EDM differ only in these four coefficients, so they are data (<see cref="All"/>)
/// and the method is written once (<see cref="Denoise"/>).
/// </summary>
public sealed record Preconditioning(
    string Name,
    Func<double, double> CSkip,
    Func<double, double> COut,
    Func<double, double> CIn,
    Func<double, double> CNoise)
{
    /// <summary>D(x; sigma) = c_skip x + c_out F(c_in x, c_noise) for a raw network F(input, c_noise).</summary>
    public Vector<double> Denoise(Vector<double> x, double sigma, Func<Vector<double>, double, Vector<double>> network) =>
        CSkip(sigma) * x + COut(sigma) * network(CIn(sigma) * x, CNoise(sigma));

    /// <summary>The regression target of F: (x_0 - c_skip x) / c_out, so that D = x_0 at the optimum.</summary>
    public Vector<double> TrainingTarget(Vector<double> x0, Vector<double> x, double sigma) => (x0 - CSkip(sigma) * x) / COut(sigma);

    /// <summary>
    /// VP (Song et al. 2021): F is the eps-prediction of the VP-linear process at t = sigma^{-1}(sigma),
    /// on input x / sqrt(1 + sigma^2), the VP normal form; c_noise = (M - 1) t.
    /// </summary>
    public static Preconditioning Vp(double betaMin = 0.1, double betaD = 19.9, int m = 1000)
    {
        var process = new VpLinear(betaMin, betaMin + betaD);
        return new("VP", _ => 1.0, s => -s, s => 1.0 / Math.Sqrt(s * s + 1.0), s => (m - 1) * process.TimeAtVarsigma(s));
    }

    /// <summary>VE (Song et al. 2021): F = sigma score = -eps on the VE form itself; c_noise = log(sigma/2).</summary>
    public static Preconditioning Ve() => new("VE", _ => 1.0, s => s, _ => 1.0, s => Math.Log(0.5 * s));

    /// <summary>
    /// iDDPM (Nichol &amp; Dhariwal 2021): like VP, but conditioned on the index j of the nearest level u_j of
    /// <see cref="IDdpmSigmas"/>: c_noise = M - 1 - argmin_j |u_j - sigma|.
    /// </summary>
    public static Preconditioning IDdpm(int m = 1000, double c1 = 0.001, double c2 = 0.008)
    {
        var levels = IDdpmSigmas(m, c1, c2);
        return new("iDDPM", _ => 1.0, s => -s, s => 1.0 / Math.Sqrt(s * s + 1.0), s => m - 1 - NearestIndex(levels, s));
    }

    /// <summary>EDM: unit-variance input and target for data of standard deviation sigmaData; c_noise = log(sigma)/4.</summary>
    public static Preconditioning Edm(double sigmaData = 0.5)
    {
        var d2 = sigmaData * sigmaData;
        return new("EDM", s => d2 / (s * s + d2), s => s * sigmaData / Math.Sqrt(s * s + d2), s => 1.0 / Math.Sqrt(s * s + d2), s => 0.25 * Math.Log(s));
    }

    /// <summary>Table 1 of Karras et al. with their default constants.</summary>
    public static IReadOnlyList<Preconditioning> All { get; } = [Vp(), Ve(), IDdpm(), Edm()];

    /// <summary>
    /// The iDDPM noise levels u_0 &gt; ... &gt; u_M = 0 of Karras et al., Table 1:
    /// u_{j-1} = sqrt((u_j^2 + 1) / max(abar(j-1)/abar(j), c1) - 1), abar(j) = sin^2(pi/2 j / (M (c2 + 1))).
    /// </summary>
    public static double[] IDdpmSigmas(int m = 1000, double c1 = 0.001, double c2 = 0.008)
    {
        double AlphaBar(int j) => Math.Pow(Math.Sin(0.5 * Math.PI * j / (m * (c2 + 1.0))), 2);
        var u = new double[m + 1];
        for (var j = m; j > 0; j--)
            u[j - 1] = Math.Sqrt((u[j] * u[j] + 1.0) / Math.Max(AlphaBar(j - 1) / AlphaBar(j), c1) - 1.0);
        return u;
    }

    static int NearestIndex(double[] levels, double sigma)
    {
        var best = 0;
        for (var j = 1; j < levels.Length; j++)
            if (Math.Abs(levels[j] - sigma) < Math.Abs(levels[best] - sigma)) best = j;
        return best;
    }
}
