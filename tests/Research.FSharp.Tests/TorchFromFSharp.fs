/// The tensor API used from F#: operators, autograd, scopes; and FsCheck properties of broadcasting and
/// reductions against a plain .NET reference computation.
module Research.FSharp.Tests.TorchFromFSharp

open System
open FsCheck
open FsCheck.FSharp
open Xunit
open Research.Torch

let private config =
    Config.QuickThrowOnFailure.WithMaxTest(150).WithReplay(Some { Rnd = Rnd(20261122UL); Size = None })

/// Row-major strides of a shape.
let private strides (shape: int64[]) =
    let s = Array.create shape.Length 1L
    for i in shape.Length - 2 .. -1 .. 0 do
        s.[i] <- s.[i + 1] * shape.[i + 1]
    s

/// Multi-index of a flat position.
let private unravel (shape: int64[]) (flat: int64) =
    let st = strides shape
    Array.init shape.Length (fun i -> (flat / st.[i]) % shape.[i])

/// Reference broadcasting: element of `values` (shape `shape`) seen at `index` of the broadcast shape.
let private broadcastRead (values: float[]) (shape: int64[]) (index: int64[]) =
    let offset = index.Length - shape.Length
    let st = strides shape
    let mutable flat = 0L
    for i in 0 .. shape.Length - 1 do
        let k = if shape.[i] = 1L then 0L else index.[i + offset]
        flat <- flat + k * st.[i]
    values.[int flat]

let private genShape = gen {
    let! rank = Gen.choose (1, 4)
    let! dims = Gen.arrayOfLength rank (Gen.choose (1, 4))
    return dims |> Array.map int64 }

/// Two shapes that broadcast: b is right-aligned with a, each of its dims equal to a's or 1, and
/// a's dims may be 1 where b's are not.
let private genBroadcastPair = gen {
    let! a = genShape
    let! rankB = Gen.choose (1, a.Length)
    let tail = a.[a.Length - rankB ..]
    let! choices = Gen.arrayOfLength rankB (Gen.choose (0, 2))
    let b = Array.map2 (fun d c -> if c = 1 then 1L else d) tail choices
    let a' = Array.copy a
    for i in 0 .. rankB - 1 do
        if choices.[i] = 2 && b.[i] > 1L then a'.[a.Length - rankB + i] <- 1L
    return a', b }

let private numel (shape: int64[]) = Array.fold (*) 1L shape

let private values (seed: int) (shape: int64[]) =
    let rng = Random(seed)
    Array.init (int (numel shape)) (fun _ -> rng.NextDouble() * 4.0 - 2.0)

[<Fact>]
let ``Broadcasting arithmetic agrees with a plain reference`` () =
    let prop (shapeA: int64[], shapeB: int64[]) (seed: int) =
        use _ = torch.NewDisposeScope()
        let va, vb = values seed shapeA, values (seed + 1) shapeB
        let a = torch.tensor (va, shapeA)
        let b = torch.tensor (vb, shapeB)
        let result = a * b + a - b / (b * b + 1.0)
        let outShape =
            let r = max shapeA.Length shapeB.Length
            let pad (s: int64[]) = Array.append (Array.create (r - s.Length) 1L) s
            Array.map2 max (pad shapeA) (pad shapeB)
        Assert.Equal<int64[]>(outShape, result.shape)
        let got = result.data<float>()
        for flat in 0L .. numel outShape - 1L do
            let idx = unravel outShape flat
            let x, y = broadcastRead va shapeA idx, broadcastRead vb shapeB idx
            let expected = x * y + x - y / (y * y + 1.0)
            // float64 round-off of five operations on O(1) values
            Assert.True(abs (got.[int flat] - expected) <= 1e-14, sprintf "at %A: %g vs %g" idx got.[int flat] expected)
    Check.One(config, Prop.forAll (Arb.fromGen (Gen.zip genBroadcastPair (Gen.choose (0, 1000000)))) (fun (p, s) -> prop p s))

/// Reference reductions over one dimension.
let private reduceDim (v: float[]) (shape: int64[]) (dim: int) (f: float[] -> float) =
    let outShape = shape |> Array.mapi (fun i d -> if i = dim then 1L else d)
    Array.init (int (numel outShape)) (fun flat ->
        let idx = unravel outShape (int64 flat)
        let st = strides shape
        [| for k in 0L .. shape.[dim] - 1L ->
             let mutable off = 0L
             for i in 0 .. shape.Length - 1 do
                 off <- off + (if i = dim then k else idx.[i]) * st.[i]
             v.[int off] |]
        |> f), outShape

let private mean (xs: float[]) = Array.average xs
let private variance (xs: float[]) =
    let m = mean xs
    (xs |> Array.sumBy (fun x -> (x - m) ** 2.0)) / float (xs.Length - 1)
let private logSumExp (xs: float[]) =
    let m = Array.max xs
    m + log (xs |> Array.sumBy (fun x -> exp (x - m)))

[<Fact>]
let ``Reductions over a dimension agree with a plain reference`` () =
    let genCase = gen {
        let! shape = genShape
        let! dim = Gen.choose (0, shape.Length - 1)
        let! keep = Gen.elements [ true; false ]
        let! seed = Gen.choose (0, 1000000)
        return shape, dim, keep, seed }
    let prop (shape: int64[], dim: int, keep: bool, seed: int) =
        use _ = torch.NewDisposeScope()
        let v = values seed shape
        let x = torch.tensor (v, shape)
        let check name (actual: Tensor) (f: float[] -> float) (tol: float) =
            let expected, keptShape = reduceDim v shape dim f
            let expectedShape = if keep then keptShape else shape |> Array.removeAt dim
            Assert.Equal<int64[]>(expectedShape, actual.shape)
            Array.iter2 (fun (e: float) (a: float) ->
                if not (Double.IsNaN e && Double.IsNaN a) then
                    Assert.True(abs (e - a) <= tol * max 1.0 (abs e), sprintf "%s over dim %d of %A: %g vs %g" name dim shape a e))
                expected (actual.data<float>())
        let d = int64 dim
        // tolerance: float64 round-off of sums of at most 4 terms of size <= 2 (different summation order)
        check "sum" (x.sum (d, keep)) Array.sum 1e-14
        check "mean" (x.mean (d, keep)) mean 1e-14
        check "amax" (x.amax (d, keep)) Array.max 0.0
        check "amin" (x.amin (d, keep)) Array.min 0.0
        let maxValues, _ = x.max (d, keep)
        check "max" maxValues Array.max 0.0
        check "logsumexp" (x.logsumexp (d, keep)) logSumExp 1e-14
        if shape.[dim] > 1L then check "var" (x.var (d, true, keep)) variance 1e-13
    Check.One(config, Prop.forAll (Arb.fromGen genCase) prop)

[<Fact>]
let ``Operators read as in Python`` () =
    use _ = torch.NewDisposeScope()
    let x = torch.tensor [| 1.0; 2.0; 3.0 |]
    let y = torch.tensor [| 0.5; 0.5; 0.5 |]
    let z = 2.0 * x ** 2.0 - x / y + 1.0 - (-x)
    Assert.Equal<float[]>([| 2.0; 7.0; 16.0 |], z.data<float>())

[<Fact>]
let ``Autograd from FSharp: gradient and Laplacian of a Gaussian log-density`` () =
    // log N(x; 0, s² I) in d dims has gradient -x/s² and Laplacian -d/s².
    use _ = torch.NewDisposeScope()
    let d, s = 4, 0.7
    let x = torch.randn([| int64 d |], torch.float64, generator = new Generator(11UL)).requires_grad_()
    let logp (v: Tensor) = (v * v).sum() * (-0.5 / (s * s)) - float d * log (s * sqrt (2.0 * Math.PI))
    let g = torch.autograd.grad (logp x, x, create_graph = true)
    let expected = (x.detach() * (-1.0 / (s * s))).data<float>()
    Array.iter2 (fun (e: float) a -> Assert.Equal(e, a, 12)) expected (g.data<float>())
    let laplacian =
        [ for i in 0 .. d - 1 -> (torch.autograd.grad ([| g.[int64 i] |], [| x |], retain_graph = true)).[0].data<float>().[i] ]
        |> List.sum
    Assert.Equal(-float d / (s * s), laplacian, 12)

[<Fact>]
let ``No-grad and dispose scopes from FSharp`` () =
    let mutable inside = Unchecked.defaultof<Tensor>
    let kept =
        use _ = torch.NewDisposeScope()
        let w = torch.ones([| 3L |], torch.float64, requires_grad = true)
        do
            use _ = torch.no_grad()
            Assert.False((w * 2.0).requires_grad)
        inside <- w * 2.0
        Assert.True(inside.requires_grad)
        (inside.sum()).MoveToOuterScope()
    Assert.True(inside.IsDisposed)
    Assert.Equal(6.0, kept.ToDouble())
    kept.Dispose()
