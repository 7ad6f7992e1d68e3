namespace Research.Torch;

public static partial class torch
{
    /// <summary>Optimizers, learning-rate schedules and the weight EMA, as torch.optim.</summary>
    public static partial class optim
    {
        /// <summary>
        /// Base of the optimizers: one learning rate over a list of parameters, and per-parameter state
        /// tensors (momentum buffers, moment estimates) kept by name so a checkpoint can save and
        /// restore them (<see cref="state_dict"/>).
        /// </summary>
        public abstract class Optimizer : IDisposable
        {
            /// <summary>The parameters this optimizer updates, in the order given.</summary>
            protected readonly Tensor[] parameters;
            private readonly Dictionary<string, Tensor> state = new();

            private double learningRate;
            private bool disposed;

            /// <summary>
            /// An optimizer over <paramref name="parameters"/> with learning rate <paramref name="lr"/>; throws
            /// ArgumentException for no parameters or an invalid rate.
            /// </summary>
            protected Optimizer(IEnumerable<Tensor> parameters, double lr)
            {
                this.parameters = parameters.ToArray();
                if (this.parameters.Length == 0) throw new ArgumentException("the optimizer got no parameters");
                this.lr = lr;
            }

            /// <summary>The learning rate: finite and >= 0 (a NaN would silently turn every weight into NaN).</summary>
            public double lr
            {
                get => learningRate;
                set => learningRate = RequireNonNegative(value, "lr");
            }

            /// <summary>Number of completed steps.</summary>
            public long step_count { get; private set; }

            /// <summary>Names of the per-parameter state tensors this optimizer keeps ("exp_avg", ...), each
            /// shaped like its parameter; <see cref="load_state_dict"/> accepts only these.</summary>
            protected abstract IReadOnlyCollection<string> StateNames { get; }

            /// <summary>Checks a hyperparameter as PyTorch does: finite and >= 0, else an ArgumentException.</summary>
            protected static double RequireNonNegative(double value, string name) =>
                double.IsFinite(value) && value >= 0 ? value : throw new ArgumentException($"{name} must be a finite number >= 0, got {value}", name);

            private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

            /// <summary>
            /// Clears the gradient of every parameter (sets it to null); throws ObjectDisposedException after Dispose.
            /// </summary>
            public void zero_grad()
            {
                ThrowIfDisposed();
                foreach (var p in parameters) p.grad = null;
            }

            /// <summary>Applies one update to every parameter that has a gradient. A NaN or infinite gradient
            /// anywhere throws before any parameter changes, so the model and the optimizer state stay as
            /// they were after the last good step.</summary>
            public void step()
            {
                ThrowIfDisposed();
                using var _ = no_grad();
                using (var scope = NewDisposeScope())
                {
                    var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToArray();
                    if (grads.Length > 0 && !double.IsFinite(stack(grads.Select(g => g.abs().sum()).ToArray()).sum().ToDouble()))
                        throw new ArithmeticException("non-finite gradient: the step was not applied (lower the learning rate or clip gradients)");
                }
                step_count++;
                for (int i = 0; i < parameters.Length; i++)
                {
                    using var scope = NewDisposeScope();
                    var g = parameters[i].grad;
                    if (g is not null) Update(i, parameters[i], g);
                }
            }

            /// <summary>Updates parameter <paramref name="p"/> (index i) in place given its gradient.</summary>
            protected abstract void Update(int i, Tensor p, Tensor grad);

            /// <summary>The state tensor <paramref name="name"/> of parameter i, created by <paramref name="create"/>
            /// on first use (outside any dispose scope).</summary>
            protected Tensor State(int i, string name, Func<Tensor> create)
            {
                var key = $"{i}.{name}";
                if (!state.TryGetValue(key, out var t))
                {
                    t = create().DetachFromDisposeScope();
                    state[key] = t;
                }
                return t;
            }

            /// <summary>Every state tensor by name ("3.exp_avg"), plus "step" as a one-element int64 tensor.
            /// The tensors returned are copies, owned by the caller (unlike <see cref="nn.Module.state_dict"/>,
            /// which hands out the live parameters).</summary>
            public Dictionary<string, Tensor> state_dict()
            {
                ThrowIfDisposed();
                var d = state.ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope());
                d["step"] = tensor(new[] { step_count }).DetachFromDisposeScope();
                return d;
            }

            /// <summary>Checks that <paramref name="saved"/> can be loaded, changing nothing: "step" is a
            /// one-element int64 tensor >= 0, and every other key is "i.name" with i a parameter index, name
            /// one of this optimizer's state names, and the tensor shaped and typed like parameter i.
            /// Throws one <see cref="ArgumentException"/> listing every problem.</summary>
            public void validate_state_dict(IReadOnlyDictionary<string, Tensor> saved)
            {
                ThrowIfDisposed();
                var problems = new List<string>();
                if (!saved.TryGetValue("step", out var step)) problems.Add("missing key: step");
                else if (step is null || step.IsDisposed || step.dtype != ScalarType.Int64 || step.numel != 1 || step.ToInt64() < 0)
                    problems.Add("'step' is not a one-element int64 tensor >= 0");
                var unexpected = new List<string>();
                var mismatched = new List<string>();
                foreach (var (key, value) in saved.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (key == "step") continue;
                    int dot = key.IndexOf('.');
                    if (dot <= 0 || !int.TryParse(key.AsSpan(0, dot), out int i) || i < 0 || i >= parameters.Length
                        || !StateNames.Contains(key[(dot + 1)..]))
                    {
                        unexpected.Add(key);
                        continue;
                    }
                    var p = parameters[i];
                    if (value is null || value.IsDisposed) mismatched.Add($"'{key}' is {(value is null ? "null" : "a disposed tensor")}");
                    else if (!value.shape.SequenceEqual(p.shape) || value.dtype != p.dtype)
                        mismatched.Add($"'{key}' expected {p.dtype} [{string.Join(", ", p.shape)}] like parameter {i}, got {value.dtype} [{string.Join(", ", value.shape)}]");
                }
                if (unexpected.Count > 0) problems.Add($"unexpected keys: {string.Join(", ", unexpected)}");
                if (mismatched.Count > 0) problems.Add($"mismatched: {string.Join("; ", mismatched)}");
                if (problems.Count > 0)
                    throw new ArgumentException($"state does not match {GetType().Name} over {parameters.Length} parameters (nothing was loaded): {string.Join("; ", problems)}");
            }

            /// <summary>Replaces the state with copies of <paramref name="saved"/> on each parameter's device, all or nothing: it is
            /// validated first (<see cref="validate_state_dict"/>), so a bad entry leaves the state as it was.</summary>
            public void load_state_dict(IReadOnlyDictionary<string, Tensor> saved)
            {
                validate_state_dict(saved);
                var copies = new Dictionary<string, Tensor>();
                try
                {
                    // The state lives with its parameter (a CPU checkpoint resumes on CUDA and vice versa).
                    foreach (var (k, v) in saved)
                    {
                        if (k == "step") continue;
                        var device = parameters[int.Parse(k.AsSpan(0, k.IndexOf('.')))].device;
                        copies[k] = (v.device == device ? v.clone() : v.to(device)).DetachFromDisposeScope();
                    }
                }
                catch
                {
                    foreach (var t in copies.Values) t.Dispose();
                    throw;
                }
                foreach (var t in state.Values) t.Dispose();
                state.Clear();
                foreach (var (k, v) in copies) state[k] = v;
                step_count = saved["step"].ToInt64();
            }

            /// <summary>Frees the state tensors; any later use of the optimizer throws ObjectDisposedException.</summary>
            public void Dispose()
            {
                if (disposed) return;
                disposed = true;
                foreach (var t in state.Values) t.Dispose();
                state.Clear();
                GC.SuppressFinalize(this);
            }
        }

        /// <summary>SGD with momentum and Nesterov, as torch.optim.SGD:
        /// g ← g + wd·p; b ← μ·b + (1 − dampening)·g (b = g on the first step); g ← g + μ·b (Nesterov) or b; p ← p − lr·g.</summary>
        public sealed class SGD : Optimizer
        {
            private readonly double momentum, dampening, weightDecay;
            private readonly bool nesterov;

            /// <summary>
            /// SGD over <paramref name="parameters"/>; throws ArgumentException for negative or non-finite
            /// hyperparameters, or Nesterov without momentum or with dampening.
            /// </summary>
            public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0,
                double weight_decay = 0, bool nesterov = false) : base(parameters, lr)
            {
                this.momentum = RequireNonNegative(momentum, nameof(momentum));
                this.dampening = double.IsFinite(dampening) ? dampening : throw new ArgumentException($"dampening must be finite, got {dampening}", nameof(dampening));
                weightDecay = RequireNonNegative(weight_decay, nameof(weight_decay));
                if (nesterov && (momentum <= 0 || dampening != 0))
                    throw new ArgumentException("Nesterov momentum requires a momentum > 0 and zero dampening", nameof(nesterov));
                this.nesterov = nesterov;
            }

            private static readonly string[] Names = ["momentum_buffer"];
            /// <summary>"momentum_buffer" when momentum is used, none otherwise.</summary>
            protected override IReadOnlyCollection<string> StateNames => momentum != 0 ? Names : [];

            /// <summary>The SGD update of parameter <paramref name="i"/> from its gradient.</summary>
            protected override void Update(int i, Tensor p, Tensor grad)
            {
                var g = weightDecay != 0 ? grad + p * weightDecay : grad;
                if (momentum != 0)
                {
                    bool first = false;
                    var buf = State(i, "momentum_buffer", () => { first = true; return g.clone(); });
                    if (!first) buf.mul_(momentum).add_(g, 1 - dampening);
                    g = nesterov ? g + buf * momentum : buf;
                }
                p.add_(g, -lr);
            }
        }

        /// <summary>Adam (Kingma and Ba) with PyTorch's update order; decoupled weight decay makes it AdamW:
        /// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε).
        /// Adam adds wd·p to g; AdamW multiplies p by (1 − lr·wd) first.</summary>
        public class Adam : Optimizer
        {
            private readonly double beta1, beta2, eps, weightDecay;
            private readonly bool decoupled;

            /// <summary>
            /// Adam over <paramref name="parameters"/> with weight decay added to the gradient (L2); throws
            /// ArgumentException for betas outside [0, 1) or negative or non-finite eps, weight decay or rate.
            /// </summary>
            public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                double eps = 1e-8, double weight_decay = 0)
                : this(parameters, lr, beta1, beta2, eps, weight_decay, decoupled: false) { }

            /// <summary>Adam, or AdamW when <paramref name="decoupled"/>; for subclasses.</summary>
            protected Adam(IEnumerable<Tensor> parameters, double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled)
                : base(parameters, lr)
            {
                if (!(beta1 is >= 0 and < 1) || !(beta2 is >= 0 and < 1)) throw new ArgumentException($"betas must lie in [0, 1), got ({beta1}, {beta2})");
                (this.beta1, this.beta2, this.decoupled) = (beta1, beta2, decoupled);
                this.eps = RequireNonNegative(eps, nameof(eps));
                weightDecay = RequireNonNegative(weight_decay, nameof(weight_decay));
            }

            private static readonly string[] Names = ["exp_avg", "exp_avg_sq"];
            /// <summary>"exp_avg" and "exp_avg_sq", the first and second moment estimates.</summary>
            protected override IReadOnlyCollection<string> StateNames => Names;

            /// <summary>The Adam (or AdamW) update of parameter <paramref name="i"/> from its gradient.</summary>
            protected override void Update(int i, Tensor p, Tensor grad)
            {
                var m = State(i, "exp_avg", () => zeros_like(p));
                var v = State(i, "exp_avg_sq", () => zeros_like(p));
                var g = grad;
                if (weightDecay != 0)
                {
                    if (decoupled) p.mul_(1 - lr * weightDecay);
                    else g = grad + p * weightDecay;
                }
                m.lerp_(g, 1 - beta1);
                v.mul_(beta2).addcmul_(g, g, 1 - beta2);
                double biasCorrection1 = 1 - Math.Pow(beta1, step_count);
                double biasCorrection2 = 1 - Math.Pow(beta2, step_count);
                var denominator = (v.sqrt() / Math.Sqrt(biasCorrection2)).add_(eps);
                p.addcdiv_(m, denominator, -lr / biasCorrection1);
            }
        }

        /// <summary>AdamW (Loshchilov and Hutter): Adam with decoupled weight decay, default 0.01 as in PyTorch.</summary>
        public sealed class AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
            double eps = 1e-8, double weight_decay = 0.01) : Adam(parameters, lr, beta1, beta2, eps, weight_decay, decoupled: true);
    }

    public static partial class nn
    {
        /// <summary>Utilities on parameters and gradients, as torch.nn.utils.</summary>
        public static class utils
        {
            /// <summary>Scales all gradients together so their global 2-norm is at most <paramref name="max_norm"/>;
            /// returns the norm before clipping (as torch.nn.utils.clip_grad_norm_).</summary>
            public static double clip_grad_norm_(IEnumerable<Tensor> parameters, double max_norm)
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToArray();
                if (grads.Length == 0) return 0;
                double total = stack(grads.Select(g => g.norm()).ToArray()).norm().ToDouble();
                double coefficient = max_norm / (total + 1e-6);
                if (coefficient < 1)
                    foreach (var g in grads) g.mul_(coefficient);
                return total;
            }
        }
    }
}
