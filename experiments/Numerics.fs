/// Small numerical tools the experiments share: seeded normal draws, quadrature, an adaptive
/// Dormand–Prince integrator, grids and summary statistics. All in float64.
module Research.Experiments.Numerics

open System
open System.Collections.Generic
open MathNet.Numerics

let sqrt2pi = sqrt (2.0 * Math.PI)
let log2pi = log (2.0 * Math.PI)

/// N(x; m, v) and its log.
let normalLogPdf (m: float) (v: float) (x: float) = -0.5 * (log2pi + log v + (x - m) * (x - m) / v)
let normalPdf m v x = exp (normalLogPdf m v x)
/// Φ(z), accurate in both tails.
let normalCdf (z: float) = 0.5 * SpecialFunctions.Erfc(-z / sqrt 2.0)

/// log(1 + x), accurate for small x (Goldberg's trick; .NET has no accurate log1p).
let log1p (x: float) =
    let u = 1.0 + x
    if u = 1.0 then x else log u * x / (u - 1.0)

/// log(exp a + exp b) without overflow.
let logAddExp (a: float) (b: float) =
    if Double.IsNegativeInfinity a then b
    elif Double.IsNegativeInfinity b then a
    else max a b + log1p (exp (-(abs (a - b))))

let logSumExp (xs: float seq) = Seq.fold logAddExp Double.NegativeInfinity xs

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

// Gauss–Kronrod 7–15 nodes and weights (Kronrod nodes at odd indices are the Gauss nodes).
let private gkNodes =
    [| 0.991455371120812639206854697526329; 0.949107912342758524526189684047851
       0.864864423359769072789712788640926; 0.741531185599394439863864773280788
       0.586087235467691130294144845693013; 0.405845151377397166906606412076961
       0.207784955007898467600689403773245; 0.0 |]
let private gkWeights =
    [| 0.022935322010529224963732008058970; 0.063092092629978553290700663189204
       0.104790010322250183839876322541518; 0.140653259715525918745189590510238
       0.169004726639267902826583426598550; 0.190350578064785409913256402421014
       0.204432940075298892414161999234649; 0.209482141084727828012999174891714 |]
let private gWeights =
    [| 0.129484966168869693270611432679082; 0.279705391489276667901467771423780
       0.381830050505118944950369775488975; 0.417959183673469387755102040816327 |]

let private gk15 (f: float -> float) (a: float) (b: float) =
    let c, h = 0.5 * (a + b), 0.5 * (b - a)
    let fc = f c
    let mutable k = gkWeights.[7] * fc
    let mutable g = gWeights.[3] * fc
    for i in 0..6 do
        let fx = f (c - h * gkNodes.[i]) + f (c + h * gkNodes.[i])
        k <- k + gkWeights.[i] * fx
        if i % 2 = 1 then g <- g + gWeights.[i / 2] * fx
    h * k, abs (h * (k - g))

/// Adaptive Gauss–Kronrod (7–15) on [a, b], first split at the breakpoints (§0.3 [Q]: split where
/// the integrand has structure, e.g. at component means and crossing points). Global adaptivity:
/// the interval with the largest error estimate is bisected until the total estimate is below
/// max(absTol, relTol·|I|).
let integrateTol (relTol: float) (absTol: float) (f: float -> float) (a: float) (b: float) (breakpoints: float seq) =
    let cuts =
        Seq.append [ a; b ] (breakpoints |> Seq.filter (fun c -> c > a && c < b))
        |> Seq.distinct
        |> Seq.sort
        |> Seq.toArray
    let queue = PriorityQueue<struct (float * float * float * float), float>()
    let mutable total = 0.0
    let mutable error = 0.0
    for i in 0 .. cuts.Length - 2 do
        let v, e = gk15 f cuts.[i] cuts.[i + 1]
        total <- total + v
        error <- error + e
        queue.Enqueue(struct (cuts.[i], cuts.[i + 1], v, e), -e)
    let mutable splits = 0
    while error > max absTol (relTol * abs total) && splits < 20000 do
        let struct (lo, hi, v, e) = queue.Dequeue()
        let mid = 0.5 * (lo + hi)
        let v1, e1 = gk15 f lo mid
        let v2, e2 = gk15 f mid hi
        total <- total - v + v1 + v2
        error <- error - e + e1 + e2
        queue.Enqueue(struct (lo, mid, v1, e1), -e1)
        queue.Enqueue(struct (mid, hi, v2, e2), -e2)
        splits <- splits + 1
    total

/// integrateTol at relative 1e-13 (absolute 1e-15).
let integrate f a b breakpoints = integrateTol 1e-13 1e-15 f a b breakpoints

/// Result of an adaptive ODE solve: accepted times and states, and the count of right-hand-side
/// evaluations.
type OdeSolution = { Times: float[]; States: float[][]; Evaluations: int }

/// Dormand–Prince 5(4) with local extrapolation and the standard step-size controller
/// (Hairer, Nørsett & Wanner, Solving ODEs I, II.4). Integrates dy/dt = f(t, y) from t0 to t1
/// (either direction) and also records the state at each time in `outputs` (dense output by
/// stopping exactly there). Tolerance per component: atol + rtol·max(|y|, |y_new|).
let dormandPrince (f: float -> float[] -> float[]) (t0: float) (y0: float[]) (t1: float) (outputs: float[]) (rtol: float) (atol: float) =
    let c2, c3, c4, c5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
    let a21 = 1.0 / 5.0
    let a31, a32 = 3.0 / 40.0, 9.0 / 40.0
    let a41, a42, a43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
    let a51, a52, a53, a54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
    let a61, a62, a63, a64, a65 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0
    let b1, b3, b4, b5, b6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
    // Differences between the 5th- and 4th-order weights (error estimate).
    let e1, e3, e4, e5, e6, e7 =
        71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0
    let n = y0.Length
    let dir = float (sign (t1 - t0))
    let comb (y: float[]) (h: float) (ks: (float * float[]) list) =
        Array.init n (fun i -> y.[i] + h * (ks |> List.sumBy (fun (a, k: float[]) -> a * k.[i])))
    let mutable evals = 0
    let rhs t y =
        evals <- evals + 1
        f t y
    let stops = outputs |> Array.filter (fun s -> (s - t0) * dir > 0.0 && (t1 - s) * dir >= 0.0) |> Array.sortBy (fun s -> s * dir)
    let times = ResizeArray [ t0 ]
    let states = ResizeArray [ Array.copy y0 ]
    let mutable t = t0
    let mutable y = Array.copy y0
    let mutable k1 = rhs t y
    let mutable h = dir * min (abs (t1 - t0)) (1e-3 * max 1.0 (abs (t1 - t0)))
    let mutable next = 0
    let target () = if next < stops.Length then stops.[next] else t1
    while (t1 - t) * dir > 0.0 do
        let tgt = target ()
        let hitsStop = (t + h - tgt) * dir >= 0.0
        let hStep = if hitsStop then tgt - t else h
        let k2 = rhs (t + c2 * hStep) (comb y hStep [ a21, k1 ])
        let k3 = rhs (t + c3 * hStep) (comb y hStep [ a31, k1; a32, k2 ])
        let k4 = rhs (t + c4 * hStep) (comb y hStep [ a41, k1; a42, k2; a43, k3 ])
        let k5 = rhs (t + c5 * hStep) (comb y hStep [ a51, k1; a52, k2; a53, k3; a54, k4 ])
        let k6 = rhs (t + hStep) (comb y hStep [ a61, k1; a62, k2; a63, k3; a64, k4; a65, k5 ])
        let yNew = comb y hStep [ b1, k1; b3, k3; b4, k4; b5, k5; b6, k6 ]
        let k7 = rhs (t + hStep) yNew
        let mutable err = 0.0
        for i in 0 .. n - 1 do
            let e = hStep * (e1 * k1.[i] + e3 * k3.[i] + e4 * k4.[i] + e5 * k5.[i] + e6 * k6.[i] + e7 * k7.[i])
            let sc = atol + rtol * max (abs y.[i]) (abs yNew.[i])
            err <- err + (e / sc) * (e / sc)
        err <- sqrt (err / float n)
        if err <= 1.0 then
            t <- if hitsStop then tgt else t + hStep
            y <- yNew
            k1 <- k7
            times.Add t
            states.Add(Array.copy y)
            if hitsStop then next <- next + 1
        let factor = if err = 0.0 then 5.0 else min 5.0 (max 0.2 (0.9 * err ** (-0.2)))
        h <- hStep * factor
        if abs h < 1e-14 * max 1.0 (abs t) then failwithf "dormandPrince: step size underflow at t = %g" t
    { Times = times.ToArray(); States = states.ToArray(); Evaluations = evals }

/// The state at time `s` from a solution that stopped there (see `outputs`).
let stateAt (sol: OdeSolution) (s: float) =
    let i = sol.Times |> Array.findIndex (fun t -> abs (t - s) <= 1e-12 * max 1.0 (abs s))
    sol.States.[i]

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
