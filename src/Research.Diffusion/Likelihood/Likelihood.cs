using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>How the divergence of the PF-ODE velocity is computed.</summary>
public abstract record Divergence
{
    /// <summary>tr(dv/dx) by autograd, one backward pass per dimension: exact, for low dimension.</summary>
    public sealed record Exact : Divergence;

    /// <summary>
    /// Hutchinson's estimator u^T (dv/dx) u with E[u u^T] = I (SDE-07), one backward pass: unbiased, for high
    /// dimension. One probe per sample is drawn at the start and held along the trajectory (FFJORD), so the ODE
    /// stays deterministic and any solver applies.
    /// </summary>
    public sealed record Hutchinson(bool Rademacher = true) : Divergence;
}

/// <summary>log p_t0(x) and the model evaluations it cost.</summary>
public readonly record struct LikelihoodResult(Tensor LogDensity, int Nfe);

/// <summary>Log-likelihoods through the probability-flow ODE (SDE-07) and bits per dimension.</summary>
public static class Likelihood
{
    /// <summary>
    /// log p_t0(x) = log p_t1(x(t1)) + int_t0^t1 div v(x(t), t) dt along the PF-ODE dx/dt = v from x(t0) = x (SDE-07,
    /// the instantaneous change of variables d/dt log p_t(x(t)) = -div v), integrated jointly for (x, int div v) by
    /// adaptive Dormand–Prince. x is [batch, ...]; <paramref name="priorLogDensity"/> maps x(t1) to log p_t1 per sample.
    /// t0 must have sigma &gt; 0 (the velocity needs eps^ = (x - alpha D)/sigma).
    /// </summary>
    public static LikelihoodResult LogDensity(Denoiser model, NoiseProcess process, Tensor x, double t0, double t1,
        Func<Tensor, Tensor> priorLogDensity, Divergence divergence, Generator? generator = null, double rtol = 1e-6, double atol = 1e-6)
    {
        model = model.Under(process);
        var shape = x.shape;
        var (batch, dims) = (shape[0], x.numel / shape[0]);
        var nfe = 0;
        using var scope = NewDisposeScope();
        var probe = divergence switch
        {
            Divergence.Hutchinson { Rademacher: true } => rand([batch, dims], x.dtype, x.device, generator).lt(0.5).to(x.dtype) * 2.0 - 1.0,
            Divergence.Hutchinson => randn([batch, dims], x.dtype, x.device, generator),
            _ => null,
        };
        Tensor Field(double t, Tensor y)
        {
            nfe++;
            using var inner = NewDisposeScope();
            using var grad = enable_grad();
            var state = y.narrow(1, 0, dims).detach().requires_grad_();
            var velocity = model.Predict(Prediction.Velocity, state.reshape(shape), t).reshape(batch, dims);
            var trace = probe is null ? ExactDivergence(velocity, state, dims) : HutchinsonDivergence(velocity, state, probe);
            return cat([velocity.detach(), trace.detach().unsqueeze(1)], 1).MoveToOuterScope();
        }
        var start = cat([x.reshape(batch, dims), zeros([batch, 1], x.dtype, x.device)], 1);
        var (end, _) = RungeKutta.Adaptive(ButcherTableau.DormandPrince, Field, start, t0, t1, rtol, atol);
        var logDensity = priorLogDensity(end.narrow(1, 0, dims).reshape(shape)) + end.select(1, dims);
        return new(logDensity.MoveToOuterScope(), nfe);
    }

    /// <summary>sum_i d v_i / d x_i, one vector-Jacobian product per dimension.</summary>
    static Tensor ExactDivergence(Tensor velocity, Tensor x, long dims)
    {
        Tensor? trace = null;
        for (var i = 0; i < dims; i++)
        {
            var gradient = autograd.grad([velocity.select(1, i).sum()], [x], retain_graph: true)[0]!;
            var term = gradient.select(1, i);
            trace = trace is null ? term : trace + term;
        }
        return trace!;
    }

    /// <summary>u^T (dv/dx) u = (grad of u . v) . u (Hutchinson).</summary>
    static Tensor HutchinsonDivergence(Tensor velocity, Tensor x, Tensor probe)
    {
        var vjp = autograd.grad([(velocity * probe).sum()], [x])[0]!;
        return (vjp * probe).sum(1);
    }

    /// <summary>log N(x; 0, variance I) per sample, the usual prior at t1 (variance sigma(t1)^2 + alpha(t1)^2 Var(data)).</summary>
    public static Func<Tensor, Tensor> GaussianPrior(double variance) => x =>
    {
        using var scope = NewDisposeScope();
        var flat = x.reshape(x.size(0), -1);
        var dims = flat.size(1);
        return ((flat.square().sum(1) / variance + dims * Math.Log(2.0 * Math.PI * variance)) * -0.5).MoveToOuterScope();
    };

    /// <summary>
    /// Uniform dequantization of 8-bit values k in {0..255} into the model's data range [low, high]:
    /// x = low + (k + u)(high - low)/256 with u ~ U[0, 1)^D (Theis et al. 2016).
    /// </summary>
    public static Tensor Dequantize(Tensor counts, double low, double high, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var values = counts.to(ScalarType.Float64);
        var u = rand(values.shape, values.dtype, values.device, generator);
        return ((values + u) * ((high - low) / 256.0) + low).MoveToOuterScope();
    }

    /// <summary>
    /// Bits per dimension of 8-bit data from log p_x at dequantized points x = low + y (high - low)/256, y = k + u.
    /// Derivation of the offset: y in [0, 256)^D has density p_y(y) = p_x(x(y)) |dx/dy|^D with dx/dy = (high - low)/256,
    /// and the discrete model P(k) = int_[k, k+1) p_y dy satisfies log P(k) &gt;= E_u log p_y(k + u) (Jensen). So
    /// -log2 P(k) / D &lt;= -(log p_x(x) + D log((high - low)/256)) / (D ln 2) in expectation over u. For data in [-1, 1]
    /// the offset D log(2/256) = -7 D ln 2 is the "+7" of score_sde; for [0, 1] it is +8.
    /// </summary>
    public static Tensor BitsPerDim(Tensor logDensity, long dimensions, double low, double high)
    {
        using var scope = NewDisposeScope();
        var logDiscrete = logDensity + dimensions * Math.Log((high - low) / 256.0);
        return (logDiscrete / (-dimensions * Math.Log(2.0))).MoveToOuterScope();
    }
}
