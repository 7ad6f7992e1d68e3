using MathNet.Numerics.LinearAlgebra;

namespace Research.Diffusion;

/// <summary>
/// Named mixtures of docs/claims.md's fixtures (F2), shared by the tests, the experiments and
/// the benchmarks so that "G4" means one distribution everywhere.
/// </summary>
public static class CatalogueMixtures
{
    /// <summary>G4 (2-D, C4-symmetric): 1/4 sum_j N(2 e_j, 0.3^2 I), e_j in {(+-1, 0), (0, +-1)}.</summary>
    public static GaussianMixture G4 => new([0.25, 0.25, 0.25, 0.25],
        new[] { (2.0, 0.0), (-2.0, 0.0), (0.0, 2.0), (0.0, -2.0) }
            .Select(m => Gaussian.Isotropic(Vector<double>.Build.DenseOfArray([m.Item1, m.Item2]), 0.09)).ToArray());
}
