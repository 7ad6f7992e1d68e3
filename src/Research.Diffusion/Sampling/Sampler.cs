using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>
/// What a sampler promises, as data that tests read and assert (torchsde's strong_order / weak_order).
/// <see cref="Order"/>: global order p of the deterministic method in the step size (error ~ NFE^-p at a fixed
/// final time), null for stochastic ones. <see cref="StrongOrder"/>, <see cref="WeakOrder"/>: the orders of an
/// SDE discretisation, null where the method is not one. <see cref="Adaptive"/>: the method picks its own steps, so
/// its error follows its tolerance, not a grid. <see cref="InjectsNoise"/>: stochastic without a claimed order
/// (EDM's churn, whose noise per step depends on the number of steps).
/// </summary>
public sealed record SamplerProperties(int? Order = null, double? StrongOrder = null, double? WeakOrder = null, bool Adaptive = false, bool InjectsNoise = false)
{
    /// <summary>
    /// True when the sampler draws noise (an SDE method or a noise-injecting one), so its output depends on the
    /// generator.
    /// </summary>
    public bool Stochastic => InjectsNoise || StrongOrder is not null || WeakOrder is not null;
}

/// <summary>A sample and the number of denoiser evaluations (NFE) it cost.</summary>
public readonly record struct SampleResult(Tensor X, int Nfe);

/// <summary>
/// One finished step of a sampler, as a callback sees it: the state <see cref="X"/> at <see cref="Time"/> after step
/// <see cref="Index"/>, and <see cref="Denoised"/>, the model's estimate of x_0 at the step's first evaluation (null
/// where the step made none, or where the model's prediction does not determine x_0 there). Both tensors are the
/// sampler's own and are freed after the callback returns: clone what you keep (the callback runs outside the
/// sampler's dispose scopes, so its clones belong to the caller).
/// </summary>
public readonly record struct SamplerStep(int Index, double Time, Tensor X, Tensor? Denoised);

/// <summary>
/// A sampler body: from x at times[0] along the decreasing grid <paramref name="times"/>, using only
/// <paramref name="context"/> for the model, the process and noise. It keeps no state between calls (k-diffusion's
/// design), so the same inputs and seed give the same output; it returns a new tensor and leaves x unchanged.
/// </summary>
public delegate Tensor SampleFunction(SamplerContext context, double[] times, Tensor x);

/// <summary>A named sampler with its declared properties.</summary>
public sealed record Sampler(string Name, SamplerProperties Properties, SampleFunction Function)
{
    /// <summary>
    /// Runs the sampler. The model is read as a model of <paramref name="process"/> (<see cref="Denoiser.Under"/>)
    /// whatever process it was trained on; <paramref name="callback"/>, if given, sees every step.
    /// </summary>
    public SampleResult Sample(Denoiser model, NoiseProcess process, double[] times, Tensor x, Generator? generator = null,
        Action<SamplerStep>? callback = null)
    {
        if (times.Length == 0) throw new ArgumentException("a grid needs at least one time (one time: no steps, except Langevin's one level)");
        for (var i = 1; i < times.Length; i++)
            if (!(times[i] < times[i - 1])) throw new ArgumentException($"times must decrease: t[{i - 1}] = {times[i - 1]}, t[{i}] = {times[i]}");
        using var noGrad = no_grad();
        var context = new SamplerContext(model.Under(process), process, generator, callback);
        return new(Function(context, times, x), context.Nfe);
    }

    /// <summary>The sampler's <see cref="Name"/>.</summary>
    public override string ToString() => Name;
}

/// <summary>
/// The per-call machinery every sampler shares, public so that samplers can be written outside this assembly: the
/// model with an evaluation counter, (alpha, sigma) of the process and their derived quantities, seeded noise, and
/// a step loop that runs each step in its own dispose scope (flat memory) and reports it to the callback.
/// </summary>
public sealed class SamplerContext(Denoiser model, NoiseProcess process, Generator? generator = null, Action<SamplerStep>? callback = null)
{
    Tensor? firstDenoised;
    bool evaluatedThisStep = true; // only the step loop watches for a step's first evaluation

    /// <summary>Model evaluations so far.</summary>
    public int Nfe { get; private set; }
    /// <summary>The process the model is read under.</summary>
    public NoiseProcess Process { get; } = process;

    /// <summary>The model's prediction of kind <paramref name="prediction"/> at (x, t); counts one evaluation.</summary>
    public Tensor Predict(Prediction prediction, Tensor x, double t)
    {
        Nfe++;
        var value = model.Predict(prediction, x, t);
        if (callback is not null && !evaluatedThisStep)
        {
            evaluatedThisStep = true;
            var map = Parameterization.TryMap(Process.At(t), prediction, Prediction.X0);
            firstDenoised = map is { } m ? m.Apply(x, value) : null;
        }
        return value;
    }

    /// <summary>eps-hat(x, t) = E[eps | x_t = x].</summary>
    public Tensor Eps(Tensor x, double t) => Predict(Prediction.Eps, x, t);

    /// <summary>D(x, t) = E[x_0 | x_t = x], the denoiser of EDM.</summary>
    public Tensor Denoised(Tensor x, double t) => Predict(Prediction.X0, x, t);

    /// <summary>dx^/dvarsigma = eps-hat(alpha x^, t) in the VE normal form x^ = x / alpha (PROC-08).</summary>
    public Tensor EpsHat(Tensor hat, double t) => Eps(hat * Alpha(t), t);

    /// <summary>Standard normal noise shaped like <paramref name="like"/>, from the call's generator.</summary>
    public Tensor Noise(Tensor like) => randn(like.shape, like.dtype, like.device, generator);

    /// <summary>alpha(t) of the process.</summary>
    public double Alpha(double t) => Process.Alpha(t);
    /// <summary>sigma(t) of the process.</summary>
    public double Sigma(double t) => Process.Sigma(t);
    /// <summary>varsigma(t) = sigma / alpha of the process.</summary>
    public double Varsigma(double t) => Process.Varsigma(t);
    /// <summary>The time whose varsigma is <paramref name="varsigma"/>.</summary>
    public double TimeAtVarsigma(double varsigma) => Process.TimeAtVarsigma(varsigma);

    /// <summary>lambda of DPM-Solver, log(alpha / sigma): half of <see cref="NoiseProcess.LogSnr"/>.</summary>
    public double HalfLogSnr(double t) => 0.5 * Process.LogSnr(t);
    /// <summary>The time whose half log-SNR log(alpha / sigma) is <paramref name="lambda"/>.</summary>
    public double TimeAtHalfLogSnr(double lambda) => Process.TimeAtLogSnr(2.0 * lambda);

    /// <summary>One step per interval of the grid: step(i, x) maps x at times[i] to x at times[i + 1].</summary>
    public Tensor Loop(Tensor x0, double[] times, Func<int, Tensor, Tensor> step) => Loop(x0, times.Length - 1, step, i => times[i + 1]);

    /// <summary>
    /// Runs step(i, x) for i = 0..count-1, each in its own dispose scope; intermediate states are freed as soon
    /// as the next exists, the input is never freed, and the result is always a new tensor. After each step the
    /// callback sees the new state at time timeAfter(i).
    /// </summary>
    public Tensor Loop(Tensor x0, int count, Func<int, Tensor, Tensor> step, Func<int, double> timeAfter)
    {
        var x = x0;
        for (var i = 0; i < count; i++)
        {
            Tensor next;
            Tensor? denoised;
            using (var scope = NewDisposeScope())
            {
                (evaluatedThisStep, firstDenoised) = (false, null);
                next = step(i, x).MoveToOuterScope();
                denoised = firstDenoised?.MoveToOuterScope();
                (evaluatedThisStep, firstDenoised) = (true, null);
            }
            // outside the step's scope: what the callback makes belongs to the caller
            if (callback is not null) callback(new SamplerStep(i, timeAfter(i), next, denoised));
            denoised?.Dispose();
            if (!ReferenceEquals(x, x0)) x.Dispose();
            x = next;
        }
        return ReferenceEquals(x, x0) ? x0.clone() : x;
    }
}
