using Research.Torch;

namespace Research.Diffusion;

public static partial class Samplers
{
    // ---- probability-flow ODE (SDE-03, PROC-09): dx/dt = v(x, t) = alpha' x0^ + sigma' eps^ ----------------

    /// <summary>PF-ODE with the explicit Runge–Kutta method <paramref name="tableau"/> on the grid, in the process's own t.</summary>
    public static Sampler ProbabilityFlow(ButcherTableau tableau) =>
        new($"PF-ODE {tableau.Name}", new(Order: tableau.Order), (c, times, x) =>
        {
            VectorField velocity = (t, y) => c.Predict(Prediction.Velocity, y, t);
            return c.Loop(x, times, (i, y) =>
                c.Sigma(times[i + 1]) == 0.0
                    ? Denoise(c, y, times[i], times[i + 1])
                    : tableau.Step(velocity, times[i], times[i + 1] - times[i], y).Y);
        });

    /// <summary>PF-ODE with explicit Euler (order 1, one evaluation per step).</summary>
    public static Sampler Euler { get; } = ProbabilityFlow(ButcherTableau.Euler);
    /// <summary>PF-ODE with Heun's method (order 2, two evaluations per step).</summary>
    public static Sampler Heun { get; } = ProbabilityFlow(ButcherTableau.Heun);
    /// <summary>PF-ODE with classical Runge–Kutta RK4 (order 4, four evaluations per step).</summary>
    public static Sampler Rk4 { get; } = ProbabilityFlow(ButcherTableau.Rk4);

    /// <summary>
    /// Adaptive Dormand–Prince RK5(4) on the PF-ODE from the grid's first time to its last (intermediate grid
    /// times are ignored; the method chooses its own steps), then the denoising step if the grid ends at sigma = 0.
    /// Declared order 5, the order of the propagated solution. Only the final denoising step reaches the callback.
    /// </summary>
    public static Sampler DormandPrince(double rtol = 1e-6, double atol = 1e-6) =>
        new($"PF-ODE Dormand–Prince (rtol {rtol:G3}, atol {atol:G3})", new(Order: ButcherTableau.DormandPrince.Order, Adaptive: true), (c, times, x) =>
        {
            if (times.Length == 1) return x.clone();
            var toZero = c.Sigma(times[^1]) == 0.0;
            var end = toZero ? times[^2] : times[^1];
            var (y, _) = RungeKutta.Adaptive(ButcherTableau.DormandPrince, (t, y) => c.Predict(Prediction.Velocity, y, t), x, times[0], end, rtol, atol);
            if (!toZero) return y;
            var result = c.Loop(y, 1, (_, z) => Denoise(c, z, end, times[^1]), _ => times[^1]);
            y.Dispose();
            return result;
        });
}
