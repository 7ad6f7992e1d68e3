using Research.Diffusion;
using static Research.Diffusion.Tests.Fixtures;

namespace Research.Diffusion.Tests;

public class ProcessTests
{
    // [D] (section 0.3, corrected in 15.1): every hand-written derivative against central differences.
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void PROC02_AlphaPrime_SigmaPrime_match_finite_differences(string name)
    {
        var p = Processes[name];
        foreach (var t in Times)
        {
            AssertDerivative(p.Alpha, p.AlphaPrime(t), t, p.TMax, $"{name} alpha'");
            AssertDerivative(p.Sigma, p.SigmaPrime(t), t, p.TMax, $"{name} sigma'");
            AssertDerivative(s => p.Sigma(s) * p.Sigma(s), p.SigmaSquaredPrime(t), t, p.TMax, $"{name} (sigma^2)'");
        }
    }

    // PROC-02: f = alpha'/alpha, g^2 = alpha^2 (sigma^2/alpha^2)', both against FD of the closed forms.
    // f is checked as the FD of alpha(s)/alpha(t), not of log alpha: where alpha ~ 1 (VE forms near t = 0),
    // log alpha ~ 0 hides the rounding of alpha from the [D] scale max(|f'|, |f|/delta).
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void PROC02_Drift_and_DiffusionSquared_match_finite_differences(string name)
    {
        var p = Processes[name];
        foreach (var t in Times)
        {
            var alpha = p.Alpha(t);
            AssertDerivative(s => p.Alpha(s) / alpha, p.Drift(t), t, p.TMax, $"{name} f");
            var alpha2 = alpha * alpha;
            AssertDerivative(s => alpha2 * Math.Pow(p.Varsigma(s), 2), p.DiffusionSquared(t), t, p.TMax, $"{name} g^2");
            Assert.True(p.DiffusionSquared(t) > 0, $"{name}: g^2 > 0 at t={t}");
        }
    }

    // PROC-03: the code's lambda' (-g^2/sigma^2) against FD of lambda, the independent side.
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void PROC03_LogSnrPrime_is_minus_g2_over_sigma2(string name)
    {
        var p = Processes[name];
        foreach (var t in Times)
        {
            AssertDerivative(p.LogSnr, p.LogSnrPrime(t), t, p.TMax, $"{name} lambda'");
        }
    }

    // PROC-03 check 1: on a grid of 1e4 points, Delta lambda <= 1e-12 (lambda non-increasing, varsigma non-decreasing).
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void PROC03_LogSnr_is_non_increasing(string name)
    {
        var p = Processes[name];
        var previous = p.LogSnr(p.TMax * 1e-4);
        for (var i = 2; i <= 10_000; i++)
        {
            var lambda = p.LogSnr(p.TMax * i / 10_000.0);
            Assert.True(lambda - previous <= 1e-12, $"{name}: lambda rises at step {i}");
            previous = lambda;
        }
    }

    // The inverse of lambda: closed form (or the base-class bisection), round trip in both directions.
    // 1e-12 in t would be [A]; lambda is steep near t = 0 (lambda ~ -log t), so t is compared relative to max(t, 1e-3).
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void LogSnr_TimeAtLogSnr_round_trip(string name)
    {
        var p = Processes[name];
        foreach (var t in Times.Append(1e-6).Append(1e-3))
        {
            var back = p.TimeAtLogSnr(p.LogSnr(t));
            Assert.True(Math.Abs(back - t) <= 1e-10 * Math.Max(t, 1e-3), $"{name}: t={t} -> {back:R}");
        }
        foreach (var lambda in new[] { -6.0, -2.0, 0.0, 3.0, 8.0 })
        {
            var t = p.TimeAtLogSnr(lambda);
            if (t <= 0 || t >= p.TMax) continue; // lambda outside this process's range (e.g. VP-form-of-VE)
            AssertClose(lambda, p.LogSnr(t), 1e-10, $"{name} lambda={lambda}");
        }
        Assert.InRange(p.TimeAtVarsigma(0.0), 0.0, 1e-15); // VP-cosine: acos rounding leaves ~1e-18
    }

    // Endpoints: t = 0 has sigma = 0, and every quantity finite there is returned finite; LogSnr(0) = +inf by design.
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void Endpoint_t0_is_finite_where_the_quantity_is_finite(string name)
    {
        var p = Processes[name];
        Assert.Equal(1.0, p.Alpha(0.0), 15);
        Assert.Equal(0.0, p.Sigma(0.0));
        Assert.Equal(0.0, p.Varsigma(0.0));
        Assert.Equal(double.PositiveInfinity, p.LogSnr(0.0));
        Assert.Equal(double.PositiveInfinity, p.Snr(0.0));
        foreach (var value in new[] { p.AlphaPrime(0.0), p.Drift(0.0), p.DiffusionSquared(0.0), p.SigmaSquaredPrime(0.0) })
            Assert.True(double.IsFinite(value), $"{name}: non-finite value {value} at t = 0");
        // g^2(0) matches the limit from the right (catches 0 * inf patched to 0).
        AssertClose(p.DiffusionSquared(1e-9), p.DiffusionSquared(0.0), 1e-6, $"{name} g^2(0)");
    }

    [Fact]
    public void Endpoint_t1_values()
    {
        // VP-linear, SD, VE are finite at t = 1; RF's alpha = 0 makes f and g^2 genuinely infinite.
        foreach (var p in new NoiseProcess[] { new VpLinear(), new VpScaledLinear(), new VeGeometric(), new SubVp() })
            foreach (var v in new[] { p.Alpha(1), p.Sigma(1), p.Drift(1), p.DiffusionSquared(1), p.LogSnr(1), p.SigmaPrime(1) })
                Assert.True(double.IsFinite(v), $"{p.Name}: {v} at t = 1");
        var rf = new RectifiedFlow();
        Assert.Equal(0.0, rf.Alpha(1.0));
        Assert.Equal(double.NegativeInfinity, rf.LogSnr(1.0));
        Assert.Equal(1.0, rf.TimeAtLogSnr(double.NegativeInfinity));
        AssertClose(50.0 * 50.0 - 0.01 * 0.01, Math.Pow(new VeGeometric().Sigma(1.0), 2), 1e-12, "VE sigma(1)^2 = sigmaMax^2 - sigmaMin^2");
    }

    /// <summary>F3 Ornstein–Uhlenbeck: a process with no closed-form inverse, so it uses the base-class root finder.</summary>
    sealed class OrnsteinUhlenbeck(double theta, double c) : NoiseProcess
    {
        public override string Name => "OU";
        public override double Alpha(double t) => Math.Exp(-theta * t);
        public override double AlphaPrime(double t) => -theta * Alpha(t);
        public override double Sigma(double t) => Math.Sqrt(c * c * (1 - Math.Exp(-2 * theta * t)) / (2 * theta));
        public override double SigmaPrime(double t) => c * c * Math.Exp(-2 * theta * t) / (2 * Sigma(t));
    }

    [Fact]
    public void F3_OU_process_derives_f_g_and_inverts_LogSnr_by_bisection()
    {
        var ou = new OrnsteinUhlenbeck(theta: 1.5, c: 0.8);
        foreach (var t in Times)
        {
            AssertClose(-1.5, ou.Drift(t), 1e-12, "f = -theta");
            AssertClose(0.64, ou.DiffusionSquared(t), 1e-12, "g^2 = c^2");
            Assert.True(Math.Abs(ou.TimeAtLogSnr(ou.LogSnr(t)) - t) <= 1e-12, $"bisection round trip at {t}");
        }
    }

    [Fact]
    public void Flow_matching_time_runs_the_other_way()
    {
        var rf = new RectifiedFlow();
        // Lipman et al.'s optimal-transport path (sigma_min = 0): x_s = s x_data + (1 - s) noise, data at s = 1, with
        // target velocity u = x_data - noise. The same point is RF's x_t at t = 1 - s, and u = -dx/dt.
        var (data, noise) = (Vec(0.8, -1.4), Vec(-0.3, 0.6));
        foreach (var s in new[] { 0.0, 0.25, 0.7, 1.0 })
        {
            var t = FlowMatchingTime.ToDiffusionTime(s);
            Assert.Equal(1.0 - s, t, 15);
            Assert.Equal(s, FlowMatchingTime.FromDiffusionTime(t), 15);
            var fm = s * data + (1 - s) * noise;
            AssertClose(fm, rf.Alpha(t) * data + rf.Sigma(t) * noise, 1e-15, $"path at s = {s}");
            if (s is > 0 and < 1)
                AssertClose(data - noise, -Parameterization.VelocityFromX0(rf.At(t), fm, data), 1e-12, $"u = -velocity at s = {s}");
        }
    }
}

/// <summary>flow_matching's and score_sde's schedules (issue 13, item 3): their defining closed forms.</summary>
public class PeerScheduleTests
{
    // PolynomialConvex(n): alpha_fm(s) = s^n, sigma_fm = 1 - s^n with s = 1 - t; n = 1 is rectified flow exactly.
    [Fact]
    public void Polynomial_convex_is_s_to_the_n_in_flow_matching_time()
    {
        var (rf, one, cubic) = (new RectifiedFlow(), new PolynomialConvex(1.0), new PolynomialConvex(3.0));
        foreach (var s in new[] { 0.0, 0.2, 0.5, 0.9, 1.0 })
        {
            var t = FlowMatchingTime.ToDiffusionTime(s);
            AssertClose(Math.Pow(s, 3), cubic.Alpha(t), 1e-15, "alpha_fm = s^3");
            AssertClose(1 - Math.Pow(s, 3), cubic.Sigma(t), 1e-15, "sigma_fm = 1 - s^3");
            AssertClose(rf.Alpha(t), one.Alpha(t), 1e-15, "n = 1 is RF");
            AssertClose(rf.Sigma(t), one.Sigma(t), 1e-15, "n = 1 is RF");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolynomialConvex(0.0));
    }

    // LinearVP: alpha_fm(s) = s, sigma_fm(s) = sqrt(1 - s^2); variance preserving, alpha = 0 at t = 1.
    [Fact]
    public void Linear_VP_is_s_and_sqrt_one_minus_s_squared()
    {
        var p = new LinearVp();
        foreach (var s in new[] { 0.0, 0.3, 0.6, 0.99 })
        {
            var t = FlowMatchingTime.ToDiffusionTime(s);
            AssertClose(s, p.Alpha(t), 1e-14, "alpha_fm = s");
            AssertClose(Math.Sqrt(1 - s * s), p.Sigma(t), 1e-14, "sigma_fm = sqrt(1 - s^2)");
        }
        Assert.Equal(0.0, p.Alpha(1.0));
        Assert.Equal(1.0, p.Sigma(1.0));
    }

    // score_sde's VE marginal: sigma = sigmaMin r^t with sigma(0) = sigmaMin; the same SDE as VeGeometric (equal g^2),
    // sigma^2 larger by exactly sigmaMin^2; levels below sigmaMin have no time. (It is not in Fixtures.Processes: its
    // t = 0 is not data, which the generic endpoint tests assume, so its derivative and inverse are checked here.)
    [Fact]
    public void ScoreSde_VE_marginal_differs_from_the_exact_form_by_sigma_min_squared()
    {
        var (scoreSde, exact) = (new VeScoreSde(0.01, 50.0), new VeGeometric(0.01, 50.0));
        foreach (var t in new[] { 0.0, 0.1, 0.5, 1.0 })
        {
            AssertClose(0.01 * Math.Pow(5000.0, t), scoreSde.Sigma(t), 1e-14, "sigmaMin (sigmaMax/sigmaMin)^t");
            AssertClose(1e-4, scoreSde.Sigma(t) * scoreSde.Sigma(t) - exact.Sigma(t) * exact.Sigma(t), 1e-9, "sigma^2 difference");
            if (t > 0) AssertRelative(exact.DiffusionSquared(t), scoreSde.DiffusionSquared(t), 1e-12, "same g^2");
        }
        Assert.Equal(0.01, scoreSde.Sigma(0.0), 15);
        foreach (var t in Times) AssertDerivative(scoreSde.Sigma, scoreSde.SigmaPrime(t), t, 1.0, "score_sde VE sigma'");
        foreach (var t in Times) AssertClose(t, scoreSde.TimeAtLogSnr(scoreSde.LogSnr(t)), 1e-12, "TimeAtLogSnr inverts LogSnr");
        Assert.Throws<ArgumentOutOfRangeException>(() => scoreSde.TimeAtVarsigma(0.001));
    }
}
