namespace Research.Diffusion;

/// <summary>Root finding used by the derived inverses of monotone schedule maps.</summary>
internal static class Roots
{
    /// <summary>
    /// The x in [lo, hi] with f(x) = target for a monotone f (either direction), by bisection until the
    /// bracket stops shrinking. Bisection, not Newton: near t = 0 lambda diverges and Newton steps leave
    /// the bracket. Targets beyond f(lo) or f(hi) return the nearer end.
    /// </summary>
    public static double Monotone(Func<double, double> f, double target, double lo, double hi)
    {
        var increasing = f(hi) >= f(lo);
        if (increasing ? target <= f(lo) : target >= f(lo)) return lo;
        if (increasing ? target >= f(hi) : target <= f(hi)) return hi;
        while (true)
        {
            var mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) return mid;
            var below = f(mid) < target;
            if (below == increasing) lo = mid; else hi = mid;
        }
    }
}
