namespace Research.Diffusion;

/// <summary>
/// How diffusers picks N sampling timesteps out of T training steps (Lin et al. 2024, Table 2).
/// Timesteps are diffusers' 0-based indices (0..T-1), in sampling order (descending). Rounding is
/// half-to-even, as numpy's round.
/// </summary>
public static class TimestepSpacing
{
    /// <summary>round(linspace(0, T - 1, N)), reversed: starts at T - 1, ends at 0.</summary>
    public static int[] Linspace(int trainSteps, int samplingSteps) =>
        Enumerable.Range(0, samplingSteps)
            .Select(i => samplingSteps == 1 ? 0 : (int)Math.Round((double)i * (trainSteps - 1) / (samplingSteps - 1)))
            .Reverse().ToArray();

    /// <summary>arange(N) * (T div N) + offset, reversed: never reaches T - 1 (the flaw Lin et al. point out).</summary>
    public static int[] Leading(int trainSteps, int samplingSteps, int stepsOffset = 0)
    {
        var ratio = trainSteps / samplingSteps;
        return Enumerable.Range(0, samplingSteps).Select(i => i * ratio + stepsOffset).Reverse().ToArray();
    }

    /// <summary>round(arange(T, 0, -T/N)) - 1: starts at T - 1, the only spacing that always samples the last step.</summary>
    public static int[] Trailing(int trainSteps, int samplingSteps)
    {
        var ratio = (double)trainSteps / samplingSteps;
        var count = (int)Math.Ceiling(trainSteps / ratio); // numpy's arange length
        return Enumerable.Range(0, count).Select(i => (int)Math.Round(trainSteps - i * ratio) - 1).ToArray();
    }
}
