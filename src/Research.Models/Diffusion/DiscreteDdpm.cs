using Research.Diffusion;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// Denoising diffusion in discrete time (Ho et al. 2020) over a <see cref="DdpmSchedule"/>, for any ε-network
/// ε̂(x_k, k/T) on tensors [B, ...]. It is a name for the library's general parts, not a second
/// implementation: the loss is <see cref="DiffusionObjective.Ddpm"/> (k uniform in 1..T, simple ε-MSE, DDPM-03)
/// and sampling is <see cref="Samplers.DdpmAncestral"/> on the table's process at the grid k/T, which is
/// Algorithm 2 with the posterior variance β̃_k of DDPM-02.
/// </summary>
public sealed class DiscreteDdpm(DdpmSchedule schedule)
{
    /// <summary>The beta table beta_1..beta_T.</summary>
    public DdpmSchedule Schedule { get; } = schedule;
    /// <summary>The DDPM objective on the table's process: eps target, k uniform in 1..T, unweighted.</summary>
    public DiffusionObjective Objective { get; } = DiffusionObjective.Ddpm(schedule);
    /// <summary>The continuous process through the table, with step k at time k/T.</summary>
    public NoiseProcess Process => Objective.Process;
    /// <summary>T, the number of diffusion steps.</summary>
    public int Steps => Schedule.Steps;

    /// <summary>The mean simple loss over the batch; all randomness (k, then ε) from <paramref name="generator"/>.</summary>
    public Tensor Loss(Func<Tensor, Tensor, Tensor> epsModel, Tensor x0, Generator generator)
    {
        using var scope = NewDisposeScope();
        return Objective.Loss((x, t, _) => epsModel(x, t), x0, generator).mean().MoveToOuterScope();
    }

    /// <summary>The grid T/T, (T−1)/T, ..., 0 of ancestral sampling.</summary>
    public double[] Grid() => Enumerable.Range(0, Steps + 1).Select(i => (double)(Steps - i) / Steps).ToArray();

    /// <summary>Ancestral sampling from x_T ~ N(0, I); no noise is added at the last step.</summary>
    public Tensor Sample(Func<Tensor, Tensor, Tensor> epsModel, long[] shape, Generator generator,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var x = randn(shape, dtype, device, generator);
        var model = Objective.Denoiser((input, t, _) => epsModel(input, t)).Unconditional();
        return Samplers.DdpmAncestral.Sample(model, Process, Grid(), x, generator).X;
    }
}
