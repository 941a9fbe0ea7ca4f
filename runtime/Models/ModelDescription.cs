using FaceNetGen.Specs;

namespace FaceNetGen.Models;

/// <summary>A parameter tensor of a generated model: where it sits in the parameter arena and how it is initialised.</summary>
public sealed record ParameterTensor(string Name, IReadOnlyList<int> Shape, long Offset, long Length, bool IsBias, int FanIn, int FanOut, ParamInit Init);

/// <summary>
/// An activation tensor of a generated model: its shape (C, H, W) and per-image offsets in the training arena, in
/// the inference arena (where tensors whose lifetimes do not overlap share memory; -1 for an inception branch that an
/// inference model writes straight into its concatenation) and of its gradient in the gradient arena (where gradients
/// whose lifetimes in Backward do not overlap share memory; -1 for the model input, whose gradient nobody computes).
/// </summary>
public sealed record ActivationTensor(string Name, int Channels, int Height, int Width, long Offset, long InferenceOffset, long GradientOffset)
{
    public long Size => (long)Channels * Height * Width;
}

/// <summary>
/// Everything a generated model class knows at compile time, as one object the runtime can read: the trainer, the
/// checkpoint format, the exporter and the CLI work from it and never from the YAML.
/// </summary>
public sealed class ModelDescription
{
    public ModelDescription(
        string name, string specHash,
        int inputHeight, int inputWidth, int inputChannels, int embeddingSize,
        long weights, long biases, long flops, long multiplyAdds,
        long parameterLength, long activationsPerImage, long outputOffset,
        long inferenceActivationsPerImage, long inferenceOutputOffset,
        long gradientsPerImage, long outputGradientOffset,
        ParameterTensor[] parameters, ActivationTensor[] activations, string layerTable, Action<IGraphBuilder> buildGraph)
    {
        BuildGraph = buildGraph;
        Name = name;
        SpecHash = specHash;
        InputHeight = inputHeight;
        InputWidth = inputWidth;
        InputChannels = inputChannels;
        EmbeddingSize = embeddingSize;
        Weights = weights;
        Biases = biases;
        Flops = flops;
        MultiplyAdds = multiplyAdds;
        ParameterLength = parameterLength;
        ActivationsPerImage = activationsPerImage;
        OutputOffset = outputOffset;
        InferenceActivationsPerImage = inferenceActivationsPerImage;
        InferenceOutputOffset = inferenceOutputOffset;
        GradientsPerImage = gradientsPerImage;
        OutputGradientOffset = outputGradientOffset;
        Parameters = parameters;
        Activations = activations;
        LayerTable = layerTable;
    }

    public string Name { get; }

    /// <summary>The architecture's hash: checkpoints carry it, and loading refuses a checkpoint of another architecture.</summary>
    public string SpecHash { get; }

    public int InputHeight { get; }

    public int InputWidth { get; }

    public int InputChannels { get; }

    public int InputSize => InputChannels * InputHeight * InputWidth;

    public int EmbeddingSize { get; }

    public long Weights { get; }

    public long Biases { get; }

    public long ParameterCount => Weights + Biases;

    /// <summary>FLOPS per image as the paper's tables count them: (weights + biases) × output positions.</summary>
    public long Flops { get; }

    /// <summary>Multiply-adds per image of the forward pass (weights × output positions).</summary>
    public long MultiplyAdds { get; }

    public long ParameterLength { get; }

    public long ActivationsPerImage { get; }

    public long OutputOffset { get; }

    /// <summary>Floats per image of the activation arena of a model built for inference.</summary>
    public long InferenceActivationsPerImage { get; }

    /// <summary>The output's per-image offset in the inference arena.</summary>
    public long InferenceOutputOffset { get; }

    /// <summary>Floats per image of the gradient arena of a model built for training.</summary>
    public long GradientsPerImage { get; }

    /// <summary>The output gradient's per-image offset in the gradient arena.</summary>
    public long OutputGradientOffset { get; }

    public IReadOnlyList<ParameterTensor> Parameters { get; }

    public IReadOnlyList<ActivationTensor> Activations { get; }

    /// <summary>Describes the model's ops, in forward order, to an exporter.</summary>
    public Action<IGraphBuilder> BuildGraph { get; }

    /// <summary>The paper-style layer table regenerated from the spec.</summary>
    public string LayerTable { get; }

    public override string ToString() => $"{Name} ({InputHeight}x{InputWidth}x{InputChannels} -> {EmbeddingSize}, {SpecAnalyzer.FormatParams(ParameterCount)} params, {SpecAnalyzer.FormatFlops(Flops)} FLOPS)";
}
