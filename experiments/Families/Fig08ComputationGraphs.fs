/// FIG-08 (S2 Fig. 1.2): the computation graph of each generative family, drawn from the `TrainingGraph` that each
/// model class states beside its training step (the tests hold the graphs' networks to an instance's networks), in
/// the slide's order EBM, AR, VAE, flow, GAN, diffusion. A schematic: there is nothing numerical to check.
module Research.Experiments.Fig08ComputationGraphs

open System
open System.Text.RegularExpressions
open Research.Models
open Research.Experiments.Figures

/// The slide's order of families (the GenerativeFamily names), with the autoregressive model the toolkit lacks.
let private order = [ "energy-based model"; "autoregressive"; "VAE"; "normalizing flow"; "GAN"; "diffusion" ]

let private colour =
    function
    | GraphNodeKind.Data -> "#dbe9f6"
    | GraphNodeKind.Random -> "#fde8c8"
    | GraphNodeKind.Network -> "#cdebc9"
    | GraphNodeKind.Operation -> "#eeeeee"
    | _ -> "#f6d2d5"

/// The declared type of the member holding a network: a public property, or a field of a module class.
let private memberType (t: Type) (name: string) =
    let flags = Reflection.BindingFlags.Public ||| Reflection.BindingFlags.NonPublic ||| Reflection.BindingFlags.Instance
    let shown (m: Type) =
        if m.IsGenericType then sprintf "%s&lt;%s&gt;" (m.Name.Split('`').[0]) (String.Join(", ", m.GetGenericArguments() |> Array.map (fun a -> a.Name)))
        else m.Name
    match t.GetProperty(name, flags) with
    | null ->
        match t.GetField(name, flags) with
        | null -> "?"
        | f -> shown f.FieldType
    | p -> shown p.PropertyType

/// Width and height in pixels of a label's box (font 11: about 6.2 px a character, 15 px a line).
let private boxSize (label: string) =
    let lines = label.Split("<br>") |> Array.map (fun l -> Regex.Replace(Regex.Replace(l, "</?(b|i|sub|sup)>", ""), "&[a-z]+;", "_"))
    6.2 * float (lines |> Array.map String.length |> Array.max) + 14.0, 15.0 * float lines.Length + 10.0

/// Columns: the objective's terms at their depth, every other node as far right as its outputs allow (one column
/// before its nearest output), so that an input drawn at the start (a time, a target) does not stretch across the
/// graph. Within a column, nodes are sorted by the mean row of their inputs (sources in the order the class states
/// them) and spread evenly over [0, 1].
let private positions (g: ComputationGraph) =
    let column = Collections.Generic.Dictionary<string, int>()
    for n in g.Nodes |> Seq.sortByDescending (fun n -> g.Depth.[n.Name]) do
        let outputs = g.Edges |> Seq.filter (fun e -> e.From = n.Name) |> Seq.map (fun e -> column.[e.To]) |> Seq.toList
        column.[n.Name] <- if outputs.IsEmpty then g.Depth.[n.Name] else List.min outputs - 1
    let byDepth = g.Nodes |> Seq.groupBy (fun n -> column.[n.Name]) |> Seq.sortBy fst |> Seq.toList
    let y = Collections.Generic.Dictionary<string, float>()
    for (_, nodes) in byDepth do
        let key (n: GraphNode) =
            let inputs = g.Edges |> Seq.filter (fun e -> e.To = n.Name) |> Seq.map (fun e -> y.[e.From]) |> Seq.toList
            if inputs.IsEmpty then 0.5 else List.average inputs
        let sorted = nodes |> Seq.toArray |> Array.sortBy (fun n -> -key n) // stable: sources keep the stated order
        sorted |> Array.iteri (fun i n -> y.[n.Name] <- if sorted.Length = 1 then key n else 1.0 - float i / float (sorted.Length - 1))
    fun (name: string) -> float column.[name], y.[name]

/// One family's panel: boxes for the nodes, arrows that stop at the boxes' edges. pxPerX/pxPerY convert data units
/// to the panel's pixels, so an arrow's stand-off can be the distance from a box's centre to its edge along the arrow.
let private graphPanel (title: string) (t: Type) (g: ComputationGraph) (pxPerX: float) (pxPerY: float) =
    let pos = positions g
    let label (n: GraphNode) =
        if n.Kind = GraphNodeKind.Network then sprintf "<b>%s</b><br><i>%s.%s : %s</i>" n.Label t.Name n.Name (memberType t n.Name) else n.Label
    let labels = dict [ for n in g.Nodes -> n.Name, label n ]
    let edgeDistance (name: string) (dx: float) (dy: float) =
        let w, h = boxSize labels.[name]
        let len = sqrt (dx * dx + dy * dy)
        min (if dx = 0.0 then infinity else w / 2.0 * len / abs dx) (if dy = 0.0 then infinity else h / 2.0 * len / abs dy) + 2.0
    let nodes =
        [ for n in g.Nodes ->
              let x, y = pos n.Name
              [ "text", box labels.[n.Name]; "x", box x; "y", box y; "showarrow", box false; "bgcolor", box (colour n.Kind)
                "bordercolor", box (if n.Kind = GraphNodeKind.Network then "#2e7d32" else "#888888"); "borderwidth", box 1
                "borderpad", box 4; "font.size", box 11 ] ]
    let arrows =
        [ for e in g.Edges ->
              let (x0, y0), (x1, y1) = pos e.From, pos e.To
              let dx, dy = (x1 - x0) * pxPerX, (y1 - y0) * pxPerY
              [ "text", box ""; "x", box x1; "y", box y1; "ax", box x0; "ay", box y0; "showarrow", box true
                "arrowhead", box 2; "arrowsize", box 1.1; "arrowwidth", box 1.2; "arrowcolor", box "#555555"
                "standoff", box (edgeDistance e.To dx dy); "startstandoff", box (edgeDistance e.From dx dy) ] ]
    let maxDepth = g.Depth.Values |> Seq.max
    let hidden = [ "visible", box false; "fixedrange", box true ]
    let panel =
        { Panel.create title "" "" [ Trace.scatter "" [] [] |> Trace.hideLegend ] with
            XAxis = hidden @ [ "range", box [| -0.6; float maxDepth + 0.6 |] ]
            YAxis = hidden @ [ "range", box [| -0.25; 1.25 |] ] }
    (arrows @ nodes) |> List.fold (fun p a -> Panel.annotate a p) panel

let run (ctx: Context) =
    let models = Taxonomy.Models()
    let width, rowHeight = 1300, 230
    let families = order |> List.map (fun f -> f, [ for struct (t, a) in models do if a.Family = f then t, a ])
    let rows = families |> List.sumBy (fun (_, ts) -> max 1 ts.Length)
    // The panels stack in one column, 45 px apart for their titles; the plot area is the figure less the margins
    // (110 px across, 180 px down: the title has two lines).
    let height = 180 + rowHeight * rows
    let plotHeight = float (height - 180)
    let gap = 45.0 / plotHeight
    let h = (1.0 - gap * float (rows - 1)) / float rows
    let panelHeight = h * plotHeight
    let panels, records =
        [ for (family, types) in families do
              match types with
              | [] ->
                  let note =
                      "The toolkit has no autoregressive model (FIG-06's table says so too):<br>its graph would chain p(x<sub>i</sub> | x<sub>&lt;i</sub>) over the coordinates, p(x) = Π<sub>i</sub> p(x<sub>i</sub> | x<sub>&lt;i</sub>)."
                  let p =
                      { Panel.create (sprintf "%s · no model class" family) "" "" [ Trace.scatter "" [] [] |> Trace.hideLegend ] with
                          XAxis = [ "visible", box false; "range", box [| 0.0; 1.0 |] ]
                          YAxis = [ "visible", box false; "range", box [| 0.0; 1.0 |] ] }
                      |> Panel.annotate [ "text", box note; "x", box 0.5; "y", box 0.5; "showarrow", box false; "font.size", box 12; "font.color", box "#666666" ]
                  yield p, None
              | _ ->
                  for (t, a) in types do
                      match Taxonomy.TrainingGraph t with
                      | null -> failwithf "%s carries GenerativeFamily but states no TrainingGraph" t.Name
                      | g ->
                          let maxDepth = g.Depth.Values |> Seq.max
                          let pxPerX = float (width - 110) / (float maxDepth + 1.2)
                          let title = sprintf "%s · %s (trained by %s)" family t.Name a.Objective
                          yield graphPanel title t g pxPerX (panelHeight / 1.5), Some(family, t, g) ]
        |> List.unzip
    let panels = panels |> List.mapi (fun i p -> let y1 = 1.0 - float i * (h + gap) in Panel.domain 0.0 1.0 (y1 - h) y1 p)
    let drawn = records |> List.choose id
    ctx.WriteTextCsv("nodes.csv", [ "family"; "class"; "node"; "kind"; "depth"; "label" ],
        [ for (f, t, g) in drawn do for n in g.Nodes -> [ f; t.Name; n.Name; string n.Kind; string g.Depth.[n.Name]; n.Label ] ])
    ctx.WriteTextCsv("edges.csv", [ "family"; "class"; "from"; "to" ], [ for (f, t, g) in drawn do for e in g.Edges -> [ f; t.Name; e.From; e.To ] ])
    ctx.Record("classes_drawn", drawn.Length)
    ctx.Record("families_without_a_class", String.Join(",", families |> List.filter (fun (_, ts) -> ts.IsEmpty) |> List.map fst))
    for (_, t, g) in drawn do
        ctx.Record(sprintf "%s_networks" t.Name, String.Join(",", g.NetworkNames))
        ctx.Record(sprintf "%s_nodes" t.Name, g.Nodes.Count)
    ctx.SaveFigure("fig08_computation_graphs",
        Figure.grid "FIG-08 · one training step of each family, drawn from the TrainingGraph each model class states<br><span style='font-size:12px'>green: the class's networks (member : declared type) · blue: data · orange: random draws · grey: fixed operations · red: the objective's terms</span>" 1 panels
        |> Figure.size width height
        |> Figure.layout "margin.t" 120)

let experiment =
    { Name = "fig08-computation-graphs"
      Ids = [ "FIG-08" ]
      Title = "the computation graph of one training step of each family, drawn from the TrainingGraph the model classes state"
      InDefault = true
      Run = run }
