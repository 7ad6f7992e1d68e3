namespace Research.Torch;

public static partial class torch
{
    public static partial class optim
    {
        /// <summary>Learning rate as a function of the step: stateless, so a resumed run gets the same
        /// rate at the same step. <see cref="apply"/> sets it on an optimizer.</summary>
        public abstract record LearningRateSchedule
        {
            /// <summary>
            /// The learning rate at <paramref name="step"/> (0-based, the number of steps already taken).
            /// </summary>
            public abstract double At(long step);

            /// <summary>Sets the optimizer's learning rate for the step it is about to take.</summary>
            public void apply(Optimizer optimizer) => optimizer.lr = At(optimizer.step_count);
        }

        /// <summary>The same rate at every step.</summary>
        /// <param name="Rate">The learning rate.</param>
        public sealed record ConstantLR(double Rate) : LearningRateSchedule
        {
            /// <inheritdoc/>
            public override double At(long step) => Rate;
        }

        /// <summary>η_min + (η − η_min)(1 + cos(π s/S))/2 for s ≤ S, then η_min.</summary>
        public sealed record CosineLR(double Rate, long TotalSteps, double MinRate = 0) : LearningRateSchedule
        {
            /// <inheritdoc/>
            public override double At(long step) =>
                MinRate + (Rate - MinRate) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step, TotalSteps) / TotalSteps));
        }

        /// <summary>Linear warm-up from 0 over <paramref name="WarmupSteps"/>, then <paramref name="After"/>
        /// (shifted so it starts at step 0 when the warm-up ends).</summary>
        public sealed record WarmupLR(long WarmupSteps, LearningRateSchedule After) : LearningRateSchedule
        {
            /// <inheritdoc/>
            public override double At(long step) =>
                step < WarmupSteps ? After.At(0) * (step + 1) / WarmupSteps : After.At(step - WarmupSteps);
        }

        /// <summary>
        /// Exponential moving average of a module's parameters, θ̄ ← d·θ̄ + (1 − d)·θ, kept outside the
        /// module; <see cref="copy_to"/> writes the average into a module for evaluation or sampling.
        /// </summary>
        public sealed class EMA : IDisposable
        {
            private readonly (string name, Tensor parameter, Tensor average)[] entries;

            /// <summary>
            /// Starts the averages at the current values of <paramref name="module"/>'s parameters; throws
            /// ArgumentException unless 0 ≤ decay ≤ 1.
            /// </summary>
            public EMA(nn.Module module, double decay = 0.999)
            {
                if (decay is < 0 or > 1) throw new ArgumentException($"decay must lie in [0, 1], got {decay}");
                this.decay = decay;
                using var _ = no_grad();
                entries = module.named_parameters()
                    .Select(p => (p.name, p.parameter, p.parameter.detach().clone().DetachFromDisposeScope()))
                    .ToArray();
            }

            /// <summary>d, the weight of the old average in each update.</summary>
            public double decay { get; }

            /// <summary>θ̄ ← d·θ̄ + (1 − d)·θ for every parameter; call after each optimizer step.</summary>
            public void update()
            {
                using var _ = no_grad();
                foreach (var (_, p, avg) in entries) avg.lerp_(p, 1 - decay);
            }

            /// <summary>Copies the averages into the same-named parameters of <paramref name="module"/>.</summary>
            public void copy_to(nn.Module module)
            {
                using var _ = no_grad();
                var target = module.state_dict();
                foreach (var (name, _, avg) in entries) target[name].copy_(avg);
            }

            /// <summary>The averages by parameter name (the tensors themselves).</summary>
            public Dictionary<string, Tensor> state_dict() => entries.ToDictionary(e => e.name, e => e.average);

            /// <summary>Copies saved averages into this EMA's; throws ArgumentException for a missing name.</summary>
            public void load_state_dict(IReadOnlyDictionary<string, Tensor> saved)
            {
                using var _ = no_grad();
                foreach (var (name, _, avg) in entries)
                    avg.copy_(saved.TryGetValue(name, out var s) ? s : throw new ArgumentException($"EMA state lacks '{name}'"));
            }

            /// <summary>Frees the average tensors.</summary>
            public void Dispose()
            {
                foreach (var e in entries) e.average.Dispose();
            }
        }
    }
}
