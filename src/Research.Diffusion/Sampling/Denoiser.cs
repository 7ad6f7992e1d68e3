using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>The conversions of <see cref="Parameterization"/> applied to tensors (the same affine maps, PROC-09).</summary>
public static class TensorParameterization
{
    /// <summary>OnX x + OnInput input; a zero coefficient contributes no term (and no 0 * inf).</summary>
    public static Tensor Apply(this AffineMap map, Tensor x, Tensor input) =>
        map.OnX == 0.0 ? input * map.OnInput : x * map.OnX + input * map.OnInput;

    /// <summary>A <paramref name="from"/>-prediction at (x, t) converted to a <paramref name="to"/>-prediction.</summary>
    public static Tensor Convert(ProcessPoint p, Prediction from, Prediction to, Tensor x, Tensor value) =>
        from == to ? value.alias() : Parameterization.Map(p, from, to).Apply(x, value);
}

/// <summary>
/// A model of the diffusion of some data under <see cref="Process"/>: at (x_t as a [batch, ...] tensor, t) it
/// returns a prediction of the declared kind (eps, x_0, v, score or velocity). The exact Gaussian-mixture
/// denoiser and a trained network are both Denoisers; samplers ask for the prediction they need through
/// <see cref="Predict"/>, so one conversion module (<see cref="Parameterization"/>) serves every pairing.
/// A Denoiser holds no state between calls.
/// </summary>
public sealed class Denoiser(NoiseProcess process, Prediction prediction, Func<Tensor, double, Tensor> evaluate)
{
    /// <summary>The process whose (alpha, sigma) the model was trained on; its predictions are in this process's x and t.</summary>
    public NoiseProcess Process { get; } = process;

    /// <summary>What <see cref="Evaluate"/> returns.</summary>
    public Prediction Prediction { get; } = prediction;

    /// <summary>The raw model output at (x, t), in <see cref="Prediction"/> form.</summary>
    public Tensor Evaluate(Tensor x, double t) => evaluate(x, t);

    /// <summary>The model output converted to <paramref name="target"/> (PROC-09).</summary>
    public Tensor Predict(Prediction target, Tensor x, double t)
    {
        using var scope = NewDisposeScope();
        return TensorParameterization.Convert(Process.At(t), Prediction, target, x, evaluate(x, t)).MoveToOuterScope();
    }

    /// <summary>
    /// A network f(x, t) whose time input is a [batch] tensor (the convention of the models in Research.Models,
    /// e.g. an nn module's forward): each call passes t broadcast over the batch.
    /// </summary>
    public static Denoiser FromNetwork(NoiseProcess process, Prediction prediction, Func<Tensor, Tensor, Tensor> network) =>
        new(process, prediction, (x, t) =>
        {
            using var time = full([x.size(0)], t, x.dtype, x.device);
            return network(x, time);
        });

    /// <summary>
    /// The same model read as a model of <paramref name="other"/>: processes with the same varsigma path share
    /// the PF-ODE up to scaling (PROC-08), so the state (x', t') of <paramref name="other"/> is the state
    /// (k x', t) of <see cref="Process"/> with varsigma(t) = varsigma'(t'), and E[x_0 | x_t] is the same for both.
    /// This is how a model trained on one schedule is sampled on another.
    /// </summary>
    public Denoiser Under(NoiseProcess other)
    {
        if (ReferenceEquals(other, Process)) return this;
        var original = this;
        return new Denoiser(other, Prediction.X0, (x, t) =>
        {
            var (time, scale) = ProcessConversion.Map(other, original.Process, t);
            using var scope = NewDisposeScope();
            return original.Predict(Prediction.X0, x * scale, time).MoveToOuterScope();
        });
    }
}

/// <summary>
/// A class-conditional model: labels are an int64 tensor [batch], or null for the unconditional model (the
/// "null token" of classifier-free guidance, trained by label dropout).
/// </summary>
public sealed class ConditionalDenoiser(NoiseProcess process, Prediction prediction, Func<Tensor, double, Tensor?, Tensor> evaluate)
{
    /// <summary>The process the network was trained on.</summary>
    public NoiseProcess Process { get; } = process;
    /// <summary>What the network predicts.</summary>
    public Prediction Prediction { get; } = prediction;

    /// <summary>The model of p_t(x | y) for the given labels.</summary>
    public Denoiser Given(Tensor labels) => new(Process, Prediction, (x, t) => evaluate(x, t, labels));

    /// <summary>The model of p_t(x).</summary>
    public Denoiser Unconditional() => new(Process, Prediction, (x, t) => evaluate(x, t, null));

    /// <summary>
    /// Classifier-free guidance (GUIDE-03): (1 + w) f(x, y, t) - w f(x, t). Every conversion between
    /// predictions is affine in the prediction with the same coefficient on x for both terms (PROC-09), and
    /// (1 + w) - w = 1, so the combination means the same in every parameterization: in eps form it is Ho &amp;
    /// Salimans' eps~, in score form grad log p_t(x) + (1 + w) grad log p_t(y | x) (GUIDE-02 with gamma = 1 + w).
    /// Each call costs two model evaluations. For w != 0 this is not the score of the diffused tilted law
    /// (GUIDE-03's caveat).
    /// </summary>
    public Denoiser Guided(Tensor labels, double w) => new(Process, Prediction, (x, t) =>
    {
        using var scope = NewDisposeScope();
        var conditional = evaluate(x, t, labels);
        var unconditional = evaluate(x, t, null);
        return (conditional * (1.0 + w) - unconditional * w).MoveToOuterScope();
    });
}
