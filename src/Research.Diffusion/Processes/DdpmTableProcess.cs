namespace Research.Diffusion;

/// <summary>
/// The variance-preserving process of a discrete DDPM table: B(t) = -log alpha-bar is linear between the
/// table's steps, B(k/T) = -log alpha-bar_k, so alpha(k/T)^2 = alpha-bar_k exactly at every step and beta(t) is
/// the constant T log(alpha-bar_{k-1}/alpha-bar_k) on ((k-1)/T, k/T]. On the grid k/T the library's samplers and
/// the training objective are then the discrete DDPM itself (one code path: <see cref="DiffusionObjective"/>
/// with <see cref="TimeDistribution.UniformDiscrete"/>, and <see cref="Samplers.DdpmAncestral"/>).
/// </summary>
public sealed class DdpmTableProcess : VariancePreserving
{
    private readonly double[] integrated;   // B at k/T, k = 0..T

    /// <summary>The piecewise-linear-B process of <paramref name="schedule"/>, with time k/T at step k.</summary>
    public DdpmTableProcess(DdpmSchedule schedule)
    {
        Schedule = schedule;
        integrated = new double[schedule.Steps + 1];
        for (var k = 1; k <= schedule.Steps; k++) integrated[k] = integrated[k - 1] - Math.Log(1.0 - schedule.Beta(k));   // -log(1 - beta_k)
    }

    /// <summary>The discrete table this process interpolates.</summary>
    public DdpmSchedule Schedule { get; }
    /// <summary>T, the number of steps of the table.</summary>
    public int Steps => Schedule.Steps;
    /// <inheritdoc/>
    public override string Name => $"DDPM table (T = {Steps})";

    /// <summary>The continuous time of step k, k/T.</summary>
    public double TimeOfStep(int k) => (double)k / Steps;

    private int Interval(double t) => Math.Clamp((int)Math.Ceiling(t * Steps - 1e-12), 1, Steps);

    /// <summary>The constant T log(alpha-bar_{k-1}/alpha-bar_k) on ((k-1)/T, k/T].</summary>
    public override double Beta(double t)
    {
        var k = Interval(t);
        return Steps * (integrated[k] - integrated[k - 1]);
    }

    /// <summary>B(t), linear between the table's values -log alpha-bar_k at t = k/T; t is clamped to [0, 1].</summary>
    public override double IntegratedBeta(double t)
    {
        t = Math.Clamp(t, 0.0, 1.0);
        var k = Interval(t);
        var start = (k - 1.0) / Steps;
        return integrated[k - 1] + (t - start) * Steps * (integrated[k] - integrated[k - 1]);
    }

    /// <summary>
    /// The inverse of the piecewise-linear B by bisection over the steps; 0 for B &lt;= 0 and 1 beyond B(1).
    /// </summary>
    public override double TimeAtIntegratedBeta(double integratedBeta)
    {
        if (integratedBeta <= 0.0) return 0.0;
        if (integratedBeta >= integrated[Steps]) return 1.0;
        int lo = 0, hi = Steps;   // integrated[lo] <= B < integrated[hi]
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            if (integrated[mid] <= integratedBeta) lo = mid; else hi = mid;
        }
        return (lo + (integratedBeta - integrated[lo]) / (integrated[hi] - integrated[lo])) / Steps;
    }
}
