// A user's F# script over the packages made by packaging/pack.sh:  dotnet fsi examples/fsharp-script/quickstart.fsx
#i "nuget: ../../artifacts/packages"
#r "nuget: Research.Torch.FSharp, 0.1.0"

open Research.Torch

// Least squares by gradient descent, written as in PyTorch: y = 3 x - 1 plus noise.
torch.manual_seed 0UL
let x = torch.randn [ 256; 1 ]
let y = 3 * x - 1 + 0.1 * torch.randn [ 256; 1 ]
let w = torch.zeros([ 1 ]).requires_grad_ ()
let b = torch.zeros([ 1 ]).requires_grad_ ()
let optimizer = new torch.optim.SGD([| w; b |], 0.1)
for _ in 1..200 do
    use _ = torch.NewDisposeScope()
    let loss = ((x * w + b - y) ** 2).mean ()
    optimizer.zero_grad ()
    loss.backward ()
    optimizer.step ()
printfn "w = %.3f, b = %.3f" (float w) (float b)
if abs (float w - 3.0) > 0.05 || abs (float b + 1.0) > 0.05 then exit 1
