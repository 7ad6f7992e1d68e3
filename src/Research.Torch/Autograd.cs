namespace Research.Torch;

public static partial class torch
{
    /// <summary>Gradients as functions (torch.autograd).</summary>
    public static unsafe partial class autograd
    {
        /// <summary>
        /// Gradients of the outputs with respect to the inputs, as PyTorch's torch.autograd.grad. With
        /// <paramref name="create_graph"/> the gradients are themselves differentiable (Hessians,
        /// Laplacians by double backward). An input that the outputs do not depend on gives null when
        /// <paramref name="allow_unused"/> is set, an error otherwise.
        /// </summary>
        public static Tensor?[] grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? grad_outputs = null,
            bool? retain_graph = null, bool create_graph = false, bool allow_unused = false)
        {
            if (grad_outputs is not null && grad_outputs.Length != outputs.Length)
                throw new ArgumentException($"{grad_outputs.Length} grad_outputs given for {outputs.Length} outputs");
            var outs = Array.ConvertAll(outputs, t => t.Handle);
            var ins = Array.ConvertAll(inputs, t => t.Handle);
            var gos = grad_outputs is null ? null : Array.ConvertAll(grad_outputs, t => t?.Handle ?? IntPtr.Zero);
            var result = new IntPtr[inputs.Length];
            fixed (IntPtr* o = outs)
            fixed (IntPtr* i = ins)
            fixed (IntPtr* g = gos)
            fixed (IntPtr* r = result)
            {
                Native.Check(Native.rt_autograd_grad(o, outs.Length, i, ins.Length, g, (retain_graph ?? create_graph) ? 1 : 0,
                    create_graph ? 1 : 0, allow_unused ? 1 : 0, r));
            }
            GC.KeepAlive(outputs);
            GC.KeepAlive(inputs);
            GC.KeepAlive(grad_outputs);
            return Array.ConvertAll(result, h => h == IntPtr.Zero ? null : new Tensor(h));
        }

        /// <summary>The gradient of a scalar output with respect to one input.</summary>
        public static Tensor grad(Tensor output, Tensor input, bool create_graph = false) =>
            grad([output], [input], null, null, create_graph)[0]
            ?? throw new InvalidOperationException("the output does not depend on the input");
    }
}
