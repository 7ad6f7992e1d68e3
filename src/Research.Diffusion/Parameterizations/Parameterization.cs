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
    /// <summary>OnX x + OnInput input for scalars.</summary>
    public double Apply(double x, double input) => OnX * x + OnInput * input;
    /// <summary>OnX x + OnInput input for vectors.</summary>
    public Vector<double> Apply(Vector<double> x, Vector<double> input) => OnX * x + OnInput * input;

    /// <summary>The map input -> out solved for input: input = (out - OnX x) / OnInput.</summary>
    public AffineMap Inverse() => new(-OnX / OnInput, 1.0 / OnInput);

    /// <summary>this after <paramref name="inner"/>: x -> OnX x + OnInput (inner.OnX x + inner.OnInput input).</summary>
    public AffineMap After(AffineMap inner) => new(OnX + OnInput * inner.OnX, OnInput * inner.OnInput);
}

/// <summary>
/// Conversions between eps, x_0, v, score and velocity given (alpha, sigma, alpha', sigma') (PROC-09,
/// SCORE-01). Each prediction is written once as an affine function of (x, eps) in <see cref="FromEps"/>, and
/// once, equivalently, of (x, x_0) in <see cref="FromX0"/>; every conversion is composed from one of the two by
/// inversion, so no conversion is written twice. The eps basis divides by alpha and the x_0 basis by sigma, so
/// <see cref="Map"/> uses the eps basis where alpha &gt;= sigma and the x_0 basis where sigma &gt; alpha: both
/// endpoints are then exact limits, not 0/0. At alpha = 0 (RF and VP-cosine at t = 1), x = sigma eps, so eps and
/// score are fixed by x alone and carry no information about x_0: converting them to x_0, v or velocity is
/// refused. At sigma = 0, symmetrically, x_0 = x / alpha, and an x_0 prediction says nothing about eps.
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

    /// <summary>
    /// prediction = OnX x + OnInput x_0, the same predictions in the x_0 basis (eps = (x - alpha x_0)/sigma):
    /// eps = x/sigma - (alpha/sigma) x_0; score = -eps/sigma; v = (alpha/sigma) x - ((alpha^2 + sigma^2)/sigma) x_0;
    /// velocity = alpha' x_0 + sigma' eps = (sigma'/sigma) x + (alpha' - sigma' alpha/sigma) x_0 (PROC-09).
    /// </summary>
    public static AffineMap FromX0(ProcessPoint p, Prediction prediction) => prediction switch
    {
        Prediction.X0 => new(0.0, 1.0),
        Prediction.Eps => new(1.0 / p.Sigma, -p.Alpha / p.Sigma),
        Prediction.Score => new(-1.0 / (p.Sigma * p.Sigma), p.Alpha / (p.Sigma * p.Sigma)),
        Prediction.V => new(p.Alpha / p.Sigma, -(p.Alpha * p.Alpha + p.Sigma * p.Sigma) / p.Sigma),
        Prediction.Velocity => new(p.SigmaPrime / p.Sigma, p.AlphaPrime - p.SigmaPrime * p.Alpha / p.Sigma),
        _ => throw new ArgumentOutOfRangeException(nameof(prediction)),
    };

    /// <summary>
    /// The affine map from a <paramref name="from"/>-prediction to a <paramref name="to"/>-prediction at the same (x, t),
    /// in the basis that divides by the larger of alpha and sigma. Throws where <paramref name="from"/> does not
    /// determine <paramref name="to"/> (eps or score at alpha = 0, x_0 at sigma = 0, velocity where it does not
    /// depend on the unknown).
    /// </summary>
    public static AffineMap Map(ProcessPoint p, Prediction from, Prediction to) =>
        TryMap(p, from, to) ?? throw new ArgumentException(
            $"a {from} prediction at alpha = {p.Alpha:G6}, sigma = {p.Sigma:G6} does not determine the {to} prediction " +
            "(at alpha = 0, eps = x/sigma whatever x_0 is; at sigma = 0, x_0 = x/alpha whatever eps is)");

    /// <summary><see cref="Map"/>, or null where <paramref name="from"/> does not determine <paramref name="to"/>.</summary>
    public static AffineMap? TryMap(ProcessPoint p, Prediction from, Prediction to)
    {
        if (from == to) return new AffineMap(0.0, 1.0);
        Func<ProcessPoint, Prediction, AffineMap> basis = p.Alpha >= p.Sigma ? FromEps : FromX0;
        var source = basis(p, from);
        if (source.OnInput == 0.0 || !double.IsFinite(source.OnInput) || !double.IsFinite(source.OnX)) return null;
        return basis(p, to).After(source.Inverse());
    }

    /// <summary>
    /// Converts a <paramref name="from"/> prediction <paramref name="value"/> at x to a <paramref name="to"/>
    /// prediction; throws where <paramref name="from"/> does not determine <paramref name="to"/> (see
    /// <see cref="Map"/>).
    /// </summary>
    public static Vector<double> Convert(ProcessPoint p, Prediction from, Prediction to, Vector<double> x, Vector<double> value) =>
        Map(p, from, to).Apply(x, value);

    /// <summary>
    /// The scalar form of <see cref="Convert(ProcessPoint, Prediction, Prediction, Vector{double}, Vector{double})"/>.
    /// </summary>
    public static double Convert(ProcessPoint p, Prediction from, Prediction to, double x, double value) =>
        Map(p, from, to).Apply(x, value);

    /// <summary>score = -eps / sigma.</summary>
    public static Vector<double> ScoreFromEps(ProcessPoint p, Vector<double> x, Vector<double> eps) => Convert(p, Prediction.Eps, Prediction.Score, x, eps);
    /// <summary>eps = -sigma score.</summary>
    public static Vector<double> EpsFromScore(ProcessPoint p, Vector<double> x, Vector<double> score) => Convert(p, Prediction.Score, Prediction.Eps, x, score);
    /// <summary>x_0 = (x - sigma eps) / alpha.</summary>
    public static Vector<double> X0FromEps(ProcessPoint p, Vector<double> x, Vector<double> eps) => Convert(p, Prediction.Eps, Prediction.X0, x, eps);
    /// <summary>eps = (x - alpha x_0) / sigma.</summary>
    public static Vector<double> EpsFromX0(ProcessPoint p, Vector<double> x, Vector<double> x0) => Convert(p, Prediction.X0, Prediction.Eps, x, x0);

    /// <summary>Tweedie: E[x_0 | x] = (x + sigma^2 score)/alpha (SCORE-01).</summary>
    public static Vector<double> X0FromScore(ProcessPoint p, Vector<double> x, Vector<double> score) => Convert(p, Prediction.Score, Prediction.X0, x, score);
    /// <summary>score = -(x - alpha x_0) / sigma^2.</summary>
    public static Vector<double> ScoreFromX0(ProcessPoint p, Vector<double> x, Vector<double> x0) => Convert(p, Prediction.X0, Prediction.Score, x, x0);
    /// <summary>v = alpha eps - sigma x_0, with x_0 from eps.</summary>
    public static Vector<double> VFromEps(ProcessPoint p, Vector<double> x, Vector<double> eps) => Convert(p, Prediction.Eps, Prediction.V, x, eps);
    /// <summary>eps = (sigma x + alpha v) / (alpha^2 + sigma^2).</summary>
    public static Vector<double> EpsFromV(ProcessPoint p, Vector<double> x, Vector<double> v) => Convert(p, Prediction.V, Prediction.Eps, x, v);
    /// <summary>x_0 = (alpha x - sigma v) / (alpha^2 + sigma^2).</summary>
    public static Vector<double> X0FromV(ProcessPoint p, Vector<double> x, Vector<double> v) => Convert(p, Prediction.V, Prediction.X0, x, v);
    /// <summary>The PF-ODE velocity dx/dt = alpha' x_0 + sigma' eps, with x_0 from eps.</summary>
    public static Vector<double> VelocityFromEps(ProcessPoint p, Vector<double> x, Vector<double> eps) => Convert(p, Prediction.Eps, Prediction.Velocity, x, eps);
    /// <summary>The PF-ODE velocity dx/dt = alpha' x_0 + sigma' eps, with eps from x_0.</summary>
    public static Vector<double> VelocityFromX0(ProcessPoint p, Vector<double> x, Vector<double> x0) => Convert(p, Prediction.X0, Prediction.Velocity, x, x0);
    /// <summary>The PF-ODE velocity dx/dt from the score.</summary>
    public static Vector<double> VelocityFromScore(ProcessPoint p, Vector<double> x, Vector<double> score) => Convert(p, Prediction.Score, Prediction.Velocity, x, score);
    /// <summary>eps from the PF-ODE velocity dx/dt.</summary>
    public static Vector<double> EpsFromVelocity(ProcessPoint p, Vector<double> x, Vector<double> velocity) => Convert(p, Prediction.Velocity, Prediction.Eps, x, velocity);
    /// <summary>x_0 from the PF-ODE velocity dx/dt.</summary>
    public static Vector<double> X0FromVelocity(ProcessPoint p, Vector<double> x, Vector<double> velocity) => Convert(p, Prediction.Velocity, Prediction.X0, x, velocity);
}
