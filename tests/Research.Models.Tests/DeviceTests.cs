using Research.Data;
using Research.Diffusion;
using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

/// <summary>
/// Device-following without a GPU. Tensors on the meta device have shapes and dtypes but no data, and libtorch
/// checks devices on them as on CUDA: an op mixing a meta tensor with a CPU tensor of one or more dimensions
/// throws "Expected all tensors to be on the same device". So code that creates a tensor without taking the
/// device from its inputs fails here exactly where it would fail on CUDA. (libtorch 1.13 has no meta kernels for
/// convolutions, group norm or reading a value, so the U-Net, the optimizer step and the trainer are checked by
/// the cuda-tagged tests of tests/Research.Distributed.Tests instead.)
/// </summary>
public class DeviceTests
{
    [Fact]
    public void A_CPU_generator_draws_for_any_device_the_same_numbers_it_draws_for_the_CPU()
    {
        using var onMeta = new Generator(11);
        using var onCpu = new Generator(11);
        using var a = randn([5], float64, META, onMeta);
        using var b = randn([5], float64, CPU, onCpu);
        using var c = empty([3], float64, META).normal_(0, 1, onMeta);
        using var d = empty([3], float64).normal_(0, 1, onCpu);
        Assert.Equal(META, a.device);
        Assert.Equal(META, c.device);
        // The meta draws advanced the generator exactly as the CPU ones did.
        Assert.Equal(onCpu.get_state().data<byte>(), onMeta.get_state().data<byte>());
        using var next = randn([4], float64, generator: onMeta);
        using var expected = randn([4], float64, generator: onCpu);
        Assert.Equal(expected.data<double>(), next.data<double>());
        Assert.Equal(META, randint(0, 3, [2], META, onMeta).device);
        Assert.Equal(META, randperm(4, META, onMeta).device);
        Assert.Equal(META, rand_like(a, onMeta).device);
    }

    [Fact]
    public void Mixing_a_meta_tensor_with_a_CPU_tensor_fails_as_mixing_CUDA_and_CPU_does()
    {
        // The premise of the tests below: the meta device catches a tensor created on the wrong device.
        using var x = zeros([3], float64, META);
        var e = Assert.Throws<TorchException>(() => x + ones([3], float64));
        Assert.Contains("same device", e.Message);
        Assert.Equal(META, (x + tensor(1.0, float64)).device);   // a 0-dim CPU scalar is allowed, as with CUDA
    }

    [Fact]
    public void The_toy_DDPM_model_loss_gradients_and_ancestral_sampler_follow_the_model_device()
    {
        using var toy = ToyDdpmTrainer.Ring(5, batchSize: 16, width: 8, depth: 1, device: META);
        Assert.All(toy.Model.parameters(), p => Assert.Equal(META, p.device));
        using var x0 = Toy2D.RingOfGaussians(16, toy.Generator, device: META);
        Assert.Equal(META, x0.device);
        using var loss = toy.Ddpm.Loss(toy.Model.forward, x0, toy.Generator);
        loss.backward();
        Assert.All(toy.Model.parameters(), p => Assert.Equal(META, p.grad!.device));
        using var g = new Generator(1);
        using var samples = toy.Sample(4, g);
        Assert.Equal(META, samples.device);
        Assert.Equal([4L, 2], samples.shape);
    }

    [Fact]
    public void Every_objective_target_and_the_library_samplers_follow_the_data_device()
    {
        using var g = new Generator(2);
        using var toy = new TimeConditionedMlp(2, 8, 8, 1, new nn.LayerOptions(float64, META, g));
        DiffusionNetwork net = (x, t, _) => toy.forward(x, t);
        using var x0 = Toy2D.TwoMoons(6, g, dtype: float64, device: META);
        foreach (var objective in new[] { DiffusionObjective.Ddpm(DdpmSchedule.Linear(50)), DiffusionObjective.RectifiedFlow(), DiffusionObjective.Edm() })
        {
            using var scope = NewDisposeScope();
            Assert.Equal(META, objective.Loss(net, x0, g).device);
            var model = objective.Denoiser(net).Unconditional();
            var times = TimeGrid.Karras(objective.Process, 3, 0.01, 10.0);
            var x = randn([6, 2], float64, META, g);
            foreach (var sampler in new[] { Samplers.Euler, Samplers.Heun, Samplers.DpmSolverPlusPlus2M, Samplers.EulerAncestral(), Samplers.Ddim() })
                Assert.Equal(META, sampler.Sample(model, objective.Process, times, x, g).X.device);
        }
    }

    [Fact]
    public void Batches_land_on_the_chosen_device()
    {
        using var data = new ImageDataset(arange(0, 12, dtype: float32).reshape(12, 1, 1, 1), arange(12), 12);
        using var stream = new BatchStream(data, 4, 0, device: META);
        var (x, y) = stream.Next();
        Assert.Equal(META, stream.Device);
        Assert.Equal((META, META), (x.device, y.device));
        Assert.Equal([4L, 1, 1, 1], x.shape);
    }

    [Fact]
    public void A_CPU_checkpoint_loads_into_a_model_on_another_device_with_its_optimizer_state_there()
    {
        var dir = Directory.CreateTempSubdirectory("device-ckpt-").FullName;
        try
        {
            var path = Path.Combine(dir, "toy.safetensors");
            using (var cpu = ToyDdpmTrainer.Ring(5, batchSize: 16, width: 8, depth: 1))
            {
                cpu.TrainStep();
                cpu.Save(path);
            }
            using var meta = ToyDdpmTrainer.Ring(5, batchSize: 16, width: 8, depth: 1, device: META);
            meta.Resume(path);
            Assert.Equal(1, meta.Step);
            Assert.All(meta.Model.parameters(), p => Assert.Equal(META, p.device));
            var state = meta.Optimizer.state_dict();
            Assert.Equal(2 * meta.Model.parameters().Length, state.Count - 1);   // exp_avg and exp_avg_sq of each
            Assert.All(state.Where(kv => kv.Key != "step"), kv => Assert.Equal(META, kv.Value.device));
            foreach (var t in state.Values) t.Dispose();
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void The_classifier_answers_on_the_images_device()
    {
        using var g = new Generator(4);
        using var classifier = new FashionClassifier(new nn.LayerOptions(float64, generator: g));
        using var images = rand([3, 1, 28, 28], float64, generator: g);
        using var features = classifier.FeaturesOf(images, batch: 2);
        Assert.Equal(CPU, features.device);
        Assert.Equal([3L, FashionClassifier.FeatureWidth], features.shape);
    }

    [Fact]
    public void Rank_shards_are_the_samplers_and_together_are_the_single_process_batches()
    {
        // 3 ranks of batch 2 read, at every step, the 6 images one process reads with batch 6 (as sets): what
        // data-parallel training relies on for equality with the single process.
        using var data = new ImageDataset(arange(0, 20, dtype: float32).reshape(20, 1, 1, 1), arange(20), 20);
        using var whole = new BatchStream(data, 6, 9);
        var ranks = Enumerable.Range(0, 3).Select(r => new BatchStream(data, 2, 9, rank: r, worldSize: 3)).ToArray();
        try
        {
            Assert.All(ranks, s => Assert.Equal(3, s.BatchesPerEpoch));   // ⌊20 / 3⌋ = 6 per rank, 2 left out
            for (int step = 0; step < 7; step++)                          // across two epoch boundaries
            {
                var union = ranks.SelectMany(s => s.Next().labels.data<long>()).Order().ToArray();
                Assert.Equal(whole.Next().labels.data<long>().Order().ToArray(), union);
            }
            for (int r = 0; r < 3; r++)
            {
                var sampler = new utils.data.DistributedSampler(20, 3, r, drop_last: true, permutation: ranks[0].EpochOrder);
                sampler.set_epoch(2);
                var fresh = new BatchStream(data, 2, 9, new DataPosition(2, 0), r, 3);
                Assert.Equal(sampler.indices(), Enumerable.Range(0, 3).SelectMany(_ => fresh.Next().labels.data<long>()));
                fresh.Dispose();
            }
        }
        finally
        {
            foreach (var s in ranks) s.Dispose();
        }
    }
}
