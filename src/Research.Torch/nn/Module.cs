namespace Research.Torch;

public static partial class torch
{
    /// <summary>Networks as torch.nn: modules, layers, functional ops, initialisers and utilities.</summary>
    public static partial class nn
    {
        /// <summary>
        /// A network part with named parameters, buffers and submodules, as torch.nn.Module.
        /// Registration is explicit: a subclass calls <see cref="register_parameter"/>,
        /// <see cref="register_buffer"/> and <see cref="register_module{T}"/> in its constructor, in the
        /// order that names appear in <see cref="named_parameters"/> and <see cref="state_dict"/>
        /// ("layer.0.weight"). Parameters and buffers live outside dispose scopes and are freed by
        /// <see cref="Dispose"/>.
        /// </summary>
        public abstract class Module : IDisposable
        {
            private readonly List<(string name, Tensor tensor)> ownParameters = new();
            private readonly List<(string name, Tensor tensor)> ownBuffers = new();
            private readonly List<(string name, Module module)> children = new();

            /// <summary>True in training mode (dropout active); see <see cref="train"/> and <see cref="eval"/>.</summary>
            public bool training { get; private set; } = true;

            /// <summary>
            /// Registers <paramref name="value"/> as a trainable parameter named <paramref name="name"/> (requires_grad
            /// set, taken out of dispose scopes); returns it. Throws ArgumentException for an empty, dotted or
            /// duplicate name.
            /// </summary>
            protected Tensor register_parameter(string name, Tensor value)
            {
                CheckName(name);
                value.DetachFromDisposeScope();
                if (!value.requires_grad) value.requires_grad_();
                ownParameters.Add((name, value));
                return value;
            }

            /// <summary>
            /// Registers <paramref name="value"/> as a buffer named <paramref name="name"/>: saved in the state dict,
            /// not trained; returns it.
            /// </summary>
            protected Tensor register_buffer(string name, Tensor value)
            {
                CheckName(name);
                value.DetachFromDisposeScope();
                ownBuffers.Add((name, value));
                return value;
            }

            /// <summary>
            /// Registers a submodule named <paramref name="name"/>, whose names get the prefix "name."; returns it.
            /// </summary>
            protected T register_module<T>(string name, T module) where T : Module
            {
                CheckName(name);
                children.Add((name, module));
                return module;
            }

            private void CheckName(string name)
            {
                if (string.IsNullOrEmpty(name) || name.Contains('.'))
                    throw new ArgumentException($"invalid name '{name}': names are non-empty and contain no '.'");
                if (ownParameters.Any(p => p.name == name) || ownBuffers.Any(b => b.name == name) || children.Any(m => m.name == name))
                    throw new ArgumentException($"'{name}' is already registered in {GetType().Name}");
            }

            /// <summary>
            /// Every parameter with its dotted name ("layer.0.weight"), own ones first, then the children's in
            /// registration order.
            /// </summary>
            public IEnumerable<(string name, Tensor parameter)> named_parameters()
            {
                foreach (var p in ownParameters) yield return p;
                foreach (var (prefix, m) in children)
                    foreach (var (n, p) in m.named_parameters()) yield return ($"{prefix}.{n}", p);
            }

            /// <summary>Every parameter, in the order of <see cref="named_parameters"/>.</summary>
            public Tensor[] parameters() => named_parameters().Select(p => p.parameter).ToArray();

            /// <summary>Every buffer with its dotted name, own ones first, then the children's.</summary>
            public IEnumerable<(string name, Tensor buffer)> named_buffers()
            {
                foreach (var b in ownBuffers) yield return b;
                foreach (var (prefix, m) in children)
                    foreach (var (n, b) in m.named_buffers()) yield return ($"{prefix}.{n}", b);
            }

            /// <summary>The direct submodules with their names, in registration order.</summary>
            public IEnumerable<(string name, Module module)> named_children() => children;

            /// <summary>Parameters and buffers by name: the live tensors themselves, not copies, so
            /// changing one changes the module and saving them saves its current values. (Unlike
            /// <see cref="optim.Optimizer.state_dict"/>, which returns copies the caller owns.)</summary>
            public Dictionary<string, Tensor> state_dict()
            {
                var d = new Dictionary<string, Tensor>();
                foreach (var (n, p) in named_parameters()) d[n] = p;
                foreach (var (n, b) in named_buffers()) d[n] = b;
                return d;
            }

            /// <summary>Checks that <paramref name="state"/> can be loaded, changing nothing: every entry's
            /// shape and dtype must match, and with <paramref name="strict"/> no name may be missing or
            /// unexpected. Throws one <see cref="ArgumentException"/> listing every problem, like PyTorch's
            /// strict loading.</summary>
            public void validate_state_dict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
            {
                var own = state_dict();
                var problems = new List<string>();
                if (strict)
                {
                    var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToArray();
                    var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToArray();
                    if (missing.Length > 0) problems.Add($"missing keys: {string.Join(", ", missing)}");
                    if (unexpected.Length > 0) problems.Add($"unexpected keys: {string.Join(", ", unexpected)}");
                }
                var mismatched = new List<string>();
                foreach (var (name, target) in own)
                {
                    if (!state.TryGetValue(name, out var source)) continue;
                    if (source is null || source.IsDisposed) mismatched.Add($"'{name}' is {(source is null ? "null" : "a disposed tensor")}");
                    else if (!source.shape.SequenceEqual(target.shape) || source.dtype != target.dtype)
                        mismatched.Add($"'{name}' expected {Describe(target)}, got {Describe(source)}");
                }
                if (mismatched.Count > 0) problems.Add($"mismatched: {string.Join("; ", mismatched)}");
                if (problems.Count > 0)
                    throw new ArgumentException($"state does not match {GetType().Name} (nothing was loaded): {string.Join("; ", problems)}");
            }

            private static string Describe(Tensor t) => $"{t.dtype} [{string.Join(", ", t.shape)}]";

            /// <summary>Copies values into this module's parameters and buffers, all or nothing: the whole
            /// state is validated first (<see cref="validate_state_dict"/>), so a bad entry changes no
            /// parameter. Without <paramref name="strict"/>, names missing on either side are skipped.</summary>
            public void load_state_dict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
            {
                validate_state_dict(state, strict);
                using var _ = no_grad();
                foreach (var (name, target) in state_dict())
                    if (state.TryGetValue(name, out var source)) target.copy_(source);
            }

            /// <summary>
            /// Sets training mode (<paramref name="mode"/> true) or eval mode on this module and every submodule;
            /// returns this.
            /// </summary>
            public Module train(bool mode = true)
            {
                training = mode;
                foreach (var (_, m) in children) m.train(mode);
                return this;
            }

            /// <summary>Sets eval mode (dropout off) on this module and every submodule; returns this.</summary>
            public Module eval() => train(false);

            /// <summary>Clears every parameter's gradient.</summary>
            public void zero_grad()
            {
                foreach (var p in parameters()) p.grad = null;
            }

            /// <summary>Moves or converts every parameter and buffer in place (parameters stay leaves).</summary>
            public Module to(Device device) => Convert(t => t.to(device));
            /// <summary>
            /// Converts every parameter and buffer to <paramref name="dtype"/> in place (parameters stay the same
            /// objects).
            /// </summary>
            public Module to(ScalarType dtype) => Convert(t => t.to(dtype));

            // Swaps each tensor's data in place (libtorch's set_data), so parameters stay the same
            // objects: fields that subclasses hold and optimizers built earlier remain valid.
            private Module Convert(Func<Tensor, Tensor> f)
            {
                using var _ = no_grad();
                foreach (var (_, t) in ownParameters.Concat(ownBuffers))
                    using (var moved = f(t)) t.set_data(moved);
                foreach (var (_, m) in children) m.Convert(f);
                return this;
            }

            /// <summary>Number of scalar parameters.</summary>
            public long parameter_count() => parameters().Sum(p => p.numel);

            /// <summary>Frees the parameters and buffers of this module and of every submodule.</summary>
            public virtual void Dispose()
            {
                foreach (var (_, p) in ownParameters) p.Dispose();
                foreach (var (_, b) in ownBuffers) b.Dispose();
                foreach (var (_, m) in children) m.Dispose();
                GC.SuppressFinalize(this);
            }
        }

        /// <summary>A module with one input and one output.</summary>
        public abstract class Module<TIn, TOut> : Module
        {
            /// <summary>The module's computation on <paramref name="input"/>.</summary>
            public abstract TOut forward(TIn input);
            /// <summary>The same as <see cref="forward"/>, PyTorch's module(input).</summary>
            public TOut call(TIn input) => forward(input);
        }
    }
}
