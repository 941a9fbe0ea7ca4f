using FaceNetGen.Imaging;

namespace FaceNetGen.Data;

/// <summary>
/// The faces of one batch, in order, and where the batch sits in training (<paramref name="Epoch"/>,
/// <paramref name="Step"/>): together with the loader's seed and each face's position these fix its augmentation.
/// </summary>
/// <param name="Items">The faces, in the order their inputs are wanted; all from the loader's data set.</param>
/// <param name="Epoch">The epoch (or any number the caller uses to tell passes apart).</param>
/// <param name="Step">The step within training.</param>
public sealed record BatchRequest(IReadOnlyList<FaceItem> Items, long Epoch, long Step);

/// <summary>Options of a <see cref="BatchLoader"/>.</summary>
public sealed record BatchLoaderOptions
{
    /// <summary>Worker threads that decode and preprocess (default: one less than the processor count, at least 1).</summary>
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>
    /// Batches prepared ahead of the one the caller holds (default 1: batch k + 1 is prepared while the caller works
    /// on batch k). The loader owns <c>Prefetch + 1</c> input buffers of MaxBatchSize × 3 × H × W floats.
    /// </summary>
    public int Prefetch { get; init; } = 1;

    /// <summary>Training augmentations (default none).</summary>
    public Augmentation Augmentation { get; init; } = Augmentation.None;

    /// <summary>The seed that, with each request's epoch and step and each face's position, fixes every augmentation draw.</summary>
    public ulong Seed { get; init; }

    /// <summary>The centre-crop fraction; null for the data set's <see cref="IFaceDataset.SuggestedCropFraction"/>.</summary>
    public double? CropFraction { get; init; }

    /// <summary>Receives each warning (an unreadable image, once per file). Called on worker threads.</summary>
    public Action<string>? Warn { get; init; }
}
