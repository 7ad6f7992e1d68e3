using F = Research.Torch.torch.nn.functional;

namespace Research.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>Options every layer takes: dtype, device and a generator for its initial weights.</summary>
        public sealed record LayerOptions(ScalarType? dtype = null, Device? device = null, Generator? generator = null);

        private static Tensor NewWeight(long[] shape, LayerOptions? o) =>
            empty(shape, o?.dtype, o?.device);

        /// <summary>PyTorch's default for Linear and Conv: weight kaiming-uniform with a = √5 (bound
        /// 1/√fan_in), bias U(−1/√fan_in, 1/√fan_in).</summary>
        private static (Tensor weight, Tensor? bias) DefaultInit(long[] weightShape, long biasSize, bool bias, LayerOptions? o, bool transposed = false)
        {
            var w = NewWeight(weightShape, o);
            init.kaiming_uniform_(w, Math.Sqrt(5), o?.generator);
            Tensor? b = null;
            if (bias)
            {
                var (fanIn, fanOut) = init.fans(w);
                double bound = 1 / Math.Sqrt(transposed ? fanOut : fanIn);
                b = init.uniform_(NewWeight([biasSize], o), -bound, bound, o?.generator);
            }
            return (w, b);
        }

        public sealed class Linear : Module<Tensor, Tensor>
        {
            public Tensor weight { get; }
            public Tensor? bias { get; }

            public Linear(long inFeatures, long outFeatures, bool hasBias = true, LayerOptions? options = null)
            {
                var (w, b) = DefaultInit([outFeatures, inFeatures], outFeatures, hasBias, options);
                weight = register_parameter("weight", w);
                if (b is not null) bias = register_parameter("bias", b);
            }

            public override Tensor forward(Tensor x) => F.linear(x, weight, bias);
        }

        public sealed class Conv2d : Module<Tensor, Tensor>
        {
            private readonly long stride, padding, dilation, groups;
            public Tensor weight { get; }
            public Tensor? bias { get; }

            public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1,
                long groups = 1, bool hasBias = true, LayerOptions? options = null)
            {
                (this.stride, this.padding, this.dilation, this.groups) = (stride, padding, dilation, groups);
                var (w, b) = DefaultInit([outChannels, inChannels / groups, kernelSize, kernelSize], outChannels, hasBias, options);
                weight = register_parameter("weight", w);
                if (b is not null) bias = register_parameter("bias", b);
            }

            public override Tensor forward(Tensor x) => F.conv2d(x, weight, bias, stride, padding, dilation, groups);
        }

        public sealed class ConvTranspose2d : Module<Tensor, Tensor>
        {
            private readonly long stride, padding, outputPadding;
            public Tensor weight { get; }
            public Tensor? bias { get; }

            public ConvTranspose2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                long outputPadding = 0, bool hasBias = true, LayerOptions? options = null)
            {
                (this.stride, this.padding, this.outputPadding) = (stride, padding, outputPadding);
                // The weight is [in, out, k, k]; PyTorch computes its fan-in from dimension 1.
                var (w, b) = DefaultInit([inChannels, outChannels, kernelSize, kernelSize], outChannels, hasBias, options);
                weight = register_parameter("weight", w);
                if (b is not null) bias = register_parameter("bias", b);
            }

            public override Tensor forward(Tensor x) => F.conv_transpose2d(x, weight, bias, stride, padding, outputPadding);
        }

        public sealed class GroupNorm : Module<Tensor, Tensor>
        {
            private readonly long groups;
            private readonly double eps;
            public Tensor weight { get; }
            public Tensor bias { get; }

            public GroupNorm(long numGroups, long numChannels, double eps = 1e-5, LayerOptions? options = null)
            {
                if (numChannels % numGroups != 0) throw new ArgumentException($"{numChannels} channels do not split into {numGroups} groups");
                (groups, this.eps) = (numGroups, eps);
                weight = register_parameter("weight", ones([numChannels], options?.dtype, options?.device));
                bias = register_parameter("bias", zeros([numChannels], options?.dtype, options?.device));
            }

            public override Tensor forward(Tensor x) => F.group_norm(x, groups, weight, bias, eps);
        }

        public sealed class LayerNorm : Module<Tensor, Tensor>
        {
            private readonly long[] shape;
            private readonly double eps;
            public Tensor weight { get; }
            public Tensor bias { get; }

            public LayerNorm(long[] normalizedShape, double eps = 1e-5, LayerOptions? options = null)
            {
                (shape, this.eps) = (normalizedShape, eps);
                weight = register_parameter("weight", ones(normalizedShape, options?.dtype, options?.device));
                bias = register_parameter("bias", zeros(normalizedShape, options?.dtype, options?.device));
            }

            public override Tensor forward(Tensor x) => F.layer_norm(x, shape, weight, bias, eps);
        }

        public sealed class Embedding : Module<Tensor, Tensor>
        {
            public Tensor weight { get; }

            /// <summary>Rows initialised N(0, 1), as PyTorch.</summary>
            public Embedding(long numEmbeddings, long dim, LayerOptions? options = null)
            {
                weight = register_parameter("weight", init.normal_(NewWeight([numEmbeddings, dim], options), 0, 1, options?.generator));
            }

            public override Tensor forward(Tensor indices) => F.embedding(indices, weight);
        }

        public sealed class Dropout(double p = 0.5) : Module<Tensor, Tensor>
        {
            public override Tensor forward(Tensor x) => F.dropout(x, p, training);
        }

        /// <summary>An activation as a module, for <see cref="Sequential"/>.</summary>
        public sealed class Activation(Func<Tensor, Tensor> f) : Module<Tensor, Tensor>
        {
            public override Tensor forward(Tensor x) => f(x);
        }

        public static Activation SiLU() => new(F.silu);
        public static Activation ReLU() => new(F.relu);
        public static Activation GELU() => new(F.gelu);
        public static Activation Tanh() => new(F.tanh);
        public static Activation Sigmoid() => new(F.sigmoid);

        /// <summary>Modules applied in order; named "0", "1", ... as in PyTorch.</summary>
        public sealed class Sequential : Module<Tensor, Tensor>
        {
            private readonly Module<Tensor, Tensor>[] layers;

            public Sequential(params Module<Tensor, Tensor>[] layers)
            {
                this.layers = layers;
                for (int i = 0; i < layers.Length; i++) register_module(i.ToString(), layers[i]);
            }

            public Module<Tensor, Tensor> this[int i] => layers[i];
            public int Count => layers.Length;

            public override Tensor forward(Tensor x)
            {
                // Intermediate activations belong to the caller's scope, as in any other op chain.
                foreach (var layer in layers) x = layer.forward(x);
                return x;
            }
        }
    }
}
