/// What an experiment is, what it is given (Context: sizes, seed, output folder, summary, progress),
/// and how one is run into results/<name>/.
namespace Research.Experiments

open System
open System.Collections.Generic
open System.Diagnostics
open System.Globalization
open System.IO
open System.Text.Json
open System.Text.Json.Nodes
open Spectre.Console
open Research.Experiments.Figures

/// How a run is configured; the command line and the tests both build one.
type RunOptions =
    { /// results/ by default; each experiment writes ResultsRoot/<name>/.
      ResultsRoot: string
      /// Full-size run (the figures' published sizes) instead of the quick defaults.
      Full: bool
      Seed: int
      /// Render PNG and SVG through headless Chromium (HTML is always written).
      Render: bool
      /// Per-run overrides of an experiment's sizes, e.g. "chains" -> "100000".
      Params: Map<string, string>
      /// No console output (tests).
      Quiet: bool }

module RunOptions =
    /// The results root: $RESEARCH_RESULTS if set, else results/ at the repository root (the folder
    /// holding Research.sln, searched upwards from the current directory), else ./results.
    let defaultResultsRoot () =
        match Environment.GetEnvironmentVariable "RESEARCH_RESULTS" with
        | null
        | "" ->
            let rec up (d: DirectoryInfo) =
                if isNull d then None
                elif File.Exists(Path.Combine(d.FullName, "Research.sln")) then Some d.FullName
                else up d.Parent
            match up (DirectoryInfo Environment.CurrentDirectory) with
            | Some root -> Path.Combine(root, "results")
            | None -> Path.GetFullPath "results"
        | env -> Path.GetFullPath env

    let defaults =
        { ResultsRoot = defaultResultsRoot ()
          Full = false
          Seed = 20240601
          Render = true
          Params = Map.empty
          Quiet = false }

/// Handed to an experiment: where to write, how big to be, and where its key numbers go.
type Context(name: string, options: RunOptions) =
    let outDir = Path.Combine(options.ResultsRoot, name)
    let summary = JsonObject()
    let files = ResizeArray<string>()
    let used = Dictionary<string, string>()
    let pending = ResizeArray<Figure * string * string>()
    let inv (x: float) = x.ToString("R", CultureInfo.InvariantCulture)

    do Directory.CreateDirectory outDir |> ignore

    member _.Name = name
    member _.Options = options
    member _.OutDir = outDir
    member _.Full = options.Full
    member _.Seed = options.Seed
    member _.Summary = summary
    member _.Files = files :> IReadOnlyList<string>
    /// The sizes this run used, by parameter name (written into summary.json's meta).
    member _.ParamsUsed = used :> IReadOnlyDictionary<string, string>

    /// A size: the --param override if given, else `full` with --full, else `small`.
    member _.Int(key: string, small: int, full: int) =
        let v =
            match options.Params.TryFind key with
            | Some s -> int s
            | None -> if options.Full then full else small
        used.[key] <- string v
        v

    member _.Float(key: string, small: float, full: float) =
        let v =
            match options.Params.TryFind key with
            | Some s -> Double.Parse(s, CultureInfo.InvariantCulture)
            | None -> if options.Full then full else small
        used.[key] <- inv v
        v

    /// A text option (a choice such as a process name): the --param override if given, else `small` / `full`.
    member _.Text(key: string, small: string, full: string) =
        let v =
            match options.Params.TryFind key with
            | Some s -> s
            | None -> if options.Full then full else small
        used.[key] <- v
        v

    /// A reproducible stream: the run's seed combined with a per-use stream number.
    member _.Rng(stream: int) = Numerics.NormalRng(options.Seed * 7919 + stream)

    /// Records a key number in summary.json.
    member _.Record(key: string, value: float) =
        summary.[key] <- (if Double.IsFinite value then JsonValue.Create value :> JsonNode else JsonValue.Create(string value))
    member _.Record(key: string, value: int) = summary.[key] <- JsonValue.Create value
    member _.Record(key: string, value: bool) = summary.[key] <- JsonValue.Create value
    member _.Record(key: string, value: string) = summary.[key] <- JsonValue.Create value

    member _.Log(message: string) =
        if not options.Quiet then AnsiConsole.MarkupLine("  [grey]" + Markup.Escape message + "[/]")

    /// Writes a CSV (invariant culture, full precision) into the output folder.
    member _.WriteCsv(file: string, header: string list, rows: seq<float list>) =
        let path = Path.Combine(outDir, file)
        use w = new StreamWriter(path)
        w.WriteLine(String.Join(",", header))
        for r in rows do
            w.WriteLine(String.Join(",", r |> List.map inv))
        files.Add file

    /// Writes a CSV whose cells are already text (tables).
    member _.WriteTextCsv(file: string, header: string list, rows: seq<string list>) =
        let quote (s: string) = if s.IndexOfAny [| ','; '"'; '\n' |] >= 0 then "\"" + s.Replace("\"", "\"\"") + "\"" else s
        let path = Path.Combine(outDir, file)
        use w = new StreamWriter(path)
        w.WriteLine(String.Join(",", header |> List.map quote))
        for r in rows do
            w.WriteLine(String.Join(",", r |> List.map quote))
        files.Add file

    member _.WriteText(file: string, text: string) =
        File.WriteAllText(Path.Combine(outDir, file), text)
        files.Add file

    /// Writes the figure as <stem>.html now and, when rendering is on, queues <stem>.png and
    /// <stem>.svg for the browser (see Experiment.run / runMany, which render in one Chromium run).
    member _.SaveFigure(stem: string, fig: Figure) =
        Html.write (Path.Combine(outDir, stem + ".html")) fig
        files.Add(stem + ".html")
        if options.Render then
            pending.Add(fig, Path.Combine(outDir, stem + ".png"), Path.Combine(outDir, stem + ".svg"))
            files.Add(stem + ".png")
            files.Add(stem + ".svg")

    /// Figures waiting for PNG/SVG rendering.
    member _.PendingRenders = List.ofSeq pending

    /// Runs `body` with a progress bar of `total` steps; `body` calls the tick it is given once per step.
    member _.Progress(label: string, total: int, body: (unit -> unit) -> 'a) : 'a =
        if options.Quiet || total <= 1 then
            body ignore
        else
            let mutable result = Unchecked.defaultof<'a>
            AnsiConsole
                .Progress()
                .AutoClear(true)
                .Columns(
                    TaskDescriptionColumn(),
                    ProgressBarColumn(),
                    PercentageColumn(),
                    ElapsedTimeColumn(),
                    RemainingTimeColumn()
                )
                .Start(fun ctx ->
                    let task = ctx.AddTask("  " + Markup.Escape label, true, float total)
                    result <- body (fun () -> task.Increment 1.0)
                    task.Value <- float total)
            result

/// One figure or table: a name for the command line, what it reproduces, and how.
type Experiment =
    { Name: string
      /// Catalogue ids it reproduces (figure ids and the claims of docs/claims.md behind them).
      Ids: string list
      Title: string
      /// Part of `all` (everything is, unless a run is too long for the default set).
      InDefault: bool
      Run: Context -> unit }

module Experiment =
    /// Runs one experiment into ResultsRoot/<name>/ and writes summary.json; returns the summary
    /// object (key numbers at the top level, run information under "meta") and the figures still to
    /// be rendered to PNG/SVG.
    let execute (options: RunOptions) (e: Experiment) : JsonObject * (Figure * string * string) list =
        let ctx = Context(e.Name, options)
        let clock = Stopwatch.StartNew()
        e.Run ctx
        let elapsed = clock.Elapsed.TotalSeconds
        let meta = JsonObject()
        meta.["experiment"] <- JsonValue.Create e.Name
        meta.["title"] <- JsonValue.Create e.Title
        meta.["ids"] <- JsonArray([| for i in e.Ids -> JsonValue.Create i :> JsonNode |])
        meta.["seed"] <- JsonValue.Create options.Seed
        meta.["full"] <- JsonValue.Create options.Full
        let ps = JsonObject()
        for KeyValue(k, v) in ctx.ParamsUsed do
            ps.[k] <- JsonValue.Create v
        meta.["params"] <- ps
        meta.["elapsed_seconds"] <- JsonValue.Create(Math.Round(elapsed, 3))
        meta.["files"] <- JsonArray([| for f in ctx.Files -> JsonValue.Create f :> JsonNode |])
        let summary = ctx.Summary
        summary.["meta"] <- meta
        File.WriteAllText(
            Path.Combine(ctx.OutDir, "summary.json"),
            summary.ToJsonString(JsonSerializerOptions(WriteIndented = true))
        )
        summary, ctx.PendingRenders

    /// Runs one experiment and renders its figures (one browser run when rendering is on).
    let run (options: RunOptions) (e: Experiment) : JsonObject =
        let summary, renders = execute options e
        Render.writeMany renders
        summary
