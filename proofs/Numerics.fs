/// The independent means of the proofs: quadrature, finite differences, an adaptive ODE solver,
/// Monte Carlo statistics, a small optimiser. Nothing here knows about diffusion models.
module Research.Proofs.Numerics

open System
open MathNet.Numerics
open MathNet.Numerics.LinearAlgebra

let log2pi = log (2.0 * Math.PI)

let normalLogPdf mean variance x = -0.5 * (log2pi + log variance + (x - mean) * (x - mean) / variance)
let normalPdf mean variance x = exp (normalLogPdf mean variance x)

/// Standard normal cdf through erfc, accurate in the lower tail.
let Phi x = 0.5 * SpecialFunctions.Erfc(-x / sqrt 2.0)
let PhiInv u = -sqrt 2.0 * SpecialFunctions.ErfcInv(2.0 * u)

let logSumExp (xs: float[]) =
    let m = Array.max xs
    if Double.IsNegativeInfinity m then m else m + log (Array.sumBy (fun x -> exp (x - m)) xs)

let sigmoid x = 1.0 / (1.0 + exp -x)

/// log(1 + x) accurate for small x (Kahan's trick).
let log1p x = let u = 1.0 + x in if u = 1.0 then x else log u * x / (u - 1.0)

/// x log(x/y) written so that 0 log 0 = 0 when the first density underflows.
let xLogXOverY (logX: float) (logY: float) = if Double.IsNegativeInfinity logX then 0.0 else exp logX * (logX - logY)

// ---------------------------------------------------------------------------------------------
// [Q] adaptive Gauss–Kronrod, split at breakpoints (component means, crossings: section 15.2)

let private kronrodNodes =
    [| 0.991455371120812639206854697526329; 0.949107912342758524526189684047851; 0.864864423359769072789712788640926
       0.741531185599394439863864773280788; 0.586087235467691130294144845693013; 0.405845151377397166906606412076961
       0.207784955007898467600689403773245; 0.0 |]
let private kronrodWeights =
    [| 0.022935322010529224963732008058970; 0.063092092629978553290700663189204; 0.104790010322250183839876322541518
       0.140653259715525918745189590510238; 0.169004726639267902826583426598550; 0.190350578064785409913256402421014
       0.204432940075298892414161999234649; 0.209482141084727828012999174891714 |]
/// Gauss weights of the embedded 7-point rule, at the odd Kronrod nodes (1, 3, 5) and the centre.
let private gaussWeights = [| 0.129484966168869693270611432679082; 0.279705391489276667901467771423780; 0.381830050505118944950369775488975; 0.417959183673469387755102040816327 |]

let private kronrod15 (f: float -> float) a b =
    let c, h = 0.5 * (a + b), 0.5 * (b - a)
    let fc = f c
    let mutable k = kronrodWeights[7] * fc
    let mutable g = gaussWeights[3] * fc
    for i in 0..6 do
        let s = f (c - h * kronrodNodes[i]) + f (c + h * kronrodNodes[i])
        k <- k + kronrodWeights[i] * s
        if i % 2 = 1 then g <- g + gaussWeights[i / 2] * s
    h * k, abs (h * (k - g))

/// Globally adaptive G7K15 on a finite interval: bisect the interval of largest error until the total
/// error is below max(1e-15, 1e-13 |I|) or 4000 intervals are used (roundoff floor).
let private adaptive (f: float -> float) a b =
    let intervals = Collections.Generic.PriorityQueue<struct (float * float * float * float), float>()
    let push lo hi =
        let v, e = kronrod15 f lo hi
        intervals.Enqueue(struct (lo, hi, v, e), -e)
        v, e
    let v0, e0 = push a b
    let mutable total, err, n = v0, e0, 1
    while err > max 1e-15 (1e-13 * abs total) && n < 4000 do
        let struct (lo, hi, v, e) = intervals.Dequeue()
        let mid = 0.5 * (lo + hi)
        let v1, e1 = push lo mid
        let v2, e2 = push mid hi
        total <- total - v + v1 + v2
        err <- err - e + e1 + e2
        n <- n + 1
    intervals.UnorderedItems |> Seq.sumBy (fun (struct (struct (_, _, v, _), _)) -> v)

/// [Q] adaptive Gauss–Kronrod on [a, b]; infinite ends are mapped to (-1, 1) or [0, 1).
let rec integrate (f: float -> float) (a: float) (b: float) =
    if a = b then 0.0
    elif a > b then -(integrate f b a)
    else
        match Double.IsInfinity a, Double.IsInfinity b with
        | true, true -> adaptive (fun u -> let w = 1.0 - u * u in f (u / w) * (1.0 + u * u) / (w * w)) -1.0 1.0
        | false, true -> adaptive (fun u -> let w = 1.0 - u in f (a + u / w) / (w * w)) 0.0 1.0
        | true, false -> adaptive (fun u -> let w = 1.0 - u in f (b - u / w) / (w * w)) 0.0 1.0
        | false, false -> adaptive f a b

/// Integral over the real line, split at the given breakpoints (tails mapped by MathNet).
let integrateLine (f: float -> float) (breakpoints: float seq) =
    let pts = breakpoints |> Seq.distinct |> Seq.sort |> Array.ofSeq
    if pts.Length = 0 then integrate f Double.NegativeInfinity Double.PositiveInfinity
    else
        let inner = Array.pairwise pts |> Array.sumBy (fun (a, b) -> integrate f a b)
        integrate f Double.NegativeInfinity pts[0] + inner + integrate f pts[pts.Length - 1] Double.PositiveInfinity

/// Integral over [a, b] split at the breakpoints that fall inside it (structure: component means, crossings).
let integrateOver (f: float -> float) (a: float) (b: float) (breakpoints: float seq) =
    Seq.append [ a; b ] (breakpoints |> Seq.filter (fun x -> x > a && x < b))
    |> Seq.distinct |> Seq.sort |> Seq.pairwise |> Seq.sumBy (fun (lo, hi) -> integrate f lo hi)

/// Breakpoints spread around centres at multiples of their scales: keeps GK from missing narrow bumps.
let breakpointsAround (centres: (float * float) seq) =
    centres |> Seq.collect (fun (m, s) -> [ m - 6.0 * s; m - 2.0 * s; m; m + 2.0 * s; m + 6.0 * s ])

// ---------------------------------------------------------------------------------------------
// [D] central finite differences (the independent side; the code under test is analytic)

let derivative (f: float -> float) x h = (f (x + h) - f (x - h)) / (2.0 * h)
let secondDerivative (f: float -> float) x h = (f (x + h) - 2.0 * f x + f (x - h)) / (h * h)

/// Section 15.1: the step scales with the distance to the ends of [0, 1].
let timeStep (t: float) = 1e-5 * (min 1.0 (min t (1.0 - t)))

let gradient (f: float[] -> float) (x: float[]) h =
    Array.init x.Length (fun i ->
        let shifted s = f (Array.mapi (fun j v -> if i = j then v + s else v) x)
        (shifted h - shifted -h) / (2.0 * h))

/// FD Jacobian of a map R^n -> R^m (rows: outputs).
let jacobian (f: float[] -> float[]) (x: float[]) h =
    let columns =
        Array.init x.Length (fun j ->
            let shifted s = f (Array.mapi (fun i v -> if i = j then v + s else v) x)
            Array.map2 (fun a b -> (a - b) / (2.0 * h)) (shifted h) (shifted -h))
    Array2D.init columns[0].Length x.Length (fun i j -> columns[j][i])

// ---------------------------------------------------------------------------------------------
// [O] adaptive Dormand–Prince 5(4) with rtol/atol error control; integrates forwards or backwards

let private c = [| 0.0; 1.0 / 5.0; 3.0 / 10.0; 4.0 / 5.0; 8.0 / 9.0; 1.0; 1.0 |]
let private a =
    [| [||]
       [| 1.0 / 5.0 |]
       [| 3.0 / 40.0; 9.0 / 40.0 |]
       [| 44.0 / 45.0; -56.0 / 15.0; 32.0 / 9.0 |]
       [| 19372.0 / 6561.0; -25360.0 / 2187.0; 64448.0 / 6561.0; -212.0 / 729.0 |]
       [| 9017.0 / 3168.0; -355.0 / 33.0; 46732.0 / 5247.0; 49.0 / 176.0; -5103.0 / 18656.0 |]
       [| 35.0 / 384.0; 0.0; 500.0 / 1113.0; 125.0 / 192.0; -2187.0 / 6784.0; 11.0 / 84.0 |] |]
let private b5 = [| 35.0 / 384.0; 0.0; 500.0 / 1113.0; 125.0 / 192.0; -2187.0 / 6784.0; 11.0 / 84.0; 0.0 |]
let private b4 =
    [| 5179.0 / 57600.0; 0.0; 7571.0 / 16695.0; 393.0 / 640.0; -92097.0 / 339200.0; 187.0 / 2100.0; 1.0 / 40.0 |]

/// States of an ODE solve at the requested times, with the accepted steps and the right-hand-side evaluations.
type OdePath = { States: float[][]; Steps: int; Evaluations: int }

/// Solve y' = f(t, y) from t0 to t1 with error control rtol/atol (section 0.3 [O]: 1e-10, 1e-12), stopping exactly at
/// each time of `outputs` (ordered in the direction of integration, within [t0, t1]) and returning the states there.
let solveOdeAt (f: float -> float[] -> float[]) (t0: float) (t1: float) (y0: float[]) (outputs: float[]) rtol atol =
    let n = y0.Length
    let dir = float (sign (t1 - t0))
    if outputs |> Array.exists (fun s -> dir * (s - t0) < 0.0 || dir * (t1 - s) < 0.0) then
        invalidArg "outputs" "output times must lie between t0 and t1"
    let states = Array.zeroCreate<float[]> outputs.Length
    let mutable next = 0
    let mutable t = t0
    let mutable y = Array.copy y0
    let record () =
        while next < outputs.Length && dir * (outputs[next] - t) <= 0.0 do
            states[next] <- Array.copy y
            next <- next + 1
    record ()
    let mutable h = dir * min 1e-3 (abs (t1 - t0))
    let k = Array.zeroCreate<float[]> 7
    let mutable steps, accepted, evaluations = 0, 0, 0
    let rhs t y =
        evaluations <- evaluations + 1
        f t y
    while dir * (t1 - t) > 0.0 do
        let target = if next < outputs.Length then outputs[next] else t1
        let hitsTarget = dir * (t + h - target) >= 0.0
        if hitsTarget then h <- target - t
        k[0] <- rhs t y
        let combine (weights: float[]) count =
            let out = Array.copy y
            for j in 0 .. count - 1 do
                let w = h * weights[j]
                if w <> 0.0 then
                    let kj = k[j]
                    for i in 0 .. n - 1 do
                        out[i] <- out[i] + w * kj[i]
            out
        for s in 1..6 do
            k[s] <- rhs (t + c[s] * h) (combine a[s] s)
        let y5 = combine b5 7
        let y4 = combine b4 7
        let err =
            Array.init n (fun i ->
                let sc = atol + rtol * max (abs y[i]) (abs y5[i])
                ((y5[i] - y4[i]) / sc) ** 2.0)
            |> Array.average |> sqrt
        if Double.IsNaN err then failwithf "solveOde: non-finite state at t = %g" t
        if err <= 1.0 then
            t <- if hitsTarget then target else t + h
            y <- y5
            accepted <- accepted + 1
            record ()
        let factor = if err = 0.0 then 5.0 else min 5.0 (max 0.2 (0.9 * err ** -0.2))
        h <- h * factor
        steps <- steps + 1
        if steps > 2_000_000 then failwith "solveOde: too many steps"
    { States = states; Steps = accepted; Evaluations = evaluations }

/// The state at t1 of solveOdeAt.
let solveOde (f: float -> float[] -> float[]) (t0: float) (t1: float) (y0: float[]) rtol atol =
    (solveOdeAt f t0 t1 y0 [| t1 |] rtol atol).States[0]

// ---------------------------------------------------------------------------------------------
// [M] Monte Carlo statistics

type Moments =
    { N: int
      Mean: float
      Variance: float
      /// SE of the mean, s / sqrt N.
      SeMean: float
      /// SE of the sample variance, sqrt((m4 - s^4) / N) (section 0.3 [M]).
      SeVariance: float }

let moments (xs: float[]) =
    let n = float xs.Length
    let mean = Array.average xs
    let m2 = xs |> Array.averageBy (fun x -> (x - mean) ** 2.0)
    let m4 = xs |> Array.averageBy (fun x -> (x - mean) ** 4.0)
    { N = xs.Length
      Mean = mean
      Variance = m2 * n / (n - 1.0)
      SeMean = sqrt (m2 / n)
      SeVariance = sqrt ((m4 - m2 * m2) / n) }

/// Mean and SE of a Bernoulli indicator or any other statistic.
let meanAndSe (xs: float[]) = let m = moments xs in m.Mean, m.SeMean

let rng (seed: int) = MathNet.Numerics.Random.Xoshiro256StarStar(seed) :> Random

let normals (r: Random) n =
    let xs = Array.zeroCreate<float> n
    MathNet.Numerics.Distributions.Normal.Samples(r, xs, 0.0, 1.0)
    xs

// ---------------------------------------------------------------------------------------------
// Optimisation: damped Newton with FD derivatives; accurate to ~1e-9 in location for smooth objectives.

let minimise (f: float[] -> float) (x0: float[]) =
    let n = x0.Length
    let mutable x = Array.copy x0
    let mutable iter = 0
    let mutable moved = infinity
    while iter < 200 && moved > 1e-12 do
        let h = 1e-4
        let g = gradient f x 1e-6
        let hess =
            Matrix<float>.Build.Dense(n, n, fun i j ->
                let e k s = Array.mapi (fun m v -> if m = k then v + s else v)
                let fij si sj = f (e j sj (e i si x))
                (fij h h - fij h -h - fij -h h + fij -h -h) / (4.0 * h * h))
        let step =
            // Newton only where the Hessian is positive definite: Newton alone converges to saddles too.
            let positive = hess.Evd(Symmetricity.Symmetric).EigenValues.Real() |> Seq.forall (fun e -> e > 0.0)
            if positive then hess.Solve(Vector<float>.Build.DenseOfArray g).ToArray() else g
        // A trust region of 0.5 per coordinate keeps far-from-quadratic objectives from overshooting.
        let step = let m = step |> Array.map abs |> Array.max in if m > 0.5 then step |> Array.map (fun v -> v * 0.5 / m) else step
        let fx = f x
        let mutable lambda = 1.0
        let trial l = Array.map2 (fun xi si -> xi - l * si) x step
        while lambda > 1e-10 && not (f (trial lambda) <= fx) do
            lambda <- lambda / 2.0
        let next = if lambda > 1e-10 then trial lambda else x
        moved <- Array.fold2 (fun acc a b -> max acc (abs (a - b))) 0.0 next x
        x <- next
        iter <- iter + 1
    x

/// Root of a scalar function on a bracket (Brent).
let findRoot (f: float -> float) lo hi = RootFinding.Brent.FindRoot(Func<float, float>(f), lo, hi, 1e-14, 200)

// ---------------------------------------------------------------------------------------------
// Small dense linear algebra helpers over MathNet

type M = Matrix<float>
type V = Vector<float>

let vec (xs: float[]) = Vector<float>.Build.DenseOfArray xs
let mat (rows: float[][]) = Matrix<float>.Build.DenseOfRowArrays rows
let eye d = Matrix<float>.Build.DenseIdentity d

/// log det of an SPD matrix by Cholesky (docs/claims.md DIV-02: "compute log-determinants by Cholesky").
let logDetSpd (m: M) =
    let l = m.Cholesky().Factor
    2.0 * Seq.sum (Seq.init m.RowCount (fun i -> log l[i, i]))

let mvnLogPdf (mean: V) (cov: M) (x: V) =
    let d = float mean.Count
    let r = x - mean
    -0.5 * (d * log2pi + logDetSpd cov + r * cov.Cholesky().Solve(r))

/// Symmetric positive definite square root by eigendecomposition.
let sqrtSpd (m: M) =
    let e = m.Evd(Symmetricity.Symmetric)
    e.EigenVectors * Matrix<float>.Build.DiagonalOfDiagonalArray(e.EigenValues.Real().PointwiseSqrt().ToArray()) * e.EigenVectors.Transpose()

/// Sample N(mean, cov) rows from standard normals.
let mvnSample (r: Random) (mean: V) (cov: M) n =
    let l = cov.Cholesky().Factor
    Array.init n (fun _ -> mean + l * vec (normals r mean.Count))
