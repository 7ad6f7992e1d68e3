/// results/index.html gathers every experiment's figure, key numbers (with the catalogue's values) and
/// CSV links into one self-contained page.
module Research.FSharp.Tests.ResultsIndexTests

open System
open System.IO
open Xunit
open Research.Experiments

[<Fact>]
let ``The results index shows figures inline, key numbers with catalogue values, and CSV links`` () =
    let root = Directory.CreateTempSubdirectory("results-index-").FullName
    try
        let fig01 = Registry.find "fig01" |> List.exactlyOne
        let dir = Directory.CreateDirectory(Path.Combine(root, fig01.Name)).FullName
        File.WriteAllText(Path.Combine(dir, "summary.json"), """{"max_abs_diff": 0.0011075, "argmax_t": 469, "meta": {"seed": 1}}""")
        File.WriteAllText(Path.Combine(dir, "alpha.csv"), "t,a\n1,0.5\n")
        File.WriteAllText(Path.Combine(dir, "figure.html"), "<html></html>")
        File.WriteAllBytes(Path.Combine(dir, "figure.png"), [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy |])
        let path = ResultsIndex.write root Registry.all
        Assert.Equal(Path.Combine(root, "index.html"), path)
        let page = File.ReadAllText path
        Assert.Contains(fig01.Title |> Net.WebUtility.HtmlEncode, page)
        Assert.Contains("data:image/png;base64,iVBORw==", page)                           // the PNG, inlined
        Assert.Contains("""<a href="fig01-sd-schedule/figure.html">""", page)
        Assert.Contains("<td>max_abs_diff</td><td>0.0011075</td><td>1.1075e-3</td>", page)  // value, catalogue
        Assert.Contains("<td>argmax_t</td><td>469</td><td>469</td>", page)
        Assert.DoesNotContain("<td>meta</td>", page)
        Assert.Contains("""<a href="fig01-sd-schedule/alpha.csv">alpha.csv</a>""", page)
        // Experiments without results are left out.
        Assert.DoesNotContain("fig02-pf-quantiles", page)
    finally
        Directory.Delete(root, true)
