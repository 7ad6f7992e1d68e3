using Research.Diffusion;
using Research.Torch;
using static Research.Diffusion.Tests.Fixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

/// <summary>
/// A model of one process read under another (<see cref="Denoiser.Under"/>, PROC-08) at both ends of the second
/// process's time interval, for every pair of the seven families. At t = 0 (sigma = 0) the x_0 prediction is x / alpha;
/// at t = TMax the predictions have finite limits even where alpha = 0 (RF, and VP-cosine up to 6e-17), and a process
/// that never reaches varsigma = inf cannot be matched to one that does: that must be a clear error, not NaN.
/// </summary>
public class EndpointConversionTests
{
    static readonly Func<NoiseProcess>[] Families =
    [
        () => new VpLinear(), () => new VpCosine(), () => new VpScaledLinear(), () => new SubVp(), () => new VeGeometric(),
        () => new Edm(), () => new RectifiedFlow(),
    ];

    public static TheoryData<int, int> Pairs()
    {
        var data = new TheoryData<int, int>();
        for (var a = 0; a < Families.Length; a++)
            for (var b = 0; b < Families.Length; b++) data.Add(a, b);
        return data;
    }

    static readonly Prediction[] Targets = [Prediction.X0, Prediction.Eps, Prediction.V, Prediction.Velocity];

    /// <summary>
    /// The value at the endpoint must be finite and equal the value just inside it: 1e-4 relative at a distance of
    /// 1e-9 TMax, far above the O(sqrt(1e-9)) change of sqrt-like schedules and far below an O(1) error.
    /// </summary>
    static void AssertLimit(Tensor atEnd, Tensor inside, string what)
    {
        var (end, near) = (TensorFixtures.Values(atEnd), TensorFixtures.Values(inside));
        for (var i = 0; i < end.Length; i++)
        {
            Assert.True(double.IsFinite(end[i]), $"{what}: {end[i]} at the endpoint");
            Assert.True(Math.Abs(end[i] - near[i]) <= 1e-4 * Math.Max(1.0, Math.Abs(near[i])), $"{what}: endpoint {end[i]:R}, inside {near[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Model_of_one_process_read_under_another_at_both_endpoints(int modelFamily, int samplingFamily)
    {
        var (a, b) = (Families[modelFamily](), Families[samplingFamily]());
        using var mixture = new TensorMixture(G1);
        var exact = mixture.Denoiser(a);
        // A flow-matching-style model of a: the exact velocity (x_0 basis at alpha = 0, finite there).
        var velocityModel = new Denoiser(a, Prediction.Velocity, (x, t) => TensorParameterization.Convert(a.At(t), Prediction.X0, Prediction.Velocity, x, exact.Evaluate(x, t)));
        using var x = tensor(new[] { -1.3, 0.2, 2.5 }, [3, 1]);
        var (under, underVelocity) = (exact.Under(b), velocityModel.Under(b));

        // t = 0: sigma = 0, so E[x_0 | x] = x / alpha(0) = x, for every model; eps is not determined there.
        using (var scope = NewDisposeScope())
        {
            AssertLimit(under.Predict(Prediction.X0, x, 0.0), x, $"{a} under {b}, x0 at t = 0");
            AssertLimit(under.Predict(Prediction.X0, x, 0.0), under.Predict(Prediction.X0, x, 1e-9 * b.TMax), $"{a} under {b}, x0 limit at t = 0");
            Assert.Throws<ArgumentException>(() => under.Predict(Prediction.Eps, x, 0.0));
        }

        // t = TMax: every target from both models equals its limit, unless b reaches varsigma = inf and a does not.
        var end = b.TMax;
        var matchable = double.IsFinite(a.TimeAtVarsigma(b.Varsigma(end)));
        Assert.Equal(!double.IsPositiveInfinity(b.Varsigma(end)) || a is RectifiedFlow or VpCosine, matchable);
        foreach (var model in new[] { under, underVelocity })
            foreach (var target in Targets)
            {
                using var scope = NewDisposeScope();
                // VP-cosine's alpha(1) is 6e-17 in float64, so its varsigma(1) = 1.6e16 is finite, and a process of alpha = 1
                // (VE, EDM) matches it at sigma = 1.6e16, where the velocity sigma' (x - x_0) / sigma carries x_0 only at relative
                // size 1e-16: ill-conditioned, not singular, so only the x_0 model is checked there.
                if (model == underVelocity && b is VpCosine && a.Alpha(a.TMax) == 1.0) continue;
                if (!matchable)
                {
                    var error = Assert.Throws<ArgumentException>(() => model.Predict(target, x, end));
                    Assert.Contains("never reaches", error.Message);
                    continue;
                }
                AssertLimit(model.Predict(target, x, end), model.Predict(target, x, end * (1.0 - 1e-9)), $"{a} ({model.Prediction}) under {b}, {target} at TMax");
            }
    }

    // The example: a rectified-flow velocity model sampled on VP-cosine, evaluated at t = 1, gives the
    // limit of x_0 = E[x_0] (the data mean, since alpha = 0 leaves x uninformative), not NaN.
    [Fact]
    public void Rectified_flow_model_under_cosine_at_t1_predicts_the_data_mean()
    {
        var rf = new RectifiedFlow();
        using var mixture = new TensorMixture(G1);
        var exact = mixture.Denoiser(rf);
        var velocityModel = new Denoiser(rf, Prediction.Velocity, (x, t) => TensorParameterization.Convert(rf.At(t), Prediction.X0, Prediction.Velocity, x, exact.Evaluate(x, t)));
        using var x = tensor(new[] { -1.3, 0.2, 2.5 }, [3, 1]);
        using var x0 = velocityModel.Under(new VpCosine()).Predict(Prediction.X0, x, 1.0);
        var mean = 0.3 * -1.0 + 0.7 * 1.0;
        foreach (var v in TensorFixtures.Values(x0)) Assert.Equal(mean, v, 12);
    }

    // At alpha = 0, x = sigma eps: an eps or score prediction carries no information about x_0.
    [Fact]
    public void Eps_prediction_at_alpha_zero_cannot_give_x0()
    {
        var point = new RectifiedFlow().At(1.0);
        Assert.Throws<ArgumentException>(() => Parameterization.Map(point, Prediction.Eps, Prediction.X0));
        Assert.Throws<ArgumentException>(() => Parameterization.Map(point, Prediction.Score, Prediction.Velocity));
        // ...while x_0 determines every other prediction there: eps = x / sigma.
        Assert.Equal(new AffineMap(1.0, 0.0), Parameterization.Map(point, Prediction.X0, Prediction.Eps));
    }
}
