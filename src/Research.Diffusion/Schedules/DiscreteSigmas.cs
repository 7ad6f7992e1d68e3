using Research.Torch;

namespace Research.Diffusion;

/// <summary>How a fractional timestep of a discrete sigma table maps to a noise level, and back.</summary>
public enum SigmaInterpolation
{
    /// <summary>Linear in sigma between neighbouring levels: diffusers' np.interp (interpolation_type "linear").</summary>
    Linear,
    /// <summary>Linear in log sigma between neighbouring levels: k-diffusion's t_to_sigma and sigma_to_t.</summary>
    LogLinear,
}

/// <summary>
/// The noise levels sigma_tau = sqrt((1 - alpha-bar)/alpha-bar) of a DDPM table at diffusers' 0-based timesteps
/// tau = 0..T-1 (step k = tau + 1), as diffusers' Euler/Karras schedulers and k-diffusion's DiscreteSchedule use them:
/// varsigma of the VE normal form (PROC-08) on the table. Fractional timesteps are interpolated the way each peer
/// does it: diffusers linearly in sigma (np.interp, its EulerDiscreteScheduler default), k-diffusion linearly in
/// log sigma (t_to_sigma); the inverse map sigma -> tau is k-diffusion's sigma_to_t, linear in log sigma between the
/// two neighbouring levels. With <see cref="EpsModel"/> and the level grids (<see cref="Linspace"/>,
/// <see cref="Karras"/>), the library's samplers run a discrete-timestep eps-network as those peers' "discrete"
/// Euler and Karras samplers do.
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

    /// <summary>
    /// The fractional timestep whose linearly interpolated level is sigma (inverts <see cref="SigmaLinear"/>);
    /// clamped to [0, T-1] outside the table. diffusers calls its model at the timesteps it interpolated its levels
    /// from, so on its linear levels this is the timestep the model sees.
    /// </summary>
    public double TimestepLinear(double sigma)
    {
        if (!(sigma > 0.0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "a noise level must be positive");
        if (sigma <= sigmas[0]) return 0.0;
        if (sigma >= sigmas[^1]) return Count - 1;
        var high = Array.BinarySearch(sigmas, sigma);
        if (high >= 0) return high;
        high = ~high;
        var low = high - 1;
        return low + (sigma - sigmas[low]) / (sigmas[high] - sigmas[low]);
    }

    /// <summary>sigma at a fractional timestep by <paramref name="interpolation"/>.</summary>
    public double Sigma(double timestep, SigmaInterpolation interpolation) =>
        interpolation == SigmaInterpolation.Linear ? SigmaLinear(timestep) : SigmaLogLinear(timestep);

    /// <summary>The fractional timestep of a noise level, inverting <paramref name="interpolation"/>.</summary>
    public double Timestep(double sigma, SigmaInterpolation interpolation) =>
        interpolation == SigmaInterpolation.Linear ? TimestepLinear(sigma) : Timestep(sigma);

    /// <summary>
    /// N levels at the timesteps linspace(T-1, 0, N), interpolated by <paramref name="interpolation"/>, then a final 0:
    /// diffusers' EulerDiscreteScheduler levels (timestep_spacing "linspace", interpolation_type "linear") with
    /// <see cref="SigmaInterpolation.Linear"/>, k-diffusion's DiscreteSchedule.get_sigmas(N) with
    /// <see cref="SigmaInterpolation.LogLinear"/>. These are times of <see cref="Process"/>.
    /// </summary>
    public double[] Linspace(int steps, SigmaInterpolation interpolation)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "need at least one step");
        var levels = new double[steps + 1];
        for (var i = 0; i < steps; i++)
            levels[i] = Sigma(steps == 1 ? Count - 1 : (double)(Count - 1) * (steps - 1 - i) / (steps - 1), interpolation);
        return levels;
    }

    /// <summary>
    /// Karras et al. (2022) levels between this table's smallest and largest sigma, then a final 0 (<see cref="SigmaGrid.Karras"/>):
    /// k-diffusion's get_sigmas_karras(N, sigma_min, sigma_max) of a DiscreteSchedule and diffusers' use_karras_sigmas.
    /// Times of <see cref="Process"/>; both peers call the model at the timestep <see cref="Timestep(double)"/> of each level.
    /// </summary>
    public double[] Karras(int steps, double rho = 7.0) => SigmaGrid.Karras(steps, sigmas[0], sigmas[^1], rho);

    /// <summary>
    /// The process the level grids are times of: VE with sigma(t) = t (<see cref="Edm"/>) up to the table's largest level,
    /// the x-scale of diffusers' Euler schedulers and k-diffusion (x = x_ddpm sqrt(1 + sigma^2)).
    /// </summary>
    public NoiseProcess Process => process ??= new Edm(sigmas[^1]);
    NoiseProcess? process;

    /// <summary>
    /// A discrete-timestep eps-network eps(x_ddpm, tau) of the table as a <see cref="Denoiser"/> of <see cref="Process"/>:
    /// at (x, sigma) it returns eps(x / sqrt(sigma^2 + 1), tau(sigma)), the timestep by inverting
    /// <paramref name="timesteps"/>. This is k-diffusion's DiscreteEpsDDPMDenoiser (log-linear sigma_to_t, unquantized)
    /// and the model call of diffusers' EulerDiscreteScheduler (its scale_model_input; the linspace timesteps when its
    /// levels are interpolated linearly, sigma_to_t for Karras levels). With the Euler sampler on <see cref="Process"/>
    /// and <see cref="Linspace"/> or <see cref="Karras"/> levels it is those peers' Euler sampler step for step.
    /// </summary>
    public Denoiser EpsModel(Func<Tensor, double, Tensor> eps, SigmaInterpolation timesteps = SigmaInterpolation.LogLinear) =>
        new(Process, Prediction.Eps, (x, sigma) =>
        {
            using var input = x / Math.Sqrt(sigma * sigma + 1.0);
            return eps(input, Timestep(sigma, timesteps));
        });

    (int Low, double Weight) Bracket(double timestep)
    {
        if (!(timestep >= 0.0 && timestep <= Count - 1))
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"timesteps run from 0 to {Count - 1}");
        var low = Math.Min((int)Math.Floor(timestep), Count - 2);
        return (low, timestep - low);
    }
}
