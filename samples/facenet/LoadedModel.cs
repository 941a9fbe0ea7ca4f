using FaceNetGen.Backends.Cpu;
using FaceNetGen.Faces;
using FaceNetGen.Models;

namespace FaceNetGen.Cli;

/// <summary>
/// The checkpoint named by <c>--model</c>, read once: its metadata (threshold, crop fraction) and an
/// <see cref="Embedder"/> over its weights on the CPU backend. Every error names the checkpoint file.
/// </summary>
internal sealed class LoadedModel : IDisposable
{
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
        var checkpoint = Checkpoint.Load(path);
        var backend = new CpuBackend(threads);
        try
        {
            return new LoadedModel(path, checkpoint, backend, Embedder.Load(checkpoint, path, 32, backend, cropFraction));
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>The threshold recorded in the checkpoint's metadata, or null when there is none.</summary>
    public float? CheckpointThreshold => Checkpoint.Threshold;

    /// <summary>The threshold to use: <paramref name="given"/>, else the checkpoint's; and whether it came from the checkpoint.</summary>
    /// <exception cref="UsageException">Neither is there.</exception>
    public (float Value, bool FromCheckpoint) ResolveThreshold(double? given, string option = "threshold")
    {
        if (given is { } g) return ((float)g, false);
        if (CheckpointThreshold is { } t) return (t, true);
        throw new UsageException($"{Path} records no '{Checkpoint.ThresholdKey}' (it was saved without held-out validation): give --{option} T, a squared distance (the paper's LFW threshold was 1.242 for its models).");
    }

    /// <summary>Says where a threshold came from, for people reading the output.</summary>
    public string DescribeThreshold(bool fromCheckpoint, string option = "threshold") => fromCheckpoint
        ? $"the '{Checkpoint.ThresholdKey}' metadata of {Path}, calibrated on held-out identities during training"
        : $"--{option}";

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
