/// Running an experiment into a temporary folder, reading its summary, and decoding PNGs.
module Research.Experiments.Tests.Support

open System
open System.IO
open System.IO.Compression
open System.Text.Json.Nodes
open Research.Experiments

/// A fresh results root under the system temp folder.
let tempRoot () =
    let dir = Path.Combine(Path.GetTempPath(), "research-experiments-tests-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory dir |> ignore
    dir

/// Runs the named experiment at its quick size (plus overrides), without the browser, and returns
/// the summary.json it wrote (read back from disk, so the file itself is what is checked).
let runExperiment (name: string) (overrides: (string * string) list) =
    let root = tempRoot ()
    try
        let options =
            { RunOptions.defaults with
                ResultsRoot = root
                Render = false
                Quiet = true
                Params = Map.ofList overrides }
        let e =
            match Registry.find name with
            | [ e ] -> e
            | found -> failwithf "expected one experiment for %s, found %d" name found.Length
        Experiment.run options e |> ignore
        let dir = Path.Combine(root, e.Name)
        let summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json"))).AsObject()
        // Every file the summary lists exists (data and HTML; no PNG without the browser).
        for f in summary.["meta"].["files"].AsArray() do
            let path = Path.Combine(dir, f.GetValue<string>())
            if not (File.Exists path) then failwithf "summary lists %s, which was not written" path
        summary
    finally
        try
            Directory.Delete(root, true)
        with _ ->
            ()

let num (summary: JsonObject) (key: string) =
    match summary.[key] with
    | null -> failwithf "summary has no key '%s'" key
    | v -> v.GetValue<float>()

let flag (summary: JsonObject) (key: string) =
    match summary.[key] with
    | null -> failwithf "summary has no key '%s'" key
    | v -> v.GetValue<bool>()

/// |actual − expected| ≤ tol, with a message naming the key.
let close (key: string) (expected: float) (tol: float) (actual: float) =
    if not (abs (actual - expected) <= tol) then
        failwithf "%s = %.17g, expected %.17g ± %g" key actual expected tol

let below (key: string) (bound: float) (actual: float) =
    if not (actual <= bound) then failwithf "%s = %.6g, expected ≤ %g" key actual bound

let above (key: string) (bound: float) (actual: float) =
    if not (actual >= bound) then failwithf "%s = %.6g, expected ≥ %g" key actual bound

/// Decodes an 8-bit, non-interlaced truecolour PNG (RGB or RGBA, as Chromium writes them) into
/// (width, height, pixels as packed 0xRRGGBBAA). Enough to count colours in a test.
let decodePng (png: byte[]) =
    let be (o: int) = (int png.[o] <<< 24) ||| (int png.[o + 1] <<< 16) ||| (int png.[o + 2] <<< 8) ||| int png.[o + 3]
    let mutable pos = 8
    let mutable width, height, colorType, bitDepth, interlace = 0, 0, 0, 0, 0
    let idat = new MemoryStream()
    while pos < png.Length do
        let len = be pos
        let kind = Text.Encoding.ASCII.GetString(png, pos + 4, 4)
        if kind = "IHDR" then
            width <- be (pos + 8)
            height <- be (pos + 12)
            bitDepth <- int png.[pos + 16]
            colorType <- int png.[pos + 17]
            interlace <- int png.[pos + 20]
        elif kind = "IDAT" then
            idat.Write(png, pos + 8, len)
        pos <- pos + 12 + len
    if bitDepth <> 8 || interlace <> 0 || (colorType <> 2 && colorType <> 6) then
        failwithf "unsupported PNG: depth %d, colour type %d, interlace %d" bitDepth colorType interlace
    let bpp = if colorType = 6 then 4 else 3
    idat.Position <- 0L
    use z = new ZLibStream(idat, CompressionMode.Decompress)
    use raw = new MemoryStream()
    z.CopyTo raw
    let data = raw.ToArray()
    let stride = width * bpp
    let cur = Array.zeroCreate<byte> stride
    let prev = Array.zeroCreate<byte> stride
    let pixels = Array.zeroCreate<uint32> (width * height)
    for y in 0 .. height - 1 do
        let filter = data.[y * (stride + 1)]
        let row = y * (stride + 1) + 1
        for i in 0 .. stride - 1 do
            let x = int data.[row + i]
            let a = if i >= bpp then int cur.[i - bpp] else 0
            let b = int prev.[i]
            let c = if i >= bpp then int prev.[i - bpp] else 0
            let predicted =
                match filter with
                | 0uy -> 0
                | 1uy -> a
                | 2uy -> b
                | 3uy -> (a + b) / 2
                | 4uy ->
                    let p = a + b - c
                    let pa, pb, pc = abs (p - a), abs (p - b), abs (p - c)
                    if pa <= pb && pa <= pc then a elif pb <= pc then b else c
                | f -> failwithf "bad PNG filter %d" f
            cur.[i] <- byte ((x + predicted) &&& 0xff)
        for px in 0 .. width - 1 do
            let o = px * bpp
            let alpha = if bpp = 4 then uint32 cur.[o + 3] else 255u
            pixels.[y * width + px] <- (uint32 cur.[o] <<< 24) ||| (uint32 cur.[o + 1] <<< 16) ||| (uint32 cur.[o + 2] <<< 8) ||| alpha
        Array.blit cur 0 prev 0 stride
    width, height, pixels
