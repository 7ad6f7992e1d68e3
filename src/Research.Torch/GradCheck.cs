namespace Research.Torch;

public static partial class torch
{
    public static partial class autograd
    {
        /// <summary>Worst disagreement between autograd and central finite differences.</summary>
        public readonly record struct GradCheckResult(double MaxAbsError, double MaxRelativeExcess, int Checked)
        {
            /// <summary>True when every element satisfied |analytic − numeric| ≤ atol + rtol·|numeric|.</summary>
            public bool Passed => MaxRelativeExcess <= 0;
        }

        /// <summary>
        /// Compares the gradient autograd gives for <paramref name="f"/> with central differences, in
        /// float64. The output is reduced to the scalar Σ w·f(x) with fixed random weights w, so every
        /// output element contributes and a wrong sign or factor shows. Central differences with step
        /// h have truncation error O(h²·f''') and round-off O(ε·|f|/h); with h = 1e-6 both are below
        /// 1e-9 for the smooth, O(1) test functions this is meant for.
        /// </summary>
        public static GradCheckResult gradcheck(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-7, double rtol = 1e-6)
        {
            foreach (var x in inputs)
                if (x.dtype != ScalarType.Float64)
                    throw new ArgumentException($"gradcheck needs float64 inputs, got {x.dtype}");
            using var scope = NewDisposeScope();
            var leaves = inputs.Select(x => x.detach().requires_grad_()).ToArray();
            var output = f(leaves);
            using var gen = new Generator(1234);
            var weights = rand(output.shape, ScalarType.Float64, generator: gen) + 0.5;
            var analytic = grad([(output * weights).sum()], leaves, allow_unused: true);

            double Objective(Tensor[] xs)
            {
                using var inner = NewDisposeScope();
                using var _ = no_grad();
                return (f(xs) * weights).sum().ToDouble();
            }

            double maxAbs = 0, maxExcess = double.NegativeInfinity;
            int count = 0;
            for (int k = 0; k < inputs.Length; k++)
            {
                var values = inputs[k].data<double>();
                var shape = inputs[k].shape;
                var a = analytic[k] is { } g ? g.data<double>() : new double[values.Length];
                for (int j = 0; j < values.Length; j++)
                {
                    double original = values[j];
                    values[j] = original + eps;
                    double up = Objective(Replace(inputs, k, tensor(values, shape)));
                    values[j] = original - eps;
                    double down = Objective(Replace(inputs, k, tensor(values, shape)));
                    values[j] = original;
                    double numeric = (up - down) / (2 * eps);
                    double error = Math.Abs(a[j] - numeric);
                    maxAbs = Math.Max(maxAbs, error);
                    maxExcess = Math.Max(maxExcess, error - (atol + rtol * Math.Abs(numeric)));
                    count++;
                }
            }
            return new GradCheckResult(maxAbs, maxExcess, count);
        }

        private static Tensor[] Replace(Tensor[] inputs, int k, Tensor value)
        {
            var copy = (Tensor[])inputs.Clone();
            copy[k] = value;
            return copy;
        }
    }
}
