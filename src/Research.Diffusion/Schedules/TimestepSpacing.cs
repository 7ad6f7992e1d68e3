namespace Research.Diffusion;

/// <summary>
/// How diffusers picks N sampling timesteps out of T training steps (Lin et al. 2024, Table 2).
/// Timesteps are diffusers' 0-based indices (0..T-1), in sampling order (descending). Rounding is
/// half-to-even, as numpy's round.
/// </summary>
public static class TimestepSpacing
{
    /// <summary>round(linspace(0, T - 1, N)), reversed: starts at T - 1, ends at 0.</summary>
    public static int[] Linspace(int trainSteps, int samplingSteps)
    {
        CheckCounts(trainSteps, samplingSteps);
        return Enumerable.Range(0, samplingSteps)
            .Select(i => samplingSteps == 1 ? 0 : (int)Math.Round((double)i * (trainSteps - 1) / (samplingSteps - 1)))
            .Reverse().ToArray();
    }

    /// <summary>arange(N) * (T div N) + offset, reversed: never reaches T - 1 (the flaw Lin et al. point out).</summary>
    public static int[] Leading(int trainSteps, int samplingSteps, int stepsOffset = 0)
    {
        CheckCounts(trainSteps, samplingSteps);
        var ratio = trainSteps / samplingSteps;
        return Enumerable.Range(0, samplingSteps).Select(i => i * ratio + stepsOffset).Reverse().ToArray();
    }

    /// <summary>
    /// round(T - i T/N) - 1 for i = 0..N-1: exactly N distinct indices from T - 1 down to round(T/N) - 1 &gt;= 0, the
    /// only spacing that always samples the last step. diffusers writes it round(arange(T, 0, -T/N)) - 1 and takes
    /// the length of numpy's arange with a float step, which is N + 1 for some N (T = 1000: N = 61, 103, 121, ...,
    /// where T - N (T/N) rounds to a hair above 0) and then ends at index -1. Here the count is N by construction and
    /// each value is computed as numpy computes it (T + i (-T/N) in float64, rounded half to even), so the indices
    /// are diffusers' own wherever diffusers returns N of them.
    /// </summary>
    public static int[] Trailing(int trainSteps, int samplingSteps)
    {
        CheckCounts(trainSteps, samplingSteps);
        var step = -(double)trainSteps / samplingSteps;
        return Enumerable.Range(0, samplingSteps).Select(i => (int)Math.Round(trainSteps + i * step, MidpointRounding.ToEven) - 1).ToArray();
    }

    /// <summary>
    /// The timestep that follows <paramref name="timestep"/> in a sampling run on a custom list (diffusers'
    /// previous_timestep with custom timesteps): the next entry of the descending list, or -1 after its last entry.
    /// </summary>
    public static int Previous(IReadOnlyList<int> timesteps, int timestep)
    {
        for (var i = 0; i < timesteps.Count; i++)
            if (timesteps[i] == timestep) return i + 1 < timesteps.Count ? timesteps[i + 1] : -1;
        throw new ArgumentException($"timestep {timestep} is not in the list", nameof(timestep));
    }

    /// <summary>The timestep that follows in a run of N steps over T without a list: timestep - T div N (diffusers' default).</summary>
    public static int Previous(int trainSteps, int samplingSteps, int timestep)
    {
        CheckCounts(trainSteps, samplingSteps);
        return timestep - trainSteps / samplingSteps;
    }

    static void CheckCounts(int trainSteps, int samplingSteps)
    {
        if (trainSteps < 1) throw new ArgumentOutOfRangeException(nameof(trainSteps), trainSteps, "T must be at least 1");
        if (samplingSteps < 1 || samplingSteps > trainSteps)
            throw new ArgumentOutOfRangeException(nameof(samplingSteps), samplingSteps, $"N must be in 1..T = {trainSteps}");
    }
}
