namespace Research.Diffusion;

/// <summary>
/// expm1 and log1p with full relative precision near 0. System.Math has neither; double.ExpM1 is
/// Exp(x) - 1, and MathNet's ExponentialMinusOne is a truncated series (relative error 3e-8 at x = 0.0087).
/// Schedules need them: sigma^2 = 1 - exp(-B) must stay exact as t -> 0.
/// </summary>
internal static class Elementary
{
    /// <summary>exp(x) - 1 by Kahan's correction: exact to a few ulps for all x.</summary>
    public static double ExpM1(double x)
    {
        var u = Math.Exp(x);
        if (u == 1.0) return x;
        var um1 = u - 1.0;
        return um1 == -1.0 || double.IsInfinity(u) ? um1 : um1 * x / Math.Log(u);
    }

    /// <summary>log(1 + x) by Goldberg's correction: exact to a few ulps for all x &gt; -1.</summary>
    public static double Log1P(double x)
    {
        var u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>log(1 + e^x) without overflow.</summary>
    public static double Softplus(double x) => x > 0 ? x + Log1P(Math.Exp(-x)) : Log1P(Math.Exp(x));
}
