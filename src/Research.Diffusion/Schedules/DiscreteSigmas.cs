namespace Research.Diffusion;

/// <summary>
/// The noise levels sigma_tau = sqrt((1 - alpha-bar)/alpha-bar) of a DDPM table at diffusers' 0-based timesteps
/// tau = 0..T-1 (step k = tau + 1), as diffusers' Euler/Karras schedulers and k-diffusion's DiscreteSchedule use them:
/// varsigma of the VE normal form (PROC-08) on the table. Fractional timesteps are interpolated the way each peer
/// does it: diffusers linearly in sigma (np.interp, its EulerDiscreteScheduler default), k-diffusion linearly in
/// log sigma (t_to_sigma); the inverse map sigma -> tau is k-diffusion's sigma_to_t, linear in log sigma between the
/// two neighbouring levels.
/// </summary>
public sealed class DiscreteSigmas
{
    readonly double[] sigmas, logSigmas;

    /// <summary>The levels sigma_tau of <paramref name="schedule"/>'s table, tau = 0..T-1.</summary>
    public DiscreteSigmas(DdpmSchedule schedule)
    {
        sigmas = Enumerable.Range(1, schedule.Steps).Select(k => Math.Sqrt((1.0 - schedule.AlphaBar(k)) / schedule.AlphaBar(k))).ToArray();
        logSigmas = sigmas.Select(s => Math.Log(s)).ToArray();
    }

    /// <summary>T, the number of levels.</summary>
    public int Count => sigmas.Length;

    /// <summary>sigma at integer timestep tau = 0..T-1.</summary>
    public double this[int timestep] => sigmas[timestep];

    /// <summary>sigma at a fractional timestep in [0, T-1], linear in sigma between neighbours (diffusers' np.interp).</summary>
    public double SigmaLinear(double timestep)
    {
        var (low, w) = Bracket(timestep);
        return w == 0.0 ? sigmas[low] : (1.0 - w) * sigmas[low] + w * sigmas[low + 1];
    }

    /// <summary>sigma at a fractional timestep, linear in log sigma between neighbours (k-diffusion's t_to_sigma).</summary>
    public double SigmaLogLinear(double timestep)
    {
        var (low, w) = Bracket(timestep);
        return w == 0.0 ? sigmas[low] : Math.Exp((1.0 - w) * logSigmas[low] + w * logSigmas[low + 1]);
    }

    /// <summary>
    /// The fractional timestep of a noise level (k-diffusion's sigma_to_t): between the two levels around sigma,
    /// linear in log sigma; clamped to [0, T-1] outside the table. Inverts <see cref="SigmaLogLinear"/>.
    /// </summary>
    public double Timestep(double sigma)
    {
        if (!(sigma > 0.0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "a noise level must be positive");
        var logSigma = Math.Log(sigma);
        if (logSigma <= logSigmas[0]) return 0.0;
        if (logSigma >= logSigmas[^1]) return Count - 1;
        var high = Array.BinarySearch(logSigmas, logSigma);
        if (high >= 0) return high;
        high = ~high;
        var low = high - 1;
        var w = (logSigmas[low] - logSigma) / (logSigmas[low] - logSigmas[high]);
        return low + w;
    }

    (int Low, double Weight) Bracket(double timestep)
    {
        if (!(timestep >= 0.0 && timestep <= Count - 1))
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"timesteps run from 0 to {Count - 1}");
        var low = Math.Min((int)Math.Floor(timestep), Count - 2);
        return (low, timestep - low);
    }
}
