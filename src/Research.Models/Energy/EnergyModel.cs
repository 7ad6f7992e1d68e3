using Research.Data;
using Research.Diffusion;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// A noise-conditional energy-based model on R^d: an MLP E_θ(x, σ) (SiLU, so that its second derivatives are
/// smooth), with p_σ(x) ∝ exp(−E_θ(x, σ)) and score s_θ(x, σ) = −∇_x E_θ(x, σ). Trained by denoising score
/// matching (Vincent 2011; SM-02's objective with Song &amp; Ermon's weight σ²): for x̃ = x + σ ε the target score
/// is −ε/σ, and the loss E ‖σ s_θ(x̃, σ) + ε‖² is minimised by the score of the noised data. σ is drawn
/// log-uniformly from the range of a <see cref="VeGeometric"/> process, so the model is the score of that
/// process's marginals and samples with the library's annealed Langevin sampler (<see cref="Sampler"/>s
/// through <see cref="Denoiser"/>). The normalising constant is never needed: an EBM is explicit but unnormalised.
/// </summary>
[GenerativeFamily("energy-based model", LikelihoodKind.ExplicitUnnormalised, "score matching", Note = "absent from the table: explicit but unnormalised")]
public sealed class EnergyModel : IDisposable
{
    private readonly nn.Sequential network;

    /// <summary>One training step's computation (FIG-08): <see cref="DenoisingScoreMatchingLoss"/>.</summary>
    public static ComputationGraph TrainingGraph { get; } = ComputationGraph.Of(
        [
            new("sigma", GraphNodeKind.Random, "log σ ~ U(log σ<sub>min</sub>, log σ<sub>max</sub>)"),
            new("x", GraphNodeKind.Data, "x ~ data"),
            new("eps", GraphNodeKind.Random, "ε ~ N(0, I)"),
            new("noisy", GraphNodeKind.Operation, "x̃ = x + σ ε"),
            new("Network", GraphNodeKind.Network, "energy E<sub>θ</sub>(x̃, log σ)"),
            new("score", GraphNodeKind.Operation, "s<sub>θ</sub> = −∇<sub>x̃</sub> E<sub>θ</sub><br>(autograd, kept differentiable)"),
            new("loss", GraphNodeKind.Objective, "DSM: ‖σ s<sub>θ</sub> + ε‖²"),
        ],
        "x -> noisy -> Network -> score -> loss", "sigma -> noisy", "eps -> noisy", "sigma -> Network", "sigma -> loss", "eps -> loss");

    /// <summary>
    /// An MLP (d + 1) → hidden → hidden → hidden → 1 with SiLU, trained with Adam at <paramref name="learningRate"/> on
    /// the noise levels of <paramref name="process"/>. Throws ArgumentException unless dim and hidden are positive.
    /// </summary>
    public EnergyModel(int dim, int hidden, VeGeometric process, double learningRate = 1e-3, nn.LayerOptions? options = null)
    {
        if (dim < 1 || hidden < 1) throw new ArgumentException($"dim and hidden must be positive, got {dim}, {hidden}");
        Dim = dim;
        Process = process;
        network = new nn.Sequential(new nn.Linear(dim + 1, hidden, options: options), nn.SiLU(), new nn.Linear(hidden, hidden, options: options), nn.SiLU(),
            new nn.Linear(hidden, hidden, options: options), nn.SiLU(), new nn.Linear(hidden, 1, options: options));
        Optimizer = new optim.Adam(network.parameters(), learningRate);
        Part = new TrainedPart("energy", network, Optimizer);
    }

    /// <summary>The data dimension d.</summary>
    public int Dim { get; }
    /// <summary>The VE process whose noise levels σ the model is trained on and sampled with.</summary>
    public VeGeometric Process { get; }
    /// <summary>The energy network E_θ: input [B, d + 1] (x and σ), output [B, 1].</summary>
    public nn.Module Network => network;
    /// <summary>Adam over the network's parameters.</summary>
    public optim.Adam Optimizer { get; }
    /// <summary>Network and optimizer as the checkpoint part "energy".</summary>
    public TrainedPart Part { get; }

    /// <summary>E_θ(x, σ) [B] for x [B, d] and σ [B] (or a scalar tensor).</summary>
    public Tensor Energy(Tensor x, Tensor sigma)
    {
        if (x.dim != 2 || x.size(1) != Dim) throw new ArgumentException($"x must be [B, {Dim}], got [{string.Join(", ", x.shape)}]");
        using var scope = NewDisposeScope();
        var logSigma = sigma.log().expand(x.size(0)).reshape(-1, 1).to(x.dtype);
        return network.forward(cat([x, logSigma], 1)).reshape(-1).MoveToOuterScope();
    }

    /// <summary>s_θ(x, σ) = −∇_x E_θ(x, σ), [B, d]; with <paramref name="createGraph"/> it stays differentiable
    /// (training, Laplacians).</summary>
    public Tensor Score(Tensor x, Tensor sigma, bool createGraph = false)
    {
        using var scope = NewDisposeScope();
        var leaf = x.detach().requires_grad_();
        Tensor grad;
        using (enable_grad()) grad = autograd.grad(Energy(leaf, sigma).sum(), leaf, create_graph: createGraph);
        return (createGraph ? -grad : -grad.detach()).MoveToOuterScope();
    }

    /// <summary>The energy's Laplacian ΔE_θ = tr ∇²_x E_θ = −tr ∇s_θ at x [B, d], [B] (one backward pass per
    /// coordinate). At a mode of p_σ the score vanishes and ΔE &gt; 0 (SM-02's picture, FIG-15).</summary>
    public Tensor EnergyLaplacian(Tensor x, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        var leaf = x.detach().requires_grad_();
        using var _ = enable_grad();
        var gradient = autograd.grad(Energy(leaf, sigma).sum(), leaf, create_graph: true);
        var total = zeros([x.size(0)], x.dtype, x.device);
        for (int i = 0; i < Dim; i++)
            total = total + autograd.grad([gradient.select(1, i).sum()], [leaf], retain_graph: true)[0]!.select(1, i);
        return total.detach().MoveToOuterScope();
    }

    /// <summary>Per-sample DSM losses ‖σ s_θ(x + σε, σ) + ε‖² with log σ ~ U(log σ_min, log σ_max).</summary>
    public Tensor DenoisingScoreMatchingLoss(Tensor x, Generator generator)
    {
        using var scope = NewDisposeScope();
        double lo = Math.Log(Process.SigmaMin), hi = Math.Log(Process.SigmaMax);
        var sigma = (rand([x.size(0)], x.dtype, x.device, generator) * (hi - lo) + lo).exp();
        var eps = randn(x.shape, x.dtype, x.device, generator);
        var noisy = x + eps * sigma.unsqueeze(1);
        var leaf = noisy.requires_grad_();
        var score = -autograd.grad(Energy(leaf, sigma).sum(), leaf, create_graph: true);
        return (score * sigma.unsqueeze(1) + eps).square().sum(1).MoveToOuterScope();
    }

    /// <summary>
    /// One trainer step: the mean denoising score-matching loss of the batch (flattened to [B, d]), recorded as "dsm".
    /// </summary>
    public void TrainStep(StepContext c) => c.Update(Part, DenoisingScoreMatchingLoss(c.Inputs.flatten(1), c.Generator).mean(), "dsm");

    /// <summary>A trainer over <paramref name="data"/> running <see cref="TrainStep"/>.</summary>
    public Trainer Trainer(IBatchSource data, TrainerOptions options, Generator generator) => new([Part], data, TrainStep, options, generator);

    /// <summary>The model as a denoiser of <see cref="Process"/> (ε̂ = −σ s_θ), for the library's samplers.</summary>
    public Denoiser Denoiser() =>
        new(Process, Prediction.Eps, (x, t) =>
        {
            using var scope = NewDisposeScope();
            var sigma = Process.Sigma(t);
            return (Score(x, full([1], sigma, x.dtype, x.device)) * -sigma).MoveToOuterScope();
        });

    /// <summary>The times of <paramref name="levels"/> noise levels σ_max … σ_min, geometric, for annealed Langevin.</summary>
    public double[] Levels(int levels, double? sigmaMin = null, double? sigmaMax = null)
    {
        double lo = Math.Log(sigmaMin ?? Process.SigmaMin), hi = Math.Log(sigmaMax ?? Process.SigmaMax);
        return Enumerable.Range(0, levels).Select(i => Process.TimeAtVarsigma(Math.Exp(hi + (lo - hi) * i / Math.Max(1, levels - 1)))).ToArray();
    }

    /// <summary>Releases the optimizer state and the network.</summary>
    public void Dispose()
    {
        Optimizer.Dispose();
        network.Dispose();
    }
}
