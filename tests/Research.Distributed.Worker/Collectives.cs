using Research.Torch;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Worker;

/// <summary>
/// Every collective on float32, float64 and int64 against its closed form. Rank r contributes
/// v(r) = 2⁵³ + 1 + r in int64 (not representable in float64, so an int64 collective that went through
/// floating point would be caught) and v(r) = (r + 1)/4 + 2⁻⁴⁰ in floating point (the 2⁻⁴⁰ survives
/// in float64 only). All sums are exact, so results are compared for equality.
/// </summary>
public static class Collectives
{
    private static int checks;
    private static readonly List<string> failures = new();

    public static int Run()
    {
        int rank = dist.get_rank(), w = dist.get_world_size();
        foreach (var dtype in new[] { float32, float64, int64 })
        {
            using var scope = NewDisposeScope();
            Value v = r => dtype == int64 ? new(9007199254740993L + r, 0) : new(0, Round(dtype, (r + 1) / 4.0 + Math.Pow(2, -40)));
            var all = Enumerable.Range(0, w).Select(r => v(r)).ToArray();

            var t = Make(dtype, v(rank), [3]);
            dist.all_reduce(t, dist.ReduceOp.SUM);
            Expect($"{dtype} all_reduce SUM", t, Make(dtype, new(all.Sum(x => x.I), all.Sum(x => x.R)), [3]));

            t = Make(dtype, v(rank), [2, 2]);
            dist.all_reduce(t, dist.ReduceOp.MAX);
            Expect($"{dtype} all_reduce MAX", t, Make(dtype, v(w - 1), [2, 2]));

            t = Make(dtype, v(rank), [2]);
            dist.all_reduce(t, dist.ReduceOp.MIN);
            Expect($"{dtype} all_reduce MIN", t, Make(dtype, v(0), [2]));

            t = Make(dtype, v(rank), [5]);
            if (dtype == int64)
            {
                checks++;
                try { dist.all_reduce(t, dist.ReduceOp.AVG); failures.Add("int64 AVG did not throw"); }
                catch (ArgumentException) { }
            }
            else
            {
                dist.all_reduce(t, dist.ReduceOp.AVG);
                Expect($"{dtype} all_reduce AVG", t, Make(dtype, new(0, all.Sum(x => x.R) / w), [5]));
            }

            t = Make(dtype, v(rank), [2, 3]);
            dist.broadcast(t, src: w - 1);
            Expect($"{dtype} broadcast from {w - 1}", t, Make(dtype, v(w - 1), [2, 3]));

            var gathered = Enumerable.Range(0, w).Select(_ => zeros([4], dtype)).ToArray();
            dist.all_gather(gathered, Make(dtype, v(rank), [4]));
            for (int j = 0; j < w; j++) Expect($"{dtype} all_gather [{j}]", gathered[j], Make(dtype, v(j), [4]));

            // input_list[j] = (j + 1) v(r): this rank receives (rank + 1) Σ_r v(r).
            var inputs = Enumerable.Range(0, w).Select(j => Make(dtype, new(v(rank).I * (j + 1), v(rank).R * (j + 1)), [3])).ToArray();
            var output = zeros([3], dtype);
            dist.reduce_scatter(output, inputs, dist.ReduceOp.SUM);
            Expect($"{dtype} reduce_scatter SUM", output, Make(dtype, new(all.Sum(x => x.I) * (rank + 1), all.Sum(x => x.R) * (rank + 1)), [3]));

            dist.barrier();
        }
        if (failures.Count > 0)
        {
            foreach (var f in failures) Console.Error.WriteLine($"rank {rank}: {f}");
            return 1;
        }
        Console.WriteLine($"rank {rank}: {checks} collective checks passed");
        return 0;
    }

    private readonly record struct V(long I, double R);
    private delegate V Value(int rank);

    private static double Round(ScalarType dtype, double x) => dtype == float32 ? (float)x : x;

    private static Tensor Make(ScalarType dtype, V value, long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        return dtype == int64 ? tensor(Enumerable.Repeat(value.I, (int)n).ToArray(), shape) : full(shape, value.R, dtype);
    }

    private static void Expect(string what, Tensor actual, Tensor expected)
    {
        checks++;
        bool same = actual.dtype == expected.dtype && actual.shape.SequenceEqual(expected.shape) && actual.eq(expected).all().ToBoolean();
        if (!same) failures.Add($"{what}: got {actual}, expected {expected}");
    }
}
