using Research.Data;
using Research.Diffusion;
using Research.Torch;
using Xunit;
using static Research.Torch.torch;

namespace Research.Models.Tests;

public class TrainerTests
{
    private static readonly UNetConfig Tiny = new([8, 16], 16, Groups: 4, EmbeddingWidth: 32, TimeFrequencies: 8, Classes: 10);

    private static ImageDataset SmallData(long n = 96)
    {
        using var g = new Generator(3);
        return new ImageDataset(rand([n, 1, 28, 28], generator: g) * 2.0 - 1.0, randint(0, 10, [n], generator: g), 10);
    }

    private static byte[] Bytes(nn.Module m) =>
        m.parameters().SelectMany(p => p.data<float>().SelectMany(BitConverter.GetBytes)).ToArray();

    /// <summary>Trains the tiny conditional U-Net (VP-eps, CFG dropout, EMA, warm-up + cosine, clipping) for
    /// <paramref name="steps"/> of a run planned for <paramref name="total"/>, in <paramref name="dir"/>.</summary>
    private static (byte[] model, byte[] ema, long step) Run(string dir, long steps, long total, ImageDataset data)
    {
        using var g = new Generator(17);
        using var model = new ImageDiffusion(new ImageDiffusionOptions(Tiny, DiffusionObjective.Ddpm(DdpmSchedule.Linear(100)), WarmupSteps: 2), g);
        using var batches = new BatchStream(data, 16, 5);
        var options = new TrainerOptions(steps, 5, dir, LogEvery: 1, Progress: false);
        using var trainer = model.Trainer(batches, options with { LearningRate = model.Schedule(total) }, g);
        trainer.Run();
        using var emaNet = new UNet(Tiny);
        model.Ema.copy_to(emaNet);
        return (Bytes(model.Network), Bytes(emaNet), trainer.Step);
    }

    [Fact]
    public void A_resumed_run_continues_bit_identically_across_an_epoch_boundary()
    {
        using var data = SmallData();   // 6 batches per epoch: 9 steps cross into epoch 1
        var straightDir = Directory.CreateTempSubdirectory("trainer-").FullName;
        var resumedDir = Directory.CreateTempSubdirectory("trainer-").FullName;
        try
        {
            var straight = Run(straightDir, 9, 9, data);
            Run(resumedDir, 4, 9, data);                      // stops after 4 steps, checkpoint at the end
            var resumed = Run(resumedDir, 9, 9, data);        // a new process would do exactly this
            Assert.Equal(9, resumed.step);
            Assert.Equal(straight.model, resumed.model);
            Assert.Equal(straight.ema, resumed.ema);
            // The metrics file continues rather than restarting.
            var lines = File.ReadAllLines(Path.Combine(resumedDir, "metrics.csv"));
            Assert.Equal(1 + 9, lines.Length);
            Assert.StartsWith("step,epoch,lr,images_per_s,loss", lines[0]);
        }
        finally
        {
            Directory.Delete(straightDir, true);
            Directory.Delete(resumedDir, true);
        }
    }

    [Fact]
    public void A_NaN_loss_stops_training_naming_the_step_and_keeps_the_last_good_checkpoint()
    {
        var dir = Directory.CreateTempSubdirectory("trainer-nan-").FullName;
        try
        {
            using var data = SmallData();
            using var g = new Generator(1);
            using var net = new nn.Linear(784, 1, options: new nn.LayerOptions(generator: g));
            using var opt = new optim.Adam(net.parameters(), 1e-3);
            var part = new TrainedPart("net", net, opt);
            using var batches = new BatchStream(data, 16, 1);
            using var trainer = new Trainer([part], batches, c =>
            {
                var loss = net.forward(c.Inputs.flatten(1)).square().mean();
                if (c.Step == 5) loss = loss * double.NaN;   // the 6th step diverges
                c.Update(part, loss);
            }, new TrainerOptions(10, 1, dir, CheckpointEvery: 2, Progress: false), g);
            var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
            Assert.Equal(5, e.Step);
            Assert.Contains("step 5", e.Message);
            Assert.Contains("NaN", e.Message);
            var meta = safetensors.load_with_metadata(Path.Combine(dir, "checkpoint.safetensors"));
            foreach (var t in meta.tensors.Values) t.Dispose();
            Assert.Equal("4", meta.metadata["step"]);   // the checkpoint of step 4, not a NaN one
            Assert.True(net.weight.isfinite().all().ToBoolean(), "the diverging step changed the weights");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Stop_saves_a_checkpoint_and_returns_interrupted()
    {
        var dir = Directory.CreateTempSubdirectory("trainer-stop-").FullName;
        try
        {
            using var data = SmallData();
            using var g = new Generator(1);
            using var net = new nn.Linear(784, 1, options: new nn.LayerOptions(generator: g));
            using var opt = new optim.SGD(net.parameters(), 1e-2);
            var part = new TrainedPart("net", net, opt);
            using var batches = new BatchStream(data, 16, 1);
            Trainer? self = null;
            using var trainer = new Trainer([part], batches, c =>
            {
                c.Update(part, net.forward(c.Inputs.flatten(1)).square().mean());
                if (c.Step == 2) self!.Stop();   // as Ctrl-C does
            }, new TrainerOptions(100, 1, dir, Progress: false), g);
            self = trainer;
            Assert.Equal(TrainingOutcome.Interrupted, trainer.Run());
            Assert.Equal(3, trainer.Step);
            var (tensors, metadata) = safetensors.load_with_metadata(Path.Combine(dir, "checkpoint.safetensors"));
            foreach (var t in tensors.Values) t.Dispose();
            Assert.Equal("3", metadata["step"]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Loading_a_checkpoint_that_does_not_match_changes_nothing_and_lists_every_problem()
    {
        var dir = Directory.CreateTempSubdirectory("ckpt-").FullName;
        try
        {
            var path = Path.Combine(dir, "c.safetensors");
            using var g = new Generator(1);
            using var a = new nn.Sequential(new nn.Linear(4, 8, options: new nn.LayerOptions(generator: g)), new nn.Linear(8, 3, options: new nn.LayerOptions(generator: g)));
            using var optA = new optim.Adam(a.parameters());
            Checkpoint.Save(path, [new TrainedPart("m", a, optA)], g);

            // Same first layer, wrong last layer: nothing may be overwritten, not even the first layer.
            using var b = new nn.Sequential(new nn.Linear(4, 8), new nn.Linear(8, 2));
            using var optB = new optim.Adam(b.parameters());
            var before = Bytes(b);
            using var g2 = new Generator(99);
            var rngBefore = g2.get_state().data<byte>();
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, [new TrainedPart("m", b, optB)], g2));
            Assert.Contains("'m.model.1.weight'", e.Message);
            Assert.Contains("'m.model.1.bias'", e.Message);
            Assert.Equal(before, Bytes(b));
            Assert.Equal(rngBefore, g2.get_state().data<byte>());

            // A checkpoint without the generator's state is rejected before anything is restored.
            var (tensors, meta) = safetensors.load_with_metadata(path);
            tensors.Remove("rng", out var rng);
            rng!.Dispose();
            safetensors.save(tensors, path, meta);
            foreach (var t in tensors.Values) t.Dispose();
            using var c = new nn.Sequential(new nn.Linear(4, 8), new nn.Linear(8, 3));
            using var optC = new optim.Adam(c.parameters());
            var cBefore = Bytes(c);
            var e2 = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, [new TrainedPart("m", c, optC)], g2));
            Assert.Contains("rng", e2.Message);
            Assert.Equal(cBefore, Bytes(c));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Batches_cover_each_epoch_once_in_a_seeded_order_without_new_buffers()
    {
        using var data = new ImageDataset(arange(0, 10, dtype: ScalarType.Float32).reshape(10, 1, 1, 1), arange(10), 10);
        using var stream = new BatchStream(data, 3, 42);
        var seen = new List<long>();
        Tensor? first = null;
        for (int i = 0; i < 3; i++)
        {
            var (x, y) = stream.Next();
            first ??= x;
            Assert.Same(first, x);   // one buffer, refilled
            seen.AddRange(y.data<long>());
            Assert.Equal(y.data<long>().Select(v => (float)v), x.flatten().data<float>());
        }
        Assert.Equal(9, seen.Distinct().Count());           // 3 full batches of 10: the remainder is dropped
        Assert.Equal(new DataPosition(0, 9), stream.Position);
        stream.Next();
        Assert.Equal(new DataPosition(1, 3), stream.Position);  // a new epoch, a new order
        using var again = new BatchStream(data, 3, 42);
        Assert.Equal(seen.Take(3), again.Next().labels.data<long>());
        using var other = new BatchStream(data, 3, 43);
        Assert.NotEqual(seen.Take(9), Enumerable.Range(0, 3).SelectMany(_ => other.Next().labels.data<long>()).ToList());
    }
}
