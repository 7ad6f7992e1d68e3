using Research.Torch;
using static Research.Torch.torch;

namespace Research.Torch.Tests;

/// <summary>The test assembly run as a program, so a test can measure a loop in a fresh process (resident
/// memory is a whole-process reading): <c>dotnet Research.Torch.Tests.dll mlp-rss scoped|unscoped STEPS</c>
/// trains a small MLP and prints "step rss_bytes" every tenth of the run; <c>ones</c> prints the sum of
/// torch.ones(2), or the error that loading the native library gave.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["mlp-rss", var mode, var steps] && mode is "scoped" or "unscoped")
        {
            MlpLoop(mode == "scoped", int.Parse(steps), (step, rss) => Console.WriteLine($"{step} {rss}"));
            return 0;
        }
        if (args is ["ones"])
        {
            try { Console.WriteLine(ones([2]).sum().ToDouble()); }
            catch (TypeInitializationException e) { Console.Error.WriteLine(e.InnerException?.Message); return 1; }
            return 0;
        }
        Console.Error.WriteLine("usage: mlp-rss scoped|unscoped STEPS | ones");
        return 2;
    }

    internal static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    /// <summary>A 2-256-256-2 SiLU MLP fitting the identity with Adam, batch 256: with dispose scopes, or
    /// leaving every temporary to the garbage collector as a user who never heard of scopes would.</summary>
    internal static void MlpLoop(bool scoped, int steps, Action<int, long> report)
    {
        manual_seed(1);
        using var l1 = new nn.Linear(2, 256);
        using var l2 = new nn.Linear(256, 256);
        using var l3 = new nn.Linear(256, 2);
        using var optimizer = new optim.Adam(l1.parameters().Concat(l2.parameters()).Concat(l3.parameters()), 1e-3);
        for (int step = 1; step <= steps; step++)
        {
            var scope = scoped ? NewDisposeScope() : null;
            var x = randn([256, 2]);
            var y = l3.forward(nn.functional.silu(l2.forward(nn.functional.silu(l1.forward(x)))));
            var loss = nn.functional.mse_loss(y, x);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            scope?.Dispose();
            if (step % Math.Max(1, steps / 10) == 0) report(step, ResidentBytes());
        }
    }
}
