using System.Globalization;
using Research.Torch;

namespace Research.Models;

/// <summary>
/// A training checkpoint in one safetensors file: the model's state ("model.*"), the optimizer's
/// ("optim.*"), the EMA's ("ema.*", optional) and the data/noise generator's state ("rng"), with the
/// step in the metadata. Restoring all of them makes a resumed CPU run continue bit-identically.
/// Writes are atomic (safetensors.save), so an interrupted save leaves the previous checkpoint.
/// </summary>
public static class Checkpoint
{
    public static void Save(string path, torch.nn.Module model, torch.optim.Optimizer optimizer, Generator generator,
        torch.optim.EMA? ema = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, v) in model.state_dict()) tensors["model." + k] = v;
        if (ema is not null)
            foreach (var (k, v) in ema.state_dict()) tensors["ema." + k] = v;
        var copies = optimizer.state_dict();  // copies, owned here
        copies["rng"] = generator.get_state();
        foreach (var (k, v) in copies) tensors[k == "rng" ? k : "optim." + k] = v;
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["step"] = optimizer.step_count.ToString(CultureInfo.InvariantCulture),
        };
        try { safetensors.save(tensors, path, meta); }
        finally
        {
            foreach (var t in copies.Values) t.Dispose();
        }
    }

    /// <summary>Restores everything <see cref="Save"/> wrote; returns the metadata (including "step").</summary>
    public static Dictionary<string, string> Load(string path, torch.nn.Module model, torch.optim.Optimizer optimizer,
        Generator generator, torch.optim.EMA? ema = null)
    {
        var (tensors, metadata) = safetensors.load_with_metadata(path);
        try
        {
            Dictionary<string, Tensor> Part(string prefix) =>
                tensors.Where(kv => kv.Key.StartsWith(prefix)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
            model.load_state_dict(Part("model."));
            optimizer.load_state_dict(Part("optim."));
            if (ema is not null) ema.load_state_dict(Part("ema."));
            generator.set_state(tensors.TryGetValue("rng", out var rng) ? rng : throw new InvalidDataException($"{path} has no generator state"));
            return metadata;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
