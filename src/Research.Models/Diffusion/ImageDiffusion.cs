using Research.Data;
using Research.Diffusion;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>The choices of an image diffusion model: network, objective, label dropout for classifier-free
/// guidance, optimizer (AdamW with linear warm-up then cosine decay), clipping and EMA.</summary>
public sealed record ImageDiffusionOptions(
    UNetConfig Network,
    DiffusionObjective Objective,
    double LabelDropout = 0.1,
    double LearningRate = 1e-3,
    double WeightDecay = 0.0,
    long WarmupSteps = 100,
    double ClipGradNorm = 1.0,
    double EmaDecay = 0.999);

/// <summary>
/// A U-Net trained on images by a <see cref="DiffusionObjective"/>, with an EMA of its weights for sampling and
/// classifier-free guidance (Ho &amp; Salimans 2022): labels are replaced by the null class with probability
/// <see cref="ImageDiffusionOptions.LabelDropout"/> during training. The networks live on the device given at
/// construction (or wherever <see cref="Network"/> is moved later): training follows its batches, sampling and the
/// EMA copy follow the network's parameters, and every draw is made by the generator passed in (on its own device,
/// then copied).
/// </summary>
[GenerativeFamily("diffusion", LikelihoodKind.ExplicitBound, "ELBO (weighted denoising loss)", Note = "also an exact likelihood through the PF-ODE")]
public sealed class ImageDiffusion : IDisposable
{
    private readonly UNet emaNetwork;

    /// <summary>One training step's computation (FIG-08): <see cref="TrainStep"/> through
    /// <see cref="DiffusionObjective.Loss"/>; the EMA copy is updated after the step, outside the graph.</summary>
    public static ComputationGraph TrainingGraph { get; } = ComputationGraph.Of(
        [
            new("x0", GraphNodeKind.Data, "x<sub>0</sub> ~ data"),
            new("t", GraphNodeKind.Random, "t ~ the objective's time law"),
            new("eps", GraphNodeKind.Random, "ε ~ N(0, I)"),
            new("y", GraphNodeKind.Data, "class y"),
            new("xt", GraphNodeKind.Operation, "x<sub>t</sub> = α<sub>t</sub> x<sub>0</sub> + σ<sub>t</sub> ε"),
            new("dropout", GraphNodeKind.Operation, "y → ∅ with probability p<br>(classifier-free guidance)"),
            new("Network", GraphNodeKind.Network, "U-Net F<sub>θ</sub>(x<sub>t</sub>, t, y)"),
            new("target", GraphNodeKind.Operation, "target: ε, x<sub>0</sub>, v, score or F"),
            new("loss", GraphNodeKind.Objective, "w(t) ‖F<sub>θ</sub> − target‖²"),
        ],
        "x0 -> xt -> Network -> loss", "t -> xt", "eps -> xt", "y -> dropout -> Network", "t -> Network",
        "x0 -> target -> loss", "eps -> target", "t -> target");

    /// <summary>
    /// A fresh U-Net initialised from <paramref name="generator"/> on <paramref name="device"/> (the CPU by default), its EMA copy, the AdamW optimizer and the
    /// checkpoint part "unet".
    /// </summary>
    public ImageDiffusion(ImageDiffusionOptions options, Generator generator, Device? device = null)
    {
        Options = options;
        Network = new UNet(options.Network, new nn.LayerOptions(device: device, generator: generator));
        emaNetwork = new UNet(options.Network, new nn.LayerOptions(device: device));
        Optimizer = new optim.AdamW(Network.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        Ema = new optim.EMA(Network, options.EmaDecay);
        Part = new TrainedPart("unet", Network, Optimizer, Ema);
    }

    /// <summary>The choices this model was built with.</summary>
    public ImageDiffusionOptions Options { get; }
    /// <summary>The training objective (process, target, time law, weighting).</summary>
    public DiffusionObjective Objective => Options.Objective;
    /// <summary>The noise process of the objective.</summary>
    public NoiseProcess Process => Objective.Process;
    /// <summary>The trained U-Net (raw weights; sampling uses the EMA copy).</summary>
    public UNet Network { get; }
    /// <summary>AdamW over the network's parameters.</summary>
    public optim.AdamW Optimizer { get; }
    /// <summary>
    /// The exponential moving average of the network's weights, decay <see cref="ImageDiffusionOptions.EmaDecay"/>.
    /// </summary>
    public optim.EMA Ema { get; }
    /// <summary>Network, optimizer and EMA as one checkpoint part.</summary>
    public TrainedPart Part { get; }
    /// <summary>True when the network has a class embedding (<see cref="UNetConfig.Classes"/> &gt; 0).</summary>
    public bool Conditional => Options.Network.Classes > 0;

    /// <summary>Warm-up, then cosine decay to 10% over the run.</summary>
    public optim.LearningRateSchedule Schedule(long steps) =>
        new optim.WarmupLR(Options.WarmupSteps, new optim.CosineLR(Options.LearningRate, Math.Max(1, steps - Options.WarmupSteps), Options.LearningRate * 0.1));

    /// <summary>One training step: per-sample losses of the objective, averaged, on labels with dropout.</summary>
    public void TrainStep(StepContext c)
    {
        Tensor? labels = null;
        if (Conditional)
        {
            var drop = rand([c.Labels.size(0)], ScalarType.Float64, c.Labels.device, c.Generator).lt(Options.LabelDropout);
            labels = c.Labels.masked_fill(drop, Options.Network.Classes);
        }
        c.Update(Part, Objective.Loss((x, t, y) => Network.forward(x, t, y), c.Inputs, c.Generator, labels).mean());
    }

    /// <summary>A trainer over <paramref name="data"/> for <paramref name="options"/>.Steps steps.</summary>
    public Trainer Trainer(IBatchSource data, TrainerOptions options, Generator generator) =>
        new([Part], data, TrainStep, options with { LearningRate = options.LearningRate ?? Schedule(options.Steps), ClipGradNorm = options.ClipGradNorm ?? Options.ClipGradNorm }, generator);

    /// <summary>The model for sampling: the EMA weights (copied now) or the raw ones.</summary>
    public ConditionalDenoiser Denoiser(bool ema = true)
    {
        var net = Network;
        if (ema)
        {
            var device = Network.parameters()[0].device;
            if (emaNetwork.parameters()[0].device != device) emaNetwork.to(device);
            Ema.copy_to(emaNetwork);
            net = emaNetwork;
        }
        net.eval();
        return Objective.Denoiser((x, t, y) => net.forward(x, t, y));
    }

    /// <summary>Karras et al.'s grid of <paramref name="steps"/> steps in the noise level varsigma from min(80, varsigma(TMax))
    /// down to 0.002, then 0, in the process's times: one grid for every process.</summary>
    public double[] Grid(int steps, double varsigmaMin = 0.002, double varsigmaMax = 80.0) =>
        TimeGrid.Karras(Process, steps, varsigmaMin, Math.Min(varsigmaMax, Process.Varsigma(Process.TMax)));

    /// <summary>
    /// Samples [n, C, H, W] with <paramref name="sampler"/> on <paramref name="times"/>, starting from
    /// x = sigma(t_0) z (the data term alpha(t_0) x_0 is negligible at varsigma = 80). With labels, guidance
    /// <paramref name="guidance"/> w gives (1 + w) f(x, y) − w f(x); w = 0 is the conditional model; no labels is the
    /// unconditional model. With <paramref name="clipDenoised"/> every prediction of x_0 is clipped to the data
    /// range [-1, 1] before the sampler uses it (Ho et al.'s sampling; the ODE is then no longer the PF-ODE of the
    /// network, so likelihoods use <see cref="Denoiser"/> directly). Returns the samples, on the network's device,
    /// and the network evaluations per sample.
    /// </summary>
    public (Tensor samples, int nfe) Sample(Sampler sampler, double[] times, long n, Generator generator, Tensor? labels = null,
        double guidance = 0.0, bool ema = true, int batch = 250, bool clipDenoised = true, int imageSize = 28)
    {
        var model = Denoiser(ema);
        var weight = Network.parameters()[0];
        var shape = new long[] { 0, Options.Network.ImageChannels, imageSize, imageSize };
        var parts = new List<Tensor>();
        int nfe = 0;
        for (long i = 0; i < n; i += batch)
        {
            using var scope = NewDisposeScope();
            long b = Math.Min(batch, n - i);
            shape[0] = b;
            var x = randn(shape, weight.dtype, weight.device, generator) * Process.Sigma(times[0]);
            var y = labels?.narrow(0, i, b).to(weight.device);
            Denoiser d = y is null ? model.Unconditional()
                : guidance == 0.0 ? model.Given(y)
                : model.Guided(y, guidance);
            if (clipDenoised) d = Clipped(d);
            var result = sampler.Sample(d, Process, times, x, generator);
            nfe = result.Nfe;
            parts.Add(result.X.clamp(-1.0, 1.0).MoveToOuterScope());
        }
        var all = cat(parts.ToArray(), 0);
        foreach (var p in parts) p.Dispose();
        return (all, nfe * (labels is not null && guidance != 0.0 ? 2 : 1));
    }

    /// <summary>The same model with its x_0 prediction clipped to [-1, 1].</summary>
    public static Denoiser Clipped(Denoiser d) =>
        new(d.Process, Prediction.X0, (x, t) =>
        {
            using var scope = NewDisposeScope();
            return d.Predict(Prediction.X0, x, t).clamp(-1.0, 1.0).MoveToOuterScope();
        });

    /// <summary>Releases the network, its EMA copy, the optimizer state and the EMA buffers.</summary>
    public void Dispose()
    {
        Network.Dispose();
        emaNetwork.Dispose();
        Optimizer.Dispose();
        Ema.Dispose();
    }
}
