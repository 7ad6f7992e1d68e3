/// FIG-11 (S0 L358–L408): RealNVP with 8 affine couplings (alternating masks) trained by maximum likelihood on two
/// moons; z ~ N(0, I) pushed through each layer; the learned density on a grid, which integrates to 1 (NF-02/03)
/// within the quadrature error plus the mass outside the grid; the test NLL.
module Research.Experiments.Fig11RealNvp

open System
open System.IO
open Research.Torch
open Research.Data
open Research.Models
open Research.Experiments.Figures
open Research.Experiments.GanRing

type Tensor = Research.Torch.Tensor

let private x0, x1, y0, y1 = -2.0, 3.0, -1.75, 2.25

/// Σ exp(log p) dA by the midpoint rule on an n × n grid over the box, and the density values [n, n] (row = y).
let private gridIntegral (flow: NormalizingFlow) (n: int) =
    use scope = torch.NewDisposeScope()
    use _ = torch.no_grad ()
    let hx, hy = (x1 - x0) / float n, (y1 - y0) / float n
    let xs = [| for i in 0 .. n - 1 -> x0 + hx * (float i + 0.5) |]
    let ys = [| for j in 0 .. n - 1 -> y0 + hy * (float j + 0.5) |]
    let pts = torch.tensor (array2D [ for j in 0 .. n - 1 do for i in 0 .. n - 1 -> [ xs.[i]; ys.[j] ] ])
    let density = flow.LogProb(pts.``to``(ScalarType.Float32)).``to``(ScalarType.Float64).exp().contiguous().data<float> ()
    Array.sum density * hx * hy, xs, ys, Array2D.init n n (fun j i -> density.[j * n + i])

let run (ctx: Context) =
    let steps = ctx.Int("steps", 2000, 10000)
    let batch = ctx.Int("batch", 256, 512)
    let hidden = ctx.Int("hidden", 64, 128)
    let couplings = ctx.Int("couplings", 8, 8)
    let grid = ctx.Int("grid", 200, 400)
    let noise = ctx.Float("noise", 0.05, 0.05)
    let seed = uint64 ctx.Seed
    use g = new Generator(seed)
    use model = new RealNvp(2, couplings, hidden, options = torch.nn.LayerOptions(generator = g))
    use trainPoints = Toy2D.TwoMoons(20000L, g, noise)
    use testPoints = Toy2D.TwoMoons(5000L, g, noise)
    use data = PointData.Of trainPoints
    use batches = new BatchStream(data, batch, seed)
    let dir = Path.Combine(ctx.OutDir, "run")
    if Directory.Exists dir then Directory.Delete(dir, true)
    use trainer = model.Trainer(batches, TrainerOptions(int64 steps, seed, dir, Progress = not ctx.Options.Quiet), g)
    trainer.Run() |> ignore
    let flow = model.Flow

    let testNll =
        use _ = torch.no_grad ()
        (-(flow.LogProb testPoints)).mean().ToDouble()
    let trainNll =
        use _ = torch.no_grad ()
        (-(flow.LogProb(trainPoints.narrow(0L, 0L, 5000L)))).mean().ToDouble()
    ctx.Record("test_nll_nats", testNll)
    ctx.Record("train_nll_nats", trainNll)

    // The density integrates to 1: the grid's midpoint sum (and at half the resolution: their difference estimates
    // the quadrature error) plus the mass outside the box, estimated from the flow's own samples.
    let integral, xs, ys, density = gridIntegral flow grid
    let coarse, _, _, _ = gridIntegral flow (grid / 2)
    use eval = new Generator(seed + 3UL)
    let outside =
        use scope = torch.NewDisposeScope()
        use _ = torch.no_grad ()
        let s = flow.Sample(100000L, eval)
        let x, y = s.select(1L, 0L), s.select(1L, 1L)
        let inside = x.ge(x0) &&& x.le(x1) &&& y.ge(y0) &&& y.le(y1)
        1.0 - inside.``to``(ScalarType.Float64).mean().ToDouble()
    ctx.Record("grid_integral", integral)
    ctx.Record("grid_integral_half_resolution", coarse)
    ctx.Record("quadrature_error_estimate", abs (integral - coarse))
    ctx.Record("mass_outside_grid_by_sampling", outside)
    ctx.Record("total_mass", integral + outside)
    ctx.Record("total_mass_minus_one", integral + outside - 1.0)

    // z ~ N(0, I) pushed through the generative direction one coupling at a time (the last layer's inverse first).
    let stages =
        use scope = torch.NewDisposeScope()
        use _ = torch.no_grad ()
        use pg = new Generator(seed + 5UL)
        let mutable x = torch.randn([| 2000L; 2L |], generator = pg)
        let arr (t: Tensor) = t.``to``(ScalarType.Float64).contiguous().data<float> ()
        let out = ResizeArray [ "z ~ N(0, I)", arr x ]
        for k in flow.Layers.Count - 1 .. -1 .. 0 do
            let struct (prev, _) = flow.Layers.[k].Inverse x
            x <- prev
            out.Add(sprintf "after coupling %d" (flow.Layers.Count - k), arr x)
        List.ofSeq out
    let test = testPoints.narrow(0L, 0L, 2000L).``to``(ScalarType.Float64).contiguous().data<float> ()
    let pushPanel (title: string, p: float[]) =
        Panel.create title "x1" "x2"
            [ Trace.scatter "data" [ for i in 0..1999 -> test.[2 * i] ] [ for i in 0..1999 -> test.[2 * i + 1] ] |> Trace.color "#cccccc" |> Trace.markerSize 2.0 |> Trace.hideLegend
              Trace.scatter title [ for i in 0..1999 -> p.[2 * i] ] [ for i in 0..1999 -> p.[2 * i + 1] ] |> Trace.color "#1f77b4" |> Trace.markerSize 2.0 |> Trace.hideLegend ]
        |> Panel.xRange -3.5 3.5 |> Panel.yRange -3.0 3.0
    ctx.SaveFigure("fig11_push_forward", Figure.grid (sprintf "FIG-11 · z ~ N(0, I) pushed through the %d couplings of a RealNVP trained on two moons" couplings) 3 (List.map pushPanel stages))
    let densityPanel =
        Panel.create (sprintf "learned density: grid integral %.4f + %.4f outside = %.4f; test NLL %.3f nats" integral outside (integral + outside) testNll) "x1" "x2"
            [ Trace.heatmap "p(x)" xs ys density |> Trace.colorbarTitle "p(x)" ]
    let metrics = readMetrics (Path.Combine(dir, "metrics.csv"))
    let lossPanel = Panel.create "training NLL (nats)" "step" "NLL" [ Trace.line "train NLL" (column metrics "step") (column metrics "nll") ]
    ctx.SaveFigure("fig11_density", Figure.grid "FIG-11 · RealNVP on two moons: learned density and training curve" 2 [ densityPanel; lossPanel ] |> Figure.size 1250 520)
    ctx.WriteCsv("stages.csv", [ "stage"; "x1"; "x2" ], [ for s, (_, p) in List.indexed stages do for i in 0..1999 -> [ float s; p.[2 * i]; p.[2 * i + 1] ] ])

let experiment =
    { Name = "fig11-realnvp"
      Ids = [ "FIG-11"; "NF-01"; "NF-02"; "NF-03" ]
      Title = "RealNVP (8 affine couplings) on two moons: per-layer push-forward, learned density integrating to 1, test NLL"
      InDefault = true
      Run = run }
