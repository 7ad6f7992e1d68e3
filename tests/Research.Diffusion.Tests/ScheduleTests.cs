using Research.Diffusion;
using Xunit.Abstractions;
using static Research.Diffusion.Tests.Fixtures;

namespace Research.Diffusion.Tests;

public class ScheduleTests(ITestOutputHelper output)
{
    // PROC-04: VP sigma^2 = 1 - alpha^2, and the discrete analogue Var(x_k | x_0) = 1 - alpha-bar_k is exact by construction.
    [Theory]
    [InlineData("VP-linear")]
    [InlineData("VP-cosine")]
    [InlineData("SD-scaled-linear")]
    [InlineData("DDPM-linear-limit")]
    [InlineData("VP-form-of-RF")]
    [InlineData("VP-form-of-VE")]
    public void PROC04_VP_sigma2_is_one_minus_alpha2(string name)
    {
        var p = Processes[name];
        foreach (var t in Times.Append(1e-8))
            AssertClose(1.0 - p.Alpha(t) * p.Alpha(t), p.Sigma(t) * p.Sigma(t), 1e-12, $"{name} t={t}");
    }

    // PROC-04 check 1 [R]: the DDPM discretisation beta_k = beta(k/T)/T of VP-linear converges at O(1/T), with goldens.
    [Fact]
    public void PROC04_discrete_alphabar_converges_to_continuous_at_rate_one_over_T()
    {
        var vp = new VpLinear();
        double MaxError(int steps)
        {
            var table = DdpmSchedule.Discretize(vp, steps);
            return Enumerable.Range(1, steps).Max(k => Math.Abs(table.AlphaBar(k) - Math.Pow(vp.Alpha((double)k / steps), 2)));
        }
        var errors = new[] { 1_000, 10_000, 100_000 }.Select(MaxError).ToArray();
        output.WriteLine($"PROC-04 max |abar_k - alpha(k/T)^2|: {string.Join(", ", errors.Select(e => e.ToString("E6")))}");
        // Goldens of PROC-04 are given to 6 significant digits.
        AssertRelative(1.92846e-3, errors[0], 5e-6, "T=1e3");
        AssertRelative(1.92729e-4, errors[1], 5e-6, "T=1e4");
        AssertRelative(1.92717e-5, errors[2], 5e-6, "T=1e5");
        Assert.InRange(errors[0] / errors[1], 9.0, 11.0);
        Assert.InRange(errors[1] / errors[2], 9.0, 11.0);
    }

    // PROC-05: a + b = sqrt(12); beta(k/T) = T beta_k to 1e-13 (section 15.9), a and b goldens.
    [Fact]
    public void PROC05_SD_continuous_beta_interpolates_the_table()
    {
        var sd = new VpScaledLinear();
        var table = DdpmSchedule.ScaledLinear();
        AssertClose(2.5446918612697353, sd.A, 1e-12, "a");
        AssertClose(0.919409753868019, sd.B, 1e-12, "b");
        AssertClose(Math.Sqrt(12.0), sd.A + sd.B, 1e-12, "a + b");
        var deviation = Enumerable.Range(1, 1000).Max(k => Math.Abs(sd.Beta(k / 1000.0) - 1000 * table.Beta(k)));
        Assert.True(deviation <= 1e-13, $"max |beta(k/T) - T beta_k| = {deviation:E3}");
        Assert.Same(sd.GetType(), table.ContinuousLimit!.GetType());
    }

    // PROC-05 goldens at [A] 1e-12 relative (section 15.9) and the quantified "almost identical" claim.
    [Fact]
    public void PROC05_SD_schedule_discrete_vs_continuous_goldens()
    {
        var sd = new VpScaledLinear();
        var table = DdpmSchedule.ScaledLinear();
        AssertRelative(0.99915, table.AlphaBar(1), 1e-12, "abar_1");
        AssertRelative(0.004660098513077234, table.AlphaBar(1000), 1e-12, "abar_1000");
        AssertRelative(0.06826491421716747, Math.Sqrt(table.AlphaBar(1000)), 1e-12, "sqrt abar_1000");
        AssertRelative(0.004779523758198566, sd.Alpha(1.0) * sd.Alpha(1.0), 1e-12, "alpha(1)^2");
        AssertRelative(5.3434143696184195, sd.IntegratedBeta(1.0), 1e-12, "int beta");
        var betas = table.Betas();
        AssertRelative(5.348992791713452, betas.Sum(), 1e-12, "sum beta");
        AssertRelative(0.019612812603513836, betas.Sum(b => b * b / 2), 1e-12, "sum beta^2/2");
        AssertRelative(0.0253043, Math.Log(sd.Alpha(1) * sd.Alpha(1)) - Math.Log(table.AlphaBar(1000)), 5e-6, "log gap at T");

        var differences = Enumerable.Range(1, 1000).Select(k => (k, d: Math.Pow(sd.Alpha(k / 1000.0), 2) - table.AlphaBar(k))).ToArray();
        var worst = differences.MaxBy(x => Math.Abs(x.d));
        output.WriteLine($"PROC-05 max |abar_t - alpha(t/T)^2| = {worst.d:E6} at t = {worst.k}");
        Assert.Equal(469, worst.k);
        AssertRelative(1.1075e-3, worst.d, 5e-4, "max abs diff");
        Assert.All(differences, x => Assert.True(x.d > 0, $"abar_t < alpha(t/T)^2 fails at {x.k}"));
        // Relative to the discrete abar_1000: 2.563% (section 15.9 asks to say which).
        AssertRelative(0.02563, (Math.Pow(sd.Alpha(1), 2) - table.AlphaBar(1000)) / table.AlphaBar(1000), 2e-4, "relative gap at T");
    }

    // PROC-05 check 2 [Q]: the closed form alpha equals exp(-1/2 int beta) by quadrature (PROC-01 with f = -beta/2).
    [Fact]
    public void PROC05_closed_form_alpha_equals_exp_of_integrated_beta()
    {
        var sd = new VpScaledLinear();
        var sde = new LinearSde(t => -0.5 * sd.Beta(t), sd.Beta);
        foreach (var t in new[] { 0.1, 0.5, 1.0 })
            AssertRelative(sd.Alpha(t), sde.ConditionalLaw(t).Alpha, 1e-9, $"t={t}");
    }

    // FIG-12 golden: the linear table ends at abar_1000 = 4.0358e-5; its continuous limit has beta(1) = T beta_T.
    [Fact]
    public void DDPM01_linear_table_golden_and_continuous_limit()
    {
        var table = DdpmSchedule.Linear();
        AssertRelative(4.0358e-5, table.AlphaBar(1000), 1e-4, "abar_1000");
        var limit = (VpLinear)table.ContinuousLimit!;
        for (var k = 1; k <= 1000; k++) AssertClose(1000 * table.Beta(k), limit.Beta(k / 1000.0), 1e-12, $"beta({k}/T)");
        var maxDiff = Enumerable.Range(1, 1000).Max(k => Math.Abs(table.AlphaBar(k) - Math.Pow(limit.Alpha(k / 1000.0), 2)));
        output.WriteLine($"DDPM linear: max |abar_k - alpha(k/T)^2| = {maxDiff:E4}");
        Assert.True(maxDiff < 3e-3);
    }

    // F7 cosine: without the 0.999 clip, abar_k = alpha(k/T)^2 exactly (a telescoping product).
    [Fact]
    public void F7_cosine_table_reproduces_continuous_alphabar()
    {
        var table = DdpmSchedule.Cosine(maxBeta: 1.0);
        var cosine = new VpCosine();
        for (var k = 0; k < 1000; k++)
            AssertClose(Math.Pow(cosine.Alpha(k / 1000.0), 2), table.AlphaBar(k), 1e-12, $"k={k}");
        Assert.Equal(0.999, DdpmSchedule.Cosine().Beta(1000));
    }

    // Lin et al. (2024), Algorithm 1: alpha-bar_T = 0, beta_T = 1, alpha-bar_1 unchanged, sqrt(abar) an affine image of the old one.
    [Fact]
    public void Zero_terminal_SNR_rescaling()
    {
        var original = DdpmSchedule.ScaledLinear();
        var rescaled = original.RescaleZeroTerminalSnr();
        Assert.Equal(0.0, rescaled.AlphaBar(1000), 12);
        Assert.Equal(1.0, rescaled.Beta(1000), 12);
        Assert.Equal(0.0, rescaled.Snr(1000), 12);
        AssertClose(original.AlphaBar(1), rescaled.AlphaBar(1), 1e-12, "abar_1");
        var (a1, aT) = (Math.Sqrt(original.AlphaBar(1)), Math.Sqrt(original.AlphaBar(1000)));
        foreach (var k in new[] { 2, 100, 500, 999 })
            AssertClose((Math.Sqrt(original.AlphaBar(k)) - aT) * a1 / (a1 - aT), Math.Sqrt(rescaled.AlphaBar(k)), 1e-12, $"k={k}");
    }

    // diffusers' documented spacings for T = 1000, N = 10 (Lin et al. 2024, Table 2, 0-based as in diffusers).
    [Fact]
    public void Timestep_spacings_match_diffusers_for_T1000_N10()
    {
        Assert.Equal([999, 888, 777, 666, 555, 444, 333, 222, 111, 0], TimestepSpacing.Linspace(1000, 10));
        Assert.Equal([900, 800, 700, 600, 500, 400, 300, 200, 100, 0], TimestepSpacing.Leading(1000, 10));
        Assert.Equal([901, 801, 701, 601, 501, 401, 301, 201, 101, 1], TimestepSpacing.Leading(1000, 10, stepsOffset: 1));
        Assert.Equal([999, 899, 799, 699, 599, 499, 399, 299, 199, 99], TimestepSpacing.Trailing(1000, 10));
    }

    // numpy semantics at a non-divisible N: round-half-even and arange's length.
    [Fact]
    public void Timestep_spacings_follow_numpy_rounding_for_T1000_N7()
    {
        // np.linspace(0, 999, 7).round() = [0, 166, 333, 500, 666, 832, 999] (166.5 -> 166, 832.5 -> 832).
        Assert.Equal([999, 832, 666, 500, 333, 166, 0], TimestepSpacing.Linspace(1000, 7));
        // 1000 // 7 = 142.
        Assert.Equal([852, 710, 568, 426, 284, 142, 0], TimestepSpacing.Leading(1000, 7));
        // np.round(np.arange(1000, 0, -142.857142...)) - 1 = [999, 856, 713, 570, 428, 285, 142].
        Assert.Equal([999, 856, 713, 570, 428, 285, 142], TimestepSpacing.Trailing(1000, 7));
    }

    // Trailing spacing for every N in 1..T: exactly N strictly decreasing indices in 0..T-1 starting at T-1, equal to
    // numpy's round(arange(T, 0, -T/N)) - 1 (emulated in float64: length ceil(T / (T/N)), values T + i (-T/N)) wherever
    // that has N elements, and to its first N where numpy's float length gives N + 1 (T = 1000, N = 61 is one).
    [Theory]
    [InlineData(1000)]
    [InlineData(50)]
    [InlineData(1)]
    public void Trailing_spacing_has_exactly_N_indices_for_every_N(int trainSteps)
    {
        var longer = 0;
        for (var n = 1; n <= trainSteps; n++)
        {
            var trailing = TimestepSpacing.Trailing(trainSteps, n);
            Assert.Equal(n, trailing.Length);
            Assert.Equal(trainSteps - 1, trailing[0]);
            Assert.True(trailing[^1] >= 0, $"N = {n}: last index {trailing[^1]}");
            for (var i = 1; i < n; i++) Assert.True(trailing[i] < trailing[i - 1], $"N = {n}: not decreasing at {i}");
            var step = -(double)trainSteps / n;
            var numpyLength = (int)Math.Ceiling(-trainSteps / step);
            var numpy = Enumerable.Range(0, numpyLength).Select(i => (int)Math.Round(trainSteps + i * step, MidpointRounding.ToEven) - 1).ToArray();
            if (numpyLength != n) { longer++; Assert.Equal(-1, numpy[^1]); }
            Assert.Equal(numpy.Take(n), trailing);
        }
        // The defect being fixed exists at T = 1000 (62 such N), so this test exercises it.
        if (trainSteps == 1000) Assert.Equal(62, longer);
    }

    [Fact]
    public void Timestep_spacings_reject_N_outside_1_to_T()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TimestepSpacing.Trailing(10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimestepSpacing.Trailing(10, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimestepSpacing.Linspace(10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimestepSpacing.Leading(10, 11));
    }

    // Karras et al. eq. 5 and k-diffusion's exponential grid: endpoints, trailing zero, and the rho-power form.
    [Fact]
    public void Karras_and_exponential_sigma_grids()
    {
        var karras = SigmaGrid.Karras(18, 0.002, 80.0, 7.0);
        Assert.Equal(19, karras.Length);
        AssertClose(80.0, karras[0], 1e-12);
        AssertClose(0.002, karras[17], 1e-12);
        Assert.Equal(0.0, karras[18]);
        // sigma^(1/rho) is uniform in i.
        var roots = karras.Take(18).Select(s => Math.Pow(s, 1.0 / 7.0)).ToArray();
        for (var i = 1; i < 17; i++) AssertClose(roots[1] - roots[0], roots[i + 1] - roots[i], 1e-12, $"step {i}");
        var exponential = SigmaGrid.Exponential(5, 0.01, 100.0);
        Assert.Equal(new[] { 100.0, 10.0, 1.0, 0.1, 0.01, 0.0 }.Select(v => Math.Round(v, 10)), exponential.Select(v => Math.Round(v, 10)));
    }
}
