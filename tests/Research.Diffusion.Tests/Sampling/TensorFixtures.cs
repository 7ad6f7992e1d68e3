using Research.Diffusion;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

/// <summary>Conversions between MathNet vectors and float64 tensors for the tensor-side tests.</summary>
public static class TensorFixtures
{
    public static Tensor Rows(IReadOnlyList<Vector<double>> rows) =>
        tensor(rows.SelectMany(v => v.ToArray()).ToArray(), [rows.Count, rows[0].Count]);

    public static Vector<double> Row(Tensor x, int i)
    {
        using var row = x[i].contiguous();
        return Vector<double>.Build.DenseOfArray(row.data<double>());
    }

    public static double[] Values(Tensor x)
    {
        using var c = x.contiguous();
        return c.data<double>();
    }

    /// <summary>F2 G4 (2-D, C4-symmetric), as the library names it.</summary>
    public static GaussianMixture G4 => CatalogueMixtures.G4;

    /// <summary>The sample of a seeded generator: N(0, I) in [n, d].</summary>
    public static Tensor Prior(long n, long d, ulong seed)
    {
        using var g = new Generator(seed);
        return randn([n, d], ScalarType.Float64, generator: g);
    }
}
