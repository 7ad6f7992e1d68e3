using Research.Torch;

namespace Research.Diffusion;

/// <summary>
/// An ancestral step from noise level varsigma to varsigma_next &lt; varsigma of the VE normal form (PROC-08):
/// move deterministically to varsigma_down, then add fresh noise of scale varsigma_up, with
/// varsigma_down^2 + varsigma_up^2 = varsigma_next^2 so the marginal noise level is right (DDIM-02).
/// </summary>
public readonly record struct AncestralSplit(double Down, double Up)
{
    /// <summary>
    /// varsigma_up = eta varsigma_Q with varsigma_Q^2 = varsigma_next^2 (varsigma^2 - varsigma_next^2) / varsigma^2, the
    /// posterior standard deviation of DDIM-02 in the VE form (sigma_Q / alpha_next); eta = 1 is DDPM, eta = 0 DDIM.
    /// Capped at varsigma_next (eta &gt; 1). The same split as k-diffusion's get_ancestral_step.
    /// </summary>
    public static AncestralSplit Of(double varsigma, double varsigmaNext, double eta)
    {
        if (varsigmaNext == 0.0) return new(0.0, 0.0);
        var up = Math.Min(varsigmaNext, eta * varsigmaNext * Math.Sqrt(Math.Max(0.0, 1.0 - varsigmaNext * varsigmaNext / (varsigma * varsigma))));
        return new(Math.Sqrt(Math.Max(0.0, varsigmaNext * varsigmaNext - up * up)), up);
    }
}

public static partial class Samplers
{
    // ---- DDIM family (DDIM-01, DDIM-02) ----------------------------------------------------------------------

    /// <summary>
    /// DDIM with stochasticity eta (Song, Meng &amp; Ermon 2021): in the VE normal form x^ = x / alpha,
    /// x^_s = D + varsigma_down eps^ + varsigma_up z with the <see cref="AncestralSplit"/> of (varsigma_t, varsigma_s, eta),
    /// which is q_eta of DDIM-02 with its x_0 replaced by D(x_t). eta = 0 is one Euler step of
    /// dx^/dvarsigma = eps^ (DDIM-01), first order; eta &gt; 0 is a discretisation of a reverse SDE (weak order 1).
    /// </summary>
    public static Sampler Ddim(double eta = 0.0) =>
        new(eta == 0.0 ? "DDIM" : $"DDIM (eta {eta:G3})", eta == 0.0 ? new(Order: 1) : new(WeakOrder: 1.0),
            (c, times, x) => c.Loop(x, times, (i, y) => AncestralStep(c, y, times[i], times[i + 1], eta)));

    /// <summary>
    /// DDPM ancestral sampling (Ho et al. 2020, Algorithm 2) on any grid: x_s ~ q(x_s | x_t, x_0 = D(x_t)), the
    /// posterior of DDPM-02, which is DDIM with eta = 1 (DDIM-02). On the grid k/T of a table whose alpha-bar_k
    /// equals alpha(k/T)^2 it is Ho's algorithm exactly; as the grid refines it is a weak-order-1 discretisation of
    /// the reverse SDE (SDE-05).
    /// </summary>
    public static Sampler DdpmAncestral { get; } = Ddim(1.0) with { Name = "DDPM ancestral" };

    /// <summary>
    /// k-diffusion's Euler ancestral: an Euler step of dx^/dvarsigma = eps^ down to varsigma_down, then noise of scale
    /// varsigma_up. x^ + eps^ (varsigma_down - varsigma) = D + varsigma_down eps^, so it is DDIM with the same eta,
    /// one code path under two names (DDIM-02). Weak order 1.
    /// </summary>
    public static Sampler EulerAncestral(double eta = 1.0) => Ddim(eta) with { Name = eta == 1.0 ? "Euler ancestral" : $"Euler ancestral (eta {eta:G3})" };

    internal static Tensor AncestralStep(SamplerContext c, Tensor x, double t, double s, double eta)
    {
        var (alphaT, sigmaT, alphaS) = (c.Alpha(t), c.Sigma(t), c.Alpha(s));
        var denoised = c.Denoised(x, t);
        var split = AncestralSplit.Of(c.Varsigma(t), c.Varsigma(s), eta);
        var next = denoised * alphaS;
        if (split.Down != 0.0) next = next + (x - denoised * alphaT) * (alphaS * split.Down / sigmaT); // alpha_s varsigma_down eps^
        if (split.Up != 0.0) next = next + c.Noise(x) * (alphaS * split.Up);
        return next;
    }
}
