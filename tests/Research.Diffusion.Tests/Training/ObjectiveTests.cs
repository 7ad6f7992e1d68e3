using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

/// <summary>The training objective against closed forms: for Gaussian data N(mu, s² I) the posterior of eps
/// given x_t is Gaussian with per-coordinate variance alpha² s² / (alpha² s² + sigma²), so the expected loss of the
/// exact denoiser (the irreducible loss) is known for every target and weighting.</summary>
public class ObjectiveTests
{
    private const double S = 0.7;                       // data standard deviation
    private static readonly double[] Mu = [0.5, -1.0];   // data mean, d = 2

    /// <summary>A time law concentrated at one time, to compare with the closed form at that t.</summary>
    private sealed record At(double T) : TimeDistribution
    {
        public override double[] Sample(NoiseProcess process, int n, Generator generator) => Enumerable.Repeat(T, n).ToArray();
    }

    private static GaussianMixture Data() => new([1.0],
        [MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(Mu)],
        [MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseIdentity(2) * (S * S)]);

    private static double IrreducibleEpsError(ProcessPoint p) =>
        p.Alpha * p.Alpha * S * S / (p.Alpha * p.Alpha * S * S + p.Sigma * p.Sigma);

    /// <summary>The exact model's output in the objective's target space (x_0^ from the library's mixture posterior, then converted).</summary>
    private static Func<Tensor, double[], Tensor> ExactPrediction(DiffusionObjective objective, TensorMixture mixture) => (xt, times) =>
    {
        var t = times[0];   // one time per call in these tests
        var p = objective.Process.At(t);
        using var scope = NewDisposeScope();
        var x0 = mixture.PosteriorMean(xt, p);
        var result = objective.Target switch
        {
            TrainingTarget.Parameterized q => TensorParameterization.Convert(p, Prediction.X0, q.Prediction, xt, x0),
            TrainingTarget.Preconditioned c => (x0 - xt / p.Alpha * c.Preconditioning.CSkip(p.Sigma / p.Alpha)) / c.Preconditioning.COut(p.Sigma / p.Alpha),
            _ => throw new NotSupportedException(),
        };
        return result.MoveToOuterScope();
    };

    private static Tensor DataBatch(int n, Generator g) =>
        randn([n, 2], ScalarType.Float64, generator: g) * S + tensor(Mu);

    public static IEnumerable<object[]> Cases()
    {
        LossWeighting[] weightings = [new LossWeighting.Unweighted(), new LossWeighting.Snr(), new LossWeighting.MinSnr(5.0), new LossWeighting.EdmLambda()];
        foreach (var w in weightings)
        {
            foreach (var target in new[] { TrainingTarget.Eps, TrainingTarget.X0, TrainingTarget.V, TrainingTarget.Score, TrainingTarget.Velocity })
                foreach (var t in new[] { 0.1, 0.5, 0.9 })
                    yield return [new DiffusionObjective(new VpLinear(), target, new At(t), w), t];
            foreach (var t in new[] { 0.05, 1.0, 20.0 })
                yield return [new DiffusionObjective(new Edm(), TrainingTarget.Edm(), new At(t), w), t];
        }
        yield return [new DiffusionObjective(new RectifiedFlow(), TrainingTarget.Velocity, new At(0.3), new LossWeighting.Unweighted()), 0.3];
        yield return [new DiffusionObjective(new VeGeometric(), TrainingTarget.Score, new At(0.4), new LossWeighting.Snr()), 0.4];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_exact_denoiser_attains_the_irreducible_loss_for_every_target_and_weighting(DiffusionObjective objective, double t)
    {
        using var mixture = new TensorMixture(Data());
        using var g = new Generator(11);
        using var scope = NewDisposeScope();
        var losses = objective.Loss(DataBatch(20_000, g), g, ExactPrediction(objective, mixture));
        double mean = losses.mean().ToDouble(), se = losses.std().ToDouble() / Math.Sqrt(losses.size(0));
        var p = objective.Process.At(t);
        var scale = objective.TargetScale(t);
        // Unweighted: the target's own error, s² times the eps error; otherwise the eps-space weight times the eps error.
        var expected = (objective.Weighting is LossWeighting.Unweighted ? scale * scale : objective.Weighting.EpsWeight(p)) * IrreducibleEpsError(p);
        Assert.True(Math.Abs(mean - expected) <= 5 * se + 1e-12 * expected,
            $"{objective}: E loss = {mean:G6} ± {se:G3}, irreducible {expected:G6}");
    }

    [Fact]
    public void Targets_differ_exactly_by_their_squared_error_scale()
    {
        // The same (t, eps) stream and one eps-model read in every target: per-sample losses are s(t)² times the eps loss.
        var process = new VpCosine();
        Func<Tensor, double[], Tensor> EpsModel(TrainingTarget target) => (xt, times) =>
        {
            using var scope = NewDisposeScope();
            var eps = xt * 0.3 + 0.1;   // any fixed, wrong model
            var q = (TrainingTarget.Parameterized)target;
            return TensorParameterization.Convert(process.At(times[0]), Prediction.Eps, q.Prediction, xt, eps).MoveToOuterScope();
        };
        var times = new At(0.37);
        var epsObjective = new DiffusionObjective(process, TrainingTarget.Eps, times, new LossWeighting.Unweighted());
        Tensor Losses(DiffusionObjective o)
        {
            using var g = new Generator(5);
            using var data = DataBatch(64, g);
            return o.Loss(data, g, EpsModel(o.Target));
        }
        using var reference = Losses(epsObjective);
        foreach (var target in new[] { TrainingTarget.X0, TrainingTarget.V, TrainingTarget.Score, TrainingTarget.Velocity })
        {
            var o = epsObjective with { Target = target };
            var s = o.TargetScale(0.37);
            using var losses = Losses(o);
            using var ratio = losses / reference;
            Assert.True(ratio.sub(s * s).abs().max().ToDouble() <= 1e-10 * s * s, $"{target}: loss ratio is not s² = {s * s:G6}");
            // and every eps-space weighting gives the same weighted loss whatever the target
            using var weighted = Losses(o with { Weighting = new LossWeighting.MinSnr(2.0) });
            using var weightedEps = Losses(epsObjective with { Weighting = new LossWeighting.MinSnr(2.0) });
            Assert.True(weighted.allclose(weightedEps, 1e-10, 0), $"{target}: min-SNR weighted loss depends on the target");
        }
    }

    [Fact]
    public void A_wrong_conversion_is_caught()
    {
        // Negative control: x_0 = alpha x - sigma v holds only on VP; used on EDM (alpha = 1, sigma = t) it gives
        // the wrong v, and the check above must reject it by far more than 5 standard errors.
        var objective = new DiffusionObjective(new Edm(), TrainingTarget.V, new At(2.0), new LossWeighting.Unweighted());
        using var mixture = new TensorMixture(Data());
        using var g = new Generator(3);
        using var scope = NewDisposeScope();
        Func<Tensor, double[], Tensor> wrongV = (xt, times) =>
        {
            var p = objective.Process.At(times[0]);
            var x0 = mixture.PosteriorMean(xt, p);
            return (xt * p.Alpha - x0) / p.Sigma;   // solves x_0 = alpha x - sigma v: VP-only
        };
        var losses = objective.Loss(DataBatch(20_000, g), g, wrongV);
        double mean = losses.mean().ToDouble(), se = losses.std().ToDouble() / Math.Sqrt(losses.size(0));
        var p = objective.Process.At(2.0);
        var s = objective.TargetScale(2.0);
        var expected = s * s * IrreducibleEpsError(p);
        Assert.True(Math.Abs(mean - expected) > 20 * se, $"the VP-only v conversion on EDM went undetected: {mean:G6} vs {expected:G6} ± {se:G3}");
    }

    [Fact]
    public void The_table_process_reproduces_the_DDPM_table_at_every_step()
    {
        var schedule = DdpmSchedule.Linear();
        var process = new DdpmTableProcess(schedule);
        for (var k = 0; k <= schedule.Steps; k++)
        {
            var t = process.TimeOfStep(k);
            // exp(-B) with B a sum of 1000 logs: round-off of a few ulps
            Assert.InRange(process.Alpha(t) * process.Alpha(t) - schedule.AlphaBar(k), -1e-13, 1e-13);
            Assert.InRange(process.Sigma(t) * process.Sigma(t) - (1.0 - schedule.AlphaBar(k)), -1e-13, 1e-13);
            Assert.InRange(process.TimeAtIntegratedBeta(process.IntegratedBeta(t)) - t, -1e-12, 1e-12);
        }
        Assert.Equal(4.0358e-5, schedule.AlphaBar(1000), 9);   // FIG-12's value for the linear table
        // between steps B is linear, so beta is the step's constant
        Assert.Equal(1000 * -Math.Log(1 - schedule.Beta(500)), process.Beta(0.4995), 10);
    }

    [Fact]
    public void Ddpm_ancestral_sampling_on_the_table_process_is_Ho_et_al_algorithm_2()
    {
        var schedule = DdpmSchedule.Linear(50, 1e-3, 0.2);
        var objective = DiffusionObjective.Ddpm(schedule);
        Tensor EpsModel(Tensor x, Tensor t) => x * t.unsqueeze(1) * 0.5 + 0.05;   // any model of (x, k/T)
        var grid = Enumerable.Range(0, schedule.Steps + 1).Select(i => (double)(schedule.Steps - i) / schedule.Steps).ToArray();
        using var g1 = new Generator(9);
        using var start = randn([16, 2], ScalarType.Float64, generator: g1);
        var model = objective.Denoiser((x, t, _) => EpsModel(x, t)).Unconditional();
        using var library = Samplers.DdpmAncestral.Sample(model, objective.Process, grid, start, g1).X;

        // Algorithm 2 written out: x_{k-1} = (x_k - beta_k / sqrt(1 - abar_k) eps) / sqrt(1 - beta_k) + sqrt(beta~_k) z.
        using var g2 = new Generator(9);
        using var scope = NewDisposeScope();
        var x = randn([16, 2], ScalarType.Float64, generator: g2);
        for (var k = schedule.Steps; k >= 1; k--)
        {
            double beta = schedule.Beta(k), abar = schedule.AlphaBar(k), abarPrev = schedule.AlphaBar(k - 1);
            var eps = EpsModel(x, full([16], (double)k / schedule.Steps, ScalarType.Float64));
            x = (x - eps * (beta / Math.Sqrt(1 - abar))) / Math.Sqrt(1 - beta);
            if (k > 1) x = x + randn([16, 2], ScalarType.Float64, generator: g2) * Math.Sqrt((1 - abarPrev) / (1 - abar) * beta);
        }
        Assert.True(library.sub(x).abs().max().ToDouble() < 1e-10, "the library's DDPM ancestral sampler differs from Algorithm 2");
    }
}
