using System.Globalization;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Faces;
using FaceNetGen.Imaging;
using FaceNetGen.Models;

namespace FaceNetGen.Cli;

/// <summary>
/// The checkpoint named by <c>--model</c>, read once: its metadata (threshold, crop fraction) and an
/// <see cref="Embedder"/> over its weights on the CPU backend. Every error names the checkpoint file.
/// </summary>
internal sealed class LoadedModel : IDisposable
{
    /// <summary>The checkpoint's metadata key for the squared-distance threshold calibrated at training.</summary>
    public const string ThresholdKey = "threshold";

    /// <summary>The checkpoint's metadata key for the centre-crop fraction used at training.</summary>
    public const string CropKey = "crop_fraction";

    private readonly CpuBackend _backend;

    private LoadedModel(string path, Checkpoint checkpoint, CpuBackend backend, Embedder embedder)
    {
        Path = path;
        Checkpoint = checkpoint;
        _backend = backend;
        Embedder = embedder;
    }

    public string Path { get; }

    public Checkpoint Checkpoint { get; }

    public Embedder Embedder { get; }

    public ModelDescription Description => Embedder.Model;

    /// <summary>
    /// Reads the checkpoint (which names its spec) and builds the model. <paramref name="cropFraction"/> overrides
    /// the crop recorded at training (default: that one, else the preprocessor's default).
    /// </summary>
    public static LoadedModel Load(string path, double? cropFraction = null, int threads = 0)
    {
        var checkpoint = ReadCheckpoint(path);
        var entry = ModelCatalog.Get(checkpoint.SpecName);
        double crop = cropFraction ?? CropFraction(checkpoint, path) ?? Preprocessor.DefaultCropFraction;
        var backend = new CpuBackend(threads);
        FaceNetModel? model = null;
        try
        {
            model = entry.Create(backend, 32, false);
            checkpoint.ApplyTo(model, path);
            var embedder = new Embedder(model, crop, ownsModel: true);
            return new LoadedModel(path, checkpoint, backend, embedder);
        }
        catch
        {
            model?.Dispose();
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Reads a checkpoint, refusing a path that is a folder or missing with a message that says so.</summary>
    public static Checkpoint ReadCheckpoint(string path)
    {
        if (Directory.Exists(path)) throw new FaceNetException($"{path}: is a folder; --model takes a checkpoint file (.safetensors).");
        if (!File.Exists(path)) throw new FaceNetException($"{path}: checkpoint not found.");
        return Checkpoint.Load(path);
    }

    /// <summary>The threshold recorded in the checkpoint's metadata, or null when there is none.</summary>
    /// <exception cref="FaceNetException">The value is there but not a finite number.</exception>
    public float? CheckpointThreshold => Threshold(Checkpoint, Path);

    public static float? Threshold(Checkpoint checkpoint, string path)
    {
        if (!checkpoint.Metadata.TryGetValue(ThresholdKey, out var text)) return null;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value) || value < 0)
            throw new FaceNetException($"{path}: the checkpoint's '{ThresholdKey}' metadata is '{text}', not a non-negative number.");
        return value;
    }

    /// <summary>The threshold to use: <paramref name="given"/>, else the checkpoint's; and whether it came from the checkpoint.</summary>
    /// <exception cref="UsageException">Neither is there.</exception>
    public (float Value, bool FromCheckpoint) ResolveThreshold(double? given, string option = "threshold")
    {
        if (given is { } g) return ((float)g, false);
        if (CheckpointThreshold is { } t) return (t, true);
        throw new UsageException($"{Path} records no '{ThresholdKey}' (it was saved without held-out validation): give --{option} T, a squared distance (the paper's LFW threshold was 1.242 for its models).");
    }

    /// <summary>Says where a threshold came from, for people reading the output.</summary>
    public string DescribeThreshold(bool fromCheckpoint, string option = "threshold") => fromCheckpoint
        ? $"the '{ThresholdKey}' metadata of {Path}, calibrated on held-out identities during training"
        : $"--{option}";

    private static double? CropFraction(Checkpoint checkpoint, string path)
    {
        if (!checkpoint.Metadata.TryGetValue(CropKey, out var text)) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0 && value <= 1))
            throw new FaceNetException($"{path}: the checkpoint's '{CropKey}' metadata is '{text}', not a fraction in (0, 1].");
        return value;
    }

    /// <summary>Embeds image files, failing on a non-finite result (broken weights) with a message naming the checkpoint.</summary>
    public float[][] EmbedFiles(IReadOnlyList<string> paths)
    {
        var embeddings = Embedder.EmbedFiles(paths);
        for (int i = 0; i < embeddings.Length; i++)
        {
            if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(embeddings[i]))
                throw new FaceNetException($"{Path}: the model gives a non-finite embedding for {paths[i]}; the checkpoint's weights are broken.");
        }
        return embeddings;
    }

    public void Dispose()
    {
        Embedder.Dispose();
        _backend.Dispose();
    }
}
