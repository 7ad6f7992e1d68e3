/// The figure layer: plotly JSON and HTML without a browser, and one real render in headless Chromium.
module Research.Experiments.Tests.FigureTests

open System
open System.IO
open Xunit
open Research.Experiments
open Research.Experiments.Figures
open Research.Experiments.Tests.Support

let private sample () =
    let xs = Numerics.linspace 0.0 1.0 50
    let z = Array2D.init 20 30 (fun i j -> sin (float i / 3.0) * cos (float j / 4.0))
    Figure.grid "test figure" 2 [
        Panel.create "a line and markers" "x" "y" [
            Trace.line "sin" xs (xs |> Array.map (fun x -> sin (6.0 * x))) |> Trace.color "#d62728"
            Trace.scatter "points" xs (xs |> Array.map (fun x -> x * x)) ]
        Panel.create "a heat map" "column" "row" [ Trace.heatmap "z" [ 0.0 .. 29.0 ] [ 0.0 .. 19.0 ] z ]
        Panel.create "a histogram" "value" "count" [ Trace.histogram "h" false 10 (xs |> Array.map (fun x -> x * x)) ] |> Panel.logY
        Panel.create "an image" "" "" [ Trace.image "img" 0.0 1.0 (Array2D.init 8 8 (fun i j -> float ((i + j) % 2))) ] |> Panel.asImage ]

[<Fact>]
let ``Subplots get their own axes, anchored to each other, and traces point at them`` () =
    let json = Figure.toJson (sample ())
    let data = json.["data"].AsArray()
    let layout = json.["layout"].AsObject()
    Assert.Equal(5, data.Count)
    Assert.Equal("x", data.[0].["xaxis"].GetValue<string>())
    Assert.Equal("y2", data.[2].["yaxis"].GetValue<string>())
    Assert.Equal("x4", data.[4].["xaxis"].GetValue<string>())
    for i in 1..4 do
        let suffix = if i = 1 then "" else string i
        Assert.Equal("y" + suffix, layout.["xaxis" + suffix].["anchor"].GetValue<string>())
        Assert.Equal("x" + suffix, layout.["yaxis" + suffix].["anchor"].GetValue<string>())
    Assert.Equal("log", layout.["yaxis3"].["type"].GetValue<string>())
    Assert.Equal("x4", layout.["yaxis4"].["scaleanchor"].GetValue<string>())
    Assert.Equal("test figure", layout.["title"].["text"].GetValue<string>())
    Assert.Equal(4, layout.["annotations"].AsArray().Count) // one title per panel
    Assert.Equal(20, data.[2].["z"].AsArray().Count) // z is row-major: 20 rows of 30
    Assert.Equal(30, data.[2].["z"].[0].AsArray().Count)

[<Fact>]
let ``Non-finite numbers become null, which plotly draws as gaps`` () =
    let fig = Figure.single "gaps" (Panel.create "" "" "" [ Trace.line "l" [ 0.0; 1.0; 2.0 ] [ 1.0; nan; infinity ] ])
    let ys = (Figure.toJson fig).["data"].[0].["y"].AsArray()
    Assert.Equal(1.0, ys.[0].GetValue<float>())
    Assert.Null ys.[1]
    Assert.Null ys.[2]

[<Fact>]
let ``The HTML page is self-contained: plotly inlined and no script element left open`` () =
    let html = Html.page (sample ())
    Assert.Contains("plotly.js v", html) // the library's banner, inlined
    Assert.DoesNotContain("src=\"http", html)
    Assert.Contains("Plotly.newPlot('figure'", html)
    Assert.Contains("\"title\":{\"text\":\"test figure\"", html)

[<Fact>]
let ``The runner parses names, sizes and overrides`` () =
    let a = Program.parseArguments [| "fig01"; "FIG-13"; "--full"; "--seed"; "7"; "-p"; "chains=100"; "--no-render"; "-o"; "out" |]
    Assert.Equal<string list>([ "fig01"; "FIG-13" ], a.Names)
    Assert.True a.Full
    Assert.True a.NoRender
    Assert.Equal(Some 7, a.Seed)
    Assert.Equal(Some "out", a.Results)
    Assert.Equal<(string * string) list>([ "chains", "100" ], a.Params)
    Assert.Throws<exn>(fun () -> Program.parseArguments [| "--bogus" |] |> ignore) |> ignore

[<Fact>]
let ``Experiments are found by name, prefix and catalogue id`` () =
    Assert.Equal("fig01-sd-schedule", (Registry.find "fig01-sd-schedule" |> List.exactlyOne).Name)
    Assert.Equal("fig01-sd-schedule", (Registry.find "fig01" |> List.exactlyOne).Name)
    Assert.Equal("fig13-process-table", (Registry.find "FIG-13" |> List.exactlyOne).Name)
    Assert.Empty(Registry.find "no-such-figure")
    Assert.Equal(Registry.all.Length, (Registry.all |> List.distinctBy (fun e -> e.Name)).Length)

[<Fact>]
let ``A figure rendered by plotly in headless Chromium is a real PNG of the requested size`` () =
    let fig = sample () |> Figure.size 900 700
    let png, svg = Render.images fig
    // Header: signature and IHDR size.
    let w, h = Render.pngSize png
    Assert.Equal((900, 700), (w, h))
    // Not blank: the decoded pixels hold many colours (lines, heat map, text), and the file is not tiny.
    let dw, dh, pixels = decodePng png
    Assert.Equal((900, 700), (dw, dh))
    let colours = pixels |> Array.distinct |> Array.length
    Assert.True(colours > 50, $"only {colours} distinct colours")
    let white = pixels |> Array.filter (fun p -> p = 0xFFFFFFFFu) |> Array.length
    Assert.True(float white < 0.9 * float pixels.Length, "the image is mostly blank")
    Assert.True(png.Length > 10_000, $"PNG of {png.Length} bytes")
    Assert.StartsWith("<svg", svg)
    Assert.Contains("test figure", svg)
