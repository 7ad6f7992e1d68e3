/// The packages work in a user's own project: packaging/pack.sh packs the Release build into a fresh
/// feed under a unique version; the C# console example builds against it and runs, and the F# script
/// example runs in F# Interactive from the same feed.
module Research.FSharp.Tests.Packaging

open System
open System.Diagnostics
open System.IO
open Xunit

let private repoRoot =
    let rec up (d: DirectoryInfo) =
        if File.Exists(Path.Combine(d.FullName, "Research.sln")) then d.FullName else up d.Parent
    up (DirectoryInfo AppContext.BaseDirectory)

/// Runs a command; returns its exit code and output (stdout then stderr).
let private run (file: string) (args: string list) (cwd: string) =
    let start = ProcessStartInfo(file, args, WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true)
    use p = Process.Start start
    let err = p.StandardError.ReadToEndAsync()
    let out = p.StandardOutput.ReadToEnd()
    p.WaitForExit()
    p.ExitCode, out + err.Result

[<Fact>]
let ``The packages serve a CSharp console app and an FSharp script`` () =
    let work = Directory.CreateTempSubdirectory("research-packages-").FullName
    try
        let version = sprintf "0.1.0-test%s" (DateTime.UtcNow.ToString "yyyyMMddHHmmssfff")
        let feed = Path.Combine(work, "feed")
        let code, output = run "bash" [ Path.Combine(repoRoot, "packaging", "pack.sh"); version; feed ] repoRoot
        Assert.True((code = 0), output)
        use torchPackage = IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"Research.Torch.{version}.nupkg"))
        Assert.Contains(torchPackage.Entries, fun e -> e.FullName = "runtimes/linux-x64/native/libresearch_torch.so")

        // The C# console app, built against the fresh feed (nuget.org for nothing but what it already caches).
        let app = Path.Combine(work, "app")
        for f in [ "Program.cs"; "UseResearch.csproj" ] do
            File.Copy(Path.Combine(repoRoot, "examples", "csharp-console", f), Path.Combine(app |> Directory.CreateDirectory |> _.FullName, f))
        File.WriteAllText(
            Path.Combine(app, "nuget.config"),
            $"""<configuration><packageSources><clear /><add key="feed" value="{feed}" /><add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources></configuration>""")
        let code, output = run "dotnet" [ "build"; app; "-c"; "Release"; "-nologo"; $"-p:ResearchVersion={version}"; "-o"; Path.Combine(app, "out") ] app
        Assert.True((code = 0), output)
        let code, output = run "dotnet" [ Path.Combine(app, "out", "UseResearch.dll") ] app
        Assert.True((code = 0), output)
        Assert.Contains("denoising loss", output)

        // The F# script, pointed at the same feed and version.
        let script =
            File.ReadAllText(Path.Combine(repoRoot, "examples", "fsharp-script", "quickstart.fsx"))
                .Replace("#i \"nuget: ../../artifacts/packages\"", $"#i \"nuget: {feed}\"")
                .Replace("Research.Torch.FSharp, 0.1.0\"", $"Research.Torch.FSharp, {version}\"")
        let scriptPath = Path.Combine(work, "quickstart.fsx")
        File.WriteAllText(scriptPath, script)
        let code, output = run "dotnet" [ "fsi"; "--quiet"; scriptPath ] work
        Assert.True((code = 0), output)
        Assert.Contains("w = ", output)  // the script itself checks w and b against 3 and -1
    finally
        Directory.Delete(work, true)
