using Research.Diffusion;
using Research.Torch;
using Xunit.Abstractions;
using static Research.Diffusion.Tests.Fixtures;
using static Research.Diffusion.Tests.TensorFixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

/// <summary>
/// Issue 13, item 4: diffusers' EulerDiscreteScheduler (timestep_spacing "linspace", interpolation_type "linear", with
/// and without use_karras_sigmas) and k-diffusion's DiscreteEpsDDPMDenoiser with sample_euler (on get_sigmas_karras and
/// on its DiscreteSchedule.get_sigmas) on the DDPM linear table, reproduced number for number by the library's Euler
/// samplers driven through <see cref="DiscreteSigmas"/>. The references below are written here from the peers'
/// published algorithms, on plain arrays and without DiscreteSigmas: the table from its betas, numpy's linspace and
/// interp, the cumsum/argmax sigma_to_t both peers use, each peer's model call and its Euler update as it writes them.
/// Everything runs in float64 (the peers cast their level and timestep arrays to float32; the algorithm is the same).
/// Tolerance [A]: 1e-12 absolute on values of order 1, round-off over at most 25 steps.
/// </summary>
public class DiscreteEulerParityTests(ITestOutputHelper output)
{
    const int T = 1000;
    static readonly DiscreteSigmas Sigmas = new(DdpmSchedule.Linear());

    // The model both sides call: the exact eps of G1 under the table's process at time (tau + 1)/T, which is the
    // table itself at every integer timestep and smooth in a fractional one.
    static readonly TensorMixture Data = new(G1);
    static readonly Denoiser Exact = Data.Denoiser(new DdpmTableProcess(DdpmSchedule.Linear()));
    static Tensor Eps(Tensor xDdpm, double tau) => Exact.Predict(Prediction.Eps, xDdpm, (tau + 1.0) / T);

    /// <summary>A fixed draw z of x_T = sigma_max z.</summary>
    static readonly double[] Z = [-2.1, -1.3, -0.6, 0.0, 0.35, 0.9, 1.6, 2.4];

    static double[] EpsAt(double[] xDdpm, double tau)
    {
        using var x = tensor(xDdpm, [xDdpm.Length, 1]);
        using var e = Eps(x, tau);
        return Values(e);
    }

    // ---- the references ---------------------------------------------------------------------------------------

    /// <summary>sqrt((1 - alpha-bar)/alpha-bar) at tau = 0..T-1; alpha-bar the running product of 1 - beta, beta = linspace(1e-4, 0.02, T).</summary>
    static double[] TrainingSigmas()
    {
        var sigmas = new double[T];
        var alphaBar = 1.0;
        for (var tau = 0; tau < T; tau++)
        {
            alphaBar *= 1.0 - (1e-4 + (0.02 - 1e-4) * tau / (T - 1));
            sigmas[tau] = Math.Sqrt((1.0 - alphaBar) / alphaBar);
        }
        return sigmas;
    }

    /// <summary>numpy.linspace(start, stop, n): start + i (stop - start)/(n - 1), the last point set to stop.</summary>
    static double[] NpLinspace(double start, double stop, int n) =>
        Enumerable.Range(0, n).Select(i => i == n - 1 ? stop : start + i * ((stop - start) / (n - 1))).ToArray();

    /// <summary>numpy.interp(x, [0, 1, ..., T-1], levels): the slope of the bracketing interval times (x - x_j), plus levels[j].</summary>
    static double NpInterp(double x, double[] levels)
    {
        if (x >= levels.Length - 1) return levels[^1];
        var j = (int)Math.Floor(x);
        return (levels[j + 1] - levels[j]) * (x - j) + levels[j];
    }

    /// <summary>
    /// sigma_to_t as diffusers (_sigma_to_t) and k-diffusion (DiscreteSchedule.sigma_to_t) write it: low = argmax of the
    /// cumulative count of log sigma - log sigma_j &gt;= 0 (the first maximum; 0 when none), capped at T-2; w = (log
    /// sigma_low - log sigma)/(log sigma_low - log sigma_high) clipped to [0, 1]; t = (1 - w) low + w (low + 1).
    /// </summary>
    static double SigmaToT(double sigma, double[] logLevels)
    {
        var logSigma = Math.Log(Math.Max(sigma, 1e-10));
        int count = 0, best = -1, low = 0;
        for (var j = 0; j < logLevels.Length; j++)
        {
            if (logSigma - logLevels[j] >= 0) count++;
            if (count > best) (best, low) = (count, j);
        }
        low = Math.Min(low, logLevels.Length - 2);
        var w = Math.Clamp((logLevels[low] - logSigma) / (logLevels[low] - logLevels[low + 1]), 0.0, 1.0);
        return (1.0 - w) * low + w * (low + 1);
    }

    /// <summary>k-diffusion's t_to_sigma: exp of the log levels at floor(t) and ceil(t), weighted by frac(t).</summary>
    static double TToSigma(double t, double[] logLevels)
    {
        var (low, high, w) = ((int)Math.Floor(t), (int)Math.Ceiling(t), t - Math.Floor(t));
        return Math.Exp((1.0 - w) * logLevels[low] + w * logLevels[high]);
    }

    /// <summary>Karras et al. (2022) eq. 5 as both peers write it: (max^(1/rho) + ramp (min^(1/rho) - max^(1/rho)))^rho, ramp = linspace(0, 1, n), rho = 7.</summary>
    static double[] KarrasLevels(int n, double sigmaMin, double sigmaMax)
    {
        var (minInvRho, maxInvRho) = (Math.Pow(sigmaMin, 1.0 / 7.0), Math.Pow(sigmaMax, 1.0 / 7.0));
        return NpLinspace(0.0, 1.0, n).Select(r => Math.Pow(maxInvRho + r * (minInvRho - maxInvRho), 7.0)).ToArray();
    }

    /// <summary>
    /// diffusers' EulerDiscreteScheduler with the defaults (s_churn = 0, final_sigmas_type "zero", epsilon prediction):
    /// set_timesteps builds the timesteps linspace(0, T-1, N) reversed and their levels by np.interp; with Karras levels
    /// it replaces them by eq. 5 between the smallest and largest interpolated level and maps each to its timestep by
    /// sigma_to_t; then appends 0. The sample starts at init_noise_sigma z (the largest level for "linspace"); each step
    /// calls the model on scale_model_input's x / sqrt(sigma^2 + 1) at the step's timestep, forms x0 = x - sigma eps,
    /// the derivative (x - x0)/sigma, and moves by it times (sigma_next - sigma).
    /// </summary>
    static double[] DiffusersEuler(int n, bool karras)
    {
        var training = TrainingSigmas();
        var logTraining = training.Select(s => Math.Log(s)).ToArray();
        var timesteps = NpLinspace(0.0, T - 1, n).Reverse().ToArray();
        var levels = timesteps.Select(t => NpInterp(t, training)).ToArray();
        if (karras)
        {
            levels = KarrasLevels(n, levels[^1], levels[0]);
            timesteps = levels.Select(s => SigmaToT(s, logTraining)).ToArray();
        }
        levels = [.. levels, 0.0];
        var x = Z.Select(z => z * levels.Max()).ToArray();
        for (var i = 0; i < n; i++)
        {
            var sigma = levels[i];
            var eps = EpsAt(x.Select(v => v / Math.Sqrt(sigma * sigma + 1.0)).ToArray(), timesteps[i]);
            for (var k = 0; k < x.Length; k++)
            {
                var x0 = x[k] - sigma * eps[k];
                var derivative = (x[k] - x0) / sigma;
                x[k] += derivative * (levels[i + 1] - sigma);
            }
        }
        return x;
    }

    /// <summary>
    /// k-diffusion: DiscreteEpsDDPMDenoiser over the table's levels (sigma_min its first, sigma_max its last), levels from
    /// get_sigmas_karras(N, sigma_min, sigma_max) or from get_sigmas(N) = t_to_sigma(linspace(T-1, 0, N)), both with a
    /// final 0; x = sigmas[0] z; sample_euler with s_churn = 0: denoised = x + eps(x c_in, sigma_to_t(sigma)) c_out with
    /// c_in = 1/sqrt(sigma^2 + 1), c_out = -sigma; d = (x - denoised)/sigma; x += d (sigma_next - sigma).
    /// </summary>
    static double[] KDiffusionEuler(int n, bool karras)
    {
        var table = TrainingSigmas();
        var logTable = table.Select(s => Math.Log(s)).ToArray();
        double[] levels = karras
            ? [.. KarrasLevels(n, table[0], table[^1]), 0.0]
            : [.. NpLinspace(T - 1, 0.0, n).Select(t => TToSigma(t, logTable)), 0.0];
        var x = Z.Select(z => z * levels[0]).ToArray();
        for (var i = 0; i < n; i++)
        {
            var sigma = levels[i];
            var (cIn, cOut) = (1.0 / Math.Sqrt(sigma * sigma + 1.0), -sigma);
            var eps = EpsAt(x.Select(v => v * cIn).ToArray(), SigmaToT(sigma, logTable));
            for (var k = 0; k < x.Length; k++)
            {
                var denoised = x[k] + eps[k] * cOut;
                var d = (x[k] - denoised) / sigma;
                x[k] += d * (levels[i + 1] - sigma);
            }
        }
        return x;
    }

    // ---- the library ------------------------------------------------------------------------------------------

    /// <summary>The library's sampler on the levels (times of <see cref="DiscreteSigmas.Process"/>), from x_T = levels[0] z.</summary>
    static double[] Library(Sampler sampler, double[] levels, SigmaInterpolation timesteps)
    {
        using var x = tensor(Z.Select(z => z * levels[0]).ToArray(), [Z.Length, 1]);
        var result = sampler.Sample(Sigmas.EpsModel(Eps, timesteps), Sigmas.Process, levels, x);
        Assert.Equal(levels.Length - 1, result.Nfe);   // one model call a step, as in both peers
        using var y = result.X;
        return Values(y);
    }

    /// <summary>The Euler step of dx/dsigma = eps on the VE levels, written twice in the library: the PF-ODE Euler sampler and DDIM (DDIM-01).</summary>
    static readonly Sampler[] EulerSamplers = [Samplers.Euler, Samplers.Ddim()];

    static double MaxDifference(double[] a, double[] b) => a.Zip(b, (u, v) => Math.Abs(u - v)).Max();

    void AssertSame(double[] reference, SigmaInterpolation timesteps, double[] levels, string what)
    {
        foreach (var sampler in EulerSamplers)
        {
            var library = Library(sampler, levels, timesteps);
            output.WriteLine($"{what}, {sampler.Name}: max |library - reference| = {MaxDifference(reference, library):E2}");
            for (var k = 0; k < Z.Length; k++) AssertClose(reference[k], library[k], 1e-12, $"{what}, {sampler.Name}, z = {Z[k]}");
        }
    }

    [Theory, InlineData(10), InlineData(25)]
    public void Diffusers_Euler_on_linspace_linear_levels(int n) =>
        AssertSame(DiffusersEuler(n, karras: false), SigmaInterpolation.Linear, Sigmas.Linspace(n, SigmaInterpolation.Linear), $"diffusers Euler, N = {n}");

    [Theory, InlineData(10), InlineData(25)]
    public void Diffusers_Euler_with_Karras_sigmas(int n) =>
        AssertSame(DiffusersEuler(n, karras: true), SigmaInterpolation.LogLinear, Sigmas.Karras(n), $"diffusers Euler Karras, N = {n}");

    [Theory, InlineData(10), InlineData(25)]
    public void KDiffusion_Euler_on_Karras_levels(int n) =>
        AssertSame(KDiffusionEuler(n, karras: true), SigmaInterpolation.LogLinear, Sigmas.Karras(n), $"k-diffusion Euler Karras, N = {n}");

    [Theory, InlineData(10), InlineData(25)]
    public void KDiffusion_Euler_on_discrete_schedule_levels(int n) =>
        AssertSame(KDiffusionEuler(n, karras: false), SigmaInterpolation.LogLinear, Sigmas.Linspace(n, SigmaInterpolation.LogLinear), $"k-diffusion Euler, N = {n}");

    /// <summary>
    /// Negative controls: the other interpolation of the levels, or the other sigma -&gt; t map for the model, must move
    /// the result well past round-off, or the parity tests above could pass without testing either. N = 25, whose
    /// linspace timesteps are fractional (999/24 apart; at N = 10 they are integers, where both interpolations agree).
    /// </summary>
    [Fact]
    public void Wrong_interpolation_or_timestep_map_is_visible()
    {
        var reference = DiffusersEuler(25, karras: false);
        var wrongMap = Library(Samplers.Euler, Sigmas.Linspace(25, SigmaInterpolation.Linear), SigmaInterpolation.LogLinear);
        var wrongLevels = Library(Samplers.Euler, Sigmas.Linspace(25, SigmaInterpolation.LogLinear), SigmaInterpolation.LogLinear);
        var (mapDifference, levelDifference) = (MaxDifference(reference, wrongMap), MaxDifference(reference, wrongLevels));
        output.WriteLine($"diffusers Euler N = 25: log-linear sigma -> t map {mapDifference:E2}, log-linear levels {levelDifference:E2}");
        Assert.True(mapDifference > 1e-6, $"the log-linear sigma -> t map changed the result by only {mapDifference:E2}");
        Assert.True(levelDifference > 1e-6, $"log-linear levels changed the result by only {levelDifference:E2}");
        var kDiffusionDiscrete = KDiffusionEuler(25, karras: false);
        var crossed = Library(Samplers.Euler, Sigmas.Linspace(25, SigmaInterpolation.LogLinear), SigmaInterpolation.Linear);
        var crossedDifference = MaxDifference(kDiffusionDiscrete, crossed);
        output.WriteLine($"k-diffusion Euler N = 25 with the linear sigma -> t map: {crossedDifference:E2}");
        Assert.True(crossedDifference > 1e-6, $"the linear sigma -> t map changed k-diffusion's result by only {crossedDifference:E2}");
    }
}
