/// A DCGAN for 28×28 Fashion-MNIST (non-saturating loss, Adam beta1 = 0.5) trained through the trainer's
/// two-optimizer step: sample grid, loss curves, discriminator accuracy, FD / precision / recall in the project's
/// classifier features, and divergence reported, not hidden.
module Research.Experiments.DcganFashion

open System
open System.IO
open Research.Torch
open Research.Data
open Research.Models
open Research.Experiments.Figures
open Research.Experiments.ImageRuns
open Research.Experiments.GanRing

/// The sizes of a DCGAN run.
type DcganSize =
    { Steps: int
      Batch: int
      Width: int
      Latent: int }

/// Trains a DCGAN on Fashion-MNIST into <results>/models/<key>/, or reuses a finished run there (the trainer resumes
/// its final checkpoint and returns at once), so that fig05-summary scores the model dcgan-fashion trained. Returns the
/// GAN, its run folder, the training seconds of this call and the divergence, if any (reported, not hidden).
let trainShared (ctx: Context) (size: DcganSize) (seed: uint64) =
    let key = sprintf "dcgan-w%d-l%d-s%d-b%d-seed%d" size.Width size.Latent size.Steps size.Batch seed
    let dir = Path.Combine(ctx.Options.ResultsRoot, "models", key)
    let g = new Generator(seed)
    let o = torch.nn.LayerOptions(generator = g)
    let gan = new Gan(Gan.DcganGenerator(size.Latent, size.Width, o), Gan.DcganDiscriminator(size.Width, o), size.Latent)
    use data = ImageDataset.FashionMnist(true)
    use batches = new BatchStream(data, size.Batch, seed)
    use trainer = gan.Trainer(batches, TrainerOptions(int64 size.Steps, seed, dir, Progress = not ctx.Options.Quiet), g)
    let clock = Diagnostics.Stopwatch.StartNew()
    let diverged =
        try
            trainer.Run() |> ignore
            None
        with :? TrainingDivergedException as e -> Some e
    gan, dir, clock.Elapsed.TotalSeconds, diverged

let size (ctx: Context) (prefix: string) =
    { Steps = ctx.Int(prefix + "steps", 600, 4700) // full: 5 epochs of 60,000 at batch 64
      Batch = ctx.Int(prefix + "batch", 64, 64)
      Width = ctx.Int(prefix + "width", 16, 32)
      Latent = ctx.Int(prefix + "latent", 64, 100) }

let run (ctx: Context) =
    let size = size ctx ""
    let samples = ctx.Int("samples", 1000, 10000)
    let seed = uint64 ctx.Seed
    let gan, dir, seconds, diverged = trainShared ctx size seed
    use gan = gan
    ctx.Record("generator_parameters", gan.G.parameters() |> Seq.sumBy (fun p -> p.numel) |> int)
    ctx.Record("discriminator_parameters", gan.D.parameters() |> Seq.sumBy (fun p -> p.numel) |> int)
    ctx.Record("train_seconds", seconds)
    ctx.Record("diverged", diverged.IsSome)
    diverged |> Option.iter (fun e -> ctx.Record("diverged_at_step", int e.Step); ctx.Record("divergence", e.Message))

    let metricsTable = readMetrics (Path.Combine(dir, "metrics.csv"))
    let step, dLoss, gLoss, dAcc = column metricsTable "step", column metricsTable "d_loss", column metricsTable "g_loss", column metricsTable "d_accuracy"
    ctx.Record("d_loss_final", List.last dLoss)
    ctx.Record("g_loss_final", List.last gLoss)
    ctx.Record("d_accuracy_final", List.last dAcc)
    ctx.Record("g_loss_oscillation", oscillation gLoss)
    // The discriminator winning outright (accuracy → 1, generator loss growing) is the other way a GAN fails.
    ctx.Record("discriminator_won", List.last dAcc > 0.99)
    ctx.WriteCsv("training.csv", [ "step"; "d_loss"; "g_loss"; "d_accuracy" ], List.zip3 step dLoss (List.zip gLoss dAcc) |> List.map (fun (s, d, (gl, a)) -> [ s; d; gl; a ]))

    use eval = new Generator(seed + 1UL)
    let clockSample = Diagnostics.Stopwatch.StartNew()
    use x = gan.Sample(int64 samples, eval)
    ctx.Record("ms_per_sample", 1000.0 * clockSample.Elapsed.TotalSeconds / float samples)
    ctx.Record("nfe_per_sample", 1)
    if not diverged.IsSome then
        let r = reference ctx
        recordReference ctx r
        use scope = torch.NewDisposeScope()
        let features = r.Classifier.FeaturesOf x
        let struct (precision, recall) = ImageMetrics.PrecisionRecall(r.TestFeatures, features)
        ctx.Record("fd", ImageMetrics.FrechetDistance(features, r.TestFeatures))
        ctx.Record("precision", precision)
        ctx.Record("recall", recall)
    ctx.SaveFigure("dcgan_samples", imageFigure (sprintf "DCGAN samples after %d steps" size.Steps) (tile x 8 8))
    ctx.SaveFigure("dcgan_losses",
        Figure.grid "DCGAN training" 2
            [ Panel.create "losses" "step" "loss" [ Trace.line "discriminator" step dLoss; Trace.line "generator (non-saturating)" step gLoss ]
              Panel.create "discriminator accuracy" "step" "accuracy" [ Trace.line "D accuracy" step dAcc ] |> Panel.yRange 0.0 1.0 ])

let experiment =
    { Name = "dcgan-fashion"
      Ids = [ "GAN-01" ]
      Title = "DCGAN on Fashion-MNIST through the two-optimizer trainer: samples, losses, FD / precision / recall, divergence reported"
      InDefault = true
      Run = run }
