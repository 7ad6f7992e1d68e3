using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Research.Distributed.Tests;

/// <summary>Starts the worker program (tests/Research.Distributed.Worker) as ranks: through the launcher
/// (tools/launch.sh), or one process at a time with the environment the launcher would set.</summary>
internal static class Ranks
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    public static readonly string RepoRoot = FindRepoRoot();

    // The worker is built next to this project, in the same configuration (bin/<config>/<tfm>/).
    public static readonly string WorkerDll = Path.Combine(
        AppContext.BaseDirectory.Replace(
            Path.Combine("tests", "Research.Distributed.Tests"), Path.Combine("tests", "Research.Distributed.Worker")),
        "Research.Distributed.Worker.dll");

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Research.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Research.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>tools/launch.sh LAUNCH_ARGS dotnet worker.dll WORKER_ARGS (arguments separated by spaces).</summary>
    public static Result Launch(string launchArgs, string workerArgs, int timeoutSeconds = 120) =>
        LaunchCommand(launchArgs, ["dotnet", WorkerDll, .. Words(workerArgs)], timeoutSeconds);

    /// <summary>tools/launch.sh with any command, given as its words.</summary>
    public static Result LaunchCommand(string launchArgs, string[] command, int timeoutSeconds = 60) =>
        Run("bash", ["tools/launch.sh", .. Words(launchArgs), .. command], timeoutSeconds);

    private static string[] Words(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Starts one rank of a world of <paramref name="worldSize"/> with master 127.0.0.1:port.</summary>
    public static Process StartRank(int rank, int worldSize, int port, string workerArgs)
    {
        var psi = Info("dotnet", [WorkerDll, .. Words(workerArgs)]);
        psi.Environment["RANK"] = rank.ToString();
        psi.Environment["LOCAL_RANK"] = rank.ToString();
        psi.Environment["WORLD_SIZE"] = worldSize.ToString();
        psi.Environment["MASTER_ADDR"] = "127.0.0.1";
        psi.Environment["MASTER_PORT"] = port.ToString();
        return Process.Start(psi)!;
    }

    public static Result Run(string file, string[] arguments, int timeoutSeconds)
    {
        var psi = Info(file, arguments);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        return Finish(p, sw, timeoutSeconds);
    }

    public static Result Finish(Process p, Stopwatch sw, int timeoutSeconds)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{p.StartInfo.FileName} {string.Join(' ', p.StartInfo.ArgumentList)} did not finish in {timeoutSeconds} s");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result, sw.Elapsed);
    }

    /// <summary>A TCP port nothing listens on now.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static ProcessStartInfo Info(string file, string[] arguments) => new(file, arguments)
    {
        WorkingDirectory = RepoRoot,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
}
