using MathNet.Numerics.Distributions;
using Research.Diffusion;
using Research.Torch;
using static Research.Diffusion.Tests.TensorFixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

public class AnalogBitsTests
{
    // BITS-01 check 1: every integer of k bits, k = 1..12, survives encode -> decode exactly, and its code is the
    // binary expansion (most significant bit first) written as -s / +s.
    [Fact]
    public void BITS01_round_trip_is_exact_and_codes_are_binary_expansions()
    {
        using var scope = NewDisposeScope();
        for (var k = 1; k <= 12; k++)
        {
            var values = arange(1L << k);
            var x = AnalogBits.Encode(values, k, 0.5);
            Assert.Equal(new long[] { 1L << k, k }, x.shape);
            var codes = Values(x);
            for (var c = 0; c < 1 << k; c++)
                for (var j = 0; j < k; j++)
                    Assert.Equal(((c >> (k - 1 - j)) & 1) == 1 ? 0.5 : -0.5, codes[c * k + j]);
            Assert.Equal(values.data<long>(), AnalogBits.Decode(x).data<long>());
        }
    }

    // The widest code, batched shapes and float32 outputs: 2^52 - 1 and its neighbours round-trip through [2, 2, 52].
    [Fact]
    public void BITS01_round_trip_at_the_widest_code_and_any_batch_shape()
    {
        using var scope = NewDisposeScope();
        var top = (1L << 52) - 1;
        var values = tensor(new[] { 0L, 1L, top - 1, top }, [2, 2]);
        var x = AnalogBits.Encode(values, AnalogBits.MaxBits);
        Assert.Equal(new long[] { 2, 2, 52 }, x.shape);
        Assert.Equal(values.data<long>(), AnalogBits.Decode(x).data<long>());
        var small = AnalogBits.Encode(tensor(new[] { 5, 2 }), 3, 1.0, ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, small.dtype);
        Assert.Equal(new long[] { 5, 2 }, AnalogBits.Decode(small).data<long>());
    }

    // BITS-01 check 2 [M]: under x + tau u the empirical bit error rate is Phi(-s / tau) within 5 SE (2^20 bits).
    [Fact]
    public void BITS01_bit_error_rate_is_Phi_of_minus_s_over_tau()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        var (s, tau, bits) = (1.0, 0.6, 16);
        var values = randint(0, 1 << bits, [1 << 16], generator: g);
        var x = AnalogBits.Encode(values, bits, s);
        var noisy = x + randn(x.shape, ScalarType.Float64, generator: g) * tau;
        var flipped = (noisy.gt(0.0).ne(x.gt(0.0))).to(ScalarType.Float64).mean().ToDouble();
        var p = AnalogBits.BitErrorProbability(s, tau);
        // Phi(-1/0.6) = erfc(5/(3 sqrt 2))/2, evaluated independently (Python's math.erfc).
        Assert.Equal(0.0477903522728147, p, 15);
        var se = Math.Sqrt(p * (1 - p) / x.numel);
        Assert.True(Math.Abs(flipped - p) <= 5 * se, $"bit error rate {flipped} vs {p} (SE {se})");
        // Power: the rate with the noise counted twice, Phi(-s / (2 tau)) = 0.2023, is far outside 20 SE.
        Assert.True(Math.Abs(flipped - 0.20232838096364303) > 20 * se);
    }

    [Fact]
    public void BITS01_bad_inputs_throw()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => AnalogBits.Encode(tensor(new[] { 4L }), 2));
        Assert.Throws<ArgumentException>(() => AnalogBits.Encode(tensor(new[] { -1L }), 2));
        Assert.Throws<ArgumentException>(() => AnalogBits.Encode(tensor(new[] { 1.0 }), 2));
        Assert.Throws<ArgumentException>(() => AnalogBits.Encode(tensor(new[] { 1L }), 0));
        Assert.Throws<ArgumentException>(() => AnalogBits.Encode(tensor(new[] { 1L }), 53));
        Assert.Throws<ArgumentException>(() => AnalogBits.Encode(tensor(new[] { 1L }), 2, 0.0));
        Assert.Throws<ArgumentException>(() => AnalogBits.Encode(tensor(new[] { 1L }), 2, double.NaN));
        Assert.Throws<ArgumentException>(() => AnalogBits.Decode(tensor(new[] { 1L, 0L })));
        Assert.Throws<ArgumentException>(() => AnalogBits.Decode(tensor(new[] { 1.0, double.NaN })));
        Assert.Throws<ArgumentException>(() => AnalogBits.Decode(zeros([3, 53], ScalarType.Float64)));
        Assert.Throws<ArgumentException>(() => AnalogBits.BitErrorProbability(1.0, -0.1));
    }
}
