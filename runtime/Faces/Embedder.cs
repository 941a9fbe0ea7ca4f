using System.Runtime.ExceptionServices;
using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Imaging;
using FaceNetGen.Models;

namespace FaceNetGen.Faces;

/// <summary>
/// Face crops in, unit-length embeddings out: decodes and preprocesses images (the centre crop of the paper's mode 1),
/// runs a generated model in batches, and returns one <see cref="EmbeddingSize"/>-float vector per face. Thread-safe:
/// images are decoded on the callers' threads and the model is run by one caller at a time.
/// </summary>
public sealed class Embedder : IDisposable
{
    private readonly object _gate = new();
    private readonly FaceNetModel _model;
    private readonly IBackend? _ownedBackend;
    private readonly bool _ownsModel;
    private readonly float[] _outputs;
    private bool _disposed;

    /// <summary>Embeds with <paramref name="model"/>, whose parameters are already loaded.</summary>
    /// <param name="model">The model; its batch size is the embedder's.</param>
    /// <param name="cropFraction">The centre crop, as a fraction of the image's shorter side; use the one the model was trained with.</param>
    /// <param name="ownsModel">Dispose the model (and nothing else) with the embedder.</param>
    public Embedder(FaceNetModel model, double cropFraction = Preprocessor.DefaultCropFraction, bool ownsModel = false)
        : this(model, cropFraction, ownsModel, null)
    {
    }

    private Embedder(FaceNetModel model, double cropFraction, bool ownsModel, IBackend? ownedBackend)
    {
        _model = model;
        _ownsModel = ownsModel;
        _ownedBackend = ownedBackend;
        CropFraction = cropFraction;
        _outputs = new float[model.MaxBatch * model.Description.EmbeddingSize];
    }

    /// <summary>
    /// Loads a checkpoint (which names its spec) into a new model on <paramref name="backend"/> (default: a new
    /// <see cref="CpuBackend"/>, owned by the embedder). The crop fraction recorded at training is used unless given.
    /// </summary>
    public static Embedder Load(string checkpointPath, int maxBatch = 32, IBackend? backend = null, double? cropFraction = null) =>
        Load(Checkpoint.Load(checkpointPath), checkpointPath, maxBatch, backend, cropFraction);

    /// <summary>As <see cref="Load(string, int, IBackend?, double?)"/>, for a checkpoint already read from <paramref name="path"/>.</summary>
    public static Embedder Load(Checkpoint checkpoint, string? path, int maxBatch = 32, IBackend? backend = null, double? cropFraction = null)
    {
        var entry = ModelCatalog.Get(checkpoint.SpecName);
        IBackend? owned = backend is null ? new CpuBackend() : null;
        FaceNetModel? model = null;
        try
        {
            model = entry.Create(backend ?? owned!, maxBatch, false);
            checkpoint.ApplyTo(model, path);
            return new Embedder(model, cropFraction ?? checkpoint.CropFraction ?? Preprocessor.DefaultCropFraction, ownsModel: true, owned);
        }
        catch
        {
            model?.Dispose();
            owned?.Dispose();
            throw;
        }
    }

    public ModelDescription Model => _model.Description;

    public int EmbeddingSize => _model.Description.EmbeddingSize;

    public int MaxBatch => _model.MaxBatch;

    public double CropFraction { get; }

    /// <summary>The embedding of one face image.</summary>
    public float[] Embed(Image image) => Embed(new[] { image })[0];

    /// <summary>The embeddings of <paramref name="images"/>, in order, computed in batches.</summary>
    public float[][] Embed(IReadOnlyList<Image> images)
    {
        var result = new float[images.Count][];
        int size = Model.InputSize;
        var preprocessor = new Preprocessor(Model.InputHeight, Model.InputWidth, CropFraction);
        var batch = new float[Math.Min(images.Count, MaxBatch) * size];
        for (int start = 0; start < images.Count; start += MaxBatch)
        {
            int count = Math.Min(MaxBatch, images.Count - start);
            for (int i = 0; i < count; i++) preprocessor.Process(images[start + i], batch.AsSpan(i * size, size));
            var embeddings = EmbedInputs(batch.AsSpan(0, count * size), count);
            for (int i = 0; i < count; i++) result[start + i] = embeddings.AsSpan(i * EmbeddingSize, EmbeddingSize).ToArray();
        }
        return result;
    }

    /// <summary>The embeddings of image files (JPEG, PNG, PGM, BMP); an unreadable file is a <see cref="FaceNetException"/> naming it (the first such file, in list order).</summary>
    public float[][] EmbedFiles(IReadOnlyList<string> paths)
    {
        var result = new float[paths.Count][];
        for (int start = 0; start < paths.Count; start += MaxBatch)
        {
            int count = Math.Min(MaxBatch, paths.Count - start);
            var images = new Image[count];
            var errors = new FaceNetException?[count];
            Parallel.For(0, count, i =>
            {
                try
                {
                    images[i] = ImageDecoder.Load(paths[start + i]);
                }
                catch (FaceNetException e)
                {
                    errors[i] = e;
                }
            });
            // Parallel.For would wrap a decoder error in an AggregateException: rethrow the first file's error as it is.
            foreach (var error in errors)
            {
                if (error is not null) ExceptionDispatchInfo.Capture(error).Throw();
            }
            var embeddings = Embed(images);
            for (int i = 0; i < count; i++) result[start + i] = embeddings[i];
        }
        return result;
    }

    /// <summary>Embeds <paramref name="count"/> already preprocessed inputs (NCHW, <see cref="InputFormat"/>); returns count × EmbeddingSize floats.</summary>
    public float[] EmbedInputs(ReadOnlySpan<float> inputs, int count)
    {
        var result = new float[count * EmbeddingSize];
        int size = Model.InputSize;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (int start = 0; start < count; start += MaxBatch)
            {
                int n = Math.Min(MaxBatch, count - start);
                _model.SetInput(inputs.Slice(start * size, n * size), n);
                _model.Forward(n);
                _model.GetOutput(_outputs, n);
                _outputs.AsSpan(0, n * EmbeddingSize).CopyTo(result.AsSpan(start * EmbeddingSize));
            }
        }
        return result;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_ownsModel) _model.Dispose();
            _ownedBackend?.Dispose();
        }
    }
}
