namespace FaceNetGen.Specs;

// The lowered model: a flat list of kernel calls over two statically planned arenas.
//
// Activations: every tensor an op writes gets its own slot, laid out per image; for a batch of at most
// MaxBatch images the slot of tensor t starts at t.Offset × MaxBatch and holds MaxBatch × t.Shape.Size floats
// in NCHW order. Nothing is reused, because backward needs every forward activation. The gradient arena
// mirrors the activation arena slot for slot.
// Parameters: one flat arena, each tensor at a fixed offset; weights are OIHW (convolution) or [out, in]
// (fully connected), as in PyTorch and ONNX, and each bias follows its weight.
//
// Gradients: parameter gradients accumulate (+=); activation gradients assign, except where a tensor fans out
// to several consumers (the input of an inception module): the first consumer met in backward order assigns,
// the later ones accumulate. Each op records that choice per input in InputGrads.

public enum OpKind
{
    Conv,
    Pool,
    Lrn,
    Concat,
    Linear,
    Maxout,
    L2Norm,
}

/// <summary>How backward writes the gradient of one op input.</summary>
public enum GradMode
{
    /// <summary>No gradient is needed (the model input).</summary>
    None,
    Assign,
    Accumulate,
}

/// <summary>An activation tensor (per image).</summary>
public sealed record TensorSlot(int Id, string Name, string Identifier, Shape Shape, long Offset);

/// <summary>How a parameter tensor is initialised: He normal before a ReLU, Glorot normal before a linear output, biases zero.</summary>
public enum ParamInit
{
    Zero,
    He,
    Glorot,
}

/// <summary>A parameter tensor in the parameter arena.</summary>
public sealed record ParamSlot(string Name, string Identifier, EquatableArray<int> Dims, long Offset, long Length, bool IsBias, int FanIn, int FanOut, ParamInit Init, string Layer)
{
    public string DimsText => string.Join("x", Dims);
}

/// <summary>One kernel call. Inputs and Output index <see cref="Plan.Tensors"/>; Weight and Bias index <see cref="Plan.Parameters"/>.</summary>
public abstract record PlanOp(OpKind Kind, string Layer, EquatableArray<int> Inputs, int Output)
{
    public EquatableArray<GradMode> InputGrads { get; init; } = EquatableArray<GradMode>.Empty;
}

public sealed record ConvOp(string Layer, int Input, int Output, int Weight, int Bias, Shape In, Shape Out,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW, bool Relu)
    : PlanOp(OpKind.Conv, Layer, new EquatableArray<int>(new[] { Input }), Output);

public sealed record PoolOp(string Layer, int Input, int Output, PoolKind Pool, Shape In, Shape Out,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
    : PlanOp(OpKind.Pool, Layer, new EquatableArray<int>(new[] { Input }), Output);

public sealed record LrnOp(string Layer, int Input, int Output, Shape Shape, int Size, double Alpha, double Beta, double K)
    : PlanOp(OpKind.Lrn, Layer, new EquatableArray<int>(new[] { Input }), Output);

/// <summary>Channel concatenation; ChannelOffsets[i] is where input i starts in the output.</summary>
public sealed record ConcatOp(string Layer, EquatableArray<int> Parts, int Output, EquatableArray<int> ChannelOffsets, Shape Out)
    : PlanOp(OpKind.Concat, Layer, Parts, Output);

public sealed record LinearOp(string Layer, int Input, int Output, int Weight, int Bias, int InFeatures, int OutFeatures, bool Relu)
    : PlanOp(OpKind.Linear, Layer, new EquatableArray<int>(new[] { Input }), Output);

/// <summary>Maximum over consecutive groups of PoolSize: y[j] = max_i x[j·p + i].</summary>
public sealed record MaxoutOp(string Layer, int Input, int Output, int Units, int PoolSize)
    : PlanOp(OpKind.Maxout, Layer, new EquatableArray<int>(new[] { Input }), Output);

public sealed record L2NormOp(string Layer, int Input, int Output, int Dim)
    : PlanOp(OpKind.L2Norm, Layer, new EquatableArray<int>(new[] { Input }), Output);

/// <summary>The whole lowered model.</summary>
public sealed record Plan(
    EquatableArray<TensorSlot> Tensors,
    EquatableArray<ParamSlot> Parameters,
    EquatableArray<PlanOp> Ops,
    int InputTensor,
    int OutputTensor,
    long ActivationsPerImage,
    long ParameterLength);
