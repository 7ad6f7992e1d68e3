/// Every executable claim of proofs/ (ids of proofs/Catalogue.fs, rendered to docs/claims.md) as a test, and every
/// negative control (a deliberately wrong formula: a dropped factor 2, a flipped sign, a seed's typo) as a test that
/// its claim's check rejects it. The claims draw their random parameters from FsCheck with fixed seeds. The
/// catalogue itself is tested: every claim's id is in it, docs/claims.md is what the proofs render now, and every
/// id the sources cite resolves to it.
module Research.FSharp.Tests.ProofClaims

open System.IO
open System.Text.RegularExpressions
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
let ``claim of the catalogue holds`` (id: string) =
    let c = Runner.claims |> List.find (fun c -> c.Id = id)
    let o = Runner.outcomeOf c
    Assert.True(Outcome.passes o, sprintf "%s (%s) failed: %s" c.Id c.Name (explain o))

let controlNames: obj[] seq = Runner.controls |> Seq.map (fun c -> [| box (c.Id + ": " + c.Name) |])

[<Theory; MemberData(nameof controlNames)>]
let ``wrong formula is rejected by its claim's check`` (name: string) =
    let c = Runner.controls |> List.find (fun c -> c.Id + ": " + c.Name = name)
    let o = Runner.controlOutcomeOf c
    Assert.True(o.Error.IsNone, sprintf "%s raised instead of being checked: %s" name (explain o))
    Assert.True(Outcome.rejects o, sprintf "%s was accepted: every check passed" name)

[<Fact>]
let ``every claim has a negative control`` () =
    let controlled = Runner.controls |> List.map (fun c -> c.Id) |> Set.ofList
    let without = Runner.claims |> List.map (fun c -> c.Id) |> List.filter (controlled.Contains >> not)
    Assert.True(without.IsEmpty, sprintf "claims without a negative control: %A" without)

[<Fact>]
let ``every claim id is in the catalogue and every catalogue id has a claim`` () =
    Assert.Empty(Runner.unknownIds ())
    Assert.Empty(Runner.notChecked ())
    Assert.Equal(Catalogue.ids.Length, Set.count (Set.ofList Catalogue.ids))

let private root () =
    match Runner.repositoryRoot () with
    | Some r -> r
    | None -> failwith "Research.sln not found above the test's directory"

[<Fact>]
let ``docs/claims.md is the catalogue the proofs render now`` () =
    let path = Path.Combine(root (), "docs", "claims.md")
    Assert.True(File.Exists path, "docs/claims.md is missing: run ./run.sh proofs --markdown")
    let expected = Runner.markdown ()
    Assert.True((File.ReadAllText path = expected), "docs/claims.md is stale: run ./run.sh proofs --markdown and commit it")

/// The ids the sources of the library, the proofs, the experiments and the tests cite, e.g. PROC-05 or SDE-03.
let private citedIds () =
    let families = Catalogue.ids |> List.map (fun id -> id.Substring(0, id.LastIndexOf '-')) |> List.distinct
    let pattern = Regex(@"\b(" + String.concat "|" families + @")-\d{2}\b")
    [ for folder in [ "src"; "proofs"; "experiments"; "tests" ] do
          let dir = Path.Combine(root (), folder)
          if Directory.Exists dir then
              for file in Directory.EnumerateFiles(dir, "*.*", SearchOption.AllDirectories) do
                  let ext = Path.GetExtension file
                  let generated = file.Contains $"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}" || file.Contains $"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"
                  if not generated && (ext = ".cs" || ext = ".fs" || ext = ".fsx") then
                      for m in pattern.Matches(File.ReadAllText file) -> m.Value, Path.GetRelativePath(root (), file) ]

[<Fact>]
let ``every id the sources cite resolves in the catalogue`` () =
    let known = Set.ofList Catalogue.ids
    let cited = citedIds ()
    Assert.NotEmpty(cited)
    let dangling = cited |> List.filter (fun (id, _) -> not (known.Contains id)) |> List.distinct
    Assert.True(dangling.IsEmpty, sprintf "ids cited but not in proofs/Catalogue.fs: %A" dangling)
