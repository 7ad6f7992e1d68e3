using Research.Diffusion;
using static Research.Diffusion.Tests.Fixtures;

namespace Research.Diffusion.Tests;

public class ConversionTests
{
    // PROC-06 check 1 [A]: PROC-02's g^2 and f from (alpha, sigma) equal the table's SDE coefficients.
    // 1e-10: beta (1 - alpha^4) and 2t/(1 - t) cancel mildly near the ends.
    [Fact]
    public void PROC06_classification_table_SDE_coefficients()
    {
        var vp = new VpLinear();
        var subVp = new SubVp(vp);
        var ve = new VeGeometric();
        var rf = new RectifiedFlow();
        foreach (var t in Times)
        {
            AssertClose(vp.Beta(t), vp.DiffusionSquared(t), 1e-10, "VP g^2 = beta");
            AssertClose(-0.5 * vp.Beta(t), vp.Drift(t), 1e-12, "VP f = -beta/2");
            AssertClose(vp.Beta(t) * (1 - Math.Pow(vp.Alpha(t), 4)), subVp.DiffusionSquared(t), 1e-10, "sub-VP g^2 = beta (1 - e^{-2B})");
            AssertClose(-0.5 * vp.Beta(t), subVp.Drift(t), 1e-12, "sub-VP f");
            // VE row: g^2 = d/dt sigma^2 = 2 sigmaMin^2 log(sigmaMax/sigmaMin) (sigmaMax/sigmaMin)^(2t), from sigma^2's closed form.
            var ratio = ve.SigmaMax / ve.SigmaMin;
            AssertClose(2 * ve.SigmaMin * ve.SigmaMin * Math.Log(ratio) * Math.Pow(ratio, 2 * t), ve.DiffusionSquared(t), 1e-12, "VE g^2 = (sigma^2)'");
            Assert.Equal(0.0, ve.Drift(t));
            AssertClose(-1 / (1 - t), rf.Drift(t), 1e-12, "RF f");
            AssertClose(2 * t / (1 - t), rf.DiffusionSquared(t), 1e-10, "RF g^2");
            // RF row: g^2 = beta (1 - e^{-B/2}) with beta = -2f, e^{-B/2} = alpha.
            AssertClose(-2 * rf.Drift(t) * (1 - rf.Alpha(t)), rf.DiffusionSquared(t), 1e-10, "RF g^2 = beta (1 - alpha)");
            Assert.True(Math.Pow(subVp.Sigma(t), 2) <= 1 - Math.Pow(subVp.Alpha(t), 2), "sub-VP sigma^2 <= 1 - alpha^2");
        }
    }

    // PROC-06 check 3 [A]: alpha(varsigma) and sigma(varsigma) of the table reproduce alpha_t and sigma_t.
    [Fact]
    public void PROC06_alpha_and_sigma_as_functions_of_varsigma()
    {
        var rows = new (NoiseProcess Process, Func<double, double> Alpha)[]
        {
            (new VeGeometric(), _ => 1.0),
            (new VpLinear(), s => 1 / Math.Sqrt(1 + s * s)),
            (new SubVp(), s => 0.5 * (-s + Math.Sqrt(s * s + 4))),
            (new RectifiedFlow(), s => 1 / (1 + s)),
        };
        foreach (var (process, alphaOf) in rows)
            foreach (var t in Times)
            {
                var s = process.Varsigma(t);
                AssertClose(process.Alpha(t), alphaOf(s), 1e-12, $"{process.Name} alpha(varsigma)");
                AssertClose(process.Sigma(t), s * alphaOf(s), 1e-12, $"{process.Name} sigma = varsigma alpha");
            }
    }

    // PROC-06 check 2 and its negative control [Q]: PROC-01 quadrature with the table's sub-VP g^2 = beta (1 - e^{-2B})
    // reproduces sigma = 1 - alpha^2; the wrong e^{-B} misses by far more than 1e-9.
    [Fact]
    public void PROC06_subVP_relation_by_quadrature_and_negative_control()
    {
        var vp = new VpLinear();
        double Sigma2(Func<double, double> g2) => new LinearSde(s => -0.5 * vp.Beta(s), g2).ConditionalLaw(0.5).SigmaSquared;
        var expected = Math.Pow(1 - Math.Pow(vp.Alpha(0.5), 2), 2);
        AssertRelative(expected, Sigma2(s => vp.Beta(s) * (1 - Math.Exp(-2 * vp.IntegratedBeta(s)))), 1e-9, "e^{-2B}");
        Assert.True(Math.Abs(Sigma2(s => vp.Beta(s) * (1 - Math.Exp(-vp.IntegratedBeta(s)))) - expected) > 1e-3 * expected, "e^{-B} must fail");
    }

    // PROC-07 check 1 [A]/[D]: the VP normal form is VP, and its beta^ = g^2/(alpha^2 + sigma^2) = d/dt log(1 + varsigma^2),
    // with f^ = -beta^/2.
    [Theory]
    [InlineData("RF")]
    [InlineData("VE-geometric")]
    [InlineData("sub-VP")]
    [InlineData("SD-scaled-linear")]
    [InlineData("EDM")]
    public void PROC07_VP_normal_form_coefficients(string name)
    {
        var p = Processes[name];
        var vpForm = ProcessConversion.VpNormalForm(p);
        foreach (var t in Times)
        {
            var (alpha, sigma) = (p.Alpha(t), p.Sigma(t));
            var betaHat = p.DiffusionSquared(t) / (alpha * alpha + sigma * sigma);
            AssertClose(betaHat, vpForm.DiffusionSquared(t), 1e-10, $"{name} beta^");
            AssertClose(-0.5 * betaHat, vpForm.Drift(t), 1e-10, $"{name} f^");
            AssertClose(1.0, Math.Pow(vpForm.Alpha(t), 2) + Math.Pow(vpForm.Sigma(t), 2), 1e-12, $"{name} alpha^2 + sigma^2");
            // (log(1 + varsigma^2))' = (varsigma^2)'/(1 + varsigma^2); FD of varsigma^2 itself, since log(1 + tiny) would
            // bury the difference in rounding of the 1 (the [D] scale sees only |log(1 + varsigma^2)| ~ 0).
            var c2 = 1 + Math.Pow(p.Varsigma(t), 2);
            AssertDerivative(s => Math.Pow(p.Varsigma(s), 2) / c2, betaHat, t, p.TMax, $"{name} beta^ = (log(1 + varsigma^2))'");
            // alpha sigma' - sigma alpha' = alpha^3 (sigma^2/alpha^2)' / (2 sigma).
            AssertClose(alpha * p.SigmaPrime(t) - sigma * p.AlphaPrime(t), alpha * p.DiffusionSquared(t) / (2 * sigma), 1e-10, $"{name} intermediate identity");
        }
    }

    // PROC-07 check 2 [O]: the original PF-ODE x(t) and the VP-form PF-ODE x^(t) started at x^(t0) = x(t0)/c(t0)
    // stay related by x^ = x/c up to t = 0.98; the VP-form score is the exact score of the VP-form mixture, and equals
    // c times the original score (MapScore). RK4, 2000 steps: error ~1e-9, below [O] 1e-7.
    [Theory]
    [InlineData("RF")]
    [InlineData("VE-geometric")]
    [InlineData("sub-VP")]
    public void PROC07_PF_ODE_in_VP_normal_form_tracks_the_original(string name)
    {
        var p = Processes[name];
        var vpForm = (VpNormalForm)ProcessConversion.VpNormalForm(p);
        var mixture = RandomMixture(new Random(21), 3, 2);
        var x0 = Vec(0.4, -0.9);
        Vector<double> Original(double t, Vector<double> x) => LinearSde.Of(p).ProbabilityFlowVelocity(t, x, mixture.Diffuse(p, t).Score(x));
        Vector<double> Normal(double t, Vector<double> x) => LinearSde.Of(vpForm).ProbabilityFlowVelocity(t, x, mixture.Diffuse(vpForm, t).Score(x));
        var (t0, t1) = (0.01, 0.98);
        var x = Rk4(Original, x0, t0, t1, 2000);
        var xHat = Rk4(Normal, x0 / vpForm.Scale(t0), t0, t1, 2000);
        AssertClose(x / vpForm.Scale(t1), xHat, 1e-7, $"{name} x^ = x/c");
        var score = mixture.Diffuse(p, 0.5).Score(x0);
        AssertClose(mixture.Diffuse(vpForm, 0.5).Score(x0 / vpForm.Scale(0.5)), ProcessConversion.MapScore(score, 1 / vpForm.Scale(0.5)), 1e-10, "score^ = c score");
    }

    // PROC-08 [O]: dx^/dvarsigma = eps^(alpha x^, t(varsigma)) is the same ODE for every process with F2 data, so the
    // trajectories of VP-linear, VP-cosine, RF and VE-geometric coincide, and match each process's own PF-ODE in t
    // after x^ = x/alpha. RK4, 2000 steps in varsigma on [0.2, 5].
    [Fact]
    public void PROC08_all_processes_give_one_ODE_in_varsigma()
    {
        var mixture = RandomMixture(new Random(31), 3, 2);
        var (s0, s1) = (0.2, 5.0);
        var start = Vec(0.3, 1.1);
        var processes = new NoiseProcess[] { new VpLinear(), new VpCosine(), new RectifiedFlow(), new VeGeometric() };
        Vector<double> InVarsigma(NoiseProcess p) => Rk4((s, xHat) =>
        {
            var t = p.TimeAtVarsigma(s);
            return mixture.Diffuse(p, t).Predict(Prediction.Eps, p.Alpha(t) * xHat);
        }, start, s0, s1, 2000);
        var reference = InVarsigma(processes[0]);
        foreach (var p in processes.Skip(1)) AssertClose(reference, InVarsigma(p), 1e-7, $"{p.Name} vs VP-linear");

        foreach (var p in processes)
        {
            var (t0, t1) = (p.TimeAtVarsigma(s0), p.TimeAtVarsigma(s1));
            var x = Rk4((t, y) => LinearSde.Of(p).ProbabilityFlowVelocity(t, y, mixture.Diffuse(p, t).Score(y)), p.Alpha(t0) * start, t0, t1, 4000);
            AssertClose(reference, x / p.Alpha(t1), 1e-7, $"{p.Name} PF-ODE in t");
        }
    }

    // PROC-08 / DESIGN "conversions": mapping (x, t) between processes with the same varsigma preserves the denoiser,
    // E[x0 | x_t = x] under one process = E[x0 | x'_{t'} = k x] under the other.
    [Fact]
    public void PROC08_state_map_preserves_the_denoiser()
    {
        var mixture = RandomMixture(new Random(41), 2, 2);
        var from = new VpCosine();
        var x = Vec(0.2, -0.6);
        foreach (var to in new NoiseProcess[] { new RectifiedFlow(), new VeGeometric(), new SubVp(), new VpScaledLinear(), new Edm() })
        {
            var (mapped, t) = ProcessConversion.MapState(from, to, x, 0.6);
            AssertClose(from.Varsigma(0.6), to.Varsigma(t), 1e-10, $"{to.Name} varsigma");
            AssertClose(mixture.Diffuse(from, 0.6).PosteriorMean(x), mixture.Diffuse(to, t).PosteriorMean(mapped), 1e-9, $"{to.Name} denoiser");
        }
    }

    // PROC-08 [A]: the VE normal form has alpha = 1, sigma = varsigma, and g^2 = (varsigma^2)' = g^2/alpha^2 of the original.
    [Theory]
    [InlineData("VP-linear")]
    [InlineData("RF")]
    [InlineData("sub-VP")]
    public void PROC08_VE_normal_form_coefficients(string name)
    {
        var p = Processes[name];
        var veForm = ProcessConversion.VeNormalForm(p);
        foreach (var t in Times)
        {
            Assert.Equal(1.0, veForm.Alpha(t));
            AssertClose(p.Varsigma(t), veForm.Sigma(t), 1e-15);
            AssertClose(p.DiffusionSquared(t) / Math.Pow(p.Alpha(t), 2), veForm.DiffusionSquared(t), 1e-12);
            AssertDerivative(s => Math.Pow(p.Varsigma(s), 2), veForm.DiffusionSquared(t), t, p.TMax, $"{name} (varsigma^2)'");
        }
    }
}
