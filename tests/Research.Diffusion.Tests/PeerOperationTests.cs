using Research.Diffusion;
using static Research.Diffusion.Tests.Fixtures;

namespace Research.Diffusion.Tests;

/// <summary>Operations the peer libraries offer (issue 13, item 4), each against its definition.</summary>
public class PeerOperationTests
{
    /// <summary>A time inside step i's interval of the index map (i/(N-1) itself can round to the step below).</summary>
    static double TimeOfIndex(int i, int n) => Math.Min(1.0, (i + 1e-6) / (n - 1));

    // score_sde's timestep = floor(t (N - 1) / T).
    [Fact]
    public void ScoreSde_time_to_index_map()
    {
        Assert.Equal(0, ScoreSdeDiscretization.Index(0.0, 1000));
        Assert.Equal(999, ScoreSdeDiscretization.Index(1.0, 1000));
        Assert.Equal(499, ScoreSdeDiscretization.Index(0.5, 1000));
        Assert.Equal(39, ScoreSdeDiscretization.Index(40.0, 50, tMax: 50.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScoreSdeDiscretization.Index(1.5, 1000));
    }

    // DDPM transitions: the variance recursion v <- (1 + f)^2 v + G^2 from 0 over all N steps is 1 - alpha-bar_N of the
    // table beta_i = linspace(betaMin, betaMax, N)/N (DdpmSchedule's product, computed independently); each step is
    // the Euler–Maruyama transition of VP-linear up to O(dt^2).
    [Fact]
    public void ScoreSde_DDPM_transitions_are_the_discrete_chain()
    {
        const int n = 1000;
        var vp = new VpLinear();
        var table = DdpmSchedule.Linear(n, vp.BetaMin / n, vp.BetaMax / n);
        var v = 0.0;
        for (var i = 0; i < n; i++)
        {
            var step = ScoreSdeDiscretization.Ddpm(vp, n, TimeOfIndex(i, n));
            v = Math.Pow(1 + step.Drift, 2) * v + step.Noise * step.Noise;
        }
        AssertClose(1 - table.AlphaBar(n), v, 1e-12, "variance after N steps");
        foreach (var t in new[] { 0.1, 0.5, 0.9 })
        {
            var (exact, em) = (ScoreSdeDiscretization.Ddpm(vp, n, t), ScoreSdeDiscretization.EulerMaruyama(vp, n, t));
            Assert.True(Math.Abs(exact.Drift - em.Drift) <= 0.5 * Math.Pow(vp.BetaMax / n, 2) + 0.02 / n, $"drift at {t}");
            Assert.True(Math.Abs(exact.Noise * exact.Noise - em.Noise * em.Noise) <= 0.05 / n, $"noise at {t}");
        }
    }

    // SMLD transitions: the noise variances telescope to sigma_i^2 (no drift), the levels are score_sde's geometric
    // ones, and Euler–Maruyama of the same SDE has g^2 dt = (sigma^2)' dt.
    [Fact]
    public void ScoreSde_SMLD_transitions_telescope_to_the_levels()
    {
        const int n = 200;
        var ve = new VeScoreSde(0.01, 50.0);
        var total = 0.0;
        for (var i = 0; i < n; i++)
        {
            var step = ScoreSdeDiscretization.Smld(ve, n, TimeOfIndex(i, n));
            Assert.Equal(0.0, step.Drift);
            total += step.Noise * step.Noise;
            AssertClose(Math.Pow(ScoreSdeDiscretization.SmldSigma(ve, n, i), 2), total, 1e-12, $"sum of G^2 to step {i}");
        }
        AssertClose(50.0, ScoreSdeDiscretization.SmldSigma(ve, n, n - 1), 1e-13, "last level sigmaMax");
        AssertClose(0.01, ScoreSdeDiscretization.SmldSigma(ve, n, 0), 1e-15, "first level sigmaMin");
        var em = ScoreSdeDiscretization.EulerMaruyama(ve, n, 0.3);
        AssertClose(ve.DiffusionSquared(0.3) / n, em.Noise * em.Noise, 1e-12, "EM noise");
    }

    // diffusers' previous_timestep: the next entry of a custom list (-1 after the last), else t - T div N.
    [Fact]
    public void Previous_timestep_for_custom_lists_and_spacings()
    {
        int[] custom = [999, 850, 611, 300, 12];
        Assert.Equal(850, TimestepSpacing.Previous(custom, 999));
        Assert.Equal(12, TimestepSpacing.Previous(custom, 300));
        Assert.Equal(-1, TimestepSpacing.Previous(custom, 12));
        Assert.Throws<ArgumentException>(() => TimestepSpacing.Previous(custom, 500));
        Assert.Equal(899, TimestepSpacing.Previous(1000, 10, 999));
        Assert.Equal(710, TimestepSpacing.Previous(1000, 7, 852));
    }

    // Discrete sigma tables: sigma_tau = sqrt((1 - abar)/abar) at integer timesteps; diffusers' linear and
    // k-diffusion's log-linear interpolation between them; sigma_to_t inverts the log-linear one and the levels, TimestepLinear the linear one.
    [Fact]
    public void Discrete_sigma_table_interpolation_and_inverse()
    {
        var table = DdpmSchedule.ScaledLinear();
        var sigmas = new DiscreteSigmas(table);
        Assert.Equal(1000, sigmas.Count);
        AssertClose(Math.Sqrt((1 - table.AlphaBar(1)) / table.AlphaBar(1)), sigmas[0], 1e-14, "tau = 0 is step 1");
        AssertClose(Math.Sqrt((1 - table.AlphaBar(1000)) / table.AlphaBar(1000)), sigmas[999], 1e-14, "tau = 999");
        var (a, b) = (sigmas[400], sigmas[401]);
        AssertClose(0.75 * a + 0.25 * b, sigmas.SigmaLinear(400.25), 1e-14, "linear in sigma");
        AssertClose(Math.Exp(0.75 * Math.Log(a) + 0.25 * Math.Log(b)), sigmas.SigmaLogLinear(400.25), 1e-14, "linear in log sigma");
        foreach (var tau in new[] { 0.0, 3.5, 400.25, 998.9, 999.0 })
            AssertClose(tau, sigmas.Timestep(sigmas.SigmaLogLinear(tau)), 1e-9, $"sigma_to_t inverts t_to_sigma at {tau}");
        foreach (var tau in new[] { 0.0, 3.5, 400.25, 998.9, 999.0 })
            AssertClose(tau, sigmas.TimestepLinear(sigmas.SigmaLinear(tau)), 1e-9, $"the linear map's inverse at {tau}");
        Assert.Equal(0.0, sigmas.Timestep(sigmas[0] / 2));
        Assert.Equal(999.0, sigmas.TimestepLinear(sigmas[999] * 2));
        Assert.Equal(999.0, sigmas.Timestep(sigmas[999] * 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => sigmas.SigmaLinear(999.5));
    }
}
