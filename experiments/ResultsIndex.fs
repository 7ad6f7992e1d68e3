/// results/index.html: one self-contained page over every experiment that has a folder in the results
/// root: its title and catalogue ids, its figures (PNG or SVG inlined as data URIs, so the page needs
/// nothing beside it; links to the interactive HTML), its key numbers from summary.json next to the values
/// the source documents' figure catalogue gives for them (kept in this file), and links to its CSV files.
module Research.Experiments.ResultsIndex

open System
open System.Globalization
open System.IO
open System.Net
open System.Text
open System.Text.Json.Nodes

/// Values the catalogue states for a key number, by (experiment, key).
let expected: Map<string * string, string> =
    Map [ ("fig01-sd-schedule", "max_abs_diff"), "1.1075e-3"
          ("fig01-sd-schedule", "argmax_t"), "469"
          ("fig01-sd-schedule", "discrete_below_continuous_everywhere"), "true"
          ("fig01-sd-schedule", "alpha_bar_T"), "0.0046601"
          ("fig01-sd-schedule", "alpha_sq_1"), "0.0047795"
          ("fig02-pf-quantiles", "trajectories_ordered"), "true"
          ("fig02-pf-quantiles", "max_band_mass_deviation"), "0"
          ("fig02-pf-quantiles", "alpha_1"), "0.0691"
          ("fig09-gan-discriminator", "V_Dstar_mu1"), "-1.163451396750418"
          ("fig09-gan-discriminator", "generator_objective_mu1"), "0.5"
          ("fig09-gan-discriminator", "max_abs_V_minus_js"), "0"
          ("fig10-mode-seeking", "forward_mu"), "0"
          ("fig10-mode-seeking", "forward_var"), "17"
          ("fig10-mode-seeking", "reverse_mu"), "3.9996"
          ("fig10-mode-seeking", "reverse_var"), "1.0016" ]

let private html (s: string) = WebUtility.HtmlEncode s

let private show (node: JsonNode) =
    match node with
    | :? JsonValue as v ->
        match v.TryGetValue<double>() with
        | true, d -> d.ToString("G6", CultureInfo.InvariantCulture)
        | _ -> v.ToJsonString().Trim('"')
    | null -> "null"
    | other -> other.ToJsonString()

let private dataUri (file: string) =
    let mime = if file.EndsWith ".png" then "image/png" else "image/svg+xml"
    $"data:{mime};base64,{Convert.ToBase64String(File.ReadAllBytes file)}"

let private section (root: string) (e: Experiment) (sb: StringBuilder) =
    let dir = Path.Combine(root, e.Name)
    let summaryFile = Path.Combine(dir, "summary.json")
    let summary =
        if File.Exists summaryFile then JsonNode.Parse(File.ReadAllText summaryFile).AsObject() else JsonObject()
    let files (pattern: string) = Directory.GetFiles(dir, pattern) |> Array.sort
    let link (file: string) = $"""<a href="{html (e.Name + "/" + Path.GetFileName file)}">{html (Path.GetFileName file)}</a>"""
    sb.Append($"""<section id="{html e.Name}"><h2>{html e.Name}</h2><p>{html e.Title}""") |> ignore
    if not e.Ids.IsEmpty then sb.Append($""" <span class="ids">({html (String.Join(", ", e.Ids))})</span>""") |> ignore
    sb.Append("</p>") |> ignore
    // One picture per figure stem: the PNG if rendered, else the SVG, else only the HTML link below.
    for page in files "*.html" do
        let stem = Path.Combine(dir, Path.GetFileNameWithoutExtension page)
        match [ stem + ".png"; stem + ".svg" ] |> List.tryFind File.Exists with
        | Some picture -> sb.Append($"""<figure><img src="{dataUri picture}" alt="{html (Path.GetFileName stem)}"><figcaption>{link page} (interactive)</figcaption></figure>""") |> ignore
        | None -> sb.Append($"""<p>figure: {link page}</p>""") |> ignore
    let numbers = [ for KeyValue(k, v) in summary do if k <> "meta" then k, v ]
    if not numbers.IsEmpty then
        sb.Append("<table><tr><th>key number</th><th>value</th><th>catalogue</th></tr>") |> ignore
        for k, v in numbers do
            let wanted = expected |> Map.tryFind (e.Name, k) |> Option.defaultValue ""
            sb.Append($"<tr><td>{html k}</td><td>{html (show v)}</td><td>{html wanted}</td></tr>") |> ignore
        sb.Append("</table>") |> ignore
    let csvs = files "*.csv"
    if csvs.Length > 0 then sb.Append("<p>data: " + String.Join(", ", csvs |> Array.map link) + "</p>") |> ignore
    sb.Append("</section>\n") |> ignore

/// Writes ResultsRoot/index.html over the experiments (in the given order) that have results there;
/// returns its path.
let write (resultsRoot: string) (experiments: Experiment list) =
    let present = experiments |> List.filter (fun e -> Directory.Exists(Path.Combine(resultsRoot, e.Name)))
    let sb = StringBuilder()
    sb.Append("""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Results</title><style>
body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
img{max-width:100%;border:1px solid #ddd}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;font-family:monospace}.ids{color:#666}
section{border-top:2px solid #333;margin-top:2em}</style></head><body><h1>Results</h1><ul>""") |> ignore
    for e in present do
        sb.Append($"""<li><a href="#{html e.Name}">{html e.Name}</a>: {html e.Title}</li>""") |> ignore
    sb.Append("</ul>\n") |> ignore
    for e in present do
        section resultsRoot e sb
    sb.Append("</body></html>\n") |> ignore
    let path = Path.Combine(resultsRoot, "index.html")
    Directory.CreateDirectory resultsRoot |> ignore
    File.WriteAllText(path, sb.ToString())
    path
