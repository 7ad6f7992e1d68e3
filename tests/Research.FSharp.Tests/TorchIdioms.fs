/// Common PyTorch idioms written in F#: each must compile and give PyTorch's result. The expected values
/// are PyTorch 1.13's for x = torch.arange(12.).reshape(3, 4).double(); the C# twin of this list is
/// tests/Research.Torch.Tests/IdiomTests.cs. F# slices include their end (x.[0..1] is PyTorch's x[0:2]).
module Research.FSharp.Tests.TorchIdioms

open System.IO
open Xunit
open Research.Torch

let private x () = torch.arange(0.0, 12.0, dtype = torch.float64).reshape [ 3; 4 ]
let private t (v: float list) = torch.tensor (List.toArray v)

/// PyTorch line, our F# line, PyTorch's shape and values.
let idioms: (string * (Tensor -> Tensor) * int list * float list) list = [
    "x[0, 1]", (fun x -> x.[0, 1]), [], [ 1. ]
    "x[1:]", (fun x -> x.[1..]), [ 2; 4 ], [ 4. .. 11. ]
    "x[-1]", (fun x -> x.[-1]), [ 4 ], [ 8.; 9.; 10.; 11. ]
    "x[:, 0]", (fun x -> x.[*, 0]), [ 3 ], [ 0.; 4.; 8. ]
    "x[0, 1:]", (fun x -> x.[0, 1..]), [ 3 ], [ 1.; 2.; 3. ]
    "x[0:2, 1:3]", (fun x -> x.[0..1, 1..2]), [ 2; 2 ], [ 1.; 2.; 5.; 6. ]
    "x[None]", (fun x -> x.[TensorIndex.NewAxis]), [ 1; 3; 4 ], [ 0. .. 11. ]
    "x[..., 0]", (fun x -> x.[TensorIndex.Ellipsis, 0]), [ 3 ], [ 0.; 4.; 8. ]
    "x[x > 5]", (fun x -> x.[x.gt 5.0]), [ 6 ], [ 6. .. 11. ]
    "x[torch.tensor([2, 0])]", (fun x -> x.[torch.tensor [| 2L; 0L |]]), [ 2; 4 ], [ 8.; 9.; 10.; 11.; 0.; 1.; 2.; 3. ]
    "y[0] = torch.zeros(4)", (fun x -> x.[0] <- torch.zeros ([ 4 ], torch.float64); x), [ 3; 4 ], [ 0.; 0.; 0.; 0.; 4.; 5.; 6.; 7.; 8.; 9.; 10.; 11. ]
    "y[1:, 2:] = torch.tensor([7., 8.])", (fun x -> x.[1.., 2..] <- t [ 7.; 8. ]; x), [ 3; 4 ], [ 0.; 1.; 2.; 3.; 4.; 5.; 7.; 8.; 8.; 9.; 7.; 8. ]
    "y[y > 5] = 0", (fun x -> x.[x.gt 5.0] <- torch.tensor 0.0; x), [ 3; 4 ], [ 0.; 1.; 2.; 3.; 4.; 5.; 0.; 0.; 0.; 0.; 0.; 0. ]
    "x * 2 + 1 - x ** 2 / 2", (fun x -> x * 2 + 1 - x ** 2 / 2), [ 3; 4 ], [ 1.; 2.5; 3.; 2.5; 1.; -1.5; -5.; -9.5; -15.; -21.5; -29.; -37.5 ]
    "2 * x - 1", (fun x -> 2 * x - 1), [ 3; 4 ], [ -1. .. 2. .. 21. ]
    "1 - x / 4", (fun x -> 1 - x / 4), [ 3; 4 ], [ for k in 0. .. 11. -> 1. - k / 4. ]
    "x ** 2.0", (fun x -> x ** 2.0), [ 3; 4 ], [ for k in 0. .. 11. -> k * k ]
    "-x", (fun x -> -x), [ 3; 4 ], [ for k in 0. .. 11. -> -k ]
    "torch.floor(x / 3)", (fun x -> floor (x / 3)), [ 3; 4 ], [ for k in 0. .. 11. -> floor (k / 3.) ]
    "torch.round(x / 4)", (fun x -> round (x / 4)), [ 3; 4 ], [ 0.; 0.; 0.; 1.; 1.; 1.; 2.; 2.; 2.; 2.; 2.; 3. ]
    "torch.abs(x - 5)", (fun x -> abs (x - 5)), [ 3; 4 ], [ for k in 0. .. 11. -> abs (k - 5.) ]
    "torch.max(x, 1)", (fun x -> let values, _ = x.max 1L in values), [ 3 ], [ 3.; 7.; 11. ]
    "torch.max(x, 1).indices", (fun x -> let _, indices = x.max 1L in indices.To torch.float64), [ 3 ], [ 3.; 3.; 3. ]
    "torch.min(x, 0)", (fun x -> let values, _ = x.min 0L in values), [ 4 ], [ 0.; 1.; 2.; 3. ]
    "x.flip(1).sort(1)", (fun x -> let values, _ = x.flip(1L).sort 1L in values), [ 3; 4 ], [ 0. .. 11. ]
    "x.to(torch.float32)", (fun x -> (x.To torch.float32).To torch.float64), [ 3; 4 ], [ 0. .. 11. ]
    "x.reshape(4, 3)", (fun x -> x.reshape [ 4; 3 ]), [ 4; 3 ], [ 0. .. 11. ]
    "x.T", (fun x -> x.T), [ 4; 3 ], [ 0.; 4.; 8.; 1.; 5.; 9.; 2.; 6.; 10.; 3.; 7.; 11. ]
    "x.sum(1, keepdim=True)", (fun x -> x.sum (1L, keepdim = true)), [ 3; 1 ], [ 6.; 22.; 38. ]
    "x.mean(0)", (fun x -> x.mean 0L), [ 4 ], [ 4.; 5.; 6.; 7. ]
    "x @ x.T diagonal", (fun x -> (x.matmul x.T).diagonal()), [ 3 ], [ 14.; 126.; 366. ]
    "torch.cat([x, x])", (fun x -> torch.cat [| x; x |]), [ 6; 4 ], [ 0. .. 11. ] @ [ 0. .. 11. ]
    "torch.stack([x[0], x[1]])", (fun x -> torch.stack [| x.[0]; x.[1] |]), [ 2; 4 ], [ 0. .. 7. ]
    "x.unsqueeze(0)", (fun x -> x.unsqueeze 0L), [ 1; 3; 4 ], [ 0. .. 11. ]
    "torch.where(x > 5, x, 0)", (fun x -> torch.where (x.gt 5.0, x, torch.zeros_like x)), [ 3; 4 ], [ 0.; 0.; 0.; 0.; 0.; 0.; 6.; 7.; 8.; 9.; 10.; 11. ]
    "torch.zeros(2, 3)", (fun _ -> torch.zeros [ 2; 3 ]), [ 2; 3 ], List.replicate 6 0.
    "torch.full((2,), 1.5)", (fun _ -> torch.full ([ 2 ], 1.5)), [ 2 ], [ 1.5; 1.5 ]
]

let idiomNames () = idioms |> Seq.map (fun (name, _, _, _) -> [| box name |])

[<Theory>]
[<MemberData(nameof idiomNames)>]
let ``The FSharp idiom gives PyTorch's result`` (pytorch: string) =
    use _ = torch.NewDisposeScope()
    let _, ours, shape, expected = idioms |> List.find (fun (n, _, _, _) -> n = pytorch)
    let result = ours (x ())
    Assert.Equal<int list>(shape, result.Shape)
    Assert.Equal<float[]>(List.toArray expected, result.To(torch.float64).data<float>())

[<Fact>]
let ``Elementwise math functions of FSharp work on tensors as on floats`` () =
    use _ = torch.NewDisposeScope()
    let x = x ()
    let r = sqrt x + exp (-x) + log (x + 1) + abs (x - 5) + tanh x + sin x + cos x + floor (x / 3) + round (x / 4)
    let pytorch =
        [| 7.0; 8.20439406836319; 7.105339304632174; 7.314314502202785; 6.216636734890361; 6.359212508789614
           11.078621144117392; 13.13699192471602; 13.869845152454758; 14.803696695695255; 15.177125688808383; 17.805983632723645 |]
    // float64 round-off of nine terms of size <= 12
    Array.iter2 (fun (e: float) a -> Assert.Equal(e, a, 13)) pytorch (r.data<float>())

[<Fact>]
let ``Scalars convert with float and int, and safetensors saves a list of pairs or a Map`` () =
    use _ = torch.NewDisposeScope()
    let x = x ()
    Assert.Equal(66.0, float (x.sum ()))
    Assert.Equal(11, int x.[2, 3])
    let dir = Directory.CreateTempSubdirectory("fsharp-safetensors-").FullName
    try
        let path = Path.Combine(dir, "w.safetensors")
        safetensors.save ([ "x", x; "row", x.[1] ], path)
        let loaded = safetensors.load path
        Assert.Equal<float[]>([| 4.; 5.; 6.; 7. |], loaded.["row"].data<float>())
        safetensors.save (Map [ "y", x * 2 ], path)
        Assert.Equal(132.0, float ((safetensors.load path).["y"].sum ()))
        Assert.Throws<System.ArgumentException>(fun () -> safetensors.save ([ "a", x; "a", x ], path)) |> ignore
    finally
        Directory.Delete(dir, true)
