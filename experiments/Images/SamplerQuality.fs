/// sampler-quality: FD against NFE for every library sampler on the trained VP-eps (DDPM table) model, on the
/// Karras grid in varsigma; the reference is Euler with many steps. Reports, for each sampler, the fewest NFE at
/// which its FD comes within 5% of the reference's.
module Research.Experiments.SamplerQuality

open System
open Research.Torch
open Research.Diffusion
open Research.Models
open Research.Experiments.Figures
open Research.Experiments.ImageRuns

/// Network evaluations per step (the last step to varsigma = 0 costs one for every method here).
let private cost (name: string) =
    match name with
    | "Heun" | "DPM-Solver-2" | "EDM stochastic" -> 2
    | "DPM-Solver-3" -> 3
    | _ -> 1

let run (ctx: Context) =
    let n = ctx.Int("samples", 100, 1000)
    let referenceSteps = ctx.Int("reference_steps", 200, 1000)
    let budgets = if ctx.Full then [ 10; 20; 35; 50; 100 ] else [ 8; 16; 32 ]
    let r = reference ctx
    recordReference ctx r
    let model, _, _ = sharedModel ctx "vp-eps" (trainingSize ctx "" 800)
    use model = model
    use labels = balancedLabels n
    // Every sampler starts from the same noise: differences are the samplers', not the draws'.
    let sampleWith (sampler: Sampler) steps =
        use g = new Generator(uint64 ctx.Seed + 7UL)
        let struct (x, nfe) = model.Sample(sampler, model.Grid steps, int64 n, g, labels)
        use x = x
        (metrics r x labels).Fd, nfe
    let referenceFd, referenceNfe = sampleWith Samplers.Euler referenceSteps
    ctx.Record("reference_fd", referenceFd)
    ctx.Record("reference_nfe", referenceNfe)
    let rows = ResizeArray<string list>()
    let curves = ResizeArray<string * (float * float) list>()
    let fewest = Text.Json.Nodes.JsonObject()
    ctx.Progress(
        "sampler-quality",
        imageSamplers.Length * budgets.Length,
        fun tick ->
            for name, sampler in imageSamplers do
                let points =
                    [ for b in budgets do
                          let steps = max 1 ((b + cost name - 1) / cost name)
                          let fd, nfe = sampleWith sampler steps
                          rows.Add [ name; string steps; string nfe; fd.ToString("R", Globalization.CultureInfo.InvariantCulture) ]
                          tick ()
                          float nfe, fd ]
                curves.Add(name, points)
                match points |> List.filter (fun (_, fd) -> fd <= 1.05 * referenceFd) |> List.sortBy fst with
                | (nfe, _) :: _ -> fewest.[name] <- Text.Json.Nodes.JsonValue.Create(int nfe)
                | [] -> fewest.[name] <- Text.Json.Nodes.JsonValue.Create("not reached")
    )
    ctx.Summary.["fewest_nfe_within_5pct"] <- fewest
    ctx.WriteTextCsv("fd_vs_nfe.csv", [ "sampler"; "steps"; "nfe"; "fd" ], rows)
    let traces =
        [ for name, points in curves -> Trace.line name (points |> List.map fst) (points |> List.map snd) ]
        @ [ Trace.line (sprintf "Euler, %d steps (reference)" referenceSteps) [ float (List.head budgets); float (List.last budgets) ] [ referenceFd; referenceFd ]
            |> Trace.color "black" |> Trace.dash "dot"
            Trace.line "reference + 5%" [ float (List.head budgets); float (List.last budgets) ] [ 1.05 * referenceFd; 1.05 * referenceFd ]
            |> Trace.color "grey" |> Trace.dash "dash" ]
    ctx.SaveFigure("fd_vs_nfe", Figure.single "FD against NFE on the trained VP-ε model (Karras grid)" (Panel.create "" "NFE" "FD (classifier features)" traces |> Panel.logX |> Panel.logY))

let experiment =
    { Name = "sampler-quality"
      Ids = [ "DDIM-01"; "SDE-03" ]
      Title = "FD against NFE for every library sampler on the trained Fashion-MNIST model"
      InDefault = true
      Run = run }
