using System.Reflection;

namespace Research.Distributed.Tests;

/// <summary>
/// The entry point of this test assembly when published self-contained (<c>./run.sh gpu-bundle</c>), for
/// machines without the .NET SDK (<c>./run.sh gpu-check</c>): <c>--cuda</c> runs every
/// <see cref="CudaFactAttribute"/> test of the assembly, prints one line per test and exits non-zero if
/// any failed (or if there is no CUDA device, where they would all be skipped). Under <c>dotnet test</c>
/// this is never called.
/// </summary>
public static class GpuCheck
{
    public static int Main(string[] args)
    {
        if (args is not ["--cuda"])
        {
            Console.Error.WriteLine("usage: Research.Distributed.Tests --cuda   (runs the cuda-tagged tests; use dotnet test otherwise)");
            return 2;
        }
        if (!Research.Torch.torch.cuda.is_available())
        {
            Console.Error.WriteLine("no CUDA device: torch.cuda.is_available() is false");
            return 1;
        }
        int failed = 0, passed = 0;
        var tests = typeof(GpuCheck).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods().Where(m => m.GetCustomAttribute<CudaFactAttribute>() is not null));
        foreach (var m in tests)
        {
            var name = $"{m.DeclaringType!.Name}.{m.Name}";
            try
            {
                var instance = m.IsStatic ? null : Activator.CreateInstance(m.DeclaringType);
                m.Invoke(instance, null);
                passed++;
                Console.WriteLine($"PASS {name}");
            }
            catch (TargetInvocationException e)
            {
                failed++;
                Console.WriteLine($"FAIL {name}: {e.InnerException?.Message}");
            }
        }
        Console.WriteLine($"cuda tests: {passed} passed, {failed} failed");
        return failed == 0 && passed > 0 ? 0 : 1;
    }
}
