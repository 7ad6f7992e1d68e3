using Research.Data;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// RealNVP on vectors (Dinh et al. 2017): a stack of affine couplings with alternating masks, trained by maximum
/// likelihood, the exact log p(x) of <see cref="NormalizingFlow.LogProb"/> (NF-01, NF-02), with Adam.
/// </summary>
[GenerativeFamily("normalizing flow", LikelihoodKind.ExplicitExact, "maximum likelihood")]
public sealed class RealNvp : IDisposable
{
    /// <summary>One training step's computation (FIG-08): the negative log-likelihood of <see cref="NormalizingFlow.LogProb"/>.</summary>
    public static ComputationGraph TrainingGraph { get; } = ComputationGraph.Of(
        [
            new("x", GraphNodeKind.Data, "x ~ data"),
            new("Flow", GraphNodeKind.Network, "flow f<sub>θ</sub> (affine couplings):<br>z = f(x), log |det ∂f/∂x|"),
            new("base", GraphNodeKind.Operation, "log N(z; 0, I)"),
            new("nll", GraphNodeKind.Objective, "−log p(x) = −log N(z) − log |det ∂f/∂x|<br>(exact)"),
        ],
        "x -> Flow -> base -> nll", "Flow -> nll");

    /// <param name="dim">D of the data.</param>
    /// <param name="couplings">how many couplings; coupling i conditions on the coordinates of parity i mod 2.</param>
    /// <param name="hidden">the width of each coupling's s and t networks.</param>
    /// <param name="learningRate">Adam's learning rate.</param>
    /// <param name="options">dtype, device and generator of the layers' initialisation.</param>
    public RealNvp(int dim, int couplings, int hidden, double learningRate = 1e-3, nn.LayerOptions? options = null)
    {
        if (couplings < 1) throw new ArgumentException($"a RealNVP needs at least one coupling, got {couplings}");
        Flow = new NormalizingFlow(Enumerable.Range(0, couplings)
            .Select(i => (FlowLayer)AffineCoupling.WithTanhMlps(AffineCoupling.AlternatingMask(dim, i % 2), hidden, options)).ToArray());
        Optimizer = new optim.Adam(Flow.parameters(), learningRate);
        Part = new TrainedPart("flow", Flow, Optimizer);
    }

    /// <summary>The stack of couplings.</summary>
    public NormalizingFlow Flow { get; }
    /// <summary>Adam over the flow's parameters.</summary>
    public optim.Adam Optimizer { get; }
    /// <summary>Flow and optimizer as the checkpoint part "flow".</summary>
    public TrainedPart Part { get; }

    /// <summary>One step: the batch's mean negative log-likelihood (nats); points may come as [B, D, 1, 1] (<see cref="PointData"/>).</summary>
    public void TrainStep(StepContext c) => c.Update(Part, (-Flow.LogProb(c.Inputs.flatten(1))).mean(), "nll");

    /// <summary>A trainer over <paramref name="data"/> running <see cref="TrainStep"/>.</summary>
    public Trainer Trainer(IBatchSource data, TrainerOptions options, Generator generator) => new([Part], data, TrainStep, options, generator);

    /// <summary>Releases the optimizer state and the flow.</summary>
    public void Dispose()
    {
        Optimizer.Dispose();
        Flow.Dispose();
    }
}
