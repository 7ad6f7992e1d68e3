using Research.Torch;
using static Research.Torch.torch;
using F = Research.Torch.torch.nn.functional;

namespace Research.Models;

/// <summary>
/// The shape of a <see cref="UNet"/>. <see cref="Channels"/> are the widths of the resolution levels (each
/// level halves the image), <see cref="MiddleChannels"/> the width at the lowest resolution, where one
/// single-head self-attention block sits between two residual blocks. <see cref="Classes"/> &gt; 0 adds a
/// learned class embedding with one extra "null" row (index = Classes) for classifier-free guidance.
/// </summary>
public sealed record UNetConfig(
    int[] Channels,
    int MiddleChannels,
    int ImageChannels = 1,
    int TimeFrequencies = 16,
    int EmbeddingWidth = 128,
    int Groups = 8,
    int ResBlocksPerLevel = 2,
    int Classes = 0)
{
    /// <summary>The benchmark architecture for 28×28 images: 32 → 64 → 128 (1,389,345 parameters unconditioned).</summary>
    public static UNetConfig UNet28 { get; } = new([32, 64], 128);

    /// <summary>A quarter of UNet28's width, for small default runs and tests.</summary>
    public static UNetConfig Small { get; } = new([16, 32], 64, Groups: 4);

    /// <summary>
    /// This configuration with <paramref name="classes"/> classes (plus the null class); 0 makes it unconditional.
    /// </summary>
    public UNetConfig WithClasses(int classes) => this with { Classes = classes };

    /// <summary>A one-line description: widths, middle width, embedding width, groups and classes.</summary>
    public override string ToString() =>
        $"U-Net [{string.Join(", ", Channels)}] mid {MiddleChannels}, emb {EmbeddingWidth}, groups {Groups}" + (Classes > 0 ? $", {Classes} classes" : "");
}

/// <summary>
/// Residual block: GroupNorm-SiLU-conv3×3, plus a projection of SiLU(time embedding) broadcast over space,
/// then GroupNorm-SiLU-conv3×3, with a 1×1 convolution on the skip path when the width changes
/// (Ho et al. 2020's block without dropout).
/// </summary>
public sealed class ResBlock : nn.Module<(Tensor x, Tensor embedding), Tensor>
{
    private readonly nn.GroupNorm gn1, gn2;
    private readonly nn.Conv2d conv1, conv2;
    private readonly nn.Linear temb_proj;
    private readonly nn.Conv2d? skip;

    /// <summary>
    /// A block from <paramref name="inChannels"/> to <paramref name="outChannels"/> conditioned on an embedding of
    /// width <paramref name="embeddingWidth"/>, GroupNorm with <paramref name="groups"/> groups.
    /// </summary>
    public ResBlock(int inChannels, int outChannels, int embeddingWidth, int groups, nn.LayerOptions? o)
    {
        gn1 = register_module("gn1", new nn.GroupNorm(groups, inChannels, options: o));
        conv1 = register_module("conv1", new nn.Conv2d(inChannels, outChannels, 3, padding: 1, options: o));
        temb_proj = register_module("temb_proj", new nn.Linear(embeddingWidth, outChannels, options: o));
        gn2 = register_module("gn2", new nn.GroupNorm(groups, outChannels, options: o));
        conv2 = register_module("conv2", new nn.Conv2d(outChannels, outChannels, 3, padding: 1, options: o));
        if (inChannels != outChannels) skip = register_module("skip", new nn.Conv2d(inChannels, outChannels, 1, options: o));
    }

    /// <summary>x [B, C_in, H, W] and the embedding [B, E] to [B, C_out, H, W].</summary>
    public override Tensor forward((Tensor x, Tensor embedding) input)
    {
        // Each intermediate is disposed as soon as the next exists (Activations.Next), so that without autograd one
        // activation of the block is alive at a time, as in PyTorch (autograd keeps what backward needs itself).
        var (x, embedding) = input;
        var h = gn1.forward(x);
        h = Activations.Next(h, F.silu(h));
        h = Activations.Next(h, conv1.forward(h));
        using (var e = F.silu(embedding))
        using (var projected = temb_proj.forward(e))
        using (var column = projected.reshape(projected.size(0), projected.size(1), 1, 1))
            h = Activations.Next(h, h + column);
        h = Activations.Next(h, gn2.forward(h));
        h = Activations.Next(h, F.silu(h));
        h = Activations.Next(h, conv2.forward(h));
        if (skip is null) return Activations.Next(h, x + h);
        using var shortcut = skip.forward(x);
        return Activations.Next(h, shortcut + h);
    }
}

/// <summary>Single-head self-attention over the H·W positions, with a residual connection.</summary>
public sealed class AttentionBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.GroupNorm gn;
    private readonly nn.Conv2d qkv, proj;

    /// <summary>
    /// Attention over <paramref name="channels"/> channels, GroupNorm with <paramref name="groups"/> groups.
    /// </summary>
    public AttentionBlock(int channels, int groups, nn.LayerOptions? o)
    {
        gn = register_module("gn", new nn.GroupNorm(groups, channels, options: o));
        qkv = register_module("qkv", new nn.Conv2d(channels, 3 * channels, 1, options: o));
        proj = register_module("proj", new nn.Conv2d(channels, channels, 1, options: o));
    }

    /// <summary>x [B, C, H, W] to x + attention(x), same shape.</summary>
    public override Tensor forward(Tensor x)
    {
        // At 7x7 the attention's tensors are small: one scope for the block is enough.
        using var scope = NewDisposeScope();
        var s = x.shape;
        long b = s[0], c = s[1], hw = s[2] * s[3];
        var parts = qkv.forward(gn.forward(x)).reshape(b, 3, c, hw).chunk(3, 1);
        Tensor q = parts[0].squeeze(1), k = parts[1].squeeze(1), v = parts[2].squeeze(1);   // each [B, C, HW]
        var w = F.softmax(q.transpose(1, 2).bmm(k) * (1.0 / Math.Sqrt(c)), -1);              // [B, HW, HW]
        var o = v.bmm(w.transpose(1, 2));                                                    // [B, C, HW]
        return (x + proj.forward(o.reshape(b, c, s[2], s[3]))).MoveToOuterScope();
    }
}

/// <summary>
/// A time- and class-conditioned U-Net for small images (the DDPM architecture reduced to 28×28): a
/// sinusoidal embedding of the conditioning time followed by a two-layer MLP; residual blocks at each
/// level, stride-2 convolutions down, nearest ×2 upsampling then a 3×3 convolution up, skip concatenation,
/// and attention at the lowest resolution. <see cref="forward(Tensor, Tensor, Tensor?)"/> takes x [B, C, H, W], the conditioning
/// time [B] in [0, 1] (or any real, such as EDM's c_noise) and optional int64 labels [B]; label
/// <see cref="UNetConfig.Classes"/> (or no labels) is the null class. H and W must be divisible by
/// 2^(levels − 1)·2.
/// </summary>
public sealed class UNet : nn.Module<(Tensor x, Tensor t, Tensor? labels), Tensor>
{
    private readonly Tensor freqs;
    private readonly nn.Linear temb1, temb2;
    private readonly nn.Conv2d stem, conv_out;
    private readonly ResBlock[][] down, up;
    private readonly nn.Conv2d[] downsample, upsample;
    private readonly ResBlock m1, m2;
    private readonly AttentionBlock attn;
    private readonly nn.GroupNorm gn_out;
    private readonly nn.Embedding? class_emb;

    /// <summary>
    /// A U-Net of shape <paramref name="config"/>, its layers initialised from <paramref name="options"/>.
    /// </summary>
    public UNet(UNetConfig config, nn.LayerOptions? options = null)
    {
        Config = config;
        var o = options;
        int half = config.TimeFrequencies, e = config.EmbeddingWidth, g = config.Groups, levels = config.Channels.Length;
        if (levels < 1 || config.ResBlocksPerLevel < 1) throw new ArgumentException($"invalid U-Net configuration: {config}");
        // freqs_j = exp(-ln(10000) j / half), j = 0..half-1 (the transformer's sinusoidal embedding).
        using (var j = arange(0, half, dtype: ScalarType.Float32, device: o?.device))
            freqs = register_buffer("freqs", (j * (-Math.Log(10000.0) / half)).exp().to(o?.dtype ?? ScalarType.Float32));
        temb1 = register_module("temb1", new nn.Linear(2 * half, e, options: o));
        temb2 = register_module("temb2", new nn.Linear(e, e, options: o));
        stem = register_module("stem", new nn.Conv2d(config.ImageChannels, config.Channels[0], 3, padding: 1, options: o));

        down = new ResBlock[levels][];
        downsample = new nn.Conv2d[levels];
        int width = config.Channels[0];
        for (int l = 0; l < levels; l++)
        {
            down[l] = new ResBlock[config.ResBlocksPerLevel];
            for (int r = 0; r < config.ResBlocksPerLevel; r++)
            {
                down[l][r] = register_module($"d{l}{BlockName(r)}", new ResBlock(width, config.Channels[l], e, g, o));
                width = config.Channels[l];
            }
            downsample[l] = register_module($"ds{l}", new nn.Conv2d(width, width, 3, stride: 2, padding: 1, options: o));
        }
        m1 = register_module("m1", new ResBlock(width, config.MiddleChannels, e, g, o));
        attn = register_module("attn", new AttentionBlock(config.MiddleChannels, g, o));
        m2 = register_module("m2", new ResBlock(config.MiddleChannels, config.MiddleChannels, e, g, o));
        width = config.MiddleChannels;

        up = new ResBlock[levels][];
        upsample = new nn.Conv2d[levels];
        for (int l = levels - 1; l >= 0; l--)
        {
            upsample[l] = register_module($"us{l}", new nn.Conv2d(width, width, 3, padding: 1, options: o));
            up[l] = new ResBlock[config.ResBlocksPerLevel];
            width += config.Channels[l];   // after concatenating the skip of level l
            for (int r = 0; r < config.ResBlocksPerLevel; r++)
            {
                up[l][r] = register_module($"u{l}{BlockName(r)}", new ResBlock(width, config.Channels[l], e, g, o));
                width = config.Channels[l];
            }
        }
        gn_out = register_module("gn_out", new nn.GroupNorm(g, width, options: o));
        conv_out = register_module("conv_out", new nn.Conv2d(width, config.ImageChannels, 3, padding: 1, options: o));
        if (config.Classes > 0) class_emb = register_module("class_emb", new nn.Embedding(config.Classes + 1, e, o));
    }

    private static string BlockName(int r) => r < 26 ? ((char)('a' + r)).ToString() : $"r{r}";

    /// <summary>The shape this network was built with.</summary>
    public UNetConfig Config { get; }

    /// <summary>The sinusoidal features of t·1000: [sin(1000 t f_j), cos(1000 t f_j)], shape [B, 2·half].</summary>
    public Tensor TimeFeatures(Tensor t)
    {
        var a = (t * 1000.0).unsqueeze(1) * freqs;
        return cat([a.sin(), a.cos()], 1);
    }

    /// <summary>
    /// The network output [B, C, H, W] for x [B, C, H, W], times t [B] and optional labels [B] (null: the null class).
    /// </summary>
    public Tensor forward(Tensor x, Tensor t, Tensor? labels = null) => forward((x, t, labels));

    /// <summary>
    /// The same as <see cref="forward(Tensor, Tensor, Tensor?)"/>, with the three inputs as a tuple; throws
    /// ArgumentException for wrong shapes.
    /// </summary>
    public override Tensor forward((Tensor x, Tensor t, Tensor? labels) input)
    {
        var (x, t, labels) = input;
        if (x.dim != 4 || x.size(1) != Config.ImageChannels)
            throw new ArgumentException($"UNet expects images [B, {Config.ImageChannels}, H, W], got [{string.Join(", ", x.shape)}]");
        if (t.dim != 1 || t.size(0) != x.size(0))
            throw new ArgumentException($"UNet expects one time per image, shape [{x.size(0)}], got [{string.Join(", ", t.shape)}]");
        // Each intermediate is disposed as soon as the next one exists, so that without autograd (sampling) only
        // the skips and the current activation are alive, as in PyTorch where a tensor dies with its last
        // reference; under autograd the graph keeps what backward needs, so disposing the handles costs nothing.
        if (class_emb is null && labels is not null)
            throw new ArgumentException("this U-Net has no class embedding (Classes = 0) but labels were given");
        using var features = TimeFeatures(t.to(freqs.dtype));
        using var hidden = F.silu(temb1.forward(features));
        using var timeEmb = temb2.forward(hidden);
        using var classEmb = class_emb is null ? null : ClassEmbedding(labels, x);
        using var sum = classEmb is null ? null : timeEmb + classEmb;
        var emb = sum ?? timeEmb;

        var h = stem.forward(x);
        var skips = new Tensor[down.Length];
        for (int l = 0; l < down.Length; l++)
        {
            foreach (var block in down[l]) h = Activations.Next(h, block.forward((h, emb)));
            skips[l] = h;
            h = downsample[l].forward(h);
        }
        h = Activations.Next(h, m1.forward((h, emb)));
        h = Activations.Next(h, attn.forward(h));
        h = Activations.Next(h, m2.forward((h, emb)));
        for (int l = down.Length - 1; l >= 0; l--)
        {
            using (var wide = F.upsample_nearest(h, 2)) h = Activations.Next(h, upsample[l].forward(wide));
            h = Activations.Next(h, cat([h, skips[l]], 1));
            skips[l].Dispose();
            foreach (var block in up[l]) h = Activations.Next(h, block.forward((h, emb)));
        }
        using (h)
        using (var normed = gn_out.forward(h))
        using (var activated = F.silu(normed))
            return conv_out.forward(activated);
    }

    /// <summary>The class embedding of labels [B] (the null class where labels is null), [B, embedding width].</summary>
    private Tensor ClassEmbedding(Tensor? labels, Tensor x)
    {
        using var nullLabels = labels is null ? full([x.size(0)], Config.Classes, ScalarType.Int64, x.device) : null;
        return class_emb!.forward(labels ?? nullLabels!);
    }
}

/// <summary>Eager disposal of a network's activations, one piece of code for the networks of this assembly.</summary>
internal static class Activations
{
    /// <summary>
    /// Disposes the previous activation and returns the next: a forward pass written as h = Next(h, f(h)) keeps one
    /// activation alive without autograd, as PyTorch frees a tensor with its last reference.
    /// </summary>
    internal static Tensor Next(Tensor previous, Tensor next)
    {
        previous.Dispose();
        return next;
    }
}
