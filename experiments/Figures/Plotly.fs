/// A small, immutable description of plotly figures (traces in panels, panels in a grid) and its
/// translation to plotly's JSON. Nothing here starts a browser: see Render.fs for PNG/SVG.
namespace Research.Experiments.Figures

open System
open System.Text.Json
open System.Text.Json.Nodes

/// One plotly trace: its type and a list of properties at dotted paths ("line.dash", "marker.size").
/// Later settings of the same path win, so modifiers compose with the pipe.
type Trace = { Kind: string; Props: (string * obj) list }

/// One subplot: its traces and axes. Axis options use plotly's own names ("type", "range", ...).
type Panel =
    { Traces: Trace list
      Title: string
      XLabel: string
      YLabel: string
      XAxis: (string * obj) list
      YAxis: (string * obj) list
      /// (x0, x1, y0, y1) in paper coordinates, overriding the panel's grid cell (e.g. a wide table).
      Domain: (float * float * float * float) option
      /// plotly annotations (text boxes, arrows) placed in the panel's data coordinates.
      Annotations: (string * obj) list list }

/// A grid of panels, filled row by row, with one title and a fixed pixel size.
type Figure =
    { Title: string
      Panels: Panel list
      Columns: int
      Width: int
      Height: int
      Layout: (string * obj) list }

/// Plotly JSON from F# values: floats (NaN and infinities become null), ints, strings, bools,
/// arrays, 2-D arrays (row-major lists of rows, as plotly's z), lists and nested JSON nodes.
module Json =
    let rec ofObj (value: obj) : JsonNode =
        match value with
        | null -> null
        | :? JsonNode as n -> n.DeepClone()
        | :? float as x -> if Double.IsFinite x then JsonValue.Create x :> JsonNode else null
        | :? float32 as x -> ofObj (box (float x))
        | :? int as i -> JsonValue.Create i :> JsonNode
        | :? int64 as i -> JsonValue.Create i :> JsonNode
        | :? bool as b -> JsonValue.Create b :> JsonNode
        | :? string as s -> JsonValue.Create s :> JsonNode
        | :? (float[,]) as m ->
            JsonArray(
                [| for i in 0 .. Array2D.length1 m - 1 ->
                       ofObj (box [| for j in 0 .. Array2D.length2 m - 1 -> m.[i, j] |]) |]
            )
            :> JsonNode
        | :? ((string * obj) list) as props ->
            let o = JsonObject()
            for (k, v) in props do
                o.[k] <- ofObj v
            o :> JsonNode
        | :? Collections.IEnumerable as xs -> JsonArray([| for x in xs -> ofObj x |]) :> JsonNode
        | other -> failwithf "Json.ofObj: unsupported value of type %s" (other.GetType().FullName)

    /// Sets `value` at a dotted path, creating intermediate objects.
    let setPath (target: JsonObject) (path: string) (value: obj) =
        let parts = path.Split '.'
        let mutable node = target
        for p in parts.[.. parts.Length - 2] do
            match node.[p] with
            | :? JsonObject as child -> node <- child
            | _ ->
                let child = JsonObject()
                node.[p] <- child
                node <- child
        node.[parts.[parts.Length - 1]] <- ofObj value

    let objectOf (props: (string * obj) list) =
        let o = JsonObject()
        for (k, v) in props do
            setPath o k v
        o

module Trace =
    let private make kind props = { Kind = kind; Props = props }
    let private arr (xs: float seq) = box (Seq.toArray xs)

    /// Sets any plotly property at a dotted path.
    let set (path: string) (value: obj) (t: Trace) = { t with Props = t.Props @ [ path, value ] }

    /// A line through (x, y).
    let line (name: string) (xs: float seq) (ys: float seq) =
        make "scatter" [ "name", box name; "mode", box "lines"; "x", arr xs; "y", arr ys ]

    /// Markers at (x, y).
    let scatter (name: string) (xs: float seq) (ys: float seq) =
        make "scatter" [ "name", box name; "mode", box "markers"; "x", arr xs; "y", arr ys; "marker.size", box 4 ]

    /// z.[iy, ix] over the grid xs × ys (plotly's row-major convention).
    let heatmap (name: string) (xs: float seq) (ys: float seq) (z: float[,]) =
        make "heatmap" [ "name", box name; "x", arr xs; "y", arr ys; "z", box z; "colorscale", box "Viridis" ]

    /// A histogram of the samples; `density` normalises it to a probability density.
    let histogram (name: string) (density: bool) (bins: int) (xs: float seq) =
        make
            "histogram"
            [ "name", box name
              "x", arr xs
              "nbinsx", box bins
              "histnorm", box (if density then "probability density" else "")
              "opacity", box 0.6 ]

    /// Contour lines of z.[iy, ix] over xs × ys.
    let contour (name: string) (xs: float seq) (ys: float seq) (z: float[,]) =
        make
            "contour"
            [ "name", box name; "x", arr xs; "y", arr ys; "z", box z; "colorscale", box "Greys"
              "contours.coloring", box "lines"; "showscale", box false ]

    /// A greyscale image, pixels.[row, col] in [lo, hi], row 0 at the top.
    let image (name: string) (lo: float) (hi: float) (pixels: float[,]) =
        make
            "heatmap"
            [ "name", box name; "z", box pixels; "colorscale", box "Greys"; "reversescale", box true
              "zmin", box lo; "zmax", box hi; "showscale", box false ]

    /// A table: column headers and cells given column by column (plotly's layout).
    let table (headers: string list) (columns: string list list) =
        make
            "table"
            [ "header.values", box (List.toArray headers)
              "header.fill.color", box "#dde3ea"
              "header.align", box "left"
              "cells.values", box [| for c in columns -> List.toArray c |]
              "cells.align", box "left" ]

    let color (c: string) t =
        match t.Kind with
        | "histogram" -> set "marker.color" c t
        | _ -> t |> set "line.color" c |> set "marker.color" c
    let dash (d: string) t = set "line.dash" d t
    let width (w: float) t = set "line.width" w t
    let markerSize (s: float) t = set "marker.size" s t
    let opacity (o: float) t = set "opacity" o t
    let hideLegend t = set "showlegend" false t
    let legendGroup (g: string) t = set "legendgroup" g t
    let colorscale (s: string) t = set "colorscale" s t
    let colorbarTitle (s: string) t = set "colorbar.title.text" s t
    let zRange (lo: float) (hi: float) t = t |> set "zmin" lo |> set "zmax" hi

module Panel =
    let create (title: string) (xLabel: string) (yLabel: string) (traces: Trace list) =
        { Traces = traces; Title = title; XLabel = xLabel; YLabel = yLabel; XAxis = []; YAxis = []; Domain = None; Annotations = [] }
    let logX p = { p with XAxis = p.XAxis @ [ "type", box "log"; "exponentformat", box "power" ] }
    let logY p = { p with YAxis = p.YAxis @ [ "type", box "log"; "exponentformat", box "power" ] }
    let xRange (lo: float) (hi: float) p = { p with XAxis = p.XAxis @ [ "range", box [| lo; hi |] ] }
    let yRange (lo: float) (hi: float) p = { p with YAxis = p.YAxis @ [ "range", box [| lo; hi |] ] }
    let xAxis (path: string) (value: obj) p = { p with XAxis = p.XAxis @ [ path, value ] }
    let yAxis (path: string) (value: obj) p = { p with YAxis = p.YAxis @ [ path, value ] }
    /// Square pixels in data units (images, 2-D scatter plots).
    let domain (x0: float) (x1: float) (y0: float) (y1: float) p = { p with Domain = Some(x0, x1, y0, y1) }
    /// Adds one annotation given by its plotly properties ("text", "x", "y", "ax", "ay", ...), in the panel's data
    /// coordinates (arrow tails too: axref/ayref are set to the panel's axes).
    let annotate (props: (string * obj) list) p = { p with Annotations = p.Annotations @ [ props ] }
    let equalAspect p = p |> yAxis "scaleanchor" "x" |> yAxis "scaleratio" 1.0

    /// Hidden axes and a downward y axis, for image panels.
    let asImage p =
        { p with
            XAxis = p.XAxis @ [ "visible", box false; "constrain", box "domain" ]
            YAxis = p.YAxis @ [ "visible", box false; "autorange", box "reversed"; "scaleanchor", box "x" ] }

module Figure =
    /// A figure of panels in a grid of `columns` columns, sized from the grid.
    let grid (title: string) (columns: int) (panels: Panel list) =
        let columns = max 1 (min columns (List.length panels))
        let rows = (List.length panels + columns - 1) / columns
        { Title = title
          Panels = panels
          Columns = columns
          Width = 80 + 460 * columns
          Height = 110 + 360 * rows
          Layout = [] }

    let single (title: string) (panel: Panel) = grid title 1 [ panel ]
    let size (width: int) (height: int) f = { f with Width = width; Height = height }
    let layout (path: string) (value: obj) f = { f with Layout = f.Layout @ [ path, value ] }

    /// An image grid: one greyscale panel per image.
    let images (title: string) (columns: int) (lo: float) (hi: float) (items: (string * float[,]) list) =
        let panels =
            [ for (caption, px) in items ->
                  Panel.create caption "" "" [ Trace.image caption lo hi px ] |> Panel.asImage ]
        let f = grid title columns panels
        let rows = (List.length items + f.Columns - 1) / f.Columns
        f |> size (60 + 170 * f.Columns) (100 + 180 * rows)

    let private rows f = (List.length f.Panels + f.Columns - 1) / f.Columns

    let private hasColorbar (t: Trace) =
        t.Kind = "heatmap" && not (t.Props |> List.exists (fun (k, v) -> k = "showscale" && v = box false))

    /// (x0, x1, y0, y1) of panel i in paper coordinates, leaving room for titles and colorbars.
    let domain f (i: int) =
        let rows = rows f
        let colorbars = f.Panels |> List.exists (fun p -> p.Traces |> List.exists hasColorbar)
        let hGap = if f.Columns > 1 then (if colorbars then 0.16 else 0.1) else 0.0
        let vGap = if rows > 1 then 0.14 else 0.0
        let w = (1.0 - hGap * float (f.Columns - 1)) / float f.Columns
        let h = (1.0 - vGap * float (rows - 1)) / float rows
        let c, r = i % f.Columns, i / f.Columns
        let x0 = float c * (w + hGap)
        let y1 = 1.0 - float r * (h + vGap)
        x0, x0 + w, y1 - h, y1

    /// plotly's { data, layout } for the figure.
    let toJson (f: Figure) : JsonObject =
        let data = JsonArray()
        let layout =
            Json.objectOf
                [ "title.text", box f.Title
                  "title.x", box 0.02
                  "width", box f.Width
                  "height", box f.Height
                  "margin", box [ "l", box 70; "r", box 40; "t", box 90; "b", box 60 ]
                  "font.family", box "DejaVu Sans, Arial, sans-serif"
                  "font.size", box 12
                  "legend.font.size", box 10
                  "paper_bgcolor", box "white"
                  "plot_bgcolor", box "#f7f7f9" ]
        let annotations = JsonArray()
        f.Panels
        |> List.iteri (fun i panel ->
            let x0, x1, y0, y1 = defaultArg panel.Domain (domain f i)
            let suffix = if i = 0 then "" else string (i + 1)
            let isTable = panel.Traces |> List.exists (fun t -> t.Kind = "table")
            for t in panel.Traces do
                let o = Json.objectOf ([ "type", box t.Kind ] @ t.Props)
                if isTable then
                    Json.setPath o "domain" (box [ "x", box [| x0; x1 |]; "y", box [| y0; y1 |] ])
                else
                    o.["xaxis"] <- JsonValue.Create("x" + suffix)
                    o.["yaxis"] <- JsonValue.Create("y" + suffix)
                    if hasColorbar t then
                        // Each heat-map's colour bar sits just right of its own panel.
                        Json.setPath o "colorbar.x" (box (x1 + 0.005))
                        Json.setPath o "colorbar.xanchor" (box "left")
                        Json.setPath o "colorbar.y" (box ((y0 + y1) / 2.0))
                        Json.setPath o "colorbar.len" (box (y1 - y0))
                        Json.setPath o "colorbar.thickness" (box 12)
                data.Add o
            if not isTable then
                let xa =
                    Json.objectOf (
                        [ "domain", box [| x0; x1 |]
                          "anchor", box ("y" + suffix)
                          "title.text", box panel.XLabel
                          "automargin", box true ]
                        @ panel.XAxis
                    )
                let ya =
                    Json.objectOf (
                        [ "domain", box [| y0; y1 |]
                          "anchor", box ("x" + suffix)
                          "title.text", box panel.YLabel
                          "automargin", box true ]
                        @ panel.YAxis
                    )
                // scaleanchor names the panel's own x axis.
                if ya.ContainsKey "scaleanchor" then ya.["scaleanchor"] <- JsonValue.Create("x" + suffix)
                layout.["xaxis" + suffix] <- xa
                layout.["yaxis" + suffix] <- ya
            for a in panel.Annotations do
                let axes = [ "xref", box ("x" + suffix); "yref", box ("y" + suffix); "axref", box ("x" + suffix); "ayref", box ("y" + suffix) ]
                annotations.Add(Json.objectOf (axes @ a))
            if panel.Title <> "" then
                annotations.Add(
                    Json.objectOf
                        [ "text", box ("<b>" + panel.Title + "</b>")
                          "x", box ((x0 + x1) / 2.0)
                          "y", box y1
                          "xref", box "paper"
                          "yref", box "paper"
                          "xanchor", box "center"
                          "yanchor", box "bottom"
                          "yshift", box 6
                          "showarrow", box false
                          "font.size", box 13 ]
                ))
        layout.["annotations"] <- annotations
        // Colour bars sit where the legend would go: then the legend goes below the panels.
        if f.Panels |> List.exists (fun p -> p.Traces |> List.exists hasColorbar) then
            Json.setPath layout "legend.orientation" (box "h")
            Json.setPath layout "legend.x" (box 0.0)
            Json.setPath layout "legend.y" (box -0.1)
            Json.setPath layout "legend.yanchor" (box "top")
            Json.setPath layout "margin.b" (box 110)
        for (k, v) in f.Layout do
            Json.setPath layout k v
        let root = JsonObject()
        root.["data"] <- data
        root.["layout"] <- layout
        root

    /// The figure as JSON text, safe to embed inside an HTML script element.
    let toScriptJson (f: Figure) =
        (toJson f).ToJsonString(JsonSerializerOptions(WriteIndented = false)).Replace("</", "<\\/")
