/// `dotnet run --project proofs [family-or-id]`: checks every claim of derivations.md that has a proof,
/// lists the ids of its index that have none as "not checked", and exits non-zero on any failure.
module Research.Proofs.Runner

open System
open System.IO
open System.Text.RegularExpressions
open Research.Proofs.Claims

let claims =
    [ Divergences.claims; Processes.claims; Score.claims; Sde.claims; Ddpm.claims; Latent.claims; Gan.claims
      Flows.claims; Energy.claims; ScoreMatching.claims; Vdm.claims; Extensions.claims ]
    |> List.concat

let controls =
    [ Divergences.controls; Processes.controls; Score.controls; Sde.controls; Ddpm.controls; Latent.controls; Gan.controls
      Flows.controls; Energy.controls; ScoreMatching.controls; Vdm.controls; Extensions.controls ]
    |> List.concat

/// shared/derivations.md, looked up from the working directory and the assembly upwards
/// (or given by DERIVATIONS_MD).
let findDerivations () =
    let fromEnv = Environment.GetEnvironmentVariable "DERIVATIONS_MD"
    if not (String.IsNullOrEmpty fromEnv) then Some fromEnv
    else
        [ Directory.GetCurrentDirectory(); AppContext.BaseDirectory ]
        |> List.tryPick (fun start ->
            let rec up (dir: DirectoryInfo) =
                if isNull dir then None
                else
                    let candidate = Path.Combine(dir.FullName, "shared", "derivations.md")
                    if File.Exists candidate then Some candidate else up dir.Parent
            up (DirectoryInfo start))

/// The ids of section 0.5's index table, in order.
let indexIds (path: string) =
    let lines = File.ReadAllLines path
    let start = lines |> Array.findIndex (fun l -> l.StartsWith "### 0.5")
    lines
    |> Seq.skip (start + 1)
    |> Seq.takeWhile (fun l -> not (l.StartsWith "## ") && not (l.StartsWith "---"))
    |> Seq.choose (fun l -> let m = Regex.Match(l, @"^\|\s*([A-Z]+-\d+)\s*\|") in if m.Success then Some m.Groups[1].Value else None)
    |> List.ofSeq

[<EntryPoint>]
let main argv =
    let filter = argv |> Array.tryHead
    let selected (id: string) (fam: string) =
        match filter with
        | None -> true
        | Some f -> String.Equals(f, id, StringComparison.OrdinalIgnoreCase) || String.Equals(f, fam, StringComparison.OrdinalIgnoreCase)
    let chosen = claims |> List.filter (fun c -> selected c.Id c.Family)
    let chosenControls = controls |> List.filter (fun c -> selected c.Id c.Family)
    match findDerivations () with
    | None ->
        eprintfn "shared/derivations.md not found (set DERIVATIONS_MD); cannot tell which ids are not checked"
        2
    | Some path ->
        let ids = indexIds path
        let covered = claims |> List.map (fun c -> c.Id) |> Set.ofList
        let unknown = covered - Set.ofList ids
        if not unknown.IsEmpty then eprintfn "claims with ids missing from the index: %A" unknown
        // With a filter, "not checked" concerns the selection: the requested id, if it has no claim.
        let notChecked =
            match filter with
            | None -> ids |> List.filter (covered.Contains >> not)
            | Some f -> ids |> List.filter (fun id -> String.Equals(id, f, StringComparison.OrdinalIgnoreCase) && not (covered.Contains id))
        if filter.IsSome && chosen.IsEmpty && notChecked.IsEmpty then
            eprintfn "no family or id matches %s" filter.Value
            2
        else
            let code = Report.run chosen chosenControls notChecked
            if unknown.IsEmpty then code else max code 1
