/// Every executable claim of proofs/ (derivations.md ids) as a test, and every negative control (a
/// deliberately wrong formula: a dropped factor 2, a flipped sign, a seed's typo) as a test that its
/// claim's check rejects it. The claims draw their random parameters from FsCheck with fixed seeds.
module Research.FSharp.Tests.ProofClaims

open Xunit
open Research.Proofs
open Research.Proofs.Claims

let private explain (o: Outcome) =
    match o.Error with
    | Some e -> e
    | None ->
        o.Checks
        |> List.filter (Check.passes >> not)
        |> List.map (fun c -> sprintf "%s: residual %.3e vs %s %.3e" c.What c.Residual (if c.MustExceed then ">" else "<=") c.Tolerance)
        |> String.concat "; "

let claimIds: obj[] seq = Runner.claims |> Seq.map (fun c -> [| box c.Id |])

[<Theory; MemberData(nameof claimIds)>]
let ``claim of derivations.md holds`` (id: string) =
    let c = Runner.claims |> List.find (fun c -> c.Id = id)
    let o = Outcome.run c.Run
    Assert.True(Outcome.passes o, sprintf "%s (%s) failed: %s" c.Id c.Name (explain o))

let controlNames: obj[] seq = Runner.controls |> Seq.map (fun c -> [| box (c.Id + ": " + c.Name) |])

[<Theory; MemberData(nameof controlNames)>]
let ``wrong formula is rejected by its claim's check`` (name: string) =
    let c = Runner.controls |> List.find (fun c -> c.Id + ": " + c.Name = name)
    let o = Outcome.run c.Run
    Assert.True(o.Error.IsNone, sprintf "%s raised instead of being checked: %s" name (explain o))
    Assert.True(Outcome.rejects o, sprintf "%s was accepted: every check passed" name)

[<Fact>]
let ``every claim id is in the index of derivations.md`` () =
    match Runner.findDerivations () with
    | None -> () // the catalogue lives in shared/, outside some checkouts; the runner reports it then
    | Some path ->
        let ids = Runner.indexIds path |> Set.ofList
        let unknown = Runner.claims |> List.map (fun c -> c.Id) |> List.filter (ids.Contains >> not)
        Assert.True(unknown.IsEmpty, sprintf "claims with ids missing from the index: %A" unknown)
