/// The experiment runner:
///   dotnet run --project experiments -- list
///   dotnet run --project experiments -- [all]                  the default set, quick sizes
///   dotnet run --project experiments -- fig01 fig02 --full     by name, prefix or id, full size
/// Each experiment writes results/<name>/ (data, figure HTML/PNG/SVG, summary.json).
module Research.Experiments.Program

open System
open System.Diagnostics
open System.Text.Json.Nodes
open Spectre.Console
open Research.Experiments.Figures

// The runner's few options are parsed by hand: a parser library would be a dependency for six flags.
type Arguments =
    { Names: string list
      Full: bool
      Results: string option
      Seed: int option
      NoRender: bool
      Params: (string * string) list
      Help: bool }

let usage =
    """usage: dotnet run --project experiments -- [NAME ...] [options]

NAME        `list`, `all` (the default set; the default), or experiment names, name prefixes or
            catalogue ids (fig01, FIG-13, sde02-fokker-planck)
options:
  --full                 full-size runs instead of the quick defaults
  --results, -o DIR      results root (default: $RESEARCH_RESULTS, else results/ at the repository root)
  --seed N               random seed (default 20240601)
  --no-render            write HTML figures only; do not start headless Chromium for PNG/SVG
  --param, -p KEY=VALUE  override one size (repeatable), e.g. --param chains=100000
  --help, -h             this text"""

let parseArguments (argv: string[]) =
    let rec go (acc: Arguments) (rest: string list) =
        match rest with
        | [] -> { acc with Names = List.rev acc.Names; Params = List.rev acc.Params }
        | ("--help" | "-h") :: tail -> go { acc with Help = true } tail
        | "--full" :: tail -> go { acc with Full = true } tail
        | "--no-render" :: tail -> go { acc with NoRender = true } tail
        | ("--results" | "-o") :: dir :: tail -> go { acc with Results = Some dir } tail
        | "--seed" :: n :: tail ->
            match Int32.TryParse n with
            | true, v -> go { acc with Seed = Some v } tail
            | _ -> failwithf "--seed expects an integer, got '%s'" n
        | ("--param" | "-p") :: kv :: tail ->
            match kv.Split('=', 2) with
            | [| k; v |] when k.Trim() <> "" -> go { acc with Params = (k.Trim(), v.Trim()) :: acc.Params } tail
            | _ -> failwithf "--param expects key=value, got '%s'" kv
        | opt :: _ when opt.StartsWith "-" -> failwithf "unknown or incomplete option '%s'" opt
        | name :: tail -> go { acc with Names = name :: acc.Names } tail
    go { Names = []; Full = false; Results = None; Seed = None; NoRender = false; Params = []; Help = false } (List.ofArray argv)

let private listExperiments () =
    let table = Table().AddColumns("name", "ids", "default", "what it shows")
    table.Border <- TableBorder.Rounded
    for e in Registry.all do
        table.AddRow(
            Markup.Escape e.Name,
            Markup.Escape(String.Join(", ", e.Ids)),
            (if e.InDefault then "yes" else "no"),
            Markup.Escape e.Title
        )
        |> ignore
    AnsiConsole.Write table

let private showSummary (summary: JsonObject) =
    let table = Table().AddColumns("key number", "value")
    table.Border <- TableBorder.Simple
    for KeyValue(k, v) in summary do
        if k <> "meta" then table.AddRow(Markup.Escape k, Markup.Escape(v.ToJsonString())) |> ignore
    AnsiConsole.Write table

[<EntryPoint>]
let main argv =
    match (try Ok(parseArguments argv) with ex -> Error ex.Message) with
    | Error message ->
        eprintfn "%s\n\n%s" message usage
        2
    | Ok args when args.Help ->
        printfn "%s" usage
        0
    | Ok args ->
        let names = if args.Names.IsEmpty then [ "all" ] else args.Names
        if names = [ "list" ] then
            listExperiments ()
            0
        else
            let unknown = names |> List.filter (fun n -> n <> "all" && (Registry.find n).IsEmpty)
            if not unknown.IsEmpty then
                eprintfn "no experiment matches: %s (see `list`)" (String.Join(", ", unknown))
                2
            else
            let selected =
                names
                |> List.collect (fun n -> if n = "all" then Registry.defaults else Registry.find n)
                |> List.distinctBy (fun e -> e.Name)
            let options =
                { RunOptions.defaults with
                    Full = args.Full
                    Seed = defaultArg args.Seed RunOptions.defaults.Seed
                    Render = not args.NoRender
                    Params = Map.ofList args.Params
                    ResultsRoot =
                        match args.Results with
                        | Some dir -> IO.Path.GetFullPath dir
                        | None -> RunOptions.defaults.ResultsRoot }
            let size = if options.Full then "full" else "quick"
            AnsiConsole.MarkupLine($"[bold]results:[/] {Markup.Escape options.ResultsRoot}  [bold]seed:[/] {options.Seed}  [bold]size:[/] {size}")
            let total = Stopwatch.StartNew()
            let failures = ResizeArray()
            let renders = ResizeArray()
            for e in selected do
                AnsiConsole.Write(Rule($"[yellow]{Markup.Escape e.Name}[/]  {Markup.Escape e.Title}").LeftJustified())
                let clock = Stopwatch.StartNew()
                try
                    let summary, pending = Experiment.execute options e
                    renders.AddRange pending
                    showSummary summary
                    AnsiConsole.MarkupLine($"  [green]done[/] in {clock.Elapsed.TotalSeconds:F1} s -> {Markup.Escape(IO.Path.Combine(options.ResultsRoot, e.Name))}")
                with ex ->
                    failures.Add e.Name
                    AnsiConsole.MarkupLine($"  [red]failed[/] after {clock.Elapsed.TotalSeconds:F1} s: {Markup.Escape(ex.ToString())}")
            // All PNG/SVG in one headless-Chromium run: starting the browser is the expensive part.
            if renders.Count > 0 then
                let clock = Stopwatch.StartNew()
                try
                    AnsiConsole
                        .Status()
                        .Start($"rendering {renders.Count} figures to PNG/SVG in headless Chromium", fun _ -> Render.writeMany (List.ofSeq renders))
                    AnsiConsole.MarkupLine($"[green]rendered[/] {renders.Count} figures (PNG, SVG) in {clock.Elapsed.TotalSeconds:F1} s")
                with ex ->
                    failures.Add "rendering"
                    AnsiConsole.MarkupLine($"[red]rendering failed[/]: {Markup.Escape ex.Message}")
            let index = ResultsIndex.write options.ResultsRoot Registry.all
            AnsiConsole.MarkupLine($"[bold]index:[/] {Markup.Escape index}")
            let failed = failures |> Seq.filter (fun f -> f <> "rendering") |> Seq.length
            AnsiConsole.MarkupLine($"[bold]{selected.Length - failed}/{selected.Length} experiments ran in {total.Elapsed.TotalSeconds:F1} s[/]")
            if failures.Count > 0 then
                let names = String.Join(", ", failures)
                AnsiConsole.MarkupLine($"[red]failed: {Markup.Escape names}[/]")
                1
            else
                0
