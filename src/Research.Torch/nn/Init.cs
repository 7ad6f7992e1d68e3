namespace Research.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>Parameter initialisers (torch.nn.init), in place, optionally from a generator.</summary>
        public static class init
        {
            /// <summary>(fan_in, fan_out) of a weight [out, in, kernel...].</summary>
            public static (long fanIn, long fanOut) fans(Tensor weight)
            {
                var s = weight.shape;
                if (s.Length < 2) throw new ArgumentException("fan-in and fan-out need a weight of at least 2 dimensions");
                long receptive = 1;
                for (int i = 2; i < s.Length; i++) receptive *= s[i];
                return (s[1] * receptive, s[0] * receptive);
            }

            /// <summary>Sets every element to 0 without recording autograd; returns t.</summary>
            public static Tensor zeros_(Tensor t) { using (no_grad()) return t.zero_(); }
            /// <summary>Sets every element to 1 without recording autograd; returns t.</summary>
            public static Tensor ones_(Tensor t) { using (no_grad()) return t.fill_(1.0); }
            /// <summary>
            /// Fills with U(a, b) draws from <paramref name="g"/> (or the default generator) without recording
            /// autograd; returns t.
            /// </summary>
            public static Tensor uniform_(Tensor t, double a, double b, Generator? g = null) { using (no_grad()) return t.uniform_(a, b, g); }
            /// <summary>
            /// Fills with N(mean, std²) draws from <paramref name="g"/> (or the default generator) without recording
            /// autograd; returns t.
            /// </summary>
            public static Tensor normal_(Tensor t, double mean, double std, Generator? g = null) { using (no_grad()) return t.normal_(mean, std, g); }

            /// <summary>He et al.: U(−b, b) with b = gain·√(3/fan_in), gain = √(2/(1+a²)) for leaky ReLU slope a.
            /// a = √5 is PyTorch's default for Linear and Conv weights, giving b = 1/√fan_in.</summary>
            public static Tensor kaiming_uniform_(Tensor t, double a = 0, Generator? g = null)
            {
                double gain = Math.Sqrt(2.0 / (1 + a * a));
                double bound = gain * Math.Sqrt(3.0 / fans(t).fanIn);
                return uniform_(t, -bound, bound, g);
            }

            /// <summary>
            /// He et al.: N(0, std²) with std = gain/√fan_in, gain = √(2/(1+a²)) for leaky ReLU slope a.
            /// </summary>
            public static Tensor kaiming_normal_(Tensor t, double a = 0, Generator? g = null) =>
                normal_(t, 0, Math.Sqrt(2.0 / (1 + a * a)) / Math.Sqrt(fans(t).fanIn), g);

            /// <summary>Glorot and Bengio: U(−b, b) with b = gain·√(6/(fan_in + fan_out)).</summary>
            public static Tensor xavier_uniform_(Tensor t, double gain = 1, Generator? g = null)
            {
                var (fi, fo) = fans(t);
                double bound = gain * Math.Sqrt(6.0 / (fi + fo));
                return uniform_(t, -bound, bound, g);
            }

            /// <summary>Glorot and Bengio: N(0, std²) with std = gain·√(2/(fan_in + fan_out)).</summary>
            public static Tensor xavier_normal_(Tensor t, double gain = 1, Generator? g = null)
            {
                var (fi, fo) = fans(t);
                return normal_(t, 0, gain * Math.Sqrt(2.0 / (fi + fo)), g);
            }
        }
    }
}
