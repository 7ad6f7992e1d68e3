using MathNet.Numerics.LinearAlgebra;
using Research.Diffusion;

namespace Research.Diffusion.Tests;

/// <summary>Shared fixtures of docs/claims.md (F1–F8) and its tolerance classes ([A], [Q], [D], [O], [M], [R]).</summary>
public static class Fixtures
{
    /// <summary>Every process family (F6), plus normal forms and a DDPM limit, by name for readable test ids.</summary>
    public static readonly IReadOnlyDictionary<string, NoiseProcess> Processes = new Dictionary<string, NoiseProcess>
    {
        ["VP-linear"] = new VpLinear(),
        ["VP-cosine"] = new VpCosine(),
        ["SD-scaled-linear"] = new VpScaledLinear(),
        ["sub-VP"] = new SubVp(),
        ["VE-geometric"] = new VeGeometric(),
        ["RF"] = new RectifiedFlow(),
        ["EDM"] = new Edm(),
        ["DDPM-linear-limit"] = VpLinear.FromDdpmLinear(),
        ["VP-form-of-RF"] = ProcessConversion.VpNormalForm(new RectifiedFlow()),
        ["VP-form-of-VE"] = ProcessConversion.VpNormalForm(new VeGeometric()),
        ["VE-form-of-VP"] = ProcessConversion.VeNormalForm(new VpLinear()),
        ["VE-form-of-RF"] = ProcessConversion.VeNormalForm(new RectifiedFlow()),
        ["polynomial-convex-2"] = new PolynomialConvex(2.0),
        ["polynomial-convex-0.5"] = new PolynomialConvex(0.5),
        ["linear-VP"] = new LinearVp(),
    };

    public static TheoryData<string> ProcessNames => new(Processes.Keys);

    /// <summary>t in [0.01, 0.98]: section 0.3 keeps RF and VP-cos away from alpha = 0.</summary>
    public static readonly double[] Times = [0.01, 0.03, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98];

    /// <summary>F2 G1: pi = (0.3, 0.7), m = (-1, 1), S = (0.3^2, 0.5^2).</summary>
    public static GaussianMixture G1 => GaussianMixture.OneDimensional([0.3, 0.7], [-1.0, 1.0], [0.09, 0.25]);

    /// <summary>F2 G3: pi = (0.5, 0.3, 0.2), m = (-1.5, 0.5, 2), S = (0.2^2, 0.3^2, 0.15^2).</summary>
    public static GaussianMixture G3 => GaussianMixture.OneDimensional([0.5, 0.3, 0.2], [-1.5, 0.5, 2.0], [0.04, 0.09, 0.0225]);

    /// <summary>
    /// A random mixture as F2's generator: K components in R^d, pi ~ Dirichlet(1) floored at 0.05,
    /// m ~ U[-3, 3]^d, S = L L^T + 0.05 I with L_ij ~ U(-0.7, 0.7); optionally one Dirac atom (S = 0).
    /// </summary>
    public static GaussianMixture RandomMixture(Random random, int components, int dimension, bool withAtom = false)
    {
        var raw = Enumerable.Range(0, components).Select(_ => -Math.Log(1.0 - random.NextDouble())).ToArray();
        var weights = raw.Select(w => Math.Max(w / raw.Sum(), 0.05)).ToArray();
        var means = Enumerable.Range(0, components).Select(_ => Vector<double>.Build.Dense(dimension, _ => -3.0 + 6.0 * random.NextDouble())).ToArray();
        var covariances = Enumerable.Range(0, components).Select(k =>
        {
            if (withAtom && k == 0) return Matrix<double>.Build.Dense(dimension, dimension);
            var l = Matrix<double>.Build.Dense(dimension, dimension, (_, _) => -0.7 + 1.4 * random.NextDouble());
            return l * l.Transpose() + 0.05 * Matrix<double>.Build.DenseIdentity(dimension);
        }).ToArray();
        return new GaussianMixture(weights, means, covariances);
    }

    public static Vector<double> Vec(params double[] values) => Vector<double>.Build.DenseOfArray(values);

    /// <summary>
    /// [D] with the section-15 correction: step 1e-5 delta with delta = min(1, t, 1 - t) (1 - t dropped for
    /// processes whose TMax is not 1); returns the central difference and the scale max(|f'|, |f|/delta)
    /// against which 1e-7 relative is judged.
    /// </summary>
    public static (double Derivative, double Scale) CentralDifference(Func<double, double> f, double t, double tMax = 1.0)
    {
        var delta = Math.Min(1.0, tMax == 1.0 ? Math.Min(t, 1.0 - t) : t);
        var h = 1e-5 * delta;
        var derivative = (f(t + h) - f(t - h)) / (2.0 * h);
        return (derivative, Math.Max(Math.Abs(derivative), Math.Abs(f(t)) / delta));
    }

    /// <summary>[D]: |analytic - FD| &lt;= 1e-7 max(|f'|, |f|/delta).</summary>
    public static void AssertDerivative(Func<double, double> f, double analytic, double t, double tMax, string what)
    {
        var (fd, scale) = CentralDifference(f, t, tMax);
        Assert.True(Math.Abs(analytic - fd) <= 1e-7 * scale, $"{what} at t={t}: analytic {analytic:R}, FD {fd:R}, scale {scale:R}");
    }

    /// <summary>[A]: |a - b| &lt;= tol max(1, |a|, |b|).</summary>
    public static void AssertClose(double expected, double actual, double tolerance, string what = "")
    {
        var scale = Math.Max(1.0, Math.Max(Math.Abs(expected), Math.Abs(actual)));
        Assert.True(Math.Abs(expected - actual) <= tolerance * scale, $"{what}: expected {expected:R}, got {actual:R}, diff {Math.Abs(expected - actual):E3}");
    }

    /// <summary>[A] relative: |a - b| &lt;= tol |a|, for quantities that are small but exact.</summary>
    public static void AssertRelative(double expected, double actual, double tolerance, string what = "")
    {
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Abs(expected), $"{what}: expected {expected:R}, got {actual:R}, rel {Math.Abs(expected - actual) / Math.Abs(expected):E3}");
    }

    public static void AssertClose(Vector<double> expected, Vector<double> actual, double tolerance, string what = "")
    {
        for (var i = 0; i < expected.Count; i++) AssertClose(expected[i], actual[i], tolerance, $"{what}[{i}]");
    }

    /// <summary>Classical RK4 with fixed steps, the ODE integrator of the [O] checks (errors O(h^4), well below 1e-7 at the step counts used).</summary>
    public static Vector<double> Rk4(Func<double, Vector<double>, Vector<double>> f, Vector<double> y, double from, double to, int steps)
    {
        var h = (to - from) / steps;
        for (var i = 0; i < steps; i++)
        {
            var t = from + i * h;
            var k1 = f(t, y);
            var k2 = f(t + 0.5 * h, y + 0.5 * h * k1);
            var k3 = f(t + 0.5 * h, y + 0.5 * h * k2);
            var k4 = f(t + h, y + h * k3);
            y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        }
        return y;
    }
}
