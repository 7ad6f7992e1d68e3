using Research.Torch;
using static Research.Torch.torch;

namespace Research.Diffusion;

/// <summary>
/// A network's raw output at (input, conditioning, labels): the input is x_t (times c_in for a preconditioned
/// target), the conditioning a [batch] tensor (t / TMax, or c_noise), labels int64 [batch] or null.
/// </summary>
public delegate Tensor DiffusionNetwork(Tensor input, Tensor conditioning, Tensor? labels);

/// <summary>What the network regresses.</summary>
public abstract record TrainingTarget
{
    /// <summary>One of the interchangeable predictions (eps, x_0, v, score, velocity), on input x_t and
    /// conditioning t / TMax.</summary>
    public sealed record Parameterized(Prediction Prediction) : TrainingTarget
    {
        /// <summary>The prediction's name, e.g. "Eps".</summary>
        public override string ToString() => Prediction.ToString();
    }

    /// <summary>Karras et al.'s F with a preconditioning (c_skip, c_out, c_in, c_noise) on the VE normal form
    /// x^ = x / alpha, varsigma = sigma / alpha: D = c_skip x^ + c_out F(c_in x^, c_noise).</summary>
    public sealed record Preconditioned(Preconditioning Preconditioning) : TrainingTarget
    {
        /// <summary>"F" with the preconditioning's name.</summary>
        public override string ToString() => $"F ({Preconditioning.Name})";
    }

    /// <summary>eps-prediction (DDPM).</summary>
    public static TrainingTarget Eps { get; } = new Parameterized(Prediction.Eps);
    /// <summary>x_0-prediction.</summary>
    public static TrainingTarget X0 { get; } = new Parameterized(Prediction.X0);
    /// <summary>v-prediction (Salimans &amp; Ho 2022).</summary>
    public static TrainingTarget V { get; } = new Parameterized(Prediction.V);
    /// <summary>Score-prediction (score matching).</summary>
    public static TrainingTarget Score { get; } = new Parameterized(Prediction.Score);
    /// <summary>PF-ODE velocity prediction (flow matching, rectified flow).</summary>
    public static TrainingTarget Velocity { get; } = new Parameterized(Prediction.Velocity);
    /// <summary>EDM's preconditioned F with data standard deviation <paramref name="sigmaData"/>.</summary>
    public static TrainingTarget Edm(double sigmaData = 0.5) => new Preconditioned(Preconditioning.Edm(sigmaData));
}

/// <summary>How training times are drawn. Every law returns times in (0, TMax] of the process.</summary>
public abstract record TimeDistribution
{
    /// <summary>n times drawn with <paramref name="generator"/> (one draw of n values, so the stream is reproducible).</summary>
    public abstract double[] Sample(NoiseProcess process, int n, Generator generator);

    /// <summary>t uniform on [TMin, TMax·(1)]: the continuous-time objective of Song et al. 2021 (TMin avoids sigma = 0).</summary>
    public sealed record Uniform(double TMin = 1e-3) : TimeDistribution
    {
        /// <inheritdoc/>
        public override double[] Sample(NoiseProcess process, int n, Generator generator)
        {
            using var u = rand([n], ScalarType.Float64, generator: generator);
            return u.data<double>().Select(x => TMin + (process.TMax - TMin) * x).ToArray();
        }
    }

    /// <summary>t = k/T with k uniform in 1..T: the discrete DDPM (Ho et al. 2020) on a <see cref="DdpmTableProcess"/>.</summary>
    public sealed record UniformDiscrete(int Steps) : TimeDistribution
    {
        /// <inheritdoc/>
        public override double[] Sample(NoiseProcess process, int n, Generator generator)
        {
            using var k = randint(1, Steps + 1, [n], generator: generator);
            return k.data<long>().Select(x => process.TMax * x / Steps).ToArray();
        }
    }

    /// <summary>EDM's log-normal noise level: ln varsigma ~ N(Mean, Std²), t = varsigma⁻¹ (clamped to TMax).</summary>
    public sealed record LogNormalNoise(double Mean = -1.2, double Std = 1.2) : TimeDistribution
    {
        /// <inheritdoc/>
        public override double[] Sample(NoiseProcess process, int n, Generator generator)
        {
            using var z = randn([n], ScalarType.Float64, generator: generator);
            return z.data<double>().Select(x => Math.Min(process.TimeAtVarsigma(Math.Exp(Mean + Std * x)), process.TMax)).ToArray();
        }
    }

    /// <summary>Logit-normal t = TMax·sigmoid(N(Mean, Std²)) (Esser et al. 2024, for rectified flow).</summary>
    public sealed record LogitNormal(double Mean = 0.0, double Std = 1.0) : TimeDistribution
    {
        /// <inheritdoc/>
        public override double[] Sample(NoiseProcess process, int n, Generator generator)
        {
            using var z = randn([n], ScalarType.Float64, generator: generator);
            return z.data<double>().Select(x => process.TMax / (1.0 + Math.Exp(-(Mean + Std * x)))).ToArray();
        }
    }
}

/// <summary>
/// The weight of each sample's squared error. Every weighting but <see cref="Unweighted"/> is stated on the
/// eps-space error w(t) E‖eps^ − eps‖² (Kingma et al. 2021's weighted loss), whatever the network predicts:
/// a target whose error is s times the eps error gets weight w / s², so the objective is the same function
/// of the denoiser for every target.
/// </summary>
public abstract record LossWeighting
{
    /// <summary>The weight on the eps-space squared error at this point of the process.</summary>
    public abstract double EpsWeight(ProcessPoint p);

    /// <summary>The plain mean squared error of whatever the network predicts (DDPM's simple loss on eps).</summary>
    public sealed record Unweighted : LossWeighting
    {
        /// <summary>
        /// Not defined: throws InvalidOperationException, because the unweighted loss weights the target's own error,
        /// not eps's.
        /// </summary>
        public override double EpsWeight(ProcessPoint p) => throw new InvalidOperationException("the unweighted loss has no eps-space weight; it weights the target's own error by 1");
    }

    /// <summary>w = SNR^Power: SNR weighting (Power 1) is the x_0-space squared error.</summary>
    public sealed record Snr(double Power = 1.0) : LossWeighting
    {
        /// <summary>SNR^Power = (alpha/sigma)^(2 Power).</summary>
        public override double EpsWeight(ProcessPoint p) => Math.Pow(p.Alpha * p.Alpha / (p.Sigma * p.Sigma), Power);
    }

    /// <summary>Min-SNR-gamma (Hang et al. 2023): the x_0-space error weighted by min(SNR, gamma), i.e. w = min(SNR, gamma)/SNR.</summary>
    public sealed record MinSnr(double Gamma = 5.0) : LossWeighting
    {
        /// <summary>min(SNR, gamma) / SNR.</summary>
        public override double EpsWeight(ProcessPoint p)
        {
            var snr = p.Alpha * p.Alpha / (p.Sigma * p.Sigma);
            return Math.Min(snr, Gamma) / snr;
        }
    }

    /// <summary>EDM's lambda(varsigma) = (varsigma² + sigma_d²)/(varsigma sigma_d)² on the x_0-space error; the
    /// x_0 error is varsigma times the eps error, so w = (varsigma² + sigma_d²)/sigma_d².</summary>
    public sealed record EdmLambda(double SigmaData = 0.5) : LossWeighting
    {
        /// <summary>(varsigma^2 + sigma_d^2) / sigma_d^2.</summary>
        public override double EpsWeight(ProcessPoint p)
        {
            var varsigma = p.Sigma / p.Alpha;
            return (varsigma * varsigma + SigmaData * SigmaData) / (SigmaData * SigmaData);
        }
    }
}

/// <summary>
/// One training objective for every diffusion model: a process, a prediction target, a law of training
/// times and a loss weighting (Karras et al. 2022's "a loss is three choices", plus the process).
/// <see cref="Loss(DiffusionNetwork, Tensor, Generator, Tensor?)"/> draws t, then eps ~ N(0, I), forms
/// x_t = alpha x_0 + sigma eps and returns the weighted per-sample squared error of the target, averaged over
/// each sample's elements. The discrete DDPM is
/// (<see cref="DdpmTableProcess"/>, eps, <see cref="TimeDistribution.UniformDiscrete"/>, unweighted).
/// </summary>
public sealed record DiffusionObjective(NoiseProcess Process, TrainingTarget Target, TimeDistribution Times, LossWeighting Weighting)
{
    /// <summary>Ho et al.'s DDPM on a table: eps-prediction, k uniform, simple loss.</summary>
    public static DiffusionObjective Ddpm(DdpmSchedule schedule) =>
        new(new DdpmTableProcess(schedule), TrainingTarget.Eps, new TimeDistribution.UniformDiscrete(schedule.Steps), new LossWeighting.Unweighted());

    /// <summary>Conditional flow matching / rectified flow: velocity on x_t = (1 − t) x_0 + t eps, logit-normal t.</summary>
    public static DiffusionObjective RectifiedFlow() =>
        new(new RectifiedFlow(), TrainingTarget.Velocity, new TimeDistribution.LogitNormal(), new LossWeighting.Unweighted());

    /// <summary>EDM (Karras et al. 2022): the preconditioned F, log-normal sigma, lambda(sigma) weighting.</summary>
    public static DiffusionObjective Edm(double sigmaData = 0.5, double sigmaMax = 80.0) =>
        new(new Edm(sigmaMax), TrainingTarget.Edm(sigmaData), new TimeDistribution.LogNormalNoise(), new LossWeighting.EdmLambda(sigmaData));

    /// <summary>"process, target, times, weighting".</summary>
    public override string ToString() => $"{Process.Name}, {Target}, {Times}, {Weighting}";

    /// <summary>s(t): an error of e in the eps prediction is an error of s·e in the target at the same x_t
    /// (every prediction is affine in eps at fixed x_t, PROC-09, so s is the coefficient on eps).</summary>
    public double TargetScale(double t)
    {
        var p = Process.At(t);
        return Target switch
        {
            TrainingTarget.Parameterized q => Math.Abs(Parameterization.FromEps(p, q.Prediction).OnInput),
            TrainingTarget.Preconditioned c => (p.Sigma / p.Alpha) / c.Preconditioning.COut(p.Sigma / p.Alpha),
            _ => throw new NotSupportedException(Target.ToString()),
        };
    }

    /// <summary>The weight on the target's squared error at time t.</summary>
    public double TargetWeight(double t)
    {
        if (Weighting is LossWeighting.Unweighted) return 1.0;
        var s = TargetScale(t);
        return Weighting.EpsWeight(Process.At(t)) / (s * s);
    }

    /// <summary>The regression target at (x_0, eps, t) for a batch: [B, ...] like x_0.</summary>
    public Tensor TargetValue(Tensor x0, Tensor eps, double[] t)
    {
        using var scope = NewDisposeScope();
        Tensor result;
        switch (Target)
        {
            case TrainingTarget.Parameterized { Prediction: Prediction.Eps }:
                // The coefficients would be 0 on x_0 and 1 on eps: skip the per-sample process points, which cost
                // about 0.45 µs each (1.8 ms of a 4096-point step in the ddpm_train_step benchmark).
                result = eps.alias();
                break;
            case TrainingTarget.Parameterized q:
                var points = t.Select(Process.At).ToArray();
                // prediction = OnX x_t + OnInput eps, with x_t = alpha x_0 + sigma eps.
                var maps = points.Select(p => Parameterization.FromEps(p, q.Prediction)).ToArray();
                result = x0 * Column(maps.Select((m, i) => m.OnX * points[i].Alpha), x0) + eps * Column(maps.Select((m, i) => m.OnX * points[i].Sigma + m.OnInput), x0);
                break;
            case TrainingTarget.Preconditioned c:
                // F* = (x_0 − c_skip x^)/c_out with x^ = x_0 + varsigma eps.
                var v = t.Select(Process.At).Select(p => p.Sigma / p.Alpha).ToArray();
                var pre = c.Preconditioning;
                result = x0 * Column(v.Select(s => (1 - pre.CSkip(s)) / pre.COut(s)), x0) - eps * Column(v.Select(s => pre.CSkip(s) * s / pre.COut(s)), x0);
                break;
            default: throw new NotSupportedException(Target.ToString());
        }
        return result.MoveToOuterScope();
    }

    /// <summary>The network's output at (x_t, t): its input scaling and conditioning follow the target.</summary>
    public Tensor Evaluate(DiffusionNetwork network, Tensor xt, double[] t, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        switch (Target)
        {
            case TrainingTarget.Parameterized:
                return network(xt, tensor(t.Select(x => x / Process.TMax).ToArray(), xt.dtype, xt.device), labels).MoveToOuterScope();
            case TrainingTarget.Preconditioned c:
                var pre = c.Preconditioning;
                var points = t.Select(Process.At).ToArray();
                var input = xt * Column(points.Select(p => pre.CIn(p.Sigma / p.Alpha) / p.Alpha), xt);
                var noise = tensor(points.Select(p => pre.CNoise(p.Sigma / p.Alpha)).ToArray(), xt.dtype, xt.device);
                return network(input, noise, labels).MoveToOuterScope();
            default: throw new NotSupportedException(Target.ToString());
        }
    }

    /// <summary>
    /// Per-sample losses [B] for a batch of data x_0 (and labels for a conditional network): t from
    /// <see cref="Times"/>, then eps, both from <paramref name="generator"/>.
    /// </summary>
    public Tensor Loss(DiffusionNetwork network, Tensor x0, Generator generator, Tensor? labels = null) =>
        Loss(x0, generator, (xt, t) => Evaluate(network, xt, t, labels));

    /// <summary>Per-sample losses with the target-space prediction given directly as a function of (x_t, t).</summary>
    public Tensor Loss(Tensor x0, Generator generator, Func<Tensor, double[], Tensor> predict)
    {
        using var scope = NewDisposeScope();
        var t = Times.Sample(Process, (int)x0.size(0), generator);
        var eps = randn(x0.shape, x0.dtype, x0.device, generator);
        var xt = x0 * Column(t.Select(Process.Alpha), x0) + eps * Column(t.Select(Process.Sigma), x0);
        var error = (predict(xt, t) - TargetValue(x0, eps, t)).square();
        var perSample = error.flatten(1, -1).mean([1]);
        if (Weighting is not LossWeighting.Unweighted)
            perSample = perSample * tensor(t.Select(TargetWeight).ToArray(), x0.dtype, x0.device);
        return perSample.MoveToOuterScope();
    }

    /// <summary>The trained network as a denoiser of <see cref="Process"/>, for the samplers and the likelihood.</summary>
    public ConditionalDenoiser Denoiser(DiffusionNetwork network) => Target switch
    {
        TrainingTarget.Parameterized q => new ConditionalDenoiser(Process, q.Prediction, (x, t, labels) =>
        {
            using var time = full([x.size(0)], t / Process.TMax, x.dtype, x.device);
            return network(x, time, labels);
        }),
        TrainingTarget.Preconditioned c => new ConditionalDenoiser(Process, Prediction.X0, (x, t, labels) =>
        {
            using var scope = NewDisposeScope();
            var p = Process.At(t);
            var pre = c.Preconditioning;
            double v = p.Sigma / p.Alpha;
            if (v == 0.0) return (x / p.Alpha).MoveToOuterScope();
            var xHat = x / p.Alpha;
            using var noise = full([x.size(0)], pre.CNoise(v), x.dtype, x.device);
            return (xHat * pre.CSkip(v) + network(xHat * pre.CIn(v), noise, labels) * pre.COut(v)).MoveToOuterScope();
        }),
        _ => throw new NotSupportedException(Target.ToString()),
    };

    /// <summary>Per-sample coefficients as a [B, 1, ..., 1] tensor that broadcasts against <paramref name="like"/>.</summary>
    private static Tensor Column(IEnumerable<double> values, Tensor like)
    {
        var shape = new long[like.dim];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        return tensor(values.ToArray(), like.dtype, like.device).reshape(shape);
    }
}
