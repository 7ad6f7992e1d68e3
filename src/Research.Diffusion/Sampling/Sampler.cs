using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>
/// What a sampler promises, as data that tests read and assert (torchsde's strong_order / weak_order).
/// <see cref="Order"/>: global order p of the deterministic method in the step size (error ~ NFE^-p at a fixed
/// final time), null for stochastic ones. <see cref="StrongOrder"/>, <see cref="WeakOrder"/>: the orders of an
/// SDE discretisation, null where the method is not one.
/// </summary>
public sealed record SamplerProperties(int? Order = null, double? StrongOrder = null, double? WeakOrder = null)
{
    public bool Stochastic => StrongOrder is not null || WeakOrder is not null;
}

/// <summary>A sample and the number of denoiser evaluations (NFE) it cost.</summary>
public readonly record struct SampleResult(Tensor X, int Nfe);

/// <summary>
/// A sampler is a pure function of (model, process, grid, x at the grid's first time, generator): it keeps no
/// state between calls, so the same inputs and seed give the same output (k-diffusion's design). The model is
/// read as a model of <paramref name="process"/> (<see cref="Denoiser.Under"/>) whatever process it was trained on.
/// The returned tensor belongs to the caller; x is not modified.
/// </summary>
public delegate SampleResult SampleFunction(Denoiser model, NoiseProcess process, double[] times, Tensor x, Generator? generator);

/// <summary>A named sampler with its declared properties.</summary>
public sealed record Sampler(string Name, SamplerProperties Properties, SampleFunction Function)
{
    public SampleResult Sample(Denoiser model, NoiseProcess process, double[] times, Tensor x, Generator? generator = null)
    {
        if (times.Length == 0) throw new ArgumentException("a grid needs at least one time (one time: no steps, except Langevin's one level)");
        for (var i = 1; i < times.Length; i++)
            if (!(times[i] < times[i - 1])) throw new ArgumentException($"times must decrease: t[{i - 1}] = {times[i - 1]}, t[{i}] = {times[i]}");
        using var noGrad = no_grad();
        return Function(model.Under(process), process, times, x, generator);
    }

    public override string ToString() => Name;
}

/// <summary>
/// The per-call machinery every sampler shares: the model with an evaluation counter, (alpha, sigma) of the
/// process, and a step loop that runs each step in its own dispose scope so memory stays flat.
/// </summary>
internal sealed class SamplerContext(Denoiser model, NoiseProcess process, Generator? generator)
{
    public int Nfe { get; private set; }
    public NoiseProcess Process { get; } = process;

    public Tensor Predict(Prediction prediction, Tensor x, double t)
    {
        Nfe++;
        return model.Predict(prediction, x, t);
    }

    /// <summary>eps-hat(x, t) = E[eps | x_t = x].</summary>
    public Tensor Eps(Tensor x, double t) => Predict(Prediction.Eps, x, t);

    /// <summary>D(x, t) = E[x_0 | x_t = x], the denoiser of EDM.</summary>
    public Tensor Denoised(Tensor x, double t) => Predict(Prediction.X0, x, t);

    public Tensor Noise(Tensor like) => randn(like.shape, like.dtype, like.device, generator);

    public double Alpha(double t) => Process.Alpha(t);
    public double Sigma(double t) => Process.Sigma(t);
    public double Varsigma(double t) => Process.Varsigma(t);

    /// <summary>lambda of DPM-Solver, log(alpha / sigma): half of <see cref="NoiseProcess.LogSnr"/>.</summary>
    public double HalfLogSnr(double t) => 0.5 * Process.LogSnr(t);
    public double TimeAtHalfLogSnr(double lambda) => Process.TimeAtLogSnr(2.0 * lambda);

    /// <summary>
    /// Runs step(i, x) for i = 0..count-1, each in its own dispose scope; intermediate states are freed as soon
    /// as the next exists, the input is never freed, and the result is always a new tensor.
    /// </summary>
    public Tensor Loop(Tensor x0, int count, Func<int, Tensor, Tensor> step)
    {
        var x = x0;
        for (var i = 0; i < count; i++)
        {
            Tensor next;
            using (var scope = NewDisposeScope()) next = step(i, x).MoveToOuterScope();
            if (!ReferenceEquals(x, x0)) x.Dispose();
            x = next;
        }
        return ReferenceEquals(x, x0) ? x0.clone() : x;
    }

    public SampleResult Result(Tensor x) => new(x, Nfe);
}
