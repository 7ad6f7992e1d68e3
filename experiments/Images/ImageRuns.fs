/// What the image experiments share: the cached Fashion-MNIST classifier and its reference points, the
/// process/target choices by flag, training a U-Net (resuming its checkpoint), sampling per class, the
/// metrics of a sample set, and the sample-grid figure.
module Research.Experiments.ImageRuns

open System
open System.IO
open Research.Torch
open Research.Data
open Research.Diffusion
open Research.Models
open Research.Experiments.Figures

type Tensor = Research.Torch.Tensor

/// The diffusion set-ups the experiments compare, by command-line name.
let objectives: (string * (unit -> DiffusionObjective)) list =
    [ "vp-eps", (fun () -> DiffusionObjective.Ddpm(DdpmSchedule.Linear()))
      "ve-score",
      (fun () ->
          // Song et al.'s VE: score target with weight sigma² on the score error = 1 on the eps error.
          DiffusionObjective(VeGeometric(0.01, 50.0), TrainingTarget.Score, TimeDistribution.Uniform(1e-5), LossWeighting.Snr(0.0)))
      "subvp", (fun () -> DiffusionObjective(SubVp(), TrainingTarget.Eps, TimeDistribution.Uniform(1e-3), LossWeighting.Unweighted()))
      "rf", (fun () -> DiffusionObjective.RectifiedFlow())
      "edm", (fun () -> DiffusionObjective.Edm()) ]

let objective (name: string) =
    match objectives |> List.tryFind (fun (k, _) -> k = name) with
    | Some(_, make) -> make ()
    | None -> failwithf "unknown process '%s'; choose one of %s" name (String.Join(", ", objectives |> List.map fst))

let private sync = obj ()

/// The classifier every image metric uses, trained once on the full training split (5 epochs) and cached
/// under <results>/fashion-classifier/; its test accuracy and the FD reference points are cached beside it.
type Reference =
    { Classifier: FashionClassifier
      Accuracy: float
      TestFeatures: Tensor
      TrainTestFd: float
      NoiseTestFd: float }

let mutable private cached: (string * Reference) option = None

let reference (ctx: Context) =
    lock sync (fun () ->
        let dir = Path.Combine(ctx.Options.ResultsRoot, "fashion-classifier")
        match cached with
        | Some(d, r) when d = dir -> r
        | _ ->
            let path = Path.Combine(dir, "classifier.safetensors")
            let epochs = ctx.Int("classifier_epochs", 5, 5)
            if not (File.Exists path) then ctx.Log(sprintf "training the Fashion-MNIST classifier (%d epochs, cached for later runs)" epochs)
            let classifier = FashionClassifier.LoadOrTrain(path, epochs, progress = not ctx.Options.Quiet)
            use test = ImageDataset.FashionMnist(false)
            use train = ImageDataset.FashionMnist(true, 10000L)
            let accuracy = classifier.Accuracy test
            let testFeatures = classifier.FeaturesOf(test.Images).DetachFromDisposeScope()
            use trainFeatures = classifier.FeaturesOf(train.Images)
            use g = new Generator(12345UL)
            use noise = (torch.rand([| 10000L; 1L; 28L; 28L |], generator = g) * 2.0 - 1.0)
            use noiseFeatures = classifier.FeaturesOf noise
            let r =
                { Classifier = classifier
                  Accuracy = accuracy
                  TestFeatures = testFeatures
                  TrainTestFd = ImageMetrics.FrechetDistance(trainFeatures, testFeatures)
                  NoiseTestFd = ImageMetrics.FrechetDistance(noiseFeatures, testFeatures) }
            File.WriteAllText(
                Path.Combine(dir, "reference.json"),
                sprintf "{\n  \"classifier_accuracy\": %.6f,\n  \"fd_train_test\": %.6f,\n  \"fd_noise_test\": %.6f\n}\n" r.Accuracy r.TrainTestFd r.NoiseTestFd
            )
            cached <- Some(dir, r)
            r)

/// Records the classifier's accuracy and the two FD reference points in the summary.
let recordReference (ctx: Context) (r: Reference) =
    ctx.Record("classifier_accuracy", r.Accuracy)
    ctx.Record("fd_train_test", r.TrainTestFd)
    ctx.Record("fd_noise_test", r.NoiseTestFd)

/// The sizes of a training run, read from the context (small by default, --full for the real run).
type TrainingSize =
    { Network: UNetConfig
      Steps: int
      Batch: int
      Subset: int }

let trainingSizeWith (ctx: Context) (prefix: string) (smallSteps: int) (smallBatch: int) =
    let wide = ctx.Int(prefix + "width", 16, 32)
    let network = if wide >= 32 then UNetConfig.UNet28 else UNetConfig.Small
    { Network = (if wide = 16 || wide = 32 then network else UNetConfig([| wide; 2 * wide |], 4 * wide, Groups = min 8 (wide / 4)))
      Steps = ctx.Int(prefix + "steps", smallSteps, 2350)   // full: 5 epochs of 60,000 at batch 128
      Batch = ctx.Int(prefix + "batch", smallBatch, 128)
      Subset = ctx.Int(prefix + "subset", 60000, 60000) }

let trainingSize (ctx: Context) (prefix: string) (smallSteps: int) = trainingSizeWith ctx prefix smallSteps 64

/// Trains (or resumes, from <dir>/checkpoint.safetensors) a class-conditional U-Net with EMA on Fashion-MNIST;
/// metrics.csv and the checkpoint go to <dir>. Returns the model and the wall time of this call's training.
let train (ctx: Context) (dir: string) (objective: DiffusionObjective) (size: TrainingSize) (seed: uint64) =
    let options =
        ImageDiffusionOptions(size.Network.WithClasses 10, objective, EmaDecay = (if size.Steps >= 2000 then 0.999 else 0.99))
    let generator = new Generator(seed)
    let model = new ImageDiffusion(options, generator)
    // Launched with `./run.sh launch --nproc N`, each rank trains on its shard (batch = per-rank batch).
    use parallel = DataParallel.FromEnvironment()
    use data = ImageDataset.FashionMnist(true, int64 size.Subset)
    use batches = new BatchStream(data, size.Batch, seed, DataPosition(), parallel.Rank, parallel.WorldSize)
    let trainerOptions =
        parallel.Apply(TrainerOptions(int64 size.Steps, seed, dir, CheckpointEvery = 500L, Progress = not ctx.Options.Quiet), [ model.Part ])
    use trainer = model.Trainer(batches, trainerOptions, generator)
    let clock = Diagnostics.Stopwatch.StartNew()
    match trainer.Run() with
    | TrainingOutcome.Interrupted -> failwith "training interrupted (checkpoint saved; run again to resume)"
    | _ -> ()
    // Evaluation, figures and summaries are rank 0's; the other ranks are done once the model is trained.
    if not parallel.IsWriter then exit 0
    model, clock.Elapsed.TotalSeconds

/// The model of a process at a training size, trained once into <results>/models/<key>/ and reused by every
/// experiment that asks for the same set-up (the trainer resumes a finished checkpoint and returns at once).
let sharedModel (ctx: Context) (processName: string) (size: TrainingSize) =
    let key =
        sprintf "%s-c%d-s%d-b%d-n%d-seed%d" processName size.Network.Channels.[0] size.Steps size.Batch size.Subset ctx.Seed
    let dir = Path.Combine(ctx.Options.ResultsRoot, "models", key)
    let model, seconds = train ctx dir (objective processName) size (uint64 ctx.Seed)
    model, seconds, dir

/// n labels cycling through the 10 classes (n/10 per class).
let balancedLabels (n: int) =
    torch.tensor ([| for i in 0 .. n - 1 -> int64 (i % 10) |])

/// The key metrics of a sample set against the test set.
type SampleMetrics =
    { Fd: float
      Precision: float
      Recall: float
      ClassConsistency: float }

let metrics (r: Reference) (samples: Tensor) (labels: Tensor) =
    use scope = torch.NewDisposeScope()
    let features = r.Classifier.FeaturesOf samples
    let struct (precision, recall) = ImageMetrics.PrecisionRecall(r.TestFeatures, features)
    { Fd = ImageMetrics.FrechetDistance(features, r.TestFeatures)
      Precision = precision
      Recall = recall
      ClassConsistency = ImageMetrics.ClassConsistency(r.Classifier, samples, labels) }

/// Pixels of image i of [N, 1, 28, 28] as a 28×28 array.
let pixels (images: Tensor) (i: int) : float[,] =
    use img = images.[int64 i].reshape(28L, 28L).``to``(ScalarType.Float64).contiguous()
    let v = img.data<float>()
    Array2D.init 28 28 (fun r c -> v.[r * 28 + c])

/// Tiles [rows·cols, 1, 28, 28] images (row-major) into one picture with 2-pixel gaps.
let tile (images: Tensor) (rows: int) (cols: int) : float[,] =
    let gap = 2
    let out = Array2D.create (rows * (28 + gap) - gap) (cols * (28 + gap) - gap) -1.0
    for r in 0 .. rows - 1 do
        for c in 0 .. cols - 1 do
            let px = pixels images (r * cols + c)
            for y in 0 .. 27 do
                for x in 0 .. 27 do
                    out.[r * (28 + gap) + y, c * (28 + gap) + x] <- px.[y, x]
    out

/// A figure of one tiled image.
let imageFigure (title: string) (px: float[,]) =
    let h, w = Array2D.length1 px, Array2D.length2 px
    Figure.single title (Panel.create "" "" "" [ Trace.image title -1.0 1.0 px ] |> Panel.asImage)
    |> Figure.size (w * 3 + 80) (h * 3 + 120)

/// The grid of every sampler the library offers for images, by name, with its cost per step.
let imageSamplers: (string * Sampler) list =
    [ "Euler", Samplers.Euler
      "Heun", Samplers.Heun
      "DDIM", Samplers.Ddim()
      "DPM-Solver-2", Samplers.DpmSolver 2
      "DPM-Solver-3", Samplers.DpmSolver 3
      "DPM-Solver++(2M)", Samplers.DpmSolverPlusPlus2M
      "DDPM ancestral", Samplers.DdpmAncestral
      "EDM stochastic", Samplers.EdmStochastic(40.0, 0.05, 50.0, 1.003) ]
