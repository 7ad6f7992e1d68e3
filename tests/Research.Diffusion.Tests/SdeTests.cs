using Research.Diffusion;
using static Research.Diffusion.Tests.Fixtures;

namespace Research.Diffusion.Tests;

public class SdeTests
{
    // PROC-01 / PROC-02 check 2 [Q]: alpha = exp(int f) and sigma^2 = alpha^2 int g^2/alpha^2 from the process's
    // own f, g reproduce its closed-form alpha and sigma^2 (1e-9 relative, the [Q] tolerance).
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void PROC01_quadrature_of_f_and_g_reproduces_alpha_and_sigma(string name)
    {
        var p = Processes[name];
        var sde = LinearSde.Of(p);
        foreach (var t in new[] { 0.05, 0.5, 0.9 })
        {
            var (alpha, sigma2) = sde.ConditionalLaw(t);
            AssertRelative(p.Alpha(t), alpha, 1e-9, $"{name} alpha({t})");
            AssertRelative(p.Sigma(t) * p.Sigma(t), sigma2, 1e-9, $"{name} sigma^2({t})");
        }
    }

    // PROC-01 check 3 [A]: F3 Ornstein–Uhlenbeck dx = -theta x dt + c dw has closed-form alpha and sigma^2.
    [Fact]
    public void PROC01_F3_OU_conditional_law()
    {
        const double theta = 1.5, c = 0.8;
        var ou = new LinearSde(_ => -theta, _ => c * c);
        foreach (var t in new[] { 0.1, 1.0, 3.0 })
        {
            var (alpha, sigma2) = ou.ConditionalLaw(t);
            AssertRelative(Math.Exp(-theta * t), alpha, 1e-12, "alpha");
            AssertRelative(c * c * (1 - Math.Exp(-2 * theta * t)) / (2 * theta), sigma2, 1e-10, "sigma^2");
        }
    }

    // PROC-01 check 1: arbitrary coefficients f = -1 + 0.5 sin 3t, g = 1 + t^2; quadrature vs the moment ODEs
    // m' = f m, (sigma^2)' = 2 f sigma^2 + g^2 integrated by RK4 (4000 steps; O(h^4) ~ 1e-14, far below [O] 1e-7).
    [Fact]
    public void PROC01_arbitrary_coefficients_quadrature_matches_moment_ODE()
    {
        double F(double t) => -1 + 0.5 * Math.Sin(3 * t);
        double G2(double t) => Math.Pow(1 + t * t, 2);
        var (alpha, sigma2) = new LinearSde(F, G2).ConditionalLaw(1.0);
        var moments = Rk4((t, y) => Vec(F(t) * y[0], 2 * F(t) * y[1] + G2(t)), Vec(1.0, 0.0), 0.0, 1.0, 4000);
        AssertRelative(moments[0], alpha, 1e-7, "alpha");
        AssertRelative(moments[1], sigma2, 1e-7, "sigma^2");
    }

    // SDE-04 check 1 with SDE-02: for every h in {0, g/2, g, 2g}, -div(p v_h) + h^2/2 Laplacian p equals the exact
    // d/dt p_t of a 2-D mixture (the marginals are the same). x-derivatives by FD with step 1e-4 sigma_t (section
    // 15.1); d/dt p by [D]. Second differences give ~1e-6 relative, hence the 1e-5 tolerance ([D], second derivative).
    [Theory]
    [InlineData("VP-linear", 0.3)]
    [InlineData("VE-geometric", 0.4)]
    [InlineData("RF", 0.6)]
    [InlineData("sub-VP", 0.2)]
    public void SDE04_generalized_family_shares_the_Fokker_Planck_equation(string name, double t)
    {
        var p = Processes[name];
        var sde = LinearSde.Of(p);
        var mixture = RandomMixture(new Random(4), 3, 2);
        double Density(double s, Vector<double> x) => Math.Exp(mixture.Diffuse(p, s).LogDensity(x));
        var x = p.Alpha(t) * Vec(0.7, -0.4);
        var (dpdt, scale) = CentralDifference(s => Density(s, x), t);
        var h = 1e-4 * p.Sigma(t);
        var marginal = mixture.Diffuse(p, t);
        foreach (var hScale in new[] { 0.0, 0.5, 1.0, 2.0 })
        {
            var noise = hScale * sde.G(t);
            Vector<double> Flux(Vector<double> y) => Density(t, y) * sde.GeneralizedDrift(t, y, marginal.Score(y), noise, reverse: false);
            var rhs = 0.0;
            for (var i = 0; i < 2; i++)
            {
                var e = Vec(i == 0 ? h : 0, i == 1 ? h : 0);
                rhs -= (Flux(x + e)[i] - Flux(x - e)[i]) / (2 * h);
                rhs += 0.5 * noise * noise * (Density(t, x + e) - 2 * Density(t, x) + Density(t, x - e)) / (h * h);
            }
            Assert.True(Math.Abs(rhs - dpdt) <= 1e-5 * Math.Max(scale, Density(t, x) / h), $"{name} h={hScale}g: FP rhs {rhs:R} vs dp/dt {dpdt:R}");
        }
    }

    // SDE-05 / SDE-03 / SDE-04 by what the drifts must do, not by their formula: for Gaussian data N(0, s^2) the
    // marginal is N(0, v(t)), v = alpha^2 s^2 + sigma^2, with score -x/v, and every drift is b(t) x. A member with
    // noise h keeps the marginals iff the variance ODE holds: forward dv/dt = 2 b v + h^2; run backwards (reverse
    // Brownian motion) dv/dt = 2 b v - h^2; the PF-ODE (h = 0) dv/dt = 2 b v. dv/dt is a central difference of the
    // closed form; two data variances make a wrong weight on the score fail. [D] tolerance 1e-7 relative.
    [Theory]
    [InlineData("VP-linear")]
    [InlineData("VE-geometric")]
    [InlineData("RF")]
    [InlineData("sub-VP")]
    public void SDE05_reverse_drift_and_PF_ODE_keep_the_marginals(string name)
    {
        var p = Processes[name];
        var sde = LinearSde.Of(p);
        var (one, t) = (Vec(1.0), 0.4);
        foreach (var s2 in new[] { 0.25, 2.0 })
        {
            double V(double u) => Math.Pow(p.Alpha(u), 2) * s2 + Math.Pow(p.Sigma(u), 2);
            var (dv, scale) = CentralDifference(V, t);
            var (v, score) = (V(t), Vec(-1.0 / V(t)));
            var g = sde.G(t);
            var reverse = sde.ReverseDrift(t, one, score)[0];
            var flow = sde.ProbabilityFlowVelocity(t, one, score)[0];
            var forward = sde.GeneralizedDrift(t, one, score, g, reverse: false)[0];
            var half = sde.GeneralizedDrift(t, one, score, 0.5 * g, reverse: true)[0];
            Assert.True(Math.Abs(2 * reverse * v - g * g - dv) <= 1e-7 * scale, $"{name} s^2={s2}: reverse SDE, {2 * reverse * v - g * g} vs {dv}");
            Assert.True(Math.Abs(2 * flow * v - dv) <= 1e-7 * scale, $"{name} s^2={s2}: PF-ODE, {2 * flow * v} vs {dv}");
            Assert.True(Math.Abs(2 * forward * v + g * g - dv) <= 1e-7 * scale, $"{name} s^2={s2}: forward, {2 * forward * v + g * g} vs {dv}");
            Assert.True(Math.Abs(2 * half * v - 0.25 * g * g - dv) <= 1e-7 * scale, $"{name} s^2={s2}: h = g/2 reversed");
        }
        AssertClose(p.Drift(t), sde.ForwardDrift(t, one)[0], 1e-12, "forward drift is f x");
    }

    // PROC-02: the PF-ODE in alpha, sigma is alpha'/alpha x - alpha^2 (sigma^2/alpha^2)'/2 score = E[alpha' x0 + sigma' eps | x]
    // (PROC-09 check 1 [A]) for a mixture, with the posterior side computed independently of the score.
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void PROC09_PF_ODE_velocity_equals_posterior_expectation_of_alpha_prime_x0_plus_sigma_prime_eps(string name)
    {
        var p = Processes[name];
        var mixture = RandomMixture(new Random(9), 3, 2);
        foreach (var t in new[] { 0.1, 0.5, 0.9 })
        {
            var diffused = mixture.Diffuse(p, t);
            var point = p.At(t);
            var x = diffused.Marginal.Sample(new Random(1));
            var x0 = diffused.PosteriorMean(x);
            var eps = (x - point.Alpha * x0) / point.Sigma;
            var expected = point.AlphaPrime * x0 + point.SigmaPrime * eps;
            AssertClose(expected, LinearSde.Of(p).ProbabilityFlowVelocity(t, x, diffused.Score(x)), 1e-9, $"{name} t={t}");
        }
    }
}
