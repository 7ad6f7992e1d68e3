using Research.Diffusion;
using Research.Torch;
using static Research.Diffusion.Tests.Fixtures;
using static Research.Diffusion.Tests.TensorFixtures;
using static Research.Torch.torch;

namespace Research.Diffusion.Tests;

public class SamplerCallbackTests
{
    // The per-step callback: for every grid sampler it fires once per step with indices 0..N-1 and the grid's times;
    // its state after step k is the sampler's output on the prefix grid t_0..t_{k+1} (samplers are stateless and
    // seeded, so the prefix run draws the same noise), and its denoised tensor is the model's x0 at the step's start.
    [Fact]
    public void Callback_sees_every_step_state_and_denoised()
    {
        var process = new VpLinear();
        using var mixture = new TensorMixture(G4);
        var model = mixture.Denoiser(process);
        var times = TimeGrid.UniformLogSnr(process, 6, 1.0, 0.02);
        using var x = Prior(8, 2, 4);
        foreach (var sampler in Samplers.All.Where(s => !s.Properties.Adaptive && !s.Name.StartsWith("annealed")))
        {
            var seen = new List<(int Index, double Time, Tensor X, Tensor? Denoised)>();
            using (var g = new Generator(1))
                sampler.Sample(model, process, times, x, g, step => seen.Add((step.Index, step.Time, step.X.clone(), step.Denoised?.clone()))).X.Dispose();
            Assert.Equal(Enumerable.Range(0, times.Length - 1), seen.Select(s => s.Index));
            Assert.Equal(times[1..], seen.Select(s => s.Time));
            using var first = model.Predict(Prediction.X0, x, times[0]);
            Assert.True(seen[0].Denoised!.allclose(first, rtol: 1e-9, atol: 1e-9), $"{sampler.Name}: denoised at step 0");
            foreach (var k in new[] { 0, 2, times.Length - 2 })
            {
                using var g = new Generator(1);
                using var prefix = sampler.Sample(model, process, times[..(k + 2)], x, g).X;
                // multistep methods see only the prefix grid, which is the same history
                Assert.True(prefix.allclose(seen[k].X, rtol: 1e-10, atol: 1e-10), $"{sampler.Name}: state after step {k}");
            }
            foreach (var s in seen) { s.X.Dispose(); s.Denoised?.Dispose(); }
        }
    }

    // Annealed Langevin reports each of its L K steps at its level's time, in the process's own coordinates.
    [Fact]
    public void Annealed_Langevin_reports_every_step_at_its_level()
    {
        var process = new VeGeometric();
        using var mixture = new TensorMixture(G4);
        var model = mixture.Denoiser(process);
        double[] levels = [process.TimeAtVarsigma(5.0), process.TimeAtVarsigma(1.0)];
        var times = new List<double>();
        using var x = Prior(4, 2, 2) * 5.0;
        using var g = new Generator(3);
        Tensor? last = null;
        var result = Samplers.AnnealedLangevin(3).Sample(model, process, levels, x, g, step => { times.Add(step.Time); last?.Dispose(); last = step.X.clone(); });
        Assert.Equal([levels[0], levels[0], levels[0], levels[1], levels[1], levels[1]], times);
        Assert.True(result.X.allclose(last!, rtol: 0, atol: 0));
        last!.Dispose();
        result.X.Dispose();
    }

    // k-diffusion parity on the EDM process (alpha = 1, sigma = t, so x^ = x and varsigma = t): Euler ancestral is
    // sample_euler_ancestral's update d = (x - D)/sigma, x += d (sigma_down - sigma), x += z sigma_up, and DPM-2 is
    // sample_dpm_2's, written out here with the same generator stream.
    [Fact]
    public void Euler_ancestral_and_DPM2_follow_k_diffusion()
    {
        var edm = new Edm();
        using var mixture = new TensorMixture(G4);
        var model = mixture.Denoiser(edm);
        var sigmas = TimeGrid.Karras(edm, 8, 0.05, 20.0);
        using var scope = NewDisposeScope();
        var x = Prior(16, 2, 8) * 20.0;

        using var g1 = new Generator(2);
        var ours = Samplers.EulerAncestral().Sample(model, edm, sigmas, x, g1).X;
        using var g2 = new Generator(2);
        var y = x;
        for (var i = 0; i + 1 < sigmas.Length; i++)
        {
            var (s, next) = (sigmas[i], sigmas[i + 1]);
            var up = Math.Min(next, Math.Sqrt(next * next * (s * s - next * next) / (s * s)));
            var down = Math.Sqrt(next * next - up * up);
            var d = (y - model.Predict(Prediction.X0, y, s)) / s;
            y = y + d * (down - s);
            if (next > 0) y = y + randn(y.shape, ScalarType.Float64, generator: g2) * up;
        }
        Assert.True(ours.allclose(y, rtol: 1e-10, atol: 1e-10), "Euler ancestral");

        var dpm2 = Samplers.Dpm2.Sample(model, edm, sigmas, x).X;
        y = x;
        for (var i = 0; i + 1 < sigmas.Length; i++)
        {
            var (s, next) = (sigmas[i], sigmas[i + 1]);
            var d = (y - model.Predict(Prediction.X0, y, s)) / s;
            if (next == 0) { y = y + d * (next - s); continue; }
            var mid = Math.Exp(0.5 * (Math.Log(s) + Math.Log(next)));
            var y2 = y + d * (mid - s);
            var d2 = (y2 - model.Predict(Prediction.X0, y2, mid)) / mid;
            y = y + d2 * (next - s);
        }
        Assert.True(dpm2.allclose(y, rtol: 1e-10, atol: 1e-10), "DPM-2");
    }
}
