using Research.Data;
using Research.Diffusion;
using Research.Models;
using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Distributed.Tests;

/// <summary>
/// The training code of the toolkit, unchanged, with device = cuda: the toy DDPM trainer, a tiny U-Net through
/// the <see cref="Trainer"/> (batches, EMA, checkpoints, resume), the samplers and the classifier's queries.
/// Generators stay on the CPU, so a CUDA run starts from the CPU run's weights and sees its data and noise; only
/// float32 kernels differ. Skipped (and counted as skipped) without CUDA; on CPU the meta-device tests of
/// tests/Research.Models.Tests check the same paths for tensors created on the wrong device.
/// </summary>
public class CudaTrainingTests
{
    private static readonly UNetConfig Tiny = new([8, 16], 16, Groups: 4, EmbeddingWidth: 32, TimeFrequencies: 8, Classes: 10);

    private static double MaxDifference(IEnumerable<Tensor> a, IEnumerable<Tensor> b) =>
        a.Zip(b).Max(p => (p.First.to(float64, CPU) - p.Second.to(float64, CPU)).abs().max().ToDouble());

    [CudaFact, Trait("Category", "cuda")]
    public void The_toy_DDPM_trains_on_CUDA_as_on_the_CPU_and_samples_there()
    {
        double[] Losses(Device device)
        {
            using var toy = ToyDdpmTrainer.Ring(5, batchSize: 64, width: 32, depth: 2, device: device);
            var losses = Enumerable.Range(0, 5).Select(_ => toy.TrainStep()).ToArray();
            Assert.All(toy.Model.parameters(), p => Assert.Equal(device, p.device));
            using var g = new Generator(1);
            using var samples = toy.Sample(16, g);
            Assert.Equal(device, samples.device);
            Assert.True(samples.isfinite().all().ToBoolean());
            return losses;
        }
        var cpu = Losses(CPU);
        var cuda = Losses(CUDA);
        // Same weights, data and noise; float32 kernels differ by round-off only (a wrong draw would differ by O(1)).
        for (int i = 0; i < cpu.Length; i++) Assert.Equal(cpu[i], cuda[i], cpu[i] * 1e-3);
    }

    [CudaFact, Trait("Category", "cuda")]
    public void A_CUDA_checkpoint_resumes_on_CUDA_and_loads_on_the_CPU()
    {
        var dir = Directory.CreateTempSubdirectory("cuda-ckpt-").FullName;
        try
        {
            var path = Path.Combine(dir, "toy.safetensors");
            using var straight = ToyDdpmTrainer.Ring(7, batchSize: 32, width: 16, depth: 1, device: CUDA);
            for (int i = 0; i < 3; i++) straight.TrainStep();
            straight.Save(path);
            for (int i = 0; i < 2; i++) straight.TrainStep();

            using var resumed = ToyDdpmTrainer.Ring(99, batchSize: 32, width: 16, depth: 1, device: CUDA);
            resumed.Resume(path);
            for (int i = 0; i < 2; i++) resumed.TrainStep();
            Assert.InRange(MaxDifference(straight.Model.parameters(), resumed.Model.parameters()), 0, 1e-6);

            using var onCpu = ToyDdpmTrainer.Ring(99, batchSize: 32, width: 16, depth: 1);
            onCpu.Resume(path);
            Assert.All(onCpu.Model.parameters(), p => Assert.Equal(CPU, p.device));
            onCpu.TrainStep();   // the optimizer state came to the CPU with the weights
        }
        finally { Directory.Delete(dir, true); }
    }

    [CudaFact, Trait("Category", "cuda")]
    public void A_tiny_UNet_trains_resumes_and_samples_on_CUDA_through_the_trainer()
    {
        using var g0 = new Generator(3);
        using var data = new ImageDataset(rand([64, 1, 28, 28], generator: g0) * 2.0 - 1.0, randint(0, 10, [64], generator: g0), 10);
        var root = Directory.CreateTempSubdirectory("cuda-unet-").FullName;
        try
        {
            ImageDiffusion Run(string dir, long steps)
            {
                using var g = new Generator(17);
                var model = new ImageDiffusion(new ImageDiffusionOptions(Tiny, DiffusionObjective.Ddpm(DdpmSchedule.Linear(100)), WarmupSteps: 2, EmaDecay: 0.9), g, CUDA);
                using var batches = new BatchStream(data, 16, 5, device: CUDA);
                var options = new TrainerOptions(steps, 5, dir, Progress: false, LogEvery: 1);
                using var trainer = model.Trainer(batches, options with { LearningRate = model.Schedule(6) }, g);
                trainer.Run();
                return model;
            }
            using var straight = Run(Path.Combine(root, "a"), 6);
            Run(Path.Combine(root, "b"), 3).Dispose();
            using var resumed = Run(Path.Combine(root, "b"), 6);
            Assert.All(straight.Network.parameters(), p => Assert.Equal(CUDA, p.device));
            Assert.All(straight.Ema.state_dict().Values, t => Assert.Equal(CUDA, t.device));
            // cuDNN may pick other kernels in another process; a wrong restore differs by far more.
            Assert.InRange(MaxDifference(straight.Network.parameters(), resumed.Network.parameters()), 0, 1e-4);
            Assert.InRange(MaxDifference(straight.Ema.state_dict().Values, resumed.Ema.state_dict().Values), 0, 1e-4);
            Assert.Equal(7, File.ReadAllLines(Path.Combine(root, "b", "metrics.csv")).Length);   // header + 6 steps

            using var g2 = new Generator(4);
            using var labels = arange(4);   // on the CPU: Sample moves them
            var (samples, nfe) = straight.Sample(Samplers.Ddim(), straight.Grid(4), 4, g2, labels, guidance: 1.0);
            using (samples)
            {
                Assert.Equal(CUDA, samples.device);
                Assert.Equal([4L, 1, 28, 28], samples.shape);
                Assert.True(samples.isfinite().all().ToBoolean());
                Assert.Equal(8, nfe);
            }
        }
        finally { Directory.Delete(root, true); }
    }

    [CudaFact, Trait("Category", "cuda")]
    public void The_classifier_on_CUDA_gives_the_CPU_features_of_CPU_images()
    {
        using var g = new Generator(4);
        using var cpu = new FashionClassifier(new nn.LayerOptions(generator: g));
        using var cuda = new FashionClassifier(new nn.LayerOptions(device: CUDA));
        cuda.load_state_dict(cpu.state_dict());
        using var images = rand([5, 1, 28, 28], generator: g) * 2.0 - 1.0;
        using var a = cpu.FeaturesOf(images, batch: 2);
        using var b = cuda.FeaturesOf(images, batch: 2);
        Assert.Equal(CPU, b.device);
        Assert.InRange(MaxDifference([a], [b]), 0, 1e-4 * (1 + a.abs().max().ToDouble()));
    }
}
