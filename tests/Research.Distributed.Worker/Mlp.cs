using Research.Torch;
using static Research.Torch.torch;

namespace Research.Distributed.Worker;

/// <summary>2 → width → width → 1 with SiLU, PyTorch's default initialisation from the given generator.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Linear l1, l2, l3;

    public Mlp(long width, ScalarType dtype, Generator generator)
    {
        var o = new nn.LayerOptions(dtype, null, generator);
        l1 = register_module("l1", new nn.Linear(2, width, options: o));
        l2 = register_module("l2", new nn.Linear(width, width, options: o));
        l3 = register_module("l3", new nn.Linear(width, 1, options: o));
    }

    public override Tensor forward(Tensor x) =>
        l3.forward(nn.functional.silu(l2.forward(nn.functional.silu(l1.forward(x)))));

    /// <summary>The regression target of the examples: y = sin(3 x₀) cos(2 x₁).</summary>
    public static Tensor Target(Tensor x) => (x.select(1, 0) * 3).sin().mul(x.select(1, 1).mul(2).cos()).unsqueeze(1);
}
