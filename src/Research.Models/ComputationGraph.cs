namespace Research.Models;

/// <summary>What a node of a family's computation graph stands for: data, a draw from a fixed distribution (noise, a
/// prior, a time), a trained network of the model class, a fixed operation, or a term of the training objective.</summary>
public enum GraphNodeKind
{
    Data,
    Random,
    Network,
    Operation,
    Objective,
}

/// <summary>A node: <paramref name="Name"/> identifies it in the edges; a <see cref="GraphNodeKind.Network"/> node's
/// name is the member of the model class that holds the network (a public property, or a registered child module of a
/// model that is itself a module), which <see cref="Taxonomy.Networks"/> resolves on an instance.</summary>
public sealed record GraphNode(string Name, GraphNodeKind Kind, string Label);

/// <summary>An edge along which a value flows.</summary>
public sealed record GraphEdge(string From, string To);

/// <summary>
/// The computation of one training step of a generative family (S2 Fig. 1.2), stated on the model class beside
/// the code that performs it: a directed acyclic graph from data and random draws, through the class's networks and
/// fixed operations, to the objective's terms. FIG-08 draws it; the tests hold the network nodes to the networks an
/// instance of the class actually has.
/// </summary>
public sealed class ComputationGraph
{
    /// <summary>Throws ArgumentException for duplicate node names, an edge to or from an unknown node, or a cycle.</summary>
    public ComputationGraph(IReadOnlyList<GraphNode> nodes, IReadOnlyList<GraphEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(edges);
        var names = new HashSet<string>();
        foreach (var n in nodes)
            if (!names.Add(n.Name)) throw new ArgumentException($"the node name '{n.Name}' is used twice");
        foreach (var e in edges)
            if (!names.Contains(e.From) || !names.Contains(e.To)) throw new ArgumentException($"the edge {e.From} → {e.To} names an unknown node");
        Nodes = nodes;
        Edges = edges;
        Depth = LongestPathDepths();
    }

    public IReadOnlyList<GraphNode> Nodes { get; }
    public IReadOnlyList<GraphEdge> Edges { get; }

    /// <summary>Each node's depth: the length of the longest path reaching it from a node without inputs. Edges always
    /// go to a greater depth, so drawing the depths as columns reads left to right.</summary>
    public IReadOnlyDictionary<string, int> Depth { get; }

    /// <summary>The network nodes' names: the members of the model class that hold its trained networks.</summary>
    public IReadOnlyList<string> NetworkNames => Nodes.Where(n => n.Kind == GraphNodeKind.Network).Select(n => n.Name).ToArray();

    /// <summary>A graph from edges written "a -> b" (several arrows chain: "a -> b -> c") over the given nodes.</summary>
    public static ComputationGraph Of(IReadOnlyList<GraphNode> nodes, params string[] paths) =>
        new(nodes, paths.SelectMany(p =>
        {
            var names = p.Split("->", StringSplitOptions.TrimEntries);
            return names.Zip(names.Skip(1), (a, b) => new GraphEdge(a, b));
        }).ToArray());

    private Dictionary<string, int> LongestPathDepths()
    {
        var depth = new Dictionary<string, int>();
        var visiting = new HashSet<string>();
        int Visit(string name)
        {
            if (depth.TryGetValue(name, out int d)) return d;
            if (!visiting.Add(name)) throw new ArgumentException($"the graph has a cycle through '{name}'");
            d = Edges.Where(e => e.To == name).Select(e => Visit(e.From) + 1).DefaultIfEmpty(0).Max();
            visiting.Remove(name);
            return depth[name] = d;
        }
        foreach (var n in Nodes) Visit(n.Name);
        return depth;
    }
}
