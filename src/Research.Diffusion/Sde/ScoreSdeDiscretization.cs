namespace Research.Diffusion;

/// <summary>
/// One forward transition x_{i+1} = x_i + f_i + G_i z of a discretised linear SDE, with f_i = <see cref="Drift"/> x_i
/// (score_sde's discretize() returns f and G; every SDE here is linear, so f is a multiple of x).
/// </summary>
public readonly record struct Transition(double Drift, double Noise);

/// <summary>
/// score_sde's discretize() (Song et al. 2021, sde_lib.py) and its time-to-index map, for N steps over [0, T]:
/// the generic Euler–Maruyama transition, and the exact transitions of the discrete chains the VP and VE SDEs are the
/// limits of: DDPM for VP-linear (betas N^-1 linspace(betaMin, betaMax, N)) and SMLD for VE (levels
/// exp(linspace(log sigmaMin, log sigmaMax, N))). The reverse-diffusion predictor of score_sde steps
/// x - f + G^2 score + G z with the same (f, G).
/// </summary>
public static class ScoreSdeDiscretization
{
    /// <summary>score_sde's timestep = floor(t (N - 1) / T): the index of the discrete step used at time t.</summary>
    public static int Index(double t, int steps, double tMax = 1.0)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least two steps");
        if (!(t >= 0.0 && t <= tMax)) throw new ArgumentOutOfRangeException(nameof(t), t, $"t must be in [0, {tMax}]");
        return (int)Math.Floor(t * (steps - 1) / tMax);
    }

    /// <summary>SDE.discretize: Euler–Maruyama over dt = T/N, f = f(t) x dt and G = g(t) sqrt(dt).</summary>
    public static Transition EulerMaruyama(NoiseProcess process, int steps, double t)
    {
        var dt = process.TMax / steps;
        return new(process.Drift(t) * dt, process.Diffusion(t) * Math.Sqrt(dt));
    }

    /// <summary>VPSDE.discretize: the DDPM step, f = (sqrt(1 - beta_i) - 1) x and G = sqrt(beta_i).</summary>
    public static Transition Ddpm(VpLinear process, int steps, double t)
    {
        var beta = DdpmBeta(process, steps, Index(t, steps));
        return new(Math.Sqrt(1.0 - beta) - 1.0, Math.Sqrt(beta));
    }

    /// <summary>beta_i = (betaMin + i (betaMax - betaMin)/(N - 1)) / N, i = 0..N-1: score_sde's discrete_betas.</summary>
    public static double DdpmBeta(VpLinear process, int steps, int index) =>
        (process.BetaMin + index * (process.BetaMax - process.BetaMin) / (steps - 1)) / steps;

    /// <summary>VESDE.discretize: the SMLD step, f = 0 and G = sqrt(sigma_i^2 - sigma_{i-1}^2) with sigma_{-1} = 0.</summary>
    public static Transition Smld(VeScoreSde process, int steps, double t)
    {
        var i = Index(t, steps);
        var sigma = SmldSigma(process, steps, i);
        var previous = i == 0 ? 0.0 : SmldSigma(process, steps, i - 1);
        return new(0.0, Math.Sqrt(sigma * sigma - previous * previous));
    }

    /// <summary>sigma_i = exp(log sigmaMin + i (log sigmaMax - log sigmaMin)/(N - 1)): score_sde's discrete_sigmas.</summary>
    public static double SmldSigma(VeScoreSde process, int steps, int index) =>
        Math.Exp(Math.Log(process.SigmaMin) + index * (Math.Log(process.SigmaMax) - Math.Log(process.SigmaMin)) / (steps - 1));
}
