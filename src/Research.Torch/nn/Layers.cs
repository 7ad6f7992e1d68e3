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

        /// <summary>
        /// Fully connected layer y = x Wᵀ + b on the last dimension, [..., in] to [..., out] (torch.nn.Linear), with
        /// PyTorch's default initialisation.
        /// </summary>
        public sealed class Linear : Module<Tensor, Tensor>
        {
            /// <summary>W [out, in].</summary>
            public Tensor weight { get; }
            /// <summary>b [out], or null without a bias.</summary>
            public Tensor? bias { get; }

            /// <summary>
            /// A layer from <paramref name="inFeatures"/> to <paramref name="outFeatures"/> features, with a bias
            /// unless <paramref name="hasBias"/> is false.
            /// </summary>
            public Linear(long inFeatures, long outFeatures, bool hasBias = true, LayerOptions? options = null)
            {
                var (w, b) = DefaultInit([outFeatures, inFeatures], outFeatures, hasBias, options);
                weight = register_parameter("weight", w);
                if (b is not null) bias = register_parameter("bias", b);
            }

            /// <summary>x Wᵀ + b for x [..., in].</summary>
            public override Tensor forward(Tensor x) => F.linear(x, weight, bias);
        }

        /// <summary>
        /// 2-D convolution over [N, C_in, H, W] with a square kernel (torch.nn.Conv2d), with PyTorch's default
        /// initialisation.
        /// </summary>
        public sealed class Conv2d : Module<Tensor, Tensor>
        {
            private readonly long stride, padding, dilation, groups;
            /// <summary>The kernels [C_out, C_in / groups, k, k].</summary>
            public Tensor weight { get; }
            /// <summary>b [C_out], or null without a bias.</summary>
            public Tensor? bias { get; }

            /// <summary>
            /// A convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/> with a k × k kernel,
            /// k = <paramref name="kernelSize"/>; stride, zero padding and dilation in pixels, the same in both
            /// directions.
            /// </summary>
            public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1,
                long groups = 1, bool hasBias = true, LayerOptions? options = null)
            {
                (this.stride, this.padding, this.dilation, this.groups) = (stride, padding, dilation, groups);
                var (w, b) = DefaultInit([outChannels, inChannels / groups, kernelSize, kernelSize], outChannels, hasBias, options);
                weight = register_parameter("weight", w);
                if (b is not null) bias = register_parameter("bias", b);
            }

            /// <summary>The convolution of x [N, C_in, H, W], giving [N, C_out, H', W'].</summary>
            public override Tensor forward(Tensor x) => F.conv2d(x, weight, bias, stride, padding, dilation, groups);
        }

        /// <summary>
        /// Transposed 2-D convolution (torch.nn.ConvTranspose2d), the upsampling counterpart of <see cref="Conv2d"/>.
        /// </summary>
        public sealed class ConvTranspose2d : Module<Tensor, Tensor>
        {
            private readonly long stride, padding, outputPadding;
            /// <summary>The kernels [C_in, C_out, k, k].</summary>
            public Tensor weight { get; }
            /// <summary>b [C_out], or null without a bias.</summary>
            public Tensor? bias { get; }

            /// <summary>
            /// A transposed convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/> with a k ×
            /// k kernel; the output grows to (H − 1)·stride − 2·padding + k + outputPadding.
            /// </summary>
            public ConvTranspose2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                long outputPadding = 0, bool hasBias = true, LayerOptions? options = null)
            {
                (this.stride, this.padding, this.outputPadding) = (stride, padding, outputPadding);
                // The weight is [in, out, k, k]; PyTorch computes its fan-in from dimension 1.
                var (w, b) = DefaultInit([inChannels, outChannels, kernelSize, kernelSize], outChannels, hasBias, options);
                weight = register_parameter("weight", w);
                if (b is not null) bias = register_parameter("bias", b);
            }

            /// <summary>The transposed convolution of x [N, C_in, H, W], giving [N, C_out, H', W'].</summary>
            public override Tensor forward(Tensor x) => F.conv_transpose2d(x, weight, bias, stride, padding, outputPadding);
        }

        /// <summary>
        /// Group normalisation over [N, C, ...] (torch.nn.GroupNorm): each group of C / G channels normalised to mean 0
        /// and variance 1 per sample, then scaled and shifted per channel.
        /// </summary>
        public sealed class GroupNorm : Module<Tensor, Tensor>
        {
            private readonly long groups;
            private readonly double eps;
            /// <summary>The per-channel scale γ [C], initialised to 1.</summary>
            public Tensor weight { get; }
            /// <summary>The per-channel shift β [C], initialised to 0.</summary>
            public Tensor bias { get; }

            /// <summary>
            /// <paramref name="numGroups"/> groups over <paramref name="numChannels"/> channels, with
            /// <paramref name="eps"/> added to the variance; throws ArgumentException unless the groups divide the channels.
            /// </summary>
            public GroupNorm(long numGroups, long numChannels, double eps = 1e-5, LayerOptions? options = null)
            {
                if (numChannels % numGroups != 0) throw new ArgumentException($"{numChannels} channels do not split into {numGroups} groups");
                (groups, this.eps) = (numGroups, eps);
                weight = register_parameter("weight", ones([numChannels], options?.dtype, options?.device));
                bias = register_parameter("bias", zeros([numChannels], options?.dtype, options?.device));
            }

            /// <summary>The normalised x [N, C, ...], same shape.</summary>
            public override Tensor forward(Tensor x) => F.group_norm(x, groups, weight, bias, eps);
        }

        /// <summary>
        /// Layer normalisation over the trailing dimensions (torch.nn.LayerNorm), with an elementwise scale and shift.
        /// </summary>
        public sealed class LayerNorm : Module<Tensor, Tensor>
        {
            private readonly long[] shape;
            private readonly double eps;
            /// <summary>The elementwise scale γ, shaped like the normalised dimensions, initialised to 1.</summary>
            public Tensor weight { get; }
            /// <summary>The elementwise shift β, shaped like the normalised dimensions, initialised to 0.</summary>
            public Tensor bias { get; }

            /// <summary>
            /// Normalises over the trailing dimensions <paramref name="normalizedShape"/>, with <paramref name="eps"/>
            /// added to the variance.
            /// </summary>
            public LayerNorm(long[] normalizedShape, double eps = 1e-5, LayerOptions? options = null)
            {
                (shape, this.eps) = (normalizedShape, eps);
                weight = register_parameter("weight", ones(normalizedShape, options?.dtype, options?.device));
                bias = register_parameter("bias", zeros(normalizedShape, options?.dtype, options?.device));
            }

            /// <summary>The normalised x [..., normalizedShape], same shape.</summary>
            public override Tensor forward(Tensor x) => F.layer_norm(x, shape, weight, bias, eps);
        }

        /// <summary>
        /// A lookup table of learned vectors (torch.nn.Embedding): int64 indices [...] to rows [..., dim].
        /// </summary>
        public sealed class Embedding : Module<Tensor, Tensor>
        {
            /// <summary>The table [numEmbeddings, dim].</summary>
            public Tensor weight { get; }

            /// <summary>Rows initialised N(0, 1), as PyTorch.</summary>
            public Embedding(long numEmbeddings, long dim, LayerOptions? options = null)
            {
                weight = register_parameter("weight", init.normal_(NewWeight([numEmbeddings, dim], options), 0, 1, options?.generator));
            }

            /// <summary>The rows of <paramref name="indices"/> (int64), [...] to [..., dim].</summary>
            public override Tensor forward(Tensor indices) => F.embedding(indices, weight);
        }

        /// <summary>Zeroes each element with probability p while training and scales the rest by 1/(1 − p); the identity in eval mode (torch.nn.Dropout).</summary>
        /// <param name="p">The drop probability.</param>
        public sealed class Dropout(double p = 0.5) : Module<Tensor, Tensor>
        {
            /// <summary>x with dropout applied in training mode, x itself in eval mode.</summary>
            public override Tensor forward(Tensor x) => F.dropout(x, p, training);
        }

        /// <summary>An activation as a module, for <see cref="Sequential"/>.</summary>
        public sealed class Activation(Func<Tensor, Tensor> f) : Module<Tensor, Tensor>
        {
            /// <summary>f(x).</summary>
            public override Tensor forward(Tensor x) => f(x);
        }

        /// <summary>SiLU x·sigmoid(x) as a module (torch.nn.SiLU).</summary>
        public static Activation SiLU() => new(F.silu);
        /// <summary>max(x, 0) as a module (torch.nn.ReLU).</summary>
        public static Activation ReLU() => new(F.relu);
        /// <summary>GELU x·Φ(x) (exact erf form) as a module (torch.nn.GELU).</summary>
        public static Activation GELU() => new(F.gelu);
        /// <summary>tanh as a module (torch.nn.Tanh).</summary>
        public static Activation Tanh() => new(F.tanh);
        /// <summary>The logistic sigmoid as a module (torch.nn.Sigmoid).</summary>
        public static Activation Sigmoid() => new(F.sigmoid);

        /// <summary>Modules applied in order; named "0", "1", ... as in PyTorch.</summary>
        public sealed class Sequential : Module<Tensor, Tensor>
        {
            private readonly Module<Tensor, Tensor>[] layers;

            /// <summary>The modules <paramref name="layers"/>, registered as children "0", "1", ....</summary>
            public Sequential(params Module<Tensor, Tensor>[] layers)
            {
                this.layers = layers;
                for (int i = 0; i < layers.Length; i++) register_module(i.ToString(), layers[i]);
            }

            /// <summary>The i-th module.</summary>
            public Module<Tensor, Tensor> this[int i] => layers[i];
            /// <summary>The number of modules.</summary>
            public int Count => layers.Length;

            /// <summary>x through every module in order.</summary>
            public override Tensor forward(Tensor x)
            {
                // Intermediate activations belong to the caller's scope, as in any other op chain.
                foreach (var layer in layers) x = layer.forward(x);
                return x;
            }
        }
    }
}
