/// What a proof is: a claim of docs/claims.md, named by its id, that runs a list of checks.
/// Each check compares two independently computed sides and reports its residual against a tolerance
/// taken from the tolerance classes of docs/claims.md ([A], [Q], [D], [O], [M], [R]).
module Research.Proofs.Claims

open System

/// One comparison. `MustExceed` checks are power checks ("the wrong formula is at least 20 SE away",
/// "the two covariances differ"): they pass when the residual is strictly above the bound.
type Check =
    { What: string
      Residual: float
      Tolerance: float
      MustExceed: bool }

module Check =
    /// NaN residuals fail both kinds of check: a proof that computes NaN has proved nothing.
    let passes (c: Check) =
        if c.MustExceed then c.Residual > c.Tolerance else c.Residual <= c.Tolerance

    /// How close the check is to failing (above 1 means it fails); the table shows the worst check.
    let severity (c: Check) =
        let s =
            if c.MustExceed then c.Tolerance / c.Residual
            elif c.Residual = 0.0 then 0.0
            else c.Residual / c.Tolerance
        if Double.IsNaN s then infinity else s

    let within what residual tolerance =
        { What = what; Residual = residual; Tolerance = tolerance; MustExceed = false }

    let exceeds what residual bound =
        { What = what; Residual = residual; Tolerance = bound; MustExceed = true }

    /// [A]-style comparison: |a - b| / max(1, |a|, |b|) <= tol.
    let close what tol (a: float) (b: float) =
        within what (abs (a - b) / max 1.0 (max (abs a) (abs b))) tol

    /// Purely relative comparison, for quantities far below 1 (KLs of 1e-8, FD of small derivatives).
    let relClose what tol (a: float) (b: float) =
        within what (abs (a - b) / max (abs a) (abs b)) tol

    /// Relative comparison against an explicit scale (section 15.1: FD against max(|f'|, |f|/delta)).
    let closeScaled what tol scale (a: float) (b: float) = within what (abs (a - b) / scale) tol

    /// [M]: |estimate - exact| <= k SE + bias budget. The residual is reported in units of SE.
    let monteCarlo what (estimate: float) (se: float) (exact: float) (bias: float) =
        within what (abs (estimate - exact)) (5.0 * se + bias)

    /// Power rule of section 0.3: a plausible wrong value must sit at least 20 SE from the estimate.
    let power what (estimate: float) (se: float) (wrong: float) =
        exceeds what (abs (estimate - wrong)) (20.0 * se)

    /// The worst of many comparisons of one kind, so a family of FsCheck cases reports one line.
    let worst (checks: Check seq) = checks |> Seq.maxBy severity

    /// The worst check of each kind (same `What`), so a sweep over cases reports one line per kind.
    let grouped (checks: Check list) = checks |> List.groupBy (fun c -> c.What) |> List.map (snd >> worst)

    let isTrue what (condition: bool) = within what (if condition then 0.0 else 1.0) 0.5

/// An executable claim of docs/claims.md.
type Claim =
    { Id: string
      Name: string
      Family: string
      Run: unit -> Check list }

/// A deliberately wrong formula (a dropped factor, a flipped sign, a seed's typo) pushed through the
/// same check as its claim: it is *rejected* when at least one of its checks fails.
type Control =
    { Id: string
      Name: string
      Family: string
      Run: unit -> Check list }

type Outcome =
    { Checks: Check list
      Error: string option
      Seconds: float }

module Outcome =
    let run (f: unit -> Check list) =
        let sw = Diagnostics.Stopwatch.StartNew()
        let checks, error =
            try f (), None
            with e -> [], Some(e.GetType().Name + ": " + e.Message)
        { Checks = checks; Error = error; Seconds = sw.Elapsed.TotalSeconds }

    /// A claim passes when it ran, checked something, and every check passed.
    let passes o = o.Error.IsNone && not o.Checks.IsEmpty && List.forall Check.passes o.Checks

    /// A control is rejected when its checks ran and at least one failed; an exception is not a rejection.
    let rejects o = o.Error.IsNone && List.exists (Check.passes >> not) o.Checks

    let worst o = if o.Checks.IsEmpty then None else Some(Check.worst o.Checks)

let claim id name family run : Claim = { Id = id; Name = name; Family = family; Run = run }
let control id name family run : Control = { Id = id; Name = name; Family = family; Run = run }
