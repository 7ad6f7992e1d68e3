/// Runs claims and controls and prints the table (id, name, residual, tolerance, verdict).
/// Shared by the runner (all families) and by the per-family scripts (`dotnet fsi proofs/<Family>.fsx`).
module Research.Proofs.Report

open System
open Research.Proofs.Claims

let private truncate n (s: string) = if s.Length <= n then s else s.Substring(0, n - 1) + "…"

let private row (id: string) (name: string) (o: Outcome) verdict =
    match o.Error, Outcome.worst o with
    | Some e, _ -> printfn "%-9s %-52s %10s %10s  %-9s %s" id (truncate 52 name) "-" "-" verdict (truncate 80 e)
    | None, None -> printfn "%-9s %-52s %10s %10s  %-9s %s" id (truncate 52 name) "-" "-" verdict "no checks"
    | None, Some c ->
        let rel = if c.MustExceed then ">" else "<="
        printfn "%-9s %-52s %10.2e %2s%8.1e  %-9s %5.1fs  %s" id (truncate 52 name) c.Residual rel c.Tolerance verdict o.Seconds (truncate 60 c.What)

/// Prints every check of a failing claim, so that a failure explains itself.
let private details (o: Outcome) =
    for c in o.Checks do
        if not (Check.passes c) then
            printfn "            FAILED %s: residual %.3e vs %s %.3e" c.What c.Residual (if c.MustExceed then ">" else "<=") c.Tolerance

/// Runs the claims (in parallel on the available cores: each claim owns its seeded RNG), then the
/// controls; prints both tables, the ids not checked, and the final "N passed, M failed" line.
/// Returns the exit code: 0 iff every claim passed and every control was rejected.
let runWith (claims: Claim list) (controls: Control list) (notChecked: string list) (pureMath: Set<string>)
        (outcomeOf: Claim -> Outcome) (controlOutcomeOf: Control -> Outcome) =
    let sw = Diagnostics.Stopwatch.StartNew()
    let claimOutcomes = claims |> List.toArray |> Array.Parallel.map (fun c -> c, outcomeOf c)
    let controlOutcomes = controls |> List.toArray |> Array.Parallel.map (fun c -> c, controlOutcomeOf c)
    printfn "%-9s %-52s %10s %10s  %-9s %6s  %s" "id" "claim" "residual" "tolerance" "verdict" "time" "worst check"
    printfn "%s" (String('-', 130))
    for (c, o) in claimOutcomes do
        let ok = Outcome.passes o
        row c.Id ((if pureMath.Contains c.Id then "[math] " else "") + c.Name) o (if ok then "pass" else "FAIL")
        if not ok then details o
    if not controls.IsEmpty then
        printfn ""
        printfn "Negative controls (deliberately wrong formulas; each must be rejected by its claim's check)"
        printfn "%s" (String('-', 130))
        for (c, o) in controlOutcomes do
            row c.Id c.Name o (if Outcome.rejects o then "rejected" else "ACCEPTED")
    let passed = claimOutcomes |> Array.filter (snd >> Outcome.passes) |> Array.length
    let failed = claimOutcomes.Length - passed
    let accepted = controlOutcomes |> Array.filter (snd >> Outcome.rejects >> not) |> Array.length
    printfn ""
    printfn "%d of %d negative controls rejected; %.1f s" (controlOutcomes.Length - accepted) controlOutcomes.Length sw.Elapsed.TotalSeconds
    let withoutControl = claims |> List.filter (fun c -> not (controls |> List.exists (fun k -> k.Id = c.Id))) |> List.map (fun c -> c.Id)
    if not pureMath.IsEmpty then
        printfn "[math]: a pure-mathematics claim (%s): the library has no counterpart, both sides in F#" (String.Join(", ", pureMath))
    printfn "%d claims without a negative control%s" withoutControl.Length (if withoutControl.IsEmpty then "" else ": " + String.Join(", ", withoutControl))
    printfn "%d not checked%s" notChecked.Length (if notChecked.IsEmpty then "" else ": " + String.Join(", ", notChecked))
    printfn "%d passed, %d failed" passed failed
    if failed = 0 && accepted = 0 then 0 else 1

/// The same for a family script: every claim run afresh, no family marked.
let run (claims: Claim list) (controls: Control list) (notChecked: string list) =
    runWith claims controls notChecked Set.empty (fun c -> Outcome.run c.Run) (fun c -> Outcome.run c.Run)
