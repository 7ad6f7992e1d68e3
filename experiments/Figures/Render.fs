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

    let private renderPage (fig: Figure) (scale: float) (plotlyPath: string) =
        let plotlyUrl = Uri(plotlyPath).AbsoluteUri
        $"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="{plotlyUrl}"></script></head><body>
<div id="figure"></div><pre id="status">pending</pre><pre id="png"></pre><pre id="svg"></pre>
<script>
(async () => {{
  const status = document.getElementById('status');
  try {{
    const fig = {Figure.toScriptJson fig};
    const gd = document.getElementById('figure');
    await Plotly.newPlot(gd, fig.data, fig.layout, {{staticPlot: true}});
    const size = {{width: {fig.Width}, height: {fig.Height}}};
    document.getElementById('png').textContent =
      await Plotly.toImage(gd, Object.assign({{format: 'png', scale: {scale.ToString(Globalization.CultureInfo.InvariantCulture)}}}, size));
    document.getElementById('svg').textContent =
      await Plotly.toImage(gd, Object.assign({{format: 'svg'}}, size));
    Plotly.purge(gd);
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

    /// PNG bytes and SVG text of the figure, drawn by plotly in headless Chromium.
    let imagesWith (options: Options) (fig: Figure) : byte[] * string =
        let plotly = PlotlyJs.find ()
        let work = Path.Combine(Path.GetTempPath(), "research-render-" + Guid.NewGuid().ToString("N"))
        Directory.CreateDirectory work |> ignore
        try
            let pagePath = Path.Combine(work, "page.html")
            File.WriteAllText(pagePath, renderPage fig options.Scale plotly)
            // The virtual-time budget lets plotly's promises settle; a busy machine can need more,
            // so a page that has not finished is tried again with a larger budget and a fresh profile.
            let rec attempt (budget: int) (tries: int) =
                let dom, err = dumpDom options pagePath (Path.Combine(work, $"profile-{tries}")) budget
                match element dom "status" with
                | "done" -> dom
                | s when s.StartsWith "error" -> failwithf "plotly failed in Chromium: %s" s
                | s when tries < 3 -> attempt (budget * 3) (tries + 1)
                | s ->
                    let tail = if err.Length > 2000 then err.Substring(err.Length - 2000) else err
                    failwithf "Chromium rendering did not finish (status '%s'); stderr tail:\n%s" s tail
            let dom = attempt 30_000 1
            let png = element dom "png"
            let svg = element dom "svg"
            let pngPrefix = "data:image/png;base64,"
            let svgPrefix = "data:image/svg+xml,"
            if not (png.StartsWith pngPrefix) || not (svg.StartsWith svgPrefix) then
                failwith "Chromium returned no image data URLs"
            Convert.FromBase64String(png.Substring pngPrefix.Length), Uri.UnescapeDataString(svg.Substring svgPrefix.Length)
        finally
            try
                Directory.Delete(work, true)
            with _ ->
                ()

    let images (fig: Figure) = imagesWith defaults fig

    /// Writes the PNG and the SVG of the figure.
    let write (pngPath: string) (svgPath: string) (fig: Figure) =
        let png, svg = images fig
        File.WriteAllBytes(pngPath, png)
        File.WriteAllText(svgPath, svg)

    /// Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian), checking the signature.
    let pngSize (png: byte[]) =
        let signature = [| 137uy; 80uy; 78uy; 71uy; 13uy; 10uy; 26uy; 10uy |]
        if png.Length < 24 || png.[0..7] <> signature || Encoding.ASCII.GetString(png, 12, 4) <> "IHDR" then
            failwith "not a PNG"
        let be (o: int) =
            (int png.[o] <<< 24) ||| (int png.[o + 1] <<< 16) ||| (int png.[o + 2] <<< 8) ||| int png.[o + 3]
        be 16, be 20
