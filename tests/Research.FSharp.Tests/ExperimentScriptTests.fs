/// An experiment written as an .fsx script with the one-line prelude runs under `dotnet fsi` and writes
/// its results folder like the runner's experiments.
module Research.FSharp.Tests.ExperimentScriptTests

open System
open System.Diagnostics
open System.IO
open System.Text.Json.Nodes
open Xunit

[<Fact>]
let ``The example DDPM experiment script runs and writes its results`` () =
    let rec up (d: DirectoryInfo) = if File.Exists(Path.Combine(d.FullName, "Research.sln")) then d.FullName else up d.Parent
    let repo = up (DirectoryInfo AppContext.BaseDirectory)
    let results = Directory.CreateTempSubdirectory("script-results-").FullName
    try
        let script = Path.Combine(repo, "examples", "experiments", "ddpm2d.fsx")
        let start =
            ProcessStartInfo("dotnet", [ "fsi"; "--quiet"; script; "-p"; "steps=30"; "-p"; "samples=100"; "--no-render" ],
                             WorkingDirectory = repo, RedirectStandardOutput = true, RedirectStandardError = true)
        start.Environment.["RESEARCH_RESULTS"] <- results
        use p = Process.Start start
        let err = p.StandardError.ReadToEndAsync()
        let out = p.StandardOutput.ReadToEnd()
        p.WaitForExit()
        Assert.True((p.ExitCode = 0), out + err.Result)
        let dir = Path.Combine(results, "example-ddpm-2d")
        let summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))
        Assert.Equal(30, summary.["steps"].GetValue<int>())
        Assert.True(Double.IsFinite(summary.["final_loss"].GetValue<float>()))
        Assert.True(summary.["mean_distance_to_nearest_centre"].GetValue<float>() > 0.0)
        for f in [ "samples.csv"; "loss.csv"; "samples.html" ] do
            Assert.True(File.Exists(Path.Combine(dir, f)), f)
        Assert.Equal(101, File.ReadAllLines(Path.Combine(dir, "samples.csv")).Length)  // header + 100 samples
    finally
        Directory.Delete(results, true)
