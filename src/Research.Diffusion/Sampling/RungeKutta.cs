using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>dy/dt = f(t, y) on a tensor state.</summary>
public delegate Tensor VectorField(double t, Tensor y);

/// <summary>
/// An explicit Runge–Kutta method as data (Butcher tableau: stage times C, stage weights A, solution
/// weights B, and optionally embedded weights for error control), with its order. Euler, Heun, RK4 and
/// Dormand–Prince differ only in these numbers, so the step is written once (<see cref="Step"/>).
/// </summary>
public sealed record ButcherTableau(string Name, int Order, double[] C, double[][] A, double[] B, double[]? BEmbedded = null, int? EmbeddedOrder = null)
{
    /// <summary>The number of stages s (function evaluations per step, one fewer when FSAL).</summary>
    public int Stages => B.Length;

    /// <summary>First same as last: the last stage is f at the new point, so an accepted step hands it to the next.</summary>
    public bool Fsal => C[^1] == 1.0 && A[^1].SequenceEqual(B.Take(A[^1].Length)) && B[^1] == 0.0;

    /// <summary>The explicit Euler method, order 1.</summary>
    public static ButcherTableau Euler { get; } = new("Euler", 1, [0.0], [[]], [1.0]);

    /// <summary>Heun's method (explicit trapezoid), the second-order method of EDM (Karras et al. 2022, Alg. 1).</summary>
    public static ButcherTableau Heun { get; } = new("Heun", 2, [0.0, 1.0], [[], [1.0]], [0.5, 0.5]);

    /// <summary>The classical fourth-order Runge–Kutta method.</summary>
    public static ButcherTableau Rk4 { get; } = new("RK4", 4, [0.0, 0.5, 0.5, 1.0], [[], [0.5], [0.0, 0.5], [0.0, 0.0, 1.0]], [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6]);

    /// <summary>Dormand &amp; Prince (1980) RK5(4)7M: the fifth-order solution is propagated, the fourth-order one estimates the error.</summary>
    public static ButcherTableau DormandPrince { get; } = new("Dormand–Prince", 5,
        [0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0],
        [
            [],
            [1.0 / 5],
            [3.0 / 40, 9.0 / 40],
            [44.0 / 45, -56.0 / 15, 32.0 / 9],
            [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
            [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
            [35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
        ],
        [35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0.0],
        [5179.0 / 57600, 0.0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40],
        4);

    /// <summary>
    /// One step from (t, y) to t + h. Returns the new state, the stage derivatives (the caller owns them; the
    /// last one is f(t + h, y_new) when <see cref="Fsal"/>) and, for embedded pairs, the error estimate
    /// y_new - y_embedded. <paramref name="first"/> reuses a known f(t, y).
    /// </summary>
    public (Tensor Y, Tensor[] K, Tensor? Error) Step(VectorField f, double t, double h, Tensor y, Tensor? first = null)
    {
        var k = new Tensor[Stages];
        for (var i = 0; i < Stages; i++)
        {
            if (i == 0 && first is not null) { k[0] = first; continue; }
            k[i] = f(t + C[i] * h, Combine(y, h, A[i], k));
        }
        var next = Combine(y, h, B, k);
        Tensor? error = null;
        if (BEmbedded is not null)
            error = Combine(zeros_like(y), h, B.Zip(BEmbedded, (b, e) => b - e).ToArray(), k);
        return (next, k, error);
    }

    /// <summary>y + h sum_j w_j k_j over the nonzero weights.</summary>
    static Tensor Combine(Tensor y, double h, double[] weights, Tensor[] k)
    {
        var sum = y.alias();
        for (var j = 0; j < weights.Length; j++)
            if (weights[j] != 0.0) sum = sum + k[j] * (h * weights[j]);
        return sum;
    }
}

/// <summary>Integrators built on <see cref="ButcherTableau.Step"/>.</summary>
public static class RungeKutta
{
    /// <summary>
    /// Adaptive integration from t0 to t1 (either direction) with an embedded pair: a step is accepted when the
    /// RMS over all elements of error / (atol + rtol max(|y|, |y_new|)) is at most 1, and the next step size is
    /// h * clamp(0.9 err^(-1/(q+1)), 0.2, 5) with q the embedded order (Hairer, Nørsett &amp; Wanner, II.4).
    /// The step size is shared by the whole batch. Returns the end state and the number of evaluations of f.
    /// </summary>
    public static (Tensor Y, int Evaluations) Adaptive(ButcherTableau tableau, VectorField f, Tensor y0, double t0, double t1,
        double rtol, double atol, int maxSteps = 100_000)
    {
        if (tableau.BEmbedded is null || tableau.EmbeddedOrder is not int q)
            throw new ArgumentException($"{tableau.Name} has no embedded error estimate");
        var evaluations = 0;
        Tensor Counted(double t, Tensor y) { evaluations++; return f(t, y); }
        var direction = Math.Sign(t1 - t0);
        var (t, y) = (t0, y0);
        Tensor? first = null;
        var h = direction * InitialStep(Counted, y0, t0, direction, Math.Abs(t1 - t0), tableau.Order, rtol, atol);
        for (var step = 0; direction * (t1 - t) > 0; step++)
        {
            if (step == maxSteps) throw new InvalidOperationException($"{tableau.Name}: no convergence in {maxSteps} steps at t = {t}");
            if (direction * (t + h - t1) > 0) h = t1 - t;
            Tensor next, nextFirst;
            double error;
            using (var scope = NewDisposeScope())
            {
                var (candidate, k, estimate) = tableau.Step(Counted, t, h, y, first);
                var scale = y.abs().maximum(candidate.abs()) * rtol + atol;
                error = (estimate! / scale).square().mean().sqrt().ToDouble();
                next = candidate.MoveToOuterScope();
                nextFirst = tableau.Fsal ? k[^1].MoveToOuterScope() : null!;
            }
            if (!(error <= 1.0))
            {
                next.Dispose();
                nextFirst?.Dispose();
                h *= double.IsFinite(error) ? Math.Max(0.2, 0.9 * Math.Pow(error, -1.0 / (q + 1))) : 0.2;
                continue;
            }
            if (!ReferenceEquals(y, y0)) y.Dispose();
            first?.Dispose();
            (t, y, first) = (direction * (t + h - t1) >= 0 ? t1 : t + h, next, nextFirst);
            h *= error == 0.0 ? 5.0 : Math.Min(5.0, Math.Max(0.2, 0.9 * Math.Pow(error, -1.0 / (q + 1))));
        }
        first?.Dispose();
        return (ReferenceEquals(y, y0) ? y0.clone() : y, evaluations);
    }

    /// <summary>Hairer, Nørsett &amp; Wanner's starting step (II.4): h from |y| / |f| and one trial Euler step.</summary>
    static double InitialStep(VectorField f, Tensor y, double t, int direction, double span, int order, double rtol, double atol)
    {
        using var scope = NewDisposeScope();
        var scale = y.abs() * rtol + atol;
        double Norm(Tensor v) => (v / scale).square().mean().sqrt().ToDouble();
        var f0 = f(t, y);
        var (d0, d1) = (Norm(y), Norm(f0));
        var h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        h0 = Math.Min(h0, span);
        var f1 = f(t + direction * h0, y + f0 * (direction * h0));
        var d2 = Norm(f1 - f0) / h0;
        var h1 = Math.Max(d1, d2) <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / Math.Max(d1, d2), 1.0 / (order + 1));
        return Math.Min(Math.Min(100 * h0, h1), span);
    }
}
