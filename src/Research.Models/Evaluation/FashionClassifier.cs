using Research.Data;
using Research.Torch;
using static Research.Torch.torch;
using F = Research.Torch.torch.nn.functional;

namespace Research.Models;

/// <summary>
/// The feature extractor of the image metrics: a small CNN trained by the project on Fashion-MNIST (nothing
/// is downloaded). conv3×3(1→32)-ReLU-maxpool, conv3×3(32→64)-ReLU-maxpool, Linear(3136→128)-ReLU, which
/// is the 128-dimensional feature layer, then Linear(128→10). Inputs are images in [-1, 1], [B, 1, 28, 28].
/// </summary>
public sealed class FashionClassifier : nn.Module<Tensor, Tensor>
{
    private readonly nn.Conv2d conv1, conv2;
    private readonly nn.Linear fc, head;

    /// <summary>Width of the feature layer used by the image metrics (128).</summary>
    public const int FeatureWidth = 128;

    /// <summary>
    /// An untrained classifier; the layers are initialised from <paramref name="options"/>'s generator, if any.
    /// </summary>
    public FashionClassifier(nn.LayerOptions? options = null)
    {
        conv1 = register_module("conv1", new nn.Conv2d(1, 32, 3, padding: 1, options: options));
        conv2 = register_module("conv2", new nn.Conv2d(32, 64, 3, padding: 1, options: options));
        fc = register_module("fc", new nn.Linear(64 * 7 * 7, FeatureWidth, options: options));
        head = register_module("head", new nn.Linear(FeatureWidth, 10, options: options));
    }

    /// <summary>The penultimate activations [B, 128].</summary>
    public Tensor Features(Tensor images)
    {
        var h = F.max_pool2d(F.relu(conv1.forward(images)), 2);
        h = F.max_pool2d(F.relu(conv2.forward(h)), 2);
        return F.relu(fc.forward(h.flatten(1)));
    }

    /// <summary>Class logits [B, 10].</summary>
    public override Tensor forward(Tensor images) => head.forward(Features(images));

    /// <summary>Features of a whole image set in float64 [N, 128], computed in batches without a graph.</summary>
    public Tensor FeaturesOf(Tensor images, int batch = 1000) => Batched(images, batch, Features);

    /// <summary>The predicted class of each image, int64 [N].</summary>
    public Tensor Predict(Tensor images, int batch = 1000) => Batched(images, batch, x => forward(x).argmax(1));

    /// <summary>The fraction of <paramref name="data"/> classified correctly.</summary>
    public double Accuracy(ImageDataset data)
    {
        using var scope = NewDisposeScope();
        return Predict(data.Images).eq(data.Labels).to(ScalarType.Float64).mean().ToDouble();
    }

    private Tensor Batched(Tensor images, int batch, Func<Tensor, Tensor> f)
    {
        using var _ = no_grad();
        var wasTraining = training;
        eval();
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (long i = 0; i < images.size(0); i += batch)
        {
            var chunk = images.narrow(0, i, Math.Min(batch, images.size(0) - i));
            var r = f(chunk);
            parts.Add(r.dtype is ScalarType.Float32 ? r.to(ScalarType.Float64) : r);
        }
        train(wasTraining);
        return cat(parts.ToArray(), 0).MoveToOuterScope();
    }

    /// <summary>Trains a classifier with Adam (lr 2e-3 with cosine decay, batch 128) and random horizontal flips
    /// for <paramref name="epochs"/> on <paramref name="train"/>, deterministically from <paramref name="seed"/>.</summary>
    public static FashionClassifier Train(ImageDataset train, int epochs = 5, ulong seed = 0, bool progress = true)
    {
        var generator = new Generator(seed);
        var model = new FashionClassifier(new nn.LayerOptions(generator: generator));
        using var optimizer = new optim.Adam(model.parameters(), 2e-3);
        using var batches = new BatchStream(train, 128, seed);
        var part = new TrainedPart("classifier", model, optimizer);
        long steps = epochs * batches.BatchesPerEpoch;
        using var trainer = new Trainer([part], batches, c =>
        {
            // Fashion-MNIST's classes are mirror-symmetric: flipping half the batch left-right is free data.
            var flip = rand([c.Inputs.size(0), 1, 1, 1], generator: c.Generator).lt(0.5);
            var logits = model.forward(where(flip, c.Inputs.flip([3]), c.Inputs));
            c.Update(part, F.cross_entropy(logits, c.Labels));
        }, new TrainerOptions(steps, seed, LearningRate: new optim.CosineLR(2e-3, steps, 1e-5), Progress: progress), generator);
        trainer.Run();
        generator.Dispose();
        return model;
    }

    /// <summary>The classifier cached at <paramref name="path"/> (safetensors), trained on the full training split
    /// and saved there first if the file does not exist.</summary>
    public static FashionClassifier LoadOrTrain(string path, int epochs = 5, ulong seed = 0, bool progress = true)
    {
        if (File.Exists(path))
        {
            var model = new FashionClassifier();
            using var state = new DisposableDictionary(safetensors.load(path));
            model.load_state_dict(state.Items);
            return model;
        }
        using var data = ImageDataset.FashionMnist(train: true);
        var trained = Train(data, epochs, seed, progress);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        safetensors.save(trained.state_dict(), path);
        return trained;
    }

    private sealed class DisposableDictionary(Dictionary<string, Tensor> items) : IDisposable
    {
        public Dictionary<string, Tensor> Items { get; } = items;
        public void Dispose() { foreach (var t in Items.Values) t.Dispose(); }
    }
}
