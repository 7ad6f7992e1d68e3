/// Small numerical tools the experiments share: seeded normal draws, grids and summary statistics, and the
/// quadrature and Dormand–Prince integrator of the proofs (Research.Proofs.Numerics), not a second copy. All in float64.
module Research.Experiments.Numerics

open System
open System.Collections.Generic

// The normal density and log1p are the proofs' (Research.Proofs.Numerics), one copy for both.
let log2pi = Research.Proofs.Numerics.log2pi

/// N(x; m, v) and its log.
let normalLogPdf (m: float) (v: float) (x: float) = Research.Proofs.Numerics.normalLogPdf m v x
let normalPdf (m: float) (v: float) (x: float) = Research.Proofs.Numerics.normalPdf m v x

/// log(1 + x), accurate for small x.
let log1p (x: float) = Research.Proofs.Numerics.log1p x

/// log(exp a + exp b) without overflow.
let logAddExp (a: float) (b: float) =
    if Double.IsNegativeInfinity a then b
    elif Double.IsNegativeInfinity b then a
    else max a b + log1p (exp (-(abs (a - b))))

/// Evenly spaced points, both ends included.
let linspace (a: float) (b: float) (n: int) =
    if n = 1 then [| a |] else Array.init n (fun i -> a + (b - a) * float i / float (n - 1))

/// Seeded standard-normal draws (Marsaglia's polar method over System.Random, which is
/// deterministic for a given seed on every platform).
type NormalRng(seed: int) =
    let rng = Random(seed)
    let mutable spare = nan
    member _.Uniform() = rng.NextDouble()
    member _.Normal() =
        if not (Double.IsNaN spare) then
            let s = spare
            spare <- nan
            s
        else
            let mutable u = 0.0
            let mutable v = 0.0
            let mutable s = 0.0
            let mutable go = true
            while go do
                u <- 2.0 * rng.NextDouble() - 1.0
                v <- 2.0 * rng.NextDouble() - 1.0
                s <- u * u + v * v
                go <- s >= 1.0 || s = 0.0
            let k = sqrt (-2.0 * log s / s)
            spare <- v * k
            u * k
    member this.Normals(n: int) = Array.init n (fun _ -> this.Normal())

/// [Q] adaptive Gauss–Kronrod on [a, b], split at the breakpoints inside it (§0.3 [Q]: split where the integrand
/// has structure, e.g. at component means and crossing points): the proofs' quadrature, one copy for both.
let integrate f a b breakpoints = Research.Proofs.Numerics.integrateOver f a b breakpoints

/// Adaptive Dormand–Prince 5(4) from t0 to t1 (either direction), stopping exactly at each of `outputs`: the
/// proofs' integrator (§0.3 [O]), one copy for both. Tolerance per component: atol + rtol·max(|y|, |y_new|).
let dormandPrince (f: float -> float[] -> float[]) (t0: float) (y0: float[]) (t1: float) (outputs: float[]) (rtol: float) (atol: float) =
    Research.Proofs.Numerics.solveOdeAt f t0 t1 y0 outputs rtol atol

let mean (xs: float[]) = Array.average xs
let variance (xs: float[]) =
    let m = mean xs
    (xs |> Array.sumBy (fun x -> (x - m) * (x - m))) / float xs.Length

/// Root of an increasing function on [lo, hi] by bisection to machine precision.
let bisect (f: float -> float) (lo: float) (hi: float) =
    let mutable lo = lo
    let mutable hi = hi
    for _ in 1..200 do
        let mid = 0.5 * (lo + hi)
        if f mid < 0.0 then lo <- mid else hi <- mid
    0.5 * (lo + hi)
