using System.Globalization;
using Research.Torch;

namespace Research.Models;

/// <summary>
/// One trained part of a model family: a module, its optimizer (built over <c>Module.parameters()</c> in that
/// order) and optionally an EMA of its parameters. A diffusion model or a VAE has one part; a GAN has two.
/// </summary>
public sealed record TrainedPart(string Name, torch.nn.Module Module, torch.optim.Optimizer Optimizer, torch.optim.EMA? Ema = null);

/// <summary>
/// A training checkpoint in one safetensors file: for each part "&lt;part&gt;.model.*", "&lt;part&gt;.optim.*" and
/// "&lt;part&gt;.ema.*", the generator's state "rng", and metadata (step, data position, anything the caller adds).
/// Restoring all of it makes a resumed CPU run continue bit-identically. Writes are atomic (safetensors.save),
/// so an interrupted save leaves the previous checkpoint; loading validates every key, shape and dtype before
/// it changes anything, and reports every problem at once.
/// </summary>
public static class Checkpoint
{
    /// <summary>
    /// Writes every part's module, optimizer and EMA state, the generator's state and <paramref name="metadata"/> to
    /// <paramref name="path"/>, atomically.
    /// </summary>
    public static void Save(string path, IReadOnlyList<TrainedPart> parts, Generator generator, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = new Dictionary<string, Tensor>();
        var owned = new List<Tensor>();
        try
        {
            foreach (var part in parts)
            {
                foreach (var (k, v) in part.Module.state_dict()) tensors[$"{part.Name}.model.{k}"] = v;
                if (part.Ema is not null)
                    foreach (var (k, v) in part.Ema.state_dict()) tensors[$"{part.Name}.ema.{k}"] = v;
                foreach (var (k, v) in part.Optimizer.state_dict())   // copies, owned here
                {
                    owned.Add(v);
                    tensors[$"{part.Name}.optim.{k}"] = v;
                }
            }
            var rng = generator.get_state();
            owned.Add(rng);
            tensors["rng"] = rng;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            safetensors.save(tensors, path, metadata ?? new Dictionary<string, string>());
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }

    /// <summary>Restores everything <see cref="Save"/> wrote and returns the metadata; on any mismatch it
    /// throws <see cref="InvalidDataException"/> listing every problem, and nothing has been changed.</summary>
    public static Dictionary<string, string> Load(string path, IReadOnlyList<TrainedPart> parts, Generator generator)
    {
        var (tensors, metadata) = safetensors.load_with_metadata(path);
        try
        {
            var problems = new List<string>();
            foreach (var part in parts)
            {
                problems.AddRange(CompareModule(part.Name + ".model.", part.Module.state_dict(), tensors));
                if (part.Ema is not null) problems.AddRange(CompareModule(part.Name + ".ema.", part.Ema.state_dict(), tensors));
                problems.AddRange(CompareOptimizer(part.Name + ".optim.", part.Module.parameters(), tensors));
            }
            if (!tensors.ContainsKey("rng")) problems.Add("missing 'rng' (the generator's state)");
            var known = parts.SelectMany(p => new[] { p.Name + ".model.", p.Name + ".ema.", p.Name + ".optim." }).ToArray();
            problems.AddRange(tensors.Keys.Where(k => k != "rng" && !known.Any(k.StartsWith)).Select(k => $"unexpected '{k}'"));
            if (problems.Count > 0)
                throw new InvalidDataException($"{path} does not match this model ({problems.Count} problems, nothing was restored):\n  " + string.Join("\n  ", problems));

            foreach (var part in parts)
            {
                part.Module.load_state_dict(Part(tensors, part.Name + ".model."));
                part.Ema?.load_state_dict(Part(tensors, part.Name + ".ema."));
                part.Optimizer.load_state_dict(Part(tensors, part.Name + ".optim."));
            }
            generator.set_state(tensors["rng"]);
            return metadata;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static Dictionary<string, Tensor> Part(Dictionary<string, Tensor> all, string prefix) =>
        all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    private static string Describe(Tensor t) => $"{t.dtype} [{string.Join(", ", t.shape)}]";

    private static IEnumerable<string> CompareModule(string prefix, IReadOnlyDictionary<string, Tensor> own, Dictionary<string, Tensor> saved)
    {
        var part = Part(saved, prefix);
        foreach (var (name, target) in own)
        {
            if (!part.TryGetValue(name, out var source)) yield return $"missing '{prefix}{name}'";
            else if (!source.shape.SequenceEqual(target.shape) || source.dtype != target.dtype)
                yield return $"'{prefix}{name}': expected {Describe(target)}, found {Describe(source)}";
        }
        foreach (var name in part.Keys.Where(k => !own.ContainsKey(k))) yield return $"unexpected '{prefix}{name}'";
    }

    // Optimizer state is "i.name" (state of parameter i, same shape as it) plus "step".
    private static IEnumerable<string> CompareOptimizer(string prefix, Tensor[] parameters, Dictionary<string, Tensor> saved)
    {
        var part = Part(saved, prefix);
        if (!part.ContainsKey("step")) yield return $"missing '{prefix}step'";
        foreach (var (key, value) in part.Where(kv => kv.Key != "step"))
        {
            var dot = key.IndexOf('.');
            if (dot < 0 || !int.TryParse(key[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var i) || i >= parameters.Length)
                yield return $"unexpected '{prefix}{key}'";
            else if (!value.shape.SequenceEqual(parameters[i].shape) || value.dtype != parameters[i].dtype)
                yield return $"'{prefix}{key}': expected {Describe(parameters[i])}, found {Describe(value)}";
        }
    }
}
