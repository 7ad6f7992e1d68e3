using MathNet.Numerics.LinearAlgebra;

namespace Research.Diffusion;

/// <summary>What a network (or an exact denoiser) predicts at (x, t).</summary>
public enum Prediction
{
    /// <summary>E[eps | x_t].</summary>
    Eps,
    /// <summary>E[x_0 | x_t].</summary>
    X0,
    /// <summary>E[alpha eps - sigma x_0 | x_t], the v-prediction of Salimans &amp; Ho (2022).</summary>
    V,
    /// <summary>grad log p_t(x_t).</summary>
    Score,
    /// <summary>E[alpha' x_0 + sigma' eps | x_t], the PF-ODE velocity dx/dt (flow matching's target up to the time direction).</summary>
    Velocity,
}

/// <summary>out = OnX x + OnInput input: every conversion between predictions has this form.</summary>
public readonly record struct AffineMap(double OnX, double OnInput)
{
    public double Apply(double x, double input) => OnX * x + OnInput * input;
    public Vector<double> Apply(Vector<double> x, Vector<double> input) => OnX * x + OnInput * input;

    /// <summary>The map input -> out solved for input: input = (out - OnX x) / OnInput.</summary>
    public AffineMap Inverse() => new(-OnX / OnInput, 1.0 / OnInput);

    /// <summary>this after <paramref name="inner"/>: x -> OnX x + OnInput (inner.OnX x + inner.OnInput input).</summary>
    public AffineMap After(AffineMap inner) => new(OnX + OnInput * inner.OnX, OnInput * inner.OnInput);
}

/// <summary>
/// Conversions between eps, x_0, v, score and velocity given (alpha, sigma, alpha', sigma') (PROC-09,
/// SCORE-01). Each prediction is written once, as an affine function of (x, eps) in <see cref="FromEps"/>;
/// every other conversion is composed from those by inversion, so no formula appears twice.
/// </summary>
public static class Parameterization
{
    /// <summary>
    /// prediction = OnX x + OnInput eps, from x = alpha x_0 + sigma eps:
    /// score = -eps/sigma (SCORE-01); x_0 = (x - sigma eps)/alpha;
    /// v = alpha eps - sigma x_0 = -(sigma/alpha) x + ((alpha^2 + sigma^2)/alpha) eps, valid for every process;
    /// the familiar x_0 = alpha x - sigma v holds only on VP, where alpha^2 + sigma^2 = 1 (PROC-09);
    /// velocity = alpha' x_0 + sigma' eps = (alpha'/alpha) x + (sigma' - sigma alpha'/alpha) eps (PROC-09).
    /// </summary>
    public static AffineMap FromEps(ProcessPoint p, Prediction prediction) => prediction switch
    {
        Prediction.Eps => new(0.0, 1.0),
        Prediction.Score => new(0.0, -1.0 / p.Sigma),
        Prediction.X0 => new(1.0 / p.Alpha, -p.Sigma / p.Alpha),
        Prediction.V => new(-p.Sigma / p.Alpha, (p.Alpha * p.Alpha + p.Sigma * p.Sigma) / p.Alpha),
        Prediction.Velocity => new(p.AlphaPrime / p.Alpha, p.SigmaPrime - p.Sigma * p.AlphaPrime / p.Alpha),
        _ => throw new ArgumentOutOfRangeException(nameof(prediction)),
    };

    /// <summary>The affine map from a <paramref name="from"/>-prediction to a <paramref name="to"/>-prediction at the same (x, t).</summary>
    public static AffineMap Map(ProcessPoint p, Prediction from, Prediction to) =>
        from == to ? new(0.0, 1.0) : FromEps(p, to).After(FromEps(p, from).Inverse());

    public static Vector<double> Convert(ProcessPoint p, Prediction from, Prediction to, Vector<double> x, Vector<double> value) =>
        Map(p, from, to).Apply(x, value);

    public static double Convert(ProcessPoint p, Prediction from, Prediction to, double x, double value) =>
        Map(p, from, to).Apply(x, value);

    public static Vector<double> ScoreFromEps(ProcessPoint p, Vector<double> x, Vector<double> eps) => Convert(p, Prediction.Eps, Prediction.Score, x, eps);
    public static Vector<double> EpsFromScore(ProcessPoint p, Vector<double> x, Vector<double> score) => Convert(p, Prediction.Score, Prediction.Eps, x, score);
    public static Vector<double> X0FromEps(ProcessPoint p, Vector<double> x, Vector<double> eps) => Convert(p, Prediction.Eps, Prediction.X0, x, eps);
    public static Vector<double> EpsFromX0(ProcessPoint p, Vector<double> x, Vector<double> x0) => Convert(p, Prediction.X0, Prediction.Eps, x, x0);

    /// <summary>Tweedie: E[x_0 | x] = (x + sigma^2 score)/alpha (SCORE-01).</summary>
    public static Vector<double> X0FromScore(ProcessPoint p, Vector<double> x, Vector<double> score) => Convert(p, Prediction.Score, Prediction.X0, x, score);
    public static Vector<double> ScoreFromX0(ProcessPoint p, Vector<double> x, Vector<double> x0) => Convert(p, Prediction.X0, Prediction.Score, x, x0);
    public static Vector<double> VFromEps(ProcessPoint p, Vector<double> x, Vector<double> eps) => Convert(p, Prediction.Eps, Prediction.V, x, eps);
    public static Vector<double> EpsFromV(ProcessPoint p, Vector<double> x, Vector<double> v) => Convert(p, Prediction.V, Prediction.Eps, x, v);
    public static Vector<double> X0FromV(ProcessPoint p, Vector<double> x, Vector<double> v) => Convert(p, Prediction.V, Prediction.X0, x, v);
    public static Vector<double> VelocityFromEps(ProcessPoint p, Vector<double> x, Vector<double> eps) => Convert(p, Prediction.Eps, Prediction.Velocity, x, eps);
    public static Vector<double> VelocityFromX0(ProcessPoint p, Vector<double> x, Vector<double> x0) => Convert(p, Prediction.X0, Prediction.Velocity, x, x0);
    public static Vector<double> VelocityFromScore(ProcessPoint p, Vector<double> x, Vector<double> score) => Convert(p, Prediction.Score, Prediction.Velocity, x, score);
    public static Vector<double> EpsFromVelocity(ProcessPoint p, Vector<double> x, Vector<double> velocity) => Convert(p, Prediction.Velocity, Prediction.Eps, x, velocity);
    public static Vector<double> X0FromVelocity(ProcessPoint p, Vector<double> x, Vector<double> velocity) => Convert(p, Prediction.Velocity, Prediction.X0, x, velocity);
}
