using MathNet.Numerics.Integration;
using MathNet.Numerics.LinearAlgebra;

namespace Research.Diffusion;

/// <summary>
/// The scalar-coefficient linear SDE dx = f(t) x dt + g(t) dw. Its forward drift, reverse drift and
/// PF-ODE velocity are members of one family with a free noise scale h(t) (SDE-03, SDE-04, SDE-05),
/// written once in <see cref="GeneralizedDrift"/>.
/// </summary>
public sealed class LinearSde(Func<double, double> drift, Func<double, double> diffusionSquared)
{
    /// <summary>f(t).</summary>
    public Func<double, double> F { get; } = drift;

    /// <summary>g(t)^2.</summary>
    public Func<double, double> GSquared { get; } = diffusionSquared;

    /// <summary>The SDE of a noise process: f = alpha'/alpha, g^2 = alpha^2 (sigma^2/alpha^2)' (PROC-02).</summary>
    public static LinearSde Of(NoiseProcess process) => new(process.Drift, process.DiffusionSquared);

    /// <summary>g(t) = sqrt(g^2), with g^2 clamped at 0 against rounding.</summary>
    public double G(double t) => Math.Sqrt(Math.Max(0.0, GSquared(t)));

    /// <summary>
    /// Drift of the h-family that shares the marginals p_t (SDE-04, SDE-05). Forward in time:
    /// f x - (g^2 - h^2)/2 score, with noise h dw. Reverse (t decreasing, reverse Brownian motion):
    /// f x - (g^2 + h^2)/2 score, with noise h dw-bar. The returned vector is dx/dt in both cases.
    /// </summary>
    public Vector<double> GeneralizedDrift(double t, Vector<double> x, Vector<double> score, double h, bool reverse)
    {
        var h2 = reverse ? -h * h : h * h;
        return F(t) * x - 0.5 * (GSquared(t) - h2) * score;
    }

    /// <summary>f(t) x, the drift of the forward SDE (h = g, forward).</summary>
    public Vector<double> ForwardDrift(double t, Vector<double> x) => F(t) * x;

    /// <summary>f x - g^2 score: the reverse-time SDE of Anderson (1982), noise g dw-bar (SDE-05).</summary>
    public Vector<double> ReverseDrift(double t, Vector<double> x, Vector<double> score) => GeneralizedDrift(t, x, score, G(t), reverse: true);

    /// <summary>f x - g^2/2 score: the probability-flow ODE (SDE-03; h = 0).</summary>
    public Vector<double> ProbabilityFlowVelocity(double t, Vector<double> x, Vector<double> score) => GeneralizedDrift(t, x, score, 0.0, reverse: false);

    /// <summary>
    /// The law of x_t given x_0 from the coefficients alone (PROC-01): x_t | x_0 ~ N(alpha x_0, sigma^2 I)
    /// with alpha = exp(int_0^t f) and sigma^2 = alpha^2 int_0^t g^2 / alpha_s^2 ds, both by adaptive
    /// Gauss–Kronrod. Independent of any closed form, so it checks a process's alpha and sigma.
    /// </summary>
    public (double Alpha, double SigmaSquared) ConditionalLaw(double t, double relativeTolerance = 1e-13)
    {
        double LogAlpha(double s) => s == 0.0 ? 0.0 : Integrate(F, 0.0, s, relativeTolerance);
        var logAlpha = LogAlpha(t);
        var integral = t == 0.0 ? 0.0 : Integrate(s => GSquared(s) * Math.Exp(-2.0 * LogAlpha(s)), 0.0, t, relativeTolerance);
        var alpha = Math.Exp(logAlpha);
        return (alpha, alpha * alpha * integral);
    }

    static double Integrate(Func<double, double> f, double a, double b, double relativeTolerance) =>
        GaussKronrodRule.Integrate(f, a, b, out _, out _, relativeTolerance, maximumDepth: 30, order: 21);
}
