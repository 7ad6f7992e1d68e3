/// FsCheck generators for the random parameters of the claims (docs/claims.md, "Parameter
/// ranges for FsCheck", and fixture F2's generator). Every claim draws a modest fixed number of cases
/// with a fixed seed, so a run is reproducible and a claim holds for a family, not one lucky point.
module Research.Proofs.Generators

open FsCheck
open FsCheck.FSharp

/// Cases per claim: enough to cover the family, few enough for the whole run to stay within minutes.
let cases = 12

/// Draw `n` values with a fixed seed (derived from the claim so that families do not share streams).
let sample (seed: int) n (gen: Gen<'T>) : 'T list =
    Gen.sampleWithSeed (Rnd(uint64 seed)) 10 n gen |> List.ofArray

let uniform lo hi =
    Gen.choose (0, System.Int32.MaxValue) |> Gen.map (fun i -> lo + (hi - lo) * float i / float System.Int32.MaxValue)

/// t in [0.01, 0.99] (0.98 for processes whose alpha vanishes at 1, such as RF and VP-cos).
let time = uniform 0.01 0.99
let timeBelow hi = uniform 0.01 hi

let vector d lo hi = Gen.arrayOfLength d (uniform lo hi)

/// Random SPD matrix L L^T + 0.05 I with L_ij ~ U(-0.7, 0.7) (F2), condition number kept moderate.
let spd d =
    vector (d * d) -0.7 0.7
    |> Gen.map (fun l ->
        Array2D.init d d (fun i j -> Seq.sum (seq { for k in 0 .. d - 1 -> l[i * d + k] * l[j * d + k] }) + (if i = j then 0.05 else 0.0)))

/// Dirichlet(1) weights floored at 0.05 and renormalised (F2).
let weights k =
    vector k 1e-12 1.0
    |> Gen.map (fun u ->
        let e = u |> Array.map (fun x -> -log x)
        let w = e |> Array.map (fun x -> max 0.05 (x / Array.sum e))
        w |> Array.map (fun x -> x / Array.sum w))

/// F2's mixture generator as raw parameters: (weights, means, covariances); K in 1..4, d given.
let mixtureParameters d =
    gen {
        let! k = Gen.choose (1, 4)
        let! w = weights k
        let! means = Gen.arrayOfLength k (vector d -3.0 3.0)
        let! covs = Gen.arrayOfLength k (spd d)
        return w, means, covs
    }

let dimension = Gen.choose (1, 3)

let zip4 a b c d = Gen.zip (Gen.zip a b) (Gen.zip c d) |> Gen.map (fun ((x, y), (z, w)) -> x, y, z, w)
