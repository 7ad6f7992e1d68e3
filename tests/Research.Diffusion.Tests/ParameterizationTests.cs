using Research.Diffusion;
using static Research.Diffusion.Tests.Fixtures;

namespace Research.Diffusion.Tests;

public class ParameterizationTests
{
    static readonly Prediction[] All = Enum.GetValues<Prediction>();

    // PROC-09 check 2 [A]: for every ordered pair (from, to), converting the true from-value of a sample (x0, eps) gives
    // the true to-value, each typed from its definition (eps, x0, score = -eps/sigma, v = alpha eps - sigma x0,
    // velocity = alpha' x0 + sigma' eps). Unlike a round trip, a wrong but invertible coefficient fails. The times
    // cover both sides of alpha = sigma, so both bases of Parameterization.Map are exercised.
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void PROC09_every_conversion_maps_true_values_to_true_values(string name)
    {
        var p = Processes[name];
        var random = new Random(3);
        foreach (var u in new[] { 0.05, 0.3, 0.7, 0.95 })
        {
            var t = u * p.TMax;
            var point = p.At(t);
            var x0 = Vec(random.NextDouble() * 4 - 2, random.NextDouble() * 4 - 2);
            var eps = Vec(random.NextDouble() * 2 - 1, random.NextDouble() * 2 - 1);
            var x = point.Alpha * x0 + point.Sigma * eps;
            var truth = new Dictionary<Prediction, Vector<double>>
            {
                [Prediction.Eps] = eps,
                [Prediction.X0] = x0,
                [Prediction.Score] = -eps / point.Sigma,
                [Prediction.V] = point.Alpha * eps - point.Sigma * x0,
                [Prediction.Velocity] = point.AlphaPrime * x0 + point.SigmaPrime * eps,
            };
            foreach (var from in All)
                foreach (var to in All)
                    AssertClose(truth[to], Parameterization.Convert(point, from, to, x, truth[from]), 1e-10, $"{name} t={t} {from}->{to}");
        }
    }

    // PROC-09: each prediction is the posterior expectation of its target, checked on samples (x0, eps) directly:
    // with the true (x0, eps) in place of the conditional means, the conversions are exact identities.
    [Theory, MemberData(nameof(ProcessNames), MemberType = typeof(Fixtures))]
    public void PROC09_conversions_are_the_defining_identities(string name)
    {
        var p = Processes[name];
        var t = 0.4;
        var point = p.At(t);
        var (x0, eps) = (Vec(0.7, -1.1), Vec(-0.3, 0.9));
        var x = point.Alpha * x0 + point.Sigma * eps;
        AssertClose(x0, Parameterization.X0FromEps(point, x, eps), 1e-12, "x0");
        AssertClose(-eps / point.Sigma, Parameterization.ScoreFromEps(point, x, eps), 1e-12, "score");
        AssertClose(point.Alpha * eps - point.Sigma * x0, Parameterization.VFromEps(point, x, eps), 1e-12, "v");
        AssertClose(point.AlphaPrime * x0 + point.SigmaPrime * eps, Parameterization.VelocityFromEps(point, x, eps), 1e-12, "velocity");
        AssertClose(x0, Parameterization.X0FromScore(point, x, -eps / point.Sigma), 1e-12, "Tweedie");
    }

    // PROC-09: for RF the velocity is u = eps - x0 (the flow-matching target, up to time direction).
    [Fact]
    public void PROC09_RF_velocity_is_eps_minus_x0()
    {
        var point = new RectifiedFlow().At(0.35);
        var (x0, eps) = (Vec(1.5), Vec(-0.4));
        var x = point.Alpha * x0 + point.Sigma * eps;
        AssertClose(eps - x0, Parameterization.VelocityFromX0(point, x, x0), 1e-12, "u");
    }

    // PROC-09 negative control: the VP-only shortcut x0 = alpha x - sigma v agrees with the general conversion on VP
    // and fails on RF (alpha^2 + sigma^2 != 1).
    [Fact]
    public void PROC09_v_prediction_shortcut_is_VP_only()
    {
        var (x0, eps) = (Vec(0.8), Vec(0.5));
        foreach (var (process, shouldHold) in new (NoiseProcess, bool)[] { (new VpLinear(), true), (new RectifiedFlow(), false) })
        {
            var point = process.At(0.5);
            var x = point.Alpha * x0 + point.Sigma * eps;
            var v = Parameterization.VFromEps(point, x, eps);
            AssertClose(x0, Parameterization.X0FromV(point, x, v), 1e-12, $"{process.Name} general");
            var shortcut = point.Alpha * x - point.Sigma * v;
            Assert.Equal(shouldHold, Math.Abs(shortcut[0] - x0[0]) < 1e-12);
        }
    }
}
