using FaceNetGen.Backends;
using FaceNetGen.Specs;

namespace FaceNetGen.Models;

/// <summary>
/// The base of every generated model class. It owns the arenas, sized once from the generated constants; the
/// generated subclass adds the constants themselves and <see cref="Forward"/>/<see cref="Backward"/>, a flat list of
/// kernel calls over views into these arenas. Nothing here allocates per step.
/// </summary>
/// <remarks>
/// Arenas: <see cref="Parameters"/> and <see cref="ParameterGradients"/> hold <see cref="ModelDescription.ParameterLength"/>
/// floats. <see cref="Activations"/> holds <see cref="ModelDescription.ActivationsPerImage"/> × <see cref="MaxBatch"/>
/// floats: each activation tensor's images are contiguous (NCHW), its slot starting at its per-image offset × MaxBatch.
/// The gradient arenas exist only for a model built for training. <see cref="ActivationGradients"/> holds
/// <see cref="ModelDescription.GradientsPerImage"/> × MaxBatch floats, laid out the same way, where a gradient's slot is
/// reused once Backward no longer reads it: after Backward only <see cref="OutputGradient"/> is sure to hold its
/// values, unless <see cref="KeepActivationGradients"/> gave every gradient a slot of its own. A model built for
/// inference has the smaller arena of <see cref="ModelDescription.InferenceActivationsPerImage"/> floats per image,
/// where a tensor's slot is reused once no later op reads it: after its Forward only the input and the output hold
/// their tensors.
/// </remarks>
public abstract class FaceNetModel : IDisposable
{
    private bool _disposed;

    protected FaceNetModel(IBackend backend, int maxBatch, bool training, ModelDescription description)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "The batch size must be at least 1.");
        Backend = backend;
        MaxBatch = maxBatch;
        Description = description;
        IsTraining = training;
        Parameters = backend.Allocate(description.ParameterLength);
        Activations = backend.Allocate((training ? description.ActivationsPerImage : description.InferenceActivationsPerImage) * maxBatch);
        if (training)
        {
            ParameterGradients = backend.Allocate(description.ParameterLength);
            ActivationGradients = backend.Allocate(description.GradientsPerImage * maxBatch);
        }
    }

    public ModelDescription Description { get; }

    public IBackend Backend { get; }

    public int MaxBatch { get; }

    public bool IsTraining { get; }

    public DeviceBuffer Parameters { get; }

    public DeviceBuffer Activations { get; }

    public DeviceBuffer? ParameterGradients { get; }

    public DeviceBuffer? ActivationGradients { get; private set; }

    /// <summary>Whether every activation gradient has a slot of its own (<see cref="KeepActivationGradients"/>).</summary>
    public bool KeepsActivationGradients { get; private set; }

    /// <summary>
    /// Gives every activation gradient a slot of its own, at the activation's offset in an arena as large as
    /// <see cref="Activations"/>, so that all of them can be read after Backward (gradient checks, debugging). It
    /// costs memory and speed: the shared gradient arena is what keeps Backward's writes in cache. Call it before
    /// writing <see cref="OutputGradient"/>.
    /// </summary>
    public void KeepActivationGradients()
    {
        if (ActivationGradients is null) throw new InvalidOperationException("This model was built for inference and has no gradients.");
        if (KeepsActivationGradients) return;
        var kept = Backend.Allocate(Description.ActivationsPerImage * MaxBatch);
        ActivationGradients.Dispose();
        ActivationGradients = kept;
        KeepsActivationGradients = true;
    }

    /// <summary>The input batch: (MaxBatch, C, H, W), NCHW.</summary>
    public BufferView Input => A(0);

    /// <summary>The embeddings after <see cref="Forward"/>: (MaxBatch, EmbeddingSize), each row of unit length.</summary>
    public BufferView Output => A(Description.OutputOffset, Description.InferenceOutputOffset);

    /// <summary>Where the loss writes d(loss)/d(embedding) before <see cref="Backward"/>.</summary>
    public BufferView OutputGradient => dA(Description.OutputGradientOffset, Description.OutputOffset);

    /// <summary>Runs the network on the first <paramref name="n"/> images of <see cref="Input"/>.</summary>
    public abstract void Forward(int n);

    /// <summary>
    /// Back-propagates <see cref="OutputGradient"/> into <see cref="ParameterGradients"/>: overwriting them, or with
    /// <paramref name="accumulate"/> adding to what they hold (to sum several batches' gradients, starting from
    /// <see cref="ZeroGradients"/> or from an overwriting call). Each parameter has exactly one op that writes its
    /// gradient, so an overwriting call needs no zeroing first.
    /// </summary>
    public abstract void Backward(int n, bool accumulate = false);

    /// <summary>Activation slot of a tensor, given its per-image offset.</summary>
    protected BufferView A(long perImageOffset) => new(Activations, perImageOffset * MaxBatch);

    /// <summary>
    /// Activation slot of a tensor in Forward, given its per-image offsets in the training arena and in the inference
    /// arena: the one this model was built with.
    /// </summary>
    protected BufferView A(long trainingOffset, long inferenceOffset) => new(Activations, (IsTraining ? trainingOffset : inferenceOffset) * MaxBatch);

    /// <summary>
    /// Where an op writes a tensor that, in the inference arena, is a view into a concatenation: its own slot when
    /// training, else <paramref name="inferenceImageOffset"/> floats into the first image of the concatenation's slot.
    /// </summary>
    protected BufferView A(long trainingOffset, long inferenceConcatOffset, long inferenceImageOffset) =>
        IsTraining ? new(Activations, trainingOffset * MaxBatch) : new(Activations, inferenceConcatOffset * MaxBatch + inferenceImageOffset);

    /// <summary>The output image stride of an op that writes an inference view: compact when training, else the concatenation's image size.</summary>
    protected long InferenceStride(long concatImageSize) => IsTraining ? 0 : concatImageSize;

    /// <summary>
    /// Gradient slot of a tensor, given its per-image offsets in the gradient arena and in the activation arena: the
    /// latter when the model keeps every gradient (<see cref="KeepActivationGradients"/>).
    /// </summary>
    protected BufferView dA(long gradientOffset, long activationOffset) =>
        new(ActivationGradients!, (KeepsActivationGradients ? activationOffset : gradientOffset) * MaxBatch);

    /// <summary>A parameter tensor, given its offset.</summary>
    protected BufferView P(long offset) => new(Parameters, offset);

    /// <summary>A parameter tensor's gradient, given its offset.</summary>
    protected BufferView dP(long offset) => new(ParameterGradients!, offset);

    protected void CheckForward(int n)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)(n - 1) >= (uint)MaxBatch) throw new ArgumentOutOfRangeException(nameof(n), n, $"The batch must hold 1 to {MaxBatch} images.");
    }

    protected void CheckBackward(int n)
    {
        CheckForward(n);
        if (!IsTraining) throw new InvalidOperationException($"This {Description.Name} was built for inference; build it with training: true to run Backward.");
    }

    /// <summary>Fills the parameters: He normal before a ReLU, Glorot normal before a linear output, zero biases.</summary>
    public void InitializeParameters(ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var host = new float[Description.ParameterLength];
        foreach (var p in Description.Parameters)
        {
            double std = p.Init switch
            {
                ParamInit.He => Math.Sqrt(2.0 / p.FanIn),
                ParamInit.Glorot => Math.Sqrt(2.0 / (p.FanIn + p.FanOut)),
                _ => 0,
            };
            var span = host.AsSpan((int)p.Offset, (int)p.Length);
            if (std == 0)
            {
                span.Clear();
                continue;
            }
            for (int i = 0; i < span.Length; i++) span[i] = (float)(rng.NextNormal() * std);
        }
        SetParameters(host);
    }

    public void SetParameters(ReadOnlySpan<float> values)
    {
        if (values.Length != Description.ParameterLength)
            throw new ArgumentException($"{Description.Name} has {Description.ParameterLength} parameters, not {values.Length}.", nameof(values));
        Backend.Upload(values, P(0));
    }

    public float[] GetParameters()
    {
        var host = new float[Description.ParameterLength];
        Backend.Download(P(0), host);
        return host;
    }

    /// <summary>
    /// Sets <see cref="ParameterGradients"/> to zero. A plain <see cref="Backward"/> overwrites them, so this is only
    /// needed before a series of accumulating calls that does not begin with an overwriting one.
    /// </summary>
    public void ZeroGradients()
    {
        if (ParameterGradients is null) throw new InvalidOperationException("This model was built for inference and has no gradients.");
        Backend.Fill(dP(0), Description.ParameterLength, 0f);
    }

    /// <summary>Copies <paramref name="n"/> images (NCHW floats) into <see cref="Input"/>.</summary>
    public void SetInput(ReadOnlySpan<float> images, int n)
    {
        CheckForward(n);
        if (images.Length < (long)n * Description.InputSize)
            throw new ArgumentException($"{n} images of {Description.InputChannels}x{Description.InputHeight}x{Description.InputWidth} need {(long)n * Description.InputSize} floats, not {images.Length}.", nameof(images));
        Backend.Upload(images.Slice(0, n * Description.InputSize), Input);
    }

    /// <summary>Copies the first <paramref name="n"/> embeddings out of <see cref="Output"/>.</summary>
    public void GetOutput(Span<float> embeddings, int n)
    {
        CheckForward(n);
        Backend.Download(Output, embeddings.Slice(0, n * Description.EmbeddingSize));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Parameters.Dispose();
        Activations.Dispose();
        ParameterGradients?.Dispose();
        ActivationGradients?.Dispose();
        GC.SuppressFinalize(this);
    }
}
