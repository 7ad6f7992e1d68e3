/// Figures to files: self-contained HTML (plotly.js inlined), and static PNG / SVG rendered by
/// plotly's own Plotly.toImage inside headless Chromium. Only `Render.images` starts a browser.
namespace Research.Experiments.Figures

open System
open System.Diagnostics
open System.IO
open System.Text
open System.Text.RegularExpressions

module PlotlyJs =
    let private relative = Path.Combine("node_modules", "plotly.js-dist-min", "plotly.min.js")

    /// plotly.min.js: $PLOTLY_JS, else node_modules/ in the current directory or one of its parents,
    /// else next to the running assembly or one of its parents (the repo root holds package.json).
    let tryFind () =
        let env = Environment.GetEnvironmentVariable "PLOTLY_JS"
        if not (String.IsNullOrEmpty env) && File.Exists env then
            Some(Path.GetFullPath env)
        else
            let rec up (dir: DirectoryInfo) =
                if isNull dir then None
                else
                    let candidate = Path.Combine(dir.FullName, relative)
                    if File.Exists candidate then Some candidate else up dir.Parent
            match up (DirectoryInfo(Environment.CurrentDirectory)) with
            | Some p -> Some p
            | None -> up (DirectoryInfo(AppContext.BaseDirectory))

    let find () =
        match tryFind () with
        | Some p -> p
        | None ->
            failwith
                "plotly.min.js not found: run `npm ci` at the repository root (package.json pins plotly.js-dist-min) or set PLOTLY_JS"

module Html =
    /// A standalone page for the figure, plotly.js inlined, so it opens offline anywhere.
    let page (fig: Figure) =
        let plotly = File.ReadAllText(PlotlyJs.find ())
        let sb = StringBuilder()
        sb
            .Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
            .Append(Net.WebUtility.HtmlEncode fig.Title)
            .Append("</title>\n<script>")
            .Append(plotly.Replace("</script", "<\\/script"))
            .Append("</script>\n</head><body style=\"margin:0\">\n<div id=\"figure\"></div>\n<script>\nconst fig = ")
            .Append(Figure.toScriptJson fig)
            .Append(";\nPlotly.newPlot('figure', fig.data, fig.layout, {responsive: false, displaylogo: false});\n</script>\n</body></html>\n")
        |> ignore
        sb.ToString()

    let write (path: string) (fig: Figure) =
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath path)) |> ignore
        File.WriteAllText(path, page fig)

/// Static images through headless Chromium. The page draws the figure, calls Plotly.toImage for
/// PNG and SVG and writes the data URLs into the DOM; Chromium's --dump-dom hands the DOM back.
/// The network stays closed: plotly.js is loaded from a file:// URL.
module Render =
    type Options =
        { Chromium: string
          /// Pixel ratio of the PNG (2 gives crisp figures for papers).
          Scale: float
          TimeoutMs: int }

    let defaults =
        { Chromium =
            match Environment.GetEnvironmentVariable "CHROMIUM" with
            | null
            | "" -> "/usr/bin/chromium"
            | c -> c
          Scale = 1.0
          TimeoutMs = 120_000 }

    /// A page that draws each figure in turn and writes its PNG and SVG data URLs into
    /// <pre id="png-i"> / <pre id="svg-i">, then "done" into <pre id="status">.
    let private renderPage (figs: Figure list) (scale: float) (plotlyPath: string) =
        let plotlyUrl = Uri(plotlyPath).AbsoluteUri
        let figures = String.Join(",\n", figs |> List.map Figure.toScriptJson)
        let sizes = String.Join(",", figs |> List.map (fun f -> $"[{f.Width},{f.Height}]"))
        let slots = String.Join("", figs |> List.mapi (fun i _ -> $"<pre id=\"png-{i}\"></pre><pre id=\"svg-{i}\"></pre>"))
        $"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="{plotlyUrl}"></script></head><body>
<div id="figure"></div><pre id="status">pending</pre>{slots}
<script>
(async () => {{
  const status = document.getElementById('status');
  try {{
    const figs = [{figures}];
    const sizes = [{sizes}];
    for (let i = 0; i < figs.length; i++) {{
      const gd = document.getElementById('figure');
      await Plotly.newPlot(gd, figs[i].data, figs[i].layout, {{staticPlot: true}});
      const size = {{width: sizes[i][0], height: sizes[i][1]}};
      document.getElementById('png-' + i).textContent =
        await Plotly.toImage(gd, Object.assign({{format: 'png', scale: {scale.ToString(Globalization.CultureInfo.InvariantCulture)}}}, size));
      document.getElementById('svg-' + i).textContent =
        await Plotly.toImage(gd, Object.assign({{format: 'svg'}}, size));
      Plotly.purge(gd);
      status.textContent = 'rendered ' + (i + 1);
    }}
    status.textContent = 'done';
  }} catch (e) {{
    status.textContent = 'error: ' + (e && e.stack ? e.stack : e);
  }}
}})();
</script></body></html>"""

    let private element (dom: string) (id: string) =
        let m = Regex.Match(dom, "<pre id=\"" + id + "\">(.*?)</pre>", RegexOptions.Singleline)
        if m.Success then Net.WebUtility.HtmlDecode m.Groups.[1].Value else ""

    /// Runs Chromium once on a page; returns the dumped DOM.
    let private dumpDom (options: Options) (pagePath: string) (profile: string) (budgetMs: int) =
        let psi = ProcessStartInfo(options.Chromium)
        for a in
            [ "--headless"; "--no-sandbox"; "--disable-gpu"; "--disable-quic"; "--no-first-run"
              "--disable-background-networking"; "--disable-component-update"; "--disable-sync"
              "--disable-extensions"; "--disable-dev-shm-usage"; "--allow-file-access-from-files"
              "--user-data-dir=" + profile
              $"--virtual-time-budget={budgetMs}"
              "--dump-dom"
              Uri(pagePath).AbsoluteUri ] do
            psi.ArgumentList.Add a
        psi.RedirectStandardOutput <- true
        psi.RedirectStandardError <- true
        psi.UseShellExecute <- false
        use p = Process.Start psi
        let stdout = p.StandardOutput.ReadToEndAsync()
        let stderr = p.StandardError.ReadToEndAsync()
        if not (p.WaitForExit options.TimeoutMs) then
            p.Kill true
            failwithf "Chromium did not finish within %d ms" options.TimeoutMs
        p.WaitForExit()
        stdout.Result, stderr.Result

    /// PNG bytes and SVG text of each figure, drawn by plotly in one headless Chromium run (starting
    /// the browser costs seconds; drawing a figure, a fraction of one).
    let manyWith (options: Options) (figs: Figure list) : (byte[] * string) list =
        if figs.IsEmpty then [] else
        let plotly = PlotlyJs.find ()
        let work = Path.Combine(Path.GetTempPath(), "research-render-" + Guid.NewGuid().ToString("N"))
        Directory.CreateDirectory work |> ignore
        try
            let pagePath = Path.Combine(work, "page.html")
            File.WriteAllText(pagePath, renderPage figs options.Scale plotly)
            // The virtual-time budget lets plotly's promises settle; a busy machine can need more,
            // so a page that has not finished is tried again with a larger budget and a fresh profile.
            let rec attempt (budget: int) (tries: int) =
                let dom, err = dumpDom options pagePath (Path.Combine(work, $"profile-{tries}")) budget
                match element dom "status" with
                | "done" -> dom
                | s when s.StartsWith "error" -> failwithf "plotly failed in Chromium: %s" s
                | _ when tries < 3 -> attempt (budget * 3) (tries + 1)
                | s ->
                    let tail = if err.Length > 2000 then err.Substring(err.Length - 2000) else err
                    failwithf "Chromium rendering did not finish (status '%s'); stderr tail:\n%s" s tail
            let dom = attempt (30_000 * figs.Length) 1
            let pngPrefix = "data:image/png;base64,"
            let svgPrefix = "data:image/svg+xml,"
            [ for i in 0 .. figs.Length - 1 ->
                  let png = element dom $"png-{i}"
                  let svg = element dom $"svg-{i}"
                  if not (png.StartsWith pngPrefix) || not (svg.StartsWith svgPrefix) then
                      failwith "Chromium returned no image data URLs"
                  Convert.FromBase64String(png.Substring pngPrefix.Length), Uri.UnescapeDataString(svg.Substring svgPrefix.Length) ]
        finally
            try
                Directory.Delete(work, true)
            with _ ->
                ()

    let images (fig: Figure) = manyWith defaults [ fig ] |> List.head

    /// Writes PNG and SVG files for each (figure, png path, svg path), in one browser run.
    let writeMany (jobs: (Figure * string * string) list) =
        let images = manyWith defaults (jobs |> List.map (fun (f, _, _) -> f))
        for ((_, pngPath, svgPath), (png, svg)) in List.zip jobs images do
            File.WriteAllBytes(pngPath, png)
            File.WriteAllText(svgPath, svg)

    /// Writes the PNG and the SVG of the figure.
    let write (pngPath: string) (svgPath: string) (fig: Figure) = writeMany [ fig, pngPath, svgPath ]

    /// Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian), checking the signature.
    let pngSize (png: byte[]) =
        let signature = [| 137uy; 80uy; 78uy; 71uy; 13uy; 10uy; 26uy; 10uy |]
        if png.Length < 24 || png.[0..7] <> signature || Encoding.ASCII.GetString(png, 12, 4) <> "IHDR" then
            failwith "not a PNG"
        let be (o: int) =
            (int png.[o] <<< 24) ||| (int png.[o + 1] <<< 16) ||| (int png.[o + 2] <<< 8) ||| int png.[o + 3]
        be 16, be 20
