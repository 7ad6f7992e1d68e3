using System.Diagnostics;
using System.Globalization;
using Research.Data;
using Research.Torch;
using static Research.Torch.torch;

namespace Research.Models;

/// <summary>How a <see cref="Trainer"/> runs. <see cref="Directory"/> receives checkpoint.safetensors and
/// metrics.csv (none when null). A part's learning rate follows <see cref="LearningRate"/> at every step.
/// <see cref="AfterBackward"/> runs on a part's gradients before clipping (where data-parallel training
/// averages them across ranks); <see cref="Writes"/> false makes a run read its checkpoint but write nothing
/// (every rank but 0). <see cref="RngStream"/> r &gt; 0 reseeds the generator from (Seed, r, step) when a run
/// starts, so that the data-parallel ranks draw independent noise (see <see cref="DataParallel"/>).</summary>
public sealed record TrainerOptions(
    long Steps,
    ulong Seed,
    string? Directory = null,
    optim.LearningRateSchedule? LearningRate = null,
    double? ClipGradNorm = null,
    long CheckpointEvery = 0,
    int LogEvery = 20,
    bool Progress = true,
    bool Resume = true,
    Action<TrainedPart>? AfterBackward = null,
    bool Writes = true,
    int RngStream = 0);

/// <summary>Training stopped because a loss was NaN or infinite; the last checkpoint on disk is the last good one.</summary>
public sealed class TrainingDivergedException(long step, string loss, double value)
    : ArithmeticException($"training diverged at step {step}: loss '{loss}' is {value.ToString(CultureInfo.InvariantCulture)}; the last checkpoint was kept and nothing after it was saved")
{
    /// <summary>The step whose loss was not finite.</summary>
    public long Step { get; } = step;
}

/// <summary>What one step sees: the batch, the trainer's generator (every random draw of a step must come from
/// it, for bit-identical resumes) and <see cref="Update"/>, which applies one optimizer step to a part.</summary>
public sealed class StepContext
{
    private readonly Trainer trainer;
    internal StepContext(Trainer trainer) => this.trainer = trainer;

    /// <summary>The batch of inputs [B, C, H, W] (points as [B, d, 1, 1]).</summary>
    public Tensor Inputs { get; internal set; } = null!;
    /// <summary>The batch's int64 labels [B].</summary>
    public Tensor Labels { get; internal set; } = null!;
    /// <summary>The trainer's generator, the source of every random draw of the step.</summary>
    public Generator Generator => trainer.Generator;
    /// <summary>The number of steps completed before this one.</summary>
    public long Step => trainer.Step;
    internal Dictionary<string, double> Losses { get; } = new();

    /// <summary>Checks that <paramref name="loss"/> is finite (else throws <see cref="TrainingDivergedException"/>
    /// before anything changes), then zero_grad, backward, clipping, the learning-rate schedule, the optimizer
    /// step and the EMA update of <paramref name="part"/>. The loss is recorded under <paramref name="name"/>.</summary>
    public void Update(TrainedPart part, Tensor loss, string name = "loss")
    {
        var value = loss.ToDouble();
        if (!double.IsFinite(value)) throw new TrainingDivergedException(Step, name, value);
        Losses[name] = value;
        part.Optimizer.zero_grad();
        loss.backward();
        trainer.Options.AfterBackward?.Invoke(part);
        if (trainer.Options.ClipGradNorm is double c) nn.utils.clip_grad_norm_(part.Module.parameters(), c);
        trainer.Options.LearningRate?.apply(part.Optimizer);
        part.Optimizer.step();
        part.Ema?.update();
    }

    /// <summary>Records a number for the metrics file without an update (a discriminator's accuracy, a KL term).</summary>
    public void Record(string name, double value) => Losses[name] = value;
}

/// <summary>How a run ended.</summary>
public enum TrainingOutcome
{
    /// <summary>All <see cref="TrainerOptions.Steps"/> steps ran.</summary>
    Completed,
    /// <summary>Stopped early by <see cref="Trainer.Stop"/> or Ctrl-C, after saving a checkpoint.</summary>
    Interrupted,
}

/// <summary>
/// The training loop every family shares (DESIGN: "one trainer for every family"): batches from an
/// <see cref="IBatchSource"/>, a family's step function (one update for diffusion, a VAE or a flow; two for a
/// GAN), learning-rate schedule, gradient clipping, EMA, a progress line (loss, images/s, ETA), metrics.csv,
/// and atomic checkpoints holding every part, the generator and the data position, every
/// <see cref="TrainerOptions.CheckpointEvery"/> steps and at the end. A run finds its checkpoint in
/// <see cref="TrainerOptions.Directory"/> and resumes; on CPU it then continues bit-identically. A NaN or
/// infinite loss stops the run with <see cref="TrainingDivergedException"/>; Ctrl-C (or <see cref="Stop"/>)
/// saves a checkpoint after the current step and returns <see cref="TrainingOutcome.Interrupted"/>.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly IReadOnlyList<TrainedPart> parts;
    private readonly IBatchSource data;
    private readonly Action<StepContext> step;
    private volatile bool stopRequested;

    /// <summary>
    /// A trainer of <paramref name="parts"/> (distinct names) over <paramref name="data"/> running
    /// <paramref name="step"/>; <paramref name="generator"/> defaults to one seeded with Options.Seed, owned by the trainer.
    /// Throws ArgumentException for no parts, duplicate names or negative steps.
    /// </summary>
    public Trainer(IReadOnlyList<TrainedPart> parts, IBatchSource data, Action<StepContext> step, TrainerOptions options, Generator? generator = null)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to train: no parts");
        if (parts.Select(p => p.Name).Distinct().Count() != parts.Count) throw new ArgumentException("part names must be distinct");
        if (options.Steps < 0) throw new ArgumentException($"steps must be >= 0, got {options.Steps}");
        (this.parts, this.data, this.step, Options) = (parts, data, step, options);
        Generator = generator ?? new Generator(options.Seed);
        ownsGenerator = generator is null;
    }

    private readonly bool ownsGenerator;
    /// <summary>How this trainer runs.</summary>
    public TrainerOptions Options { get; }
    /// <summary>The generator of every random draw the steps make (noise, times, label dropout); saved in each checkpoint.</summary>
    public Generator Generator { get; }
    /// <summary>The number of steps completed.</summary>
    public long Step { get; private set; }
    /// <summary>Directory/checkpoint.safetensors, or null without a directory.</summary>
    public string? CheckpointPath => Options.Directory is null ? null : Path.Combine(Options.Directory, "checkpoint.safetensors");
    /// <summary>Directory/metrics.csv, or null without a directory.</summary>
    public string? MetricsPath => Options.Directory is null ? null : Path.Combine(Options.Directory, "metrics.csv");

    /// <summary>Asks the loop to save and return after the current step (what Ctrl-C does).</summary>
    public void Stop() => stopRequested = true;

    /// <summary>
    /// Writes a checkpoint (parts, generator, step, data position) when there is a directory and this run writes;
    /// otherwise does nothing.
    /// </summary>
    public void SaveCheckpoint()
    {
        if (CheckpointPath is null || !Options.Writes) return;
        var (epoch, offset) = data.Position;
        Checkpoint.Save(CheckpointPath, parts, Generator, new Dictionary<string, string>
        {
            ["step"] = Step.ToString(CultureInfo.InvariantCulture),
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["offset"] = offset.ToString(CultureInfo.InvariantCulture),
            ["seed"] = Options.Seed.ToString(CultureInfo.InvariantCulture),
        });
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> (all or nothing).</summary>
    public void LoadCheckpoint(string path)
    {
        var meta = Checkpoint.Load(path, parts, Generator);
        long Read(string key) => meta.TryGetValue(key, out var s) && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new InvalidDataException($"{path}: metadata '{key}' is missing or not an integer");
        Step = Read("step");
        data.Position = new DataPosition(Read("epoch"), Read("offset"));
    }

    /// <summary>
    /// Runs from the checkpoint (if resuming and one exists) up to Options.Steps steps, checkpointing and logging on
    /// the way; returns how the run ended and throws <see cref="TrainingDivergedException"/> on a non-finite loss.
    /// </summary>
    public TrainingOutcome Run()
    {
        if (Options.Resume && CheckpointPath is not null && File.Exists(CheckpointPath)) LoadCheckpoint(CheckpointPath);
        if (Options.RngStream > 0)
        {
            using var stream = new Generator(Options.Seed * 0x9E3779B97F4A7C15UL + (ulong)Options.RngStream * 0xBF58476D1CE4E5B9UL + (ulong)Step);
            using var state = stream.get_state();
            Generator.set_state(state);
        }
        if (Options.Directory is not null && Options.Writes) System.IO.Directory.CreateDirectory(Options.Directory);
        using var metrics = MetricsPath is null || !Options.Writes ? null : new MetricsWriter(MetricsPath, append: Step > 0);
        var context = new StepContext(this);
        var progress = new ProgressLine(Options.Steps, Step, enabled: Options.Progress && Options.Writes);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stopRequested = true; };
        Console.CancelKeyPress += onCancel;
        try
        {
            var window = new Dictionary<string, (double sum, int count)>();
            var clock = Stopwatch.StartNew();
            long imagesSinceLog = 0;
            while (Step < Options.Steps)
            {
                if (stopRequested)
                {
                    SaveCheckpoint();
                    progress.Finish($"interrupted at step {Step}; checkpoint saved");
                    return TrainingOutcome.Interrupted;
                }
                using (var scope = NewDisposeScope())
                {
                    var (inputs, labels) = data.Next();
                    (context.Inputs, context.Labels) = (inputs, labels);
                    context.Losses.Clear();
                    step(context);
                }
                Step++;
                imagesSinceLog += data.BatchSize;
                foreach (var (k, v) in context.Losses)
                    window[k] = window.TryGetValue(k, out var w) ? (w.sum + v, w.count + 1) : (v, 1);
                progress.Update(Step, context.Losses, data.BatchSize);
                if (Step % Options.LogEvery == 0 || Step == Options.Steps)
                {
                    var seconds = clock.Elapsed.TotalSeconds;
                    metrics?.Write(Step, data.Position.Epoch, parts[0].Optimizer.lr, imagesSinceLog / Math.Max(seconds, 1e-9),
                        window.ToDictionary(kv => kv.Key, kv => kv.Value.sum / kv.Value.count));
                    window.Clear();
                    imagesSinceLog = 0;
                    clock.Restart();
                }
                if (Options.CheckpointEvery > 0 && Step % Options.CheckpointEvery == 0 && Step < Options.Steps) SaveCheckpoint();
            }
            SaveCheckpoint();
            progress.Finish($"done: {Step} steps");
            return TrainingOutcome.Completed;
        }
        catch (TrainingDivergedException e)
        {
            progress.Finish(e.Message);
            throw;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Releases the generator if the trainer created it.</summary>
    public void Dispose()
    {
        if (ownsGenerator) Generator.Dispose();
    }
}

/// <summary>metrics.csv: step, epoch, lr, images_per_s, then one column per recorded loss (columns fixed by the
/// first row; a resumed run appends).</summary>
internal sealed class MetricsWriter : IDisposable
{
    private readonly StreamWriter writer;
    private string[]? columns;

    public MetricsWriter(string path, bool append)
    {
        append &= File.Exists(path);
        if (append)
        {
            var header = File.ReadLines(path).FirstOrDefault();
            if (header is not null) columns = header.Split(',').Skip(4).ToArray();
        }
        writer = new StreamWriter(path, append) { AutoFlush = true };
    }

    public void Write(long step, long epoch, double lr, double imagesPerSecond, Dictionary<string, double> values)
    {
        if (columns is null)
        {
            columns = values.Keys.ToArray();
            writer.WriteLine(string.Join(",", new[] { "step", "epoch", "lr", "images_per_s" }.Concat(columns)));
        }
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        writer.WriteLine(string.Join(",", new[] { step.ToString(CultureInfo.InvariantCulture), epoch.ToString(CultureInfo.InvariantCulture), F(lr), F(imagesPerSecond) }
            .Concat(columns.Select(c => values.TryGetValue(c, out var v) ? F(v) : ""))));
    }

    public void Dispose() => writer.Dispose();
}

/// <summary>A one-line progress bar on stderr (step, smoothed losses, images/s, ETA). When stderr is not a
/// terminal (CI, a log file) it prints a plain line every 10% instead of redrawing.</summary>
internal sealed class ProgressLine(long total, long start, bool enabled)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly bool redraw = !Console.IsErrorRedirected;
    private readonly Dictionary<string, double> smoothed = new();
    private long lastDraw = -1, lastDecile = -1, images;
    private double lastTime;

    public void Update(long step, IReadOnlyDictionary<string, double> losses, int batch)
    {
        if (!enabled) return;
        images += batch;
        foreach (var (k, v) in losses) smoothed[k] = smoothed.TryGetValue(k, out var s) ? 0.95 * s + 0.05 * v : v;
        var now = clock.Elapsed.TotalSeconds;
        long decile = total == 0 ? 10 : 10 * step / total;
        bool due = redraw ? now - lastTime > 0.25 || step == total : decile != lastDecile;
        if (!due || step == lastDraw) return;
        (lastDraw, lastDecile, lastTime) = (step, decile, now);
        double rate = images / Math.Max(now, 1e-9), stepsPerSecond = (step - start) / Math.Max(now, 1e-9);
        var eta = TimeSpan.FromSeconds(stepsPerSecond > 0 ? (total - step) / stepsPerSecond : 0);
        int filled = total == 0 ? 20 : (int)(20 * step / total);
        var text = $"step {step}/{total} [{new string('#', filled)}{new string('.', 20 - filled)}] " +
                   string.Join(" ", smoothed.Select(kv => $"{kv.Key} {kv.Value:G4}")) + $" | {rate:F0} img/s | ETA {eta:hh\\:mm\\:ss}";
        if (redraw) Console.Error.Write("\r" + text.PadRight(Console.BufferWidth > 0 ? Math.Min(Console.BufferWidth - 1, 120) : 0));
        else Console.Error.WriteLine(text);
    }

    public void Finish(string message)
    {
        if (!enabled) return;
        if (redraw && lastDraw >= 0) Console.Error.WriteLine();
        Console.Error.WriteLine(message);
    }
}
