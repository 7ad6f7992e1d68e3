namespace Research.Torch;

public static partial class torch
{
    public static partial class optim
    {
        /// <summary>
        /// Base of the optimizers: one learning rate over a list of parameters, and per-parameter state
        /// tensors (momentum buffers, moment estimates) kept by name so a checkpoint can save and
        /// restore them (<see cref="state_dict"/>).
        /// </summary>
        public abstract class Optimizer : IDisposable
        {
            protected readonly Tensor[] parameters;
            private readonly Dictionary<string, Tensor> state = new();

            protected Optimizer(IEnumerable<Tensor> parameters, double lr)
            {
                this.parameters = parameters.ToArray();
                if (this.parameters.Length == 0) throw new ArgumentException("the optimizer got no parameters");
                if (lr < 0) throw new ArgumentException($"learning rate must be >= 0, got {lr}");
                this.lr = lr;
            }

            public double lr { get; set; }

            /// <summary>Number of completed steps.</summary>
            public long step_count { get; private set; }

            public void zero_grad()
            {
                foreach (var p in parameters) p.grad = null;
            }

            /// <summary>Applies one update to every parameter that has a gradient. A NaN or infinite gradient
            /// anywhere throws before any parameter changes, so the model and the optimizer state stay as
            /// they were after the last good step.</summary>
            public void step()
            {
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
            /// The tensors returned are copies, owned by the caller.</summary>
            public Dictionary<string, Tensor> state_dict()
            {
                var d = state.ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope());
                d["step"] = tensor(new[] { step_count }).DetachFromDisposeScope();
                return d;
            }

            public void load_state_dict(IReadOnlyDictionary<string, Tensor> saved)
            {
                if (!saved.TryGetValue("step", out var step))
                    throw new ArgumentException("optimizer state has no 'step' entry");
                foreach (var t in state.Values) t.Dispose();
                state.Clear();
                foreach (var (k, v) in saved)
                    if (k != "step") state[k] = v.clone().DetachFromDisposeScope();
                step_count = step.item<long>();
            }

            public void Dispose()
            {
                foreach (var t in state.Values) t.Dispose();
                state.Clear();
                GC.SuppressFinalize(this);
            }
        }

        /// <summary>SGD with momentum and Nesterov, as torch.optim.SGD:
        /// g ← g + wd·p; b ← μ·b + (1 − dampening)·g (b = g on the first step); g ← g + μ·b (Nesterov) or b; p ← p − lr·g.</summary>
        public sealed class SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0,
            double weight_decay = 0, bool nesterov = false) : Optimizer(parameters, lr)
        {
            protected override void Update(int i, Tensor p, Tensor grad)
            {
                var g = weight_decay != 0 ? grad + p * weight_decay : grad;
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

            public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                double eps = 1e-8, double weight_decay = 0)
                : this(parameters, lr, beta1, beta2, eps, weight_decay, decoupled: false) { }

            protected Adam(IEnumerable<Tensor> parameters, double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled)
                : base(parameters, lr)
            {
                if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentException($"betas must lie in [0, 1), got ({beta1}, {beta2})");
                (this.beta1, this.beta2, this.eps, weightDecay, this.decoupled) = (beta1, beta2, eps, weight_decay, decoupled);
            }

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
