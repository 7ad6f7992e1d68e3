using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>
/// The variational bound of the discrete DDPM on 8-bit images scaled to [-1, 1] (Ho et al. 2020, eq. 5, with the
/// reverse variances sigma_k² = beta_k and the discretized Gaussian decoder of their section 3.3):
/// -log p(x_0) ≤ L_T + Σ_{k=2..T} L_{k−1} + L_0, where L_T = KL(q(x_T | x_0) ‖ N(0, I)),
/// L_{k−1} = KL(q(x_{k−1} | x_k, x_0) ‖ p(x_{k−1} | x_k)) with the posterior of DDPM-02 and x_k ~ q(x_k | x_0), and
/// L_0 = −log p(x_0 | x_1) over the pixel bins of width 2/255 (the edge bins extended to ±∞). Every k is evaluated
/// once per image (T network evaluations), an unbiased estimate of the sum.
/// </summary>
public static class DdpmElbo
{
    /// <summary>The bound in bits per dimension, one value per image of <paramref name="x0"/> [B, ...].</summary>
    public static Tensor BitsPerDim(Denoiser model, DdpmTableProcess process, Tensor x0, Generator generator)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var schedule = process.Schedule;
        int steps = schedule.Steps;
        var x = x0.to(ScalarType.Float64);
        long dims = x.numel / x.size(0);
        double abarT = schedule.AlphaBar(steps);
        // L_T, per dimension 0.5 (abar_T x² + (1 − abar_T) − 1 − log(1 − abar_T)).
        var total = PerImage((x.square() * abarT + (1 - abarT) - 1 - Math.Log(1 - abarT)) * 0.5);
        for (int k = steps; k >= 1; k--)
        {
            using var step = NewDisposeScope();
            double beta = schedule.Beta(k), abar = schedule.AlphaBar(k), abarPrev = schedule.AlphaBar(k - 1);
            var eps = randn(x.shape, ScalarType.Float64, x.device, generator);
            var xk = x * Math.Sqrt(abar) + eps * Math.Sqrt(1 - abar);
            var epsHat = model.Predict(Prediction.Eps, xk.to(x0.dtype), process.TimeOfStep(k)).to(ScalarType.Float64);
            var meanModel = (xk - epsHat * (beta / Math.Sqrt(1 - abar))) / Math.Sqrt(1 - beta);
            Tensor term;
            if (k > 1)
            {
                double tildeBeta = (1 - abarPrev) / (1 - abar) * beta;
                var meanPosterior = x * (Math.Sqrt(abarPrev) * beta / (1 - abar)) + xk * (Math.Sqrt(1 - beta) * (1 - abarPrev) / (1 - abar));
                term = ((meanPosterior - meanModel).square() / beta + (Math.Log(beta / tildeBeta) + tildeBeta / beta - 1)) * 0.5;
            }
            else term = -DiscretizedGaussianLogLikelihood(x, meanModel, Math.Sqrt(beta));
            total = (total + PerImage(term)).MoveToOuterScope();
        }
        return (total / (dims * Math.Log(2.0))).MoveToOuterScope();
    }

    private static Tensor PerImage(Tensor t) => t.flatten(1, -1).sum([1]);

    /// <summary>log of the N(mean, sd²) mass of the bin of width 2/255 around each pixel of x in [-1, 1].</summary>
    public static Tensor DiscretizedGaussianLogLikelihood(Tensor x, Tensor mean, double sd)
    {
        using var scope = NewDisposeScope();
        const double half = 1.0 / 255.0;
        Tensor Cdf(Tensor z) => ((z / Math.Sqrt(2.0)).erf() + 1.0) * 0.5;
        var upper = Cdf((x + half - mean) / sd);
        var lower = Cdf((x - half - mean) / sd);
        var mass = where(x.gt(1 - 1e-3), 1.0 - lower, where(x.lt(-1 + 1e-3), upper, upper - lower));
        return mass.clamp_min(1e-12).log().MoveToOuterScope();
    }
}
