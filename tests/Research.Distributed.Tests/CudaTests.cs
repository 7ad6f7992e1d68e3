using Research.Torch;
using Xunit;
using static Research.Torch.torch;
using dist = Research.Torch.torch.distributed;

namespace Research.Distributed.Tests;

/// <summary>A test that needs a CUDA device: reported as skipped (with the reason) where there is none.
/// Select them with <c>--filter Category=cuda</c>.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!cuda.is_available()) Skip = "no CUDA device (torch.cuda.is_available() is false)";
    }
}

public class CudaTests
{
    [Fact]
    public void Without_CUDA_there_is_no_device_memory_and_synchronize_says_why()
    {
        if (cuda.is_available()) return;  // the CUDA side is checked by the tests below
        Assert.Equal(0, cuda.device_count());
        Assert.Equal(0, cuda.memory_allocated());
        Assert.Equal(0, cuda.max_memory_allocated());
        cuda.empty_cache();
        var e = Assert.Throws<TorchException>(() => cuda.synchronize());
        Assert.Contains("CUDA", e.Message);
    }

    [CudaFact, Trait("Category", "cuda")]
    public void Memory_allocated_follows_a_tensor_and_the_peak_keeps_it()
    {
        cuda.synchronize();
        long before = cuda.memory_allocated();
        var t = zeros([1 << 20], float32, CUDA);  // 4 MiB
        cuda.synchronize();
        long during = cuda.memory_allocated();
        Assert.InRange(during - before, 4L << 20, (4L << 20) + (2L << 20));
        t.Dispose();
        cuda.empty_cache();
        Assert.Equal(before, cuda.memory_allocated());
        Assert.True(cuda.max_memory_allocated() >= during);
    }

    [CudaFact, Trait("Category", "cuda")]
    public void Gloo_reduces_CUDA_tensors()
    {
        using var g = dist.new_group("gloo", $"tcp://127.0.0.1:{Ranks.FreePort()}", 0, 1, TimeSpan.FromSeconds(30));
        using var t = tensor(new[] { 1.0, 2.0 }, device: CUDA);
        g.all_reduce(t, dist.ReduceOp.AVG);
        Assert.Equal(CUDA, t.device);
        Assert.Equal([1.0, 2.0], t.data<double>());
    }

    [CudaFact, Trait("Category", "cuda")]
    public void A_data_parallel_step_on_CUDA_matches_the_same_step_on_the_CPU()
    {
        // The same code with device = cuda: DDP's broadcast and averaging, Adam, all on the device.
        double Step(Device device)
        {
            using var g = dist.new_group("gloo", $"tcp://127.0.0.1:{Ranks.FreePort()}", 0, 1, TimeSpan.FromSeconds(30));
            using var gen = new Generator(3);
            using var x = randn([64, 2], float64, generator: gen);
            using var model = new nn.Linear(2, 1, options: new nn.LayerOptions(float64, null, gen));
            model.to(device);
            var ddp = new nn.parallel.DistributedDataParallel(model, g);
            using var opt = new optim.Adam(model.parameters(), lr: 0.1);
            using var xd = x.to(device);
            for (int i = 0; i < 3; i++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                nn.functional.mse_loss(model.forward(xd), xd.select(1, 0).unsqueeze(1)).backward();
                ddp.average_gradients();
                opt.step();
            }
            return model.weight.to(CPU).sum().ToDouble();
        }
        Assert.Equal(Step(CPU), Step(CUDA), 1e-10);
    }

    [CudaFact, Trait("Category", "cuda")]
    public void Optimizer_state_loaded_from_the_CPU_lands_on_the_parameters_device()
    {
        using var p = randn([3], float64).to(CUDA).requires_grad_();
        using var opt = new optim.Adam([p], lr: 0.1);
        p.grad = ones([3], float64, CUDA);
        opt.step();
        var cpu = opt.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(CPU));
        opt.load_state_dict(cpu);
        var state = opt.state_dict();
        Assert.All(state.Where(kv => kv.Key != "step"), kv => Assert.Equal(CUDA, kv.Value.device));
        opt.step();  // would fail on mixed devices
    }
}
