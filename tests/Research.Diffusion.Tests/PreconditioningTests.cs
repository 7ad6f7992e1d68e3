using Research.Diffusion;
using static Research.Diffusion.Tests.Fixtures;

namespace Research.Diffusion.Tests;

public class PreconditioningTests(Xunit.Abstractions.ITestOutputHelper output)
{
    // EDM Table 1: each preconditioning's ideal raw network F is what its native process predicts (VP: eps-hat of
    // VP-linear at t = c_noise/(M - 1) on the VP-form input c_in x; VE: sigma * score = -eps-hat of the VE form;
    // iDDPM: eps-hat at the table level u_j of index M - 1 - c_noise; EDM: its own training target's conditional
    // mean, computed through the RF process). Plugged into D = c_skip x + c_out F(c_in x, c_noise), all four
    // reproduce the exact denoiser E[x0 | x0 + sigma eps = x] of the same mixture. [A] at 1e-9 (posterior solves).
    [Fact]
    public void EDM_Table1_preconditionings_describe_the_same_denoiser()
    {
        var mixture = RandomMixture(new Random(51), 3, 2);
        var edm = new Edm();
        var vp = new VpLinear(0.1, 20.0);
        var cosine = new VpCosine();
        var rf = new RectifiedFlow();
        var levels = Preconditioning.IDdpmSigmas();
        var random = new Random(52);

        foreach (var sigma in new[] { 0.05, 0.5, 2.0, 20.0 })
        {
            // iDDPM conditions on a table level: evaluate it at the nearest one so that all four see the same sigma.
            var sigmaIddpm = levels.MinBy(u => Math.Abs(u - sigma));
            foreach (var (precond, s) in Preconditioning.All.Select(p => (p, p.Name == "iDDPM" ? sigmaIddpm : sigma)))
            {
                var exact = mixture.Diffuse(edm, s);
                var x = exact.Marginal.Sample(random);
                Func<Vector<double>, double, Vector<double>> network = precond.Name switch
                {
                    "VP" => (input, noise) => mixture.Diffuse(vp, noise / 999).Predict(Prediction.Eps, input),
                    "VE" => (input, noise) => -mixture.Diffuse(edm, 2 * Math.Exp(noise)).Predict(Prediction.Eps, input),
                    "iDDPM" => (input, noise) => mixture.Diffuse(cosine, cosine.TimeAtVarsigma(levels[999 - (int)noise])).Predict(Prediction.Eps, input),
                    "EDM" => (input, noise) =>
                    {
                        // EDM Table 1 with sigma_data = 0.5, typed here: c_in = 1/sqrt(s^2 + sd^2), c_noise = ln(s)/4,
                        // c_skip = sd^2/(s^2 + sd^2), c_out = s sd/sqrt(s^2 + sd^2); F = (x0 - c_skip x)/c_out.
                        var sigmaOfNoise = Math.Exp(4 * noise);
                        var norm = Math.Sqrt(sigmaOfNoise * sigmaOfNoise + 0.25);
                        var xIn = input * norm;
                        var (xRf, tRf) = ProcessConversion.MapState(edm, rf, xIn, sigmaOfNoise);
                        var x0 = mixture.Diffuse(rf, tRf).PosteriorMean(xRf);
                        return (x0 - 0.25 / (norm * norm) * xIn) / (sigmaOfNoise * 0.5 / norm);
                    },
                    _ => throw new InvalidOperationException(precond.Name),
                };
                AssertClose(exact.PosteriorMean(x), precond.Denoise(x, s, network), 1e-9, $"{precond.Name} sigma={s}");
            }
        }
    }

    // EDM Table 1 constants: VP's sigma^{-1} and iDDPM's level table.
    [Fact]
    public void EDM_Table1_noise_conditioning_constants()
    {
        var vp = Preconditioning.Vp();
        // sigma^{-1}(sigma) = (sqrt(beta_min^2 + 2 beta_d log(1 + sigma^2)) - beta_min) / beta_d.
        var sigma = 3.0;
        var expected = (Math.Sqrt(0.01 + 2 * 19.9 * Math.Log(1 + sigma * sigma)) - 0.1) / 19.9;
        AssertClose(999 * expected, vp.CNoise(sigma), 1e-12, "VP c_noise");
        var u = Preconditioning.IDdpmSigmas();
        Assert.Equal(0.0, u[1000]);
        Assert.True(u.Zip(u.Skip(1)).All(pair => pair.First > pair.Second), "u_j decreasing");
        output.WriteLine($"iDDPM levels: u_0 = {u[0]:R}, u_999 = {u[999]:R}");
        // EDM: the training target (x0 - c_skip x)/c_out has unit variance for data of variance sigma_data^2:
        // c_skip^2 (sigma_d^2 + sigma^2) - 2 c_skip sigma_d^2 + sigma_d^2 = c_out^2.
        var edm = Preconditioning.Edm(0.5);
        foreach (var s in new[] { 0.01, 0.5, 3.0, 80.0 })
        {
            var (cSkip, cOut) = (edm.CSkip(s), edm.COut(s));
            AssertClose(cOut * cOut, cSkip * cSkip * (0.25 + s * s) - 2 * cSkip * 0.25 + 0.25, 1e-12, $"EDM unit target variance at {s}");
            AssertClose(1.0, edm.CIn(s) * edm.CIn(s) * (0.25 + s * s), 1e-12, $"EDM unit input variance at {s}");
        }
    }
}
