using Research.Torch;

namespace Research.Diffusion;

/// <summary>
/// The samplers, one partial file per family: probability-flow Runge–Kutta (Samplers.ProbabilityFlow.cs), DDIM and
/// the ancestral samplers (Samplers.Ddim.cs), k-diffusion's samplers in the VE normal form (Samplers.Karras.cs),
/// the exponential integrators DPM-Solver, DPM-Solver++, UniPC (Samplers.DpmSolver.cs), and the reverse SDE,
/// predictor–corrector and Langevin samplers (Samplers.Sde.cs). Each is a stateless <see cref="Sampler"/> value
/// (or a factory of one, for methods with parameters) that works for every process and every <see cref="Denoiser"/>.
/// Shared conventions:
/// <list type="bullet">
/// <item>A step that ends at sigma = 0 cannot evaluate the model there; deterministic methods take it as the
/// denoising step x = alpha(0) D(x_t, t), the Euler step of the VE normal form dx^/dvarsigma = eps^ (DDIM-01),
/// and multi-stage methods drop to it (EDM, k-diffusion and DPM-Solver do the same).</item>
/// <item>Every model call counts one function evaluation (a guided model is one call that costs two network passes).</item>
/// <item>Multistep methods of order p start with single-step methods of order at least p - 1 (where k-diffusion and
/// diffusers ramp the order up from 1): one first-order step has a local error O(h^2) that would cap the global
/// order at 2, so the declared order would not hold.</item>
/// </list>
/// </summary>
public static partial class Samplers
{
    /// <summary>x = alpha(s) D(x, t): the step to sigma(s) = 0 (DDIM-01 with varsigma_s = 0).</summary>
    static Tensor Denoise(SamplerContext c, Tensor x, double t, double s) => c.Denoised(x, t) * c.Alpha(s);

    /// <summary>
    /// Every sampler with default settings, for tests and experiments that sweep them. Built on first use: static
    /// initializers of a partial class run in an unspecified file order, so the list must not be one.
    /// </summary>
    public static IReadOnlyList<Sampler> All => all ??=
    [
        Euler, Heun, Rk4, DormandPrince(), Ddim(), DdpmAncestral, EulerAncestral(), DpmSolver(1), DpmSolver(2), DpmSolver(3),
        DpmSolverAdaptive(), DpmSolverPlusPlus2M, DpmSolverPlusPlus3M, DpmSolverPlusPlus2MSde(), DpmSolverPlusPlus3MSde(),
        DpmSolverPlusPlus2SAncestral(), UniPc(), Dpm2, Dpm2Ancestral(), Lms(), Deis(), Ipndm,
        ReverseSde(), PredictorCorrector(), AnnealedLangevin(), EdmStochastic(),
    ];

    static IReadOnlyList<Sampler>? all;
}
