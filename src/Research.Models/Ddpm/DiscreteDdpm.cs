using Research.Diffusion;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>
/// Denoising diffusion in discrete time (Ho et al. 2020) over a <see cref="DdpmSchedule"/>: the ε-MSE
/// training loss and ancestral sampling, for any ε-network ε̂(x_k, k/T) on tensors [B, ...].
/// The schedule's tables are held as tensors once; step k is 1-based (DDPM-01, DDPM-02).
/// </summary>
public sealed class DiscreteDdpm : IDisposable
{
    private readonly Tensor sqrtAlphaBar, sqrtOneMinusAlphaBar;  // indexed by k = 0..T

    public DiscreteDdpm(DdpmSchedule schedule, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        Schedule = schedule;
        var abar = Enumerable.Range(0, schedule.Steps + 1).Select(schedule.AlphaBar).ToArray();
        sqrtAlphaBar = tensor(abar.Select(Math.Sqrt).ToArray(), dtype, device).DetachFromDisposeScope();
        sqrtOneMinusAlphaBar = tensor(abar.Select(a => Math.Sqrt(1 - a)).ToArray(), dtype, device).DetachFromDisposeScope();
    }

    public DdpmSchedule Schedule { get; }
    public int Steps => Schedule.Steps;

    /// <summary>E‖ε − ε̂(√ᾱ_k x₀ + √(1−ᾱ_k) ε, k/T)‖² over k uniform in 1..T and ε ~ N(0, I) (the simple loss
    /// of DDPM-03). All randomness comes from <paramref name="generator"/>.</summary>
    public Tensor Loss(Func<Tensor, Tensor, Tensor> epsModel, Tensor x0, Generator generator)
    {
        using var scope = NewDisposeScope();
        long batch = x0.size(0);
        var k = randint(1, Steps + 1, [batch], x0.device, generator);
        var eps = randn(x0.shape, x0.dtype, x0.device, generator);
        var shape = new long[x0.dim];
        Array.Fill(shape, 1);
        shape[0] = batch;
        var xk = sqrtAlphaBar[k].reshape(shape) * x0 + sqrtOneMinusAlphaBar[k].reshape(shape) * eps;
        var t = k.to(x0.dtype) / Steps;
        return nn.functional.mse_loss(epsModel(xk, t), eps).MoveToOuterScope();
    }

    /// <summary>
    /// Ancestral sampling (Ho et al., Algorithm 2) from x_T ~ N(0, I):
    /// x_{k−1} = (x_k − β_k/√(1−ᾱ_k) ε̂) / √(1−β_k) + σ_k z, with σ_k² = β̃_k = (1−ᾱ_{k−1})/(1−ᾱ_k) β_k, the
    /// posterior variance of DDPM-02, and no noise at the last step.
    /// </summary>
    public Tensor Sample(Func<Tensor, Tensor, Tensor> epsModel, long[] shape, Generator generator,
        ScalarType dtype = ScalarType.Float32, Device? device = null, Action<int>? progress = null)
    {
        using var _ = no_grad();
        var x = randn(shape, dtype, device, generator).DetachFromDisposeScope();
        for (int k = Steps; k >= 1; k--)
        {
            using var scope = NewDisposeScope();
            double beta = Schedule.Beta(k), abar = Schedule.AlphaBar(k), abarPrevious = Schedule.AlphaBar(k - 1);
            var t = full([shape[0]], (double)k / Steps, dtype, device);
            var eps = epsModel(x, t);
            var next = (x - eps * (beta / Math.Sqrt(1 - abar))) / Math.Sqrt(1 - beta);
            if (k > 1)
                next = next + randn(shape, dtype, device, generator) * Math.Sqrt((1 - abarPrevious) / (1 - abar) * beta);
            x.Dispose();
            x = next.DetachFromDisposeScope();
            progress?.Invoke(Steps - k + 1);
        }
        return x;
    }

    public void Dispose()
    {
        sqrtAlphaBar.Dispose();
        sqrtOneMinusAlphaBar.Dispose();
    }
}
