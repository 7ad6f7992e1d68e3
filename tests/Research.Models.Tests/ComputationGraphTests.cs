using Research.Diffusion;
using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

/// <summary>FIG-08's graphs: each family class states one, its network nodes are exactly the networks an instance of the
/// class has, and every node feeds the objective.</summary>
public class ComputationGraphTests
{
    /// <summary>A small instance of each family class, built as the experiments build them.</summary>
    private static IDisposable Instance(Type type)
    {
        var o = new nn.LayerOptions(generator: new Generator(1));
        if (type == typeof(RealNvp)) return new RealNvp(2, 2, 4, options: o);
        if (type == typeof(ImageRealNvp)) return new ImageRealNvp(new ImageRealNvpOptions(new ImageShape(1, 2, 2), Scales: 0, Hidden: 4, FinalCouplings: 2), o);
        if (type == typeof(Vae)) return new Vae(new VaeOptions(Latent: 2, Hidden: [8], Pixels: 9), o);
        if (type == typeof(Gan)) return new Gan(Gan.Mlp(2, 8, 2, o: o), Gan.Mlp(2, 8, 1, leaky: true, o), 2);
        if (type == typeof(EnergyModel)) return new EnergyModel(2, 8, new VeGeometric(0.05, 2.0), options: o);
        if (type == typeof(ImageDiffusion))
            return new ImageDiffusion(new ImageDiffusionOptions(new UNetConfig([8, 16], 16, Groups: 4, EmbeddingWidth: 32, TimeFrequencies: 8, Classes: 10),
                DiffusionObjective.Ddpm(DdpmSchedule.Linear(100))), new Generator(2));
        throw new ArgumentException($"no test instance for {type.Name}: add one when adding a family class");
    }

    [Fact]
    public void Each_family_class_states_a_graph_whose_networks_are_the_instances_networks()
    {
        foreach (var (type, _) in Taxonomy.Models())
        {
            var graph = Taxonomy.TrainingGraph(type);
            Assert.True(graph is not null, $"{type.Name} states no TrainingGraph");
            using var model = Instance(type);
            var networks = Taxonomy.Networks(model);
            Assert.Equal(networks.Keys.OrderBy(k => k), graph!.NetworkNames.OrderBy(k => k));
            foreach (var (name, module) in networks)
                Assert.True(module.parameters().Sum(p => p.numel) > 0, $"{type.Name}.{name} has no parameters");
        }
    }

    /// <summary>Data and random draws start the graph; everything else has inputs, and every node reaches an objective
    /// term (nothing drawn is left unused).</summary>
    [Fact]
    public void Every_graph_starts_at_data_or_draws_and_every_node_feeds_the_objective()
    {
        foreach (var (type, _) in Taxonomy.Models())
        {
            var g = Taxonomy.TrainingGraph(type)!;
            foreach (var n in g.Nodes)
            {
                bool isSource = !g.Edges.Any(e => e.To == n.Name);
                bool startsGraph = n.Kind is GraphNodeKind.Data or GraphNodeKind.Random;
                Assert.True(isSource == startsGraph, $"{type.Name}: node '{n.Name}' ({n.Kind}) {(isSource ? "has no inputs" : "has inputs")}");
                Assert.True(ReachesObjective(g, n.Name), $"{type.Name}: node '{n.Name}' does not reach an objective term");
            }
        }
    }

    private static bool ReachesObjective(ComputationGraph g, string name) =>
        g.Nodes.First(n => n.Name == name).Kind == GraphNodeKind.Objective || g.Edges.Where(e => e.From == name).Any(e => ReachesObjective(g, e.To));

    [Fact]
    public void Depth_is_the_longest_path_and_bad_graphs_are_refused()
    {
        GraphNode N(string name) => new(name, GraphNodeKind.Operation, name);
        var g = ComputationGraph.Of([N("a"), N("b"), N("c"), N("d")], "a -> b -> c", "a -> c", "d -> c");
        Assert.Equal(new[] { 0, 1, 2, 0 }, new[] { "a", "b", "c", "d" }.Select(n => g.Depth[n]));
        Assert.All(g.Edges, e => Assert.True(g.Depth[e.To] > g.Depth[e.From]));
        Assert.Contains("cycle", Assert.Throws<ArgumentException>(() => ComputationGraph.Of([N("a"), N("b")], "a -> b -> a")).Message);
        Assert.Contains("unknown node", Assert.Throws<ArgumentException>(() => ComputationGraph.Of([N("a")], "a -> z")).Message);
        Assert.Contains("used twice", Assert.Throws<ArgumentException>(() => ComputationGraph.Of([N("a"), N("a")])).Message);
    }
}
