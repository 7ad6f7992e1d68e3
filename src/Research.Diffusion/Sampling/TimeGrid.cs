namespace Research.Diffusion;

/// <summary>
/// Sampling grids: N + 1 decreasing times t_0 &gt; t_1 &gt; ... &gt; t_N of a process (noise to data). Every
/// sampler takes such a grid; a grid is data, so a sampler never keeps a step counter of its own.
/// </summary>
public static class TimeGrid
{
    /// <summary>Uniform in t from <paramref name="start"/> down to <paramref name="end"/>.</summary>
    public static double[] UniformTime(int steps, double start, double end) =>
        Enumerable.Range(0, steps + 1).Select(i => i == steps ? end : start + (end - start) * i / steps).ToArray();

    /// <summary>
    /// Uniform in lambda = log SNR between the two times (the natural grid of DPM-Solver, Lu et al. 2022, whose
    /// step size h is a difference of half-log-SNRs). An end at t = 0 (lambda = inf) is kept as a final
    /// step to t = 0 after a uniform grid down to the second-to-last level, which is <paramref name="endIfZero"/>.
    /// </summary>
    public static double[] UniformLogSnr(NoiseProcess process, int steps, double start, double end, double endIfZero = 1e-3)
    {
        var toZero = process.Sigma(end) == 0.0;
        var last = toZero ? endIfZero : end;
        var n = toZero ? steps - 1 : steps;
        var (from, to) = (process.LogSnr(start), process.LogSnr(last));
        var grid = Enumerable.Range(0, n + 1)
            .Select(i => i == 0 ? start : i == n ? last : process.TimeAtLogSnr(from + (to - from) * i / n));
        return toZero ? grid.Append(end).ToArray() : grid.ToArray();
    }

    /// <summary>
    /// Karras et al. (2022), eq. 5, in varsigma (the noise level of the VE normal form, PROC-08), mapped to
    /// the process's times: N levels from sigmaMax down to sigmaMin with exponent rho, then t = 0.
    /// </summary>
    public static double[] Karras(NoiseProcess process, int steps, double sigmaMin, double sigmaMax, double rho = 7.0) =>
        SigmaGrid.Karras(steps, sigmaMin, sigmaMax, rho).Select(process.TimeAtVarsigma).ToArray();
}
