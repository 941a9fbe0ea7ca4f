namespace FaceNetGen.Specs;

// The spec model: what a YAML architecture file says, before any arithmetic is done on it.
//
// Contract (as in System.Text.Json's generator models): every type here is a sealed record or a
// readonly record struct whose members are primitives, strings, other such records, or
// EquatableArray<T>. No Roslyn type (AdditionalText, Location, ISymbol) appears here, so a spec
// that parses to an equal model leaves every later generator step cached. The runtime compiles
// the same files, so this model is also what `facenet spec` reads.

/// <summary>A region of the spec text. Lines and columns are zero-based, as in Roslyn.</summary>
public readonly record struct SourceSpan(int Start, int End, int Line, int Column, int EndLine, int EndColumn)
{
    public static SourceSpan None => new(0, 0, 0, 0, 0, 0);

    /// <summary>"line:column", one-based, as editors show it.</summary>
    public string Display => $"{Line + 1}:{Column + 1}";
}

/// <summary>A tensor shape of one image: channels, height, width (stored CHW, written H×W×C as in the paper).</summary>
public readonly record struct Shape(int C, int H, int W)
{
    public long Size => (long)C * H * W;

    public bool IsVector => H == 1 && W == 1;

    public override string ToString() => $"{H}x{W}x{C}";
}

public enum LayerKind
{
    Conv,
    MaxPool,
    AvgPool,
    L2Pool,
    Lrn,
    Inception,
    FullyConnected,
    Maxout,
    Concat,
    L2Norm,
}

public enum PoolKind
{
    Max,
    Average,
    L2,
}

/// <summary>A figure as the paper writes it ("115K", "1.6B", "0.5M"); <see cref="Unit"/> is one in its last written digit.</summary>
public sealed record FigureDecl(string Text, double Value, double Unit, SourceSpan Span);

/// <summary>A declared shape, "56x56x192" (height × width × channels).</summary>
public sealed record ShapeDecl(string Text, int H, int W, int C, SourceSpan Span);

/// <summary>A tolerance that replaces the default "±1 in the last written digit": "5%" or a figure such as "10M".</summary>
public sealed record ToleranceDecl(string Text, double Relative, double Absolute, SourceSpan Span);

/// <summary>The figures a layer (or the whole spec) declares, to be checked against the computed ones.</summary>
public sealed record Declarations(ShapeDecl? In, ShapeDecl? Out, FigureDecl? Params, FigureDecl? Flops, ToleranceDecl? Tolerance)
{
    public static Declarations None { get; } = new(null, null, null, null, null);
}

/// <summary>The whole architecture file.</summary>
public sealed record ModelSpec(
    string Name,
    string? Namespace,
    string? Description,
    string? Notes,
    int InputHeight,
    int InputWidth,
    int InputChannels,
    int Embedding,
    EquatableArray<LayerSpec> Layers,
    Declarations Totals,
    SourceSpan NameSpan,
    SourceSpan InputSpan,
    SourceSpan EmbeddingSpan)
{
    public Shape InputShape => new(InputChannels, InputHeight, InputWidth);
}

/// <summary>One row of the spec's layer list.</summary>
public abstract record LayerSpec(string Name, LayerKind Kind, SourceSpan Span, Declarations Declared);

/// <summary>Convolution with bias; ReLU follows unless <c>relu: false</c>.</summary>
public sealed record ConvLayer(
    string Name, SourceSpan Span, Declarations Declared,
    int KernelH, int KernelW, int DeclaredInChannels, SourceSpan KernelSpan,
    int StrideH, int StrideW, int PadH, int PadW, int Filters, bool Relu)
    : LayerSpec(Name, LayerKind.Conv, Span, Declared);

/// <summary>Max, average or L2 pooling. Average pooling divides by the count of unpadded inputs.</summary>
public sealed record PoolLayer(
    string Name, LayerKind Kind, SourceSpan Span, Declarations Declared,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW, bool Ceil, bool Global)
    : LayerSpec(Name, Kind, Span, Declared)
{
    public PoolKind Pool => Kind switch
    {
        LayerKind.AvgPool => PoolKind.Average,
        LayerKind.L2Pool => PoolKind.L2,
        _ => PoolKind.Max,
    };
}

/// <summary>Local response normalisation across channels: y = x / (k + alpha/size · Σ x²)^beta.</summary>
public sealed record LrnLayer(string Name, SourceSpan Span, Declarations Declared, int Size, double Alpha, double Beta, double K)
    : LayerSpec(Name, LayerKind.Lrn, Span, Declared);

/// <summary>
/// An inception module. A branch whose count is 0 is absent. With no 1×1 reduce before a 3×3 or 5×5,
/// that convolution reads the module input directly. The pool branch pools 3×3 (or <see cref="PoolKernel"/>)
/// at the module stride and is optionally followed by a 1×1 projection; without one it passes the pooled
/// input channels through, as in the paper's 3c and 4e.
/// </summary>
public sealed record InceptionLayer(
    string Name, SourceSpan Span, Declarations Declared,
    int Stride, int Conv1x1, int Reduce3x3, int Conv3x3, int Reduce5x5, int Conv5x5,
    bool HasPool, PoolKind Pool, int PoolKernel, int PoolProj)
    : LayerSpec(Name, LayerKind.Inception, Span, Declared);

/// <summary>Fully connected layer over the flattened input; no ReLU unless <c>relu: true</c>.</summary>
public sealed record FullyConnectedLayer(string Name, SourceSpan Span, Declarations Declared, int Outputs, bool Relu)
    : LayerSpec(Name, LayerKind.FullyConnected, Span, Declared);

/// <summary>Maxout: a fully connected layer of Outputs × PoolSize units, then the maximum of each group of PoolSize.</summary>
public sealed record MaxoutLayer(string Name, SourceSpan Span, Declarations Declared, int Outputs, int PoolSize)
    : LayerSpec(Name, LayerKind.Maxout, Span, Declared);

/// <summary>The join of the previous layer's branches; in a sequential stack it passes its input through.</summary>
public sealed record ConcatLayer(string Name, SourceSpan Span, Declarations Declared)
    : LayerSpec(Name, LayerKind.Concat, Span, Declared);

/// <summary>L2 normalisation of the flattened input onto the unit hypersphere.</summary>
public sealed record L2NormLayer(string Name, SourceSpan Span, Declarations Declared)
    : LayerSpec(Name, LayerKind.L2Norm, Span, Declared);
