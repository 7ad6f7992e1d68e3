using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Research.Distributed.Tests;

/// <summary>tools/launch.sh (./run.sh launch): torchrun's environment, failure propagation, several nodes.</summary>
public class LauncherTests(ITestOutputHelper output)
{
    [Fact]
    public void Each_rank_gets_torchrun_environment()
    {
        var r = Ranks.LaunchCommand("--nproc 3",
            ["bash", "-c", "echo \"rank=$RANK local=$LOCAL_RANK world=$WORLD_SIZE local_world=$LOCAL_WORLD_SIZE master=$MASTER_ADDR:$MASTER_PORT\""]);
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().ToArray();
        Assert.Equal(3, lines.Length);
        var port = Regex.Match(lines[0], @"master=127\.0\.0\.1:(\d+)").Groups[1].Value;
        Assert.NotEmpty(port);
        for (int k = 0; k < 3; k++)
            Assert.Equal($"rank={k} local={k} world=3 local_world=3 master=127.0.0.1:{port}", lines[k]);
    }

    [Fact]
    public void Node_rank_offsets_the_global_rank()
    {
        var r = Ranks.LaunchCommand("--nproc 2 --nnodes 3 --node-rank 2 --master 10.0.0.1:29400",
            ["bash", "-c", "echo \"$RANK $LOCAL_RANK $WORLD_SIZE $MASTER_ADDR $MASTER_PORT\""]);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["4 0 6 10.0.0.1 29400", "5 1 6 10.0.0.1 29400"], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
    }

    [Fact]
    public void A_failing_rank_stops_the_others_and_its_error_and_exit_code_come_out()
    {
        var r = Ranks.LaunchCommand("--nproc 3 --grace 2",
            ["bash", "-c", "if [ $RANK = 1 ]; then sleep 0.3; echo 'rank 1 broke: bad input' >&2; exit 7; fi; sleep 60"]);
        output.WriteLine($"{r.Elapsed.TotalSeconds:F1} s\n{r.Stderr}");
        Assert.Equal(7, r.ExitCode);
        Assert.Contains("launch: rank 1 exited with code 7", r.Stderr);
        Assert.Contains("  rank 1 broke: bad input", r.Stderr);  // repeated under the launcher's summary
        Assert.True(r.Elapsed.TotalSeconds < 20, "the sleeping ranks were not stopped");
    }

    [Fact]
    public void Bad_arguments_are_refused_with_usage()
    {
        var r = Ranks.LaunchCommand("--nproc 0", ["true"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--nproc must be a positive integer", r.Stderr);
        r = Ranks.LaunchCommand("--nproc 1 --nnodes 2 --node-rank 1", ["true"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--master HOST:PORT is required", r.Stderr);
    }

    [Fact]
    public void Two_launchers_as_two_nodes_form_one_world()
    {
        int port = Ranks.FreePort();
        var nodes = Enumerable.Range(0, 2).Select(node => Task.Run(() => Ranks.Launch(
            $"--nproc 1 --nnodes 2 --node-rank {node} --master 127.0.0.1:{port}", "collectives --timeout-ms 30000"))).ToArray();
        Task.WaitAll(nodes);
        foreach (var n in nodes) output.WriteLine(n.Result.Stdout + n.Result.Stderr);
        Assert.All(nodes, n => Assert.Equal(0, n.Result.ExitCode));
        Assert.Contains("rank 0: 24 collective checks passed", nodes[0].Result.Stdout);
        Assert.Contains("rank 1: 24 collective checks passed", nodes[1].Result.Stdout);
    }
}
