/// F# conveniences over the tensor API, opened with `open Research.Torch`. What F# resolves through
/// static members (operators with int literals, sqrt/exp/abs/round..., float t, **) lives on Tensor
/// itself; this module adds what F# finds as extension members: slicing syntax, a name for `to`
/// (an F# keyword), and shapes as lists of ints.
[<AutoOpen>]
module Research.Torch.FSharpExtensions

open System

let private ix (i: int) = TensorIndex.op_Implicit i
/// An F# slice a..b includes b (as for arrays and lists), so it is PyTorch's a:b+1; ..-1 runs to the end.
let private sl (a: int option) (b: int option) =
    let stop = b |> Option.bind (fun b -> if b = -1 then None else Some(int64 b + 1L))
    TensorIndex.Slice(Option.toNullable (Option.map int64 a), Option.toNullable stop)
let private shapeOf (dims: int list) = dims |> List.map int64 |> List.toArray

type Tensor with
    // x.[a..b], x.[i, a..], x.[a.., j], x.[*, j] ...: F# calls GetSlice with an option pair per sliced
    // dimension and the plain index for a fixed one. Views, as in PyTorch; b is included (F#'s rule).
    member x.GetSlice(a: int option, b: int option) = x.[sl a b]
    member x.GetSlice(a1: int option, b1: int option, a2: int option, b2: int option) = x.[sl a1 b1, sl a2 b2]
    member x.GetSlice(i: int, a2: int option, b2: int option) = x.[ix i, sl a2 b2]
    member x.GetSlice(a1: int option, b1: int option, j: int) = x.[sl a1 b1, ix j]
    member x.GetSlice(a1: int option, b1: int option, a2: int option, b2: int option, a3: int option, b3: int option) =
        x.[sl a1 b1, sl a2 b2, sl a3 b3]
    member x.GetSlice(i: int, a2: int option, b2: int option, a3: int option, b3: int option) = x.[ix i, sl a2 b2, sl a3 b3]
    member x.GetSlice(a1: int option, b1: int option, j: int, a3: int option, b3: int option) = x.[sl a1 b1, ix j, sl a3 b3]
    member x.GetSlice(a1: int option, b1: int option, a2: int option, b2: int option, k: int) = x.[sl a1 b1, sl a2 b2, ix k]
    member x.GetSlice(i: int, j: int, a3: int option, b3: int option) = x.[ix i, ix j, sl a3 b3]
    member x.GetSlice(i: int, a2: int option, b2: int option, k: int) = x.[ix i, sl a2 b2, ix k]
    member x.GetSlice(a1: int option, b1: int option, j: int, k: int) = x.[sl a1 b1, ix j, ix k]

    // x.[a..b] <- v and friends: copies v (broadcast) into the slice.
    member x.SetSlice(a: int option, b: int option, v: Tensor) = x.[sl a b] <- v
    member x.SetSlice(a1: int option, b1: int option, a2: int option, b2: int option, v: Tensor) = x.[sl a1 b1, sl a2 b2] <- v
    member x.SetSlice(i: int, a2: int option, b2: int option, v: Tensor) = x.[ix i, sl a2 b2] <- v
    member x.SetSlice(a1: int option, b1: int option, j: int, v: Tensor) = x.[sl a1 b1, ix j] <- v

    /// `to` is an F# keyword: x.To torch.float64, x.To torch.CPU, x.To(torch.float64, device).
    member x.To(dtype: ScalarType) = x.``to`` dtype
    member x.To(device: Device) = x.``to`` device
    member x.To(dtype: ScalarType, device: Device) = x.``to`` (dtype, device)

    /// The shape as an F# list: x.Shape = [2; 3].
    member x.Shape = x.shape |> Array.map int |> List.ofArray

    member x.reshape(dims: int list) = x.reshape (shapeOf dims)
    member x.view(dims: int list) = x.view (shapeOf dims)
    member x.expand(dims: int list) = x.expand (shapeOf dims)
    member x.permute(dims: int list) = x.permute (shapeOf dims)

type torch with
    // Factories taking shapes as F# lists: torch.zeros [2; 3].
    static member zeros(shape: int list, ?dtype: ScalarType, ?device: Device) =
        torch.zeros (shapeOf shape, Option.toNullable dtype, Option.toNullable device)
    static member ones(shape: int list, ?dtype: ScalarType, ?device: Device) =
        torch.ones (shapeOf shape, Option.toNullable dtype, Option.toNullable device)
    static member full(shape: int list, value: float, ?dtype: ScalarType, ?device: Device) =
        torch.full (shapeOf shape, value, Option.toNullable dtype, Option.toNullable device)
    static member randn(shape: int list, ?dtype: ScalarType, ?device: Device, ?generator: Generator) =
        torch.randn (shapeOf shape, Option.toNullable dtype, Option.toNullable device, Option.toObj generator)
    static member rand(shape: int list, ?dtype: ScalarType, ?device: Device, ?generator: Generator) =
        torch.rand (shapeOf shape, Option.toNullable dtype, Option.toNullable device, Option.toObj generator)
