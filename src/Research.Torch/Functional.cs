namespace Research.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>How a loss reduces over elements (libtorch's at::Reduction values).</summary>
        public enum Reduction
        {
            /// <summary>No reduction: the loss per element.</summary>
            None = 0,
            /// <summary>The mean over all elements.</summary>
            Mean = 1,
            /// <summary>The sum over all elements.</summary>
            Sum = 2,
        }

        /// <summary>Stateless network ops, as torch.nn.functional.</summary>
        public static class functional
        {
            /// <summary>max(x, 0) (torch.nn.functional.relu).</summary>
            public static Tensor relu(Tensor x) => x.relu();
            /// <summary>x·sigmoid(x) (torch.nn.functional.silu).</summary>
            public static Tensor silu(Tensor x) => Tensor.Op(OpId.silu, x);
            /// <summary>x·Φ(x), the exact erf form (torch.nn.functional.gelu).</summary>
            public static Tensor gelu(Tensor x) => Tensor.Op(OpId.gelu, x);
            /// <summary>
            /// log(1 + e^(βx))/β, and x itself where βx &gt; threshold (torch.nn.functional.softplus).
            /// </summary>
            public static Tensor softplus(Tensor x, double beta = 1, double threshold = 20) => Tensor.Op(OpId.softplus, x, default, [beta, threshold]);
            /// <summary>1/(1 + e^−x) (torch.nn.functional.sigmoid).</summary>
            public static Tensor sigmoid(Tensor x) => x.sigmoid();
            /// <summary>
            /// log sigmoid(x) = −softplus(−x), stable for large |x| (torch.nn.functional.logsigmoid).
            /// </summary>
            public static Tensor logsigmoid(Tensor x) => Tensor.Op(OpId.log_sigmoid, x);
            /// <summary>Hyperbolic tangent (torch.nn.functional.tanh).</summary>
            public static Tensor tanh(Tensor x) => x.tanh();
            /// <summary>
            /// exp(x) normalised to sum to 1 along <paramref name="dim"/> (torch.nn.functional.softmax).
            /// </summary>
            public static Tensor softmax(Tensor x, long dim) => Tensor.Op(OpId.softmax, x, [dim]);
            /// <summary>
            /// log softmax along <paramref name="dim"/>, computed stably (torch.nn.functional.log_softmax).
            /// </summary>
            public static Tensor log_softmax(Tensor x, long dim) => Tensor.Op(OpId.log_softmax, x, [dim]);

            /// <summary>x Wᵀ + b, with W of shape [out, in].</summary>
            public static Tensor linear(Tensor x, Tensor weight, Tensor? bias = null) => Tensor.Op(OpId.linear, [x, weight, bias]);

            /// <summary>
            /// 2-D convolution of x [N, C_in, H, W] with weight [C_out, C_in / groups, kH, kW]; stride, padding and
            /// dilation the same in both directions (torch.nn.functional.conv2d).
            /// </summary>
            public static Tensor conv2d(Tensor x, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1) =>
                Tensor.Op(OpId.conv2d, [x, weight, bias], [stride, stride, padding, padding, dilation, dilation, groups]);

            /// <summary>
            /// Transposed 2-D convolution of x [N, C_in, H, W] with weight [C_in, C_out / groups, kH, kW]
            /// (torch.nn.functional.conv_transpose2d).
            /// </summary>
            public static Tensor conv_transpose2d(Tensor x, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0,
                long output_padding = 0, long groups = 1, long dilation = 1) =>
                Tensor.Op(OpId.conv_transpose2d, [x, weight, bias], [stride, stride, padding, padding, output_padding, output_padding, groups, dilation, dilation]);

            /// <summary>
            /// Group normalisation of x [N, C, ...] over <paramref name="num_groups"/> groups, then the per-channel
            /// affine map (torch.nn.functional.group_norm).
            /// </summary>
            public static Tensor group_norm(Tensor x, long num_groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
                Tensor.Op(OpId.group_norm, [x, weight, bias], [num_groups], [eps]);

            /// <summary>
            /// Layer normalisation over the trailing dimensions <paramref name="normalized_shape"/>, then the
            /// elementwise affine map (torch.nn.functional.layer_norm).
            /// </summary>
            public static Tensor layer_norm(Tensor x, long[] normalized_shape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
                Tensor.Op(OpId.layer_norm, [x, weight, bias], normalized_shape, [eps]);

            /// <summary>
            /// Average pooling of [N, C, H, W] over square windows; the stride defaults to the window size
            /// (torch.nn.functional.avg_pool2d).
            /// </summary>
            public static Tensor avg_pool2d(Tensor x, long kernel_size, long? stride = null, long padding = 0)
            {
                long s = stride ?? kernel_size;
                return Tensor.Op(OpId.avg_pool2d, x, [kernel_size, kernel_size, s, s, padding, padding]);
            }

            /// <summary>
            /// Max pooling of [N, C, H, W] over square windows; the stride defaults to the window size
            /// (torch.nn.functional.max_pool2d).
            /// </summary>
            public static Tensor max_pool2d(Tensor x, long kernel_size, long? stride = null, long padding = 0)
            {
                long s = stride ?? kernel_size;
                return Tensor.Op(OpId.max_pool2d, x, [kernel_size, kernel_size, s, s, padding, padding]);
            }

            /// <summary>Nearest-neighbour upsampling of [N, C, H, W] by an integer factor.</summary>
            public static Tensor upsample_nearest(Tensor x, long scale_factor)
            {
                var s = x.shape;
                if (s.Length != 4) throw new ArgumentException($"upsample_nearest expects [N, C, H, W], got {s.Length} dimensions");
                return Tensor.Op(OpId.upsample_nearest2d, x, [s[2] * scale_factor, s[3] * scale_factor]);
            }

            /// <summary>
            /// Zeroes elements with probability <paramref name="p"/> and scales the rest by 1/(1 − p) when
            /// <paramref name="training"/>; x unchanged otherwise (torch.nn.functional.dropout).
            /// </summary>
            public static Tensor dropout(Tensor x, double p = 0.5, bool training = true) => Tensor.Op(OpId.dropout, x, [training ? 1 : 0], [p]);

            /// <summary>Rows of <paramref name="weight"/> picked by an int64 index tensor.</summary>
            public static Tensor embedding(Tensor indices, Tensor weight) => Tensor.Op(OpId.embedding, weight, indices);

            /// <summary>
            /// int64 one-hot vectors [..., num_classes] of int64 class indices [...] (torch.nn.functional.one_hot).
            /// </summary>
            public static Tensor one_hot(Tensor indices, long num_classes) => Tensor.Op(OpId.one_hot, indices, [num_classes]);

            /// <summary>softmax(q kᵀ / √d + mask) v over the last two dimensions. libtorch 1.13 has no fused
            /// kernel, so this is the plain composition; an optional boolean mask is true where attention is allowed.</summary>
            public static Tensor scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, Tensor? mask = null)
            {
                using var scope = NewDisposeScope();
                var scores = query.matmul(key.mT) / Math.Sqrt(query.size(-1));
                if (mask is not null) scores = scores.masked_fill(mask.logical_not(), double.NegativeInfinity);
                var result = softmax(scores, -1).matmul(value);
                return result.MoveToOuterScope();
            }

            /// <summary>
            /// Squared error (input − target)², reduced as <paramref name="reduction"/> says
            /// (torch.nn.functional.mse_loss).
            /// </summary>
            public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
                Tensor.Op(OpId.mse_loss, input, target, [(long)reduction]);

            /// <summary>
            /// Binary cross-entropy of logits ℓ against targets y in [0, 1], −y log σ(ℓ) − (1 − y) log(1 − σ(ℓ)),
            /// computed stably, optionally weighted (torch.nn.functional.binary_cross_entropy_with_logits).
            /// </summary>
            public static Tensor binary_cross_entropy_with_logits(Tensor logits, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean) =>
                Tensor.Op(OpId.bce_with_logits, [logits, target, weight], [(long)reduction]);

            /// <summary>Cross-entropy of logits [N, C] against int64 class indices [N].</summary>
            public static Tensor cross_entropy(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean, long ignore_index = -100, double label_smoothing = 0) =>
                Tensor.Op(OpId.cross_entropy, logits, target, [(long)reduction, ignore_index], [label_smoothing]);

            /// <summary>Gaussian negative log-likelihood ½(log var + (x − μ)²/var), variance clamped below at eps;
            /// with <paramref name="full"/> the constant ½ log 2π is included.</summary>
            public static Tensor gaussian_nll_loss(Tensor input, Tensor target, Tensor variance, bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean)
            {
                using var scope = NewDisposeScope();
                var v = variance.clamp_min(eps);
                var loss = (v.log() + (input - target).square() / v) * 0.5;
                if (full) loss = loss + 0.5 * Math.Log(2 * Math.PI);
                var reduced = reduction switch
                {
                    Reduction.Mean => loss.mean(),
                    Reduction.Sum => loss.sum(),
                    _ => loss,
                };
                return reduced.MoveToOuterScope();
            }
        }
    }
}
