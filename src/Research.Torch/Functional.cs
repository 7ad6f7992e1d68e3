namespace Research.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>How a loss reduces over elements (libtorch's at::Reduction values).</summary>
        public enum Reduction { None = 0, Mean = 1, Sum = 2 }

        /// <summary>Stateless network ops, as torch.nn.functional.</summary>
        public static class functional
        {
            public static Tensor relu(Tensor x) => x.relu();
            public static Tensor silu(Tensor x) => Tensor.Op(OpId.silu, x);
            public static Tensor gelu(Tensor x) => Tensor.Op(OpId.gelu, x);
            public static Tensor softplus(Tensor x, double beta = 1, double threshold = 20) => Tensor.Op(OpId.softplus, x, default, [beta, threshold]);
            public static Tensor sigmoid(Tensor x) => x.sigmoid();
            public static Tensor logsigmoid(Tensor x) => Tensor.Op(OpId.log_sigmoid, x);
            public static Tensor tanh(Tensor x) => x.tanh();
            public static Tensor softmax(Tensor x, long dim) => Tensor.Op(OpId.softmax, x, [dim]);
            public static Tensor log_softmax(Tensor x, long dim) => Tensor.Op(OpId.log_softmax, x, [dim]);

            /// <summary>x Wᵀ + b, with W of shape [out, in].</summary>
            public static Tensor linear(Tensor x, Tensor weight, Tensor? bias = null) => Tensor.Op(OpId.linear, [x, weight, bias]);

            public static Tensor conv2d(Tensor x, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1) =>
                Tensor.Op(OpId.conv2d, [x, weight, bias], [stride, stride, padding, padding, dilation, dilation, groups]);

            public static Tensor conv_transpose2d(Tensor x, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0,
                long output_padding = 0, long groups = 1, long dilation = 1) =>
                Tensor.Op(OpId.conv_transpose2d, [x, weight, bias], [stride, stride, padding, padding, output_padding, output_padding, groups, dilation, dilation]);

            public static Tensor group_norm(Tensor x, long num_groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
                Tensor.Op(OpId.group_norm, [x, weight, bias], [num_groups], [eps]);

            public static Tensor layer_norm(Tensor x, long[] normalized_shape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
                Tensor.Op(OpId.layer_norm, [x, weight, bias], normalized_shape, [eps]);

            public static Tensor avg_pool2d(Tensor x, long kernel_size, long? stride = null, long padding = 0)
            {
                long s = stride ?? kernel_size;
                return Tensor.Op(OpId.avg_pool2d, x, [kernel_size, kernel_size, s, s, padding, padding]);
            }

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

            public static Tensor dropout(Tensor x, double p = 0.5, bool training = true) => Tensor.Op(OpId.dropout, x, [training ? 1 : 0], [p]);

            /// <summary>Rows of <paramref name="weight"/> picked by an int64 index tensor.</summary>
            public static Tensor embedding(Tensor indices, Tensor weight) => Tensor.Op(OpId.embedding, weight, indices);

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

            public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
                Tensor.Op(OpId.mse_loss, input, target, [(long)reduction]);

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
