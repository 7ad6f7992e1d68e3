namespace Research.Diffusion;

/// <summary>
/// Noise-level grids for samplers written in varsigma (EDM / k-diffusion convention): N decreasing
/// levels from sigmaMax to sigmaMin followed by a final 0. Map a level to a process's time with
/// <see cref="NoiseProcess.TimeAtVarsigma"/>.
/// </summary>
public static class SigmaGrid
{
    /// <summary>Karras et al. (2022), eq. 5: sigma_i = (sigmaMax^(1/rho) + i/(N-1) (sigmaMin^(1/rho) - sigmaMax^(1/rho)))^rho.</summary>
    public static double[] Karras(int count, double sigmaMin = 0.002, double sigmaMax = 80.0, double rho = 7.0)
    {
        var (hi, lo) = (Math.Pow(sigmaMax, 1.0 / rho), Math.Pow(sigmaMin, 1.0 / rho));
        return Grid(count, u => Math.Pow(hi + u * (lo - hi), rho));
    }

    /// <summary>Uniform in log sigma (k-diffusion's get_sigmas_exponential).</summary>
    public static double[] Exponential(int count, double sigmaMin = 0.002, double sigmaMax = 80.0)
    {
        var (hi, lo) = (Math.Log(sigmaMax), Math.Log(sigmaMin));
        return Grid(count, u => Math.Exp(hi + u * (lo - hi)));
    }

    /// <summary>level(i/(N-1)) for i = 0..N-1, then a final 0.</summary>
    static double[] Grid(int count, Func<double, double> level)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), "need at least two noise levels");
        var grid = new double[count + 1];
        for (var i = 0; i < count; i++) grid[i] = level((double)i / (count - 1));
        return grid;
    }
}
