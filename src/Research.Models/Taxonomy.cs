using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>How a generative family relates to the likelihood (S2 Table 1.1): an exact, normalised log-density; a
/// tractable lower bound on it; no density at all (implicit, sampling only); or an explicit but unnormalised one
/// (an energy), which the table leaves out.</summary>
public enum LikelihoodKind
{
    ExplicitExact,
    ExplicitBound,
    Implicit,
    ExplicitUnnormalised,
}

/// <summary>
/// The taxonomy metadata of a model class: its <see cref="LikelihoodKind"/>, the objective it is trained by, and the
/// family's name. FIG-06's table is generated from these attributes, and the tests check each claim on the class
/// (an exact density integrates to 1, a bound stays below log p, an implicit model exposes no density).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class GenerativeFamilyAttribute(string family, LikelihoodKind likelihood, string objective) : Attribute
{
    public string Family { get; } = family;
    public LikelihoodKind Likelihood { get; } = likelihood;
    public string Objective { get; } = objective;
    /// <summary>A nuance the table should carry (e.g. diffusion models also have an exact PF-ODE likelihood).</summary>
    public string? Note { get; init; }
}

/// <summary>The model classes of this assembly that carry <see cref="GenerativeFamilyAttribute"/>.</summary>
public static class Taxonomy
{
    public static IReadOnlyList<(Type Type, GenerativeFamilyAttribute Family)> Models() =>
        typeof(Taxonomy).Assembly.GetTypes()
            .Select(t => (Type: t, Family: t.GetCustomAttributes(typeof(GenerativeFamilyAttribute), false).Cast<GenerativeFamilyAttribute>().FirstOrDefault()))
            .Where(p => p.Family is not null)
            .Select(p => (p.Type, p.Family!))
            .OrderBy(p => p.Item2.Likelihood).ThenBy(p => p.Type.Name)
            .ToArray();

    /// <summary>The public members of <paramref name="type"/> that evaluate a density or a bound on one (by the names this
    /// toolkit gives them: LogProb, Elbo, ImportanceWeightedBound, BitsPerDim, …), including those of a public
    /// property's type one level down (RealNvp.Flow.LogProb). An implicit model must have none.</summary>
    public static IReadOnlyList<string> DensityMembers(Type type)
    {
        static bool IsDensity(string name) =>
            new[] { "LogProb", "Elbo", "ImportanceWeightedBound", "BitsPerDim", "Likelihood", "Density" }.Any(k => name.Contains(k, StringComparison.Ordinal));
        static IEnumerable<string> Own(Type t, string prefix) =>
            t.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static)
                .Where(m => !m.IsSpecialName && IsDensity(m.Name)).Select(m => prefix + m.Name).Distinct();
        var nested = type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Where(p => p.PropertyType.Namespace == typeof(Taxonomy).Namespace)
            .SelectMany(p => Own(p.PropertyType, p.Name + "."));
        return Own(type, "").Concat(nested).Distinct().OrderBy(n => n).ToArray();
    }

    /// <summary>The <see cref="ComputationGraph"/> a family class states as its public static <c>TrainingGraph</c>
    /// property; null when it has none.</summary>
    public static ComputationGraph? TrainingGraph(Type type) =>
        type.GetProperty("TrainingGraph", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)?.GetValue(null) as ComputationGraph;

    /// <summary>The trained networks of a model instance by member name: its registered child modules when the model is
    /// itself a module (the VAE's encoder and decoder), otherwise its public properties holding a module (the GAN's G
    /// and D, a flow's Flow, a U-Net). The names a <see cref="ComputationGraph"/>'s network nodes must use.</summary>
    public static IReadOnlyDictionary<string, nn.Module> Networks(object model) =>
        model is nn.Module m
            ? m.named_children().ToDictionary(c => c.name, c => c.module)
            : model.GetType().GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
                .Where(p => typeof(nn.Module).IsAssignableFrom(p.PropertyType) && p.GetIndexParameters().Length == 0)
                .Select(p => (p.Name, Module: p.GetValue(model) as nn.Module))
                .Where(p => p.Module is not null)
                .ToDictionary(p => p.Name, p => p.Module!);
}
