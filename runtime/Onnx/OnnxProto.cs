using F = FaceNetGen.Onnx.OnnxSchema;

namespace FaceNetGen.Onnx;

/// <summary>
/// One ONNX protobuf message: its encoded size (computed once, so that the parent can write the length prefix first)
/// and its fields. Tensor data is not copied into the messages: an initializer names a range of the parameter arena,
/// which is passed down while writing.
/// </summary>
internal abstract class ProtoMessage
{
    private long _size = -1;

    /// <summary>The encoded size of the message body in bytes.</summary>
    public long Size => _size >= 0 ? _size : _size = ComputeSize();

    protected abstract long ComputeSize();

    /// <summary>Writes the message body (its fields, without a tag or length prefix).</summary>
    public abstract void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena);

    protected static long FieldSize(int field, ProtoMessage message) => ProtoWriter.LengthDelimitedSize(field, message.Size);

    protected static long FieldsSize(int field, IEnumerable<ProtoMessage> messages) => messages.Sum(m => FieldSize(field, m));

    protected static long StringsSize(int field, IEnumerable<string> values) => values.Sum(v => ProtoWriter.StringFieldSize(field, v));

    protected static long OptionalStringSize(int field, string? value) => string.IsNullOrEmpty(value) ? 0 : ProtoWriter.StringFieldSize(field, value);

    /// <summary>Writes <paramref name="message"/> as field <paramref name="field"/> and checks that it wrote the size it announced.</summary>
    protected static void WriteField(ProtoWriter w, int field, ProtoMessage message, ReadOnlySpan<float> arena)
    {
        w.WriteLengthDelimitedHeader(field, message.Size);
        long start = w.Position;
        message.WriteFields(w, arena);
        long written = w.Position - start;
        if (written != message.Size)
            throw new InvalidOperationException($"{message.GetType().Name} announced {message.Size} bytes but wrote {written}.");
    }

    protected static void WriteFields(ProtoWriter w, int field, IEnumerable<ProtoMessage> messages, ReadOnlySpan<float> arena)
    {
        foreach (var m in messages) WriteField(w, field, m, arena);
    }

    protected static void WriteOptionalString(ProtoWriter w, int field, string? value)
    {
        if (!string.IsNullOrEmpty(value)) w.WriteString(field, value);
    }
}

/// <summary><c>ModelProto</c>: IR version, opset imports, producer, graph and metadata.</summary>
internal sealed class ModelProto(long irVersion, long opsetVersion, string producerName, string producerVersion, string docString, GraphProto graph, IReadOnlyList<StringStringEntryProto> metadata) : ProtoMessage
{
    private readonly OperatorSetIdProto _opset = new(opsetVersion);

    public GraphProto Graph => graph;

    protected override long ComputeSize() =>
        ProtoWriter.Int64FieldSize(F.Model.IrVersion, irVersion)
        + OptionalStringSize(F.Model.ProducerName, producerName)
        + OptionalStringSize(F.Model.ProducerVersion, producerVersion)
        + OptionalStringSize(F.Model.DocString, docString)
        + FieldSize(F.Model.Graph, graph)
        + FieldSize(F.Model.OpsetImport, _opset)
        + FieldsSize(F.Model.MetadataProps, metadata);

    public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena)
    {
        w.WriteInt64(F.Model.IrVersion, irVersion);
        WriteOptionalString(w, F.Model.ProducerName, producerName);
        WriteOptionalString(w, F.Model.ProducerVersion, producerVersion);
        WriteOptionalString(w, F.Model.DocString, docString);
        WriteField(w, F.Model.Graph, graph, arena);
        WriteField(w, F.Model.OpsetImport, _opset, arena);
        WriteFields(w, F.Model.MetadataProps, metadata, arena);
    }
}

/// <summary><c>OperatorSetIdProto</c> of the default domain.</summary>
internal sealed class OperatorSetIdProto(long version) : ProtoMessage
{
    protected override long ComputeSize() => ProtoWriter.Int64FieldSize(F.OperatorSetId.Version, version);

    public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena) => w.WriteInt64(F.OperatorSetId.Version, version);
}

/// <summary><c>StringStringEntryProto</c>: one metadata entry.</summary>
internal sealed class StringStringEntryProto(string key, string value) : ProtoMessage
{
    public string Key => key;

    public string Value => value;

    protected override long ComputeSize() =>
        ProtoWriter.StringFieldSize(F.StringStringEntry.Key, key) + ProtoWriter.StringFieldSize(F.StringStringEntry.Value, value);

    public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena)
    {
        w.WriteString(F.StringStringEntry.Key, key);
        w.WriteString(F.StringStringEntry.Value, value);
    }
}

/// <summary><c>GraphProto</c>: nodes in topological order, initializers, inputs and outputs.</summary>
internal sealed class GraphProto(string name, string docString, IReadOnlyList<NodeProto> nodes, IReadOnlyList<TensorProto> initializers, IReadOnlyList<ValueInfoProto> inputs, IReadOnlyList<ValueInfoProto> outputs) : ProtoMessage
{
    public IReadOnlyList<NodeProto> Nodes => nodes;

    public IReadOnlyList<TensorProto> Initializers => initializers;

    protected override long ComputeSize() =>
        FieldsSize(F.Graph.Node, nodes)
        + OptionalStringSize(F.Graph.Name, name)
        + FieldsSize(F.Graph.Initializer, initializers)
        + OptionalStringSize(F.Graph.DocString, docString)
        + FieldsSize(F.Graph.Input, inputs)
        + FieldsSize(F.Graph.Output, outputs);

    public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena)
    {
        WriteFields(w, F.Graph.Node, nodes, arena);
        WriteOptionalString(w, F.Graph.Name, name);
        WriteFields(w, F.Graph.Initializer, initializers, arena);
        WriteOptionalString(w, F.Graph.DocString, docString);
        WriteFields(w, F.Graph.Input, inputs, arena);
        WriteFields(w, F.Graph.Output, outputs, arena);
    }
}

/// <summary><c>NodeProto</c>: one op of the default domain.</summary>
internal sealed class NodeProto(string name, string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyList<AttributeProto> attributes) : ProtoMessage
{
    public string Name => name;

    public string OpType => opType;

    public IReadOnlyList<string> Inputs => inputs;

    public IReadOnlyList<string> Outputs => outputs;

    public IReadOnlyList<AttributeProto> Attributes => attributes;

    protected override long ComputeSize() =>
        StringsSize(F.Node.Input, inputs)
        + StringsSize(F.Node.Output, outputs)
        + ProtoWriter.StringFieldSize(F.Node.Name, name)
        + ProtoWriter.StringFieldSize(F.Node.OpType, opType)
        + FieldsSize(F.Node.Attribute, attributes);

    public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena)
    {
        foreach (string s in inputs) w.WriteString(F.Node.Input, s);
        foreach (string s in outputs) w.WriteString(F.Node.Output, s);
        w.WriteString(F.Node.Name, name);
        w.WriteString(F.Node.OpType, opType);
        WriteFields(w, F.Node.Attribute, attributes, arena);
    }
}

/// <summary><c>AttributeProto</c> of one of the types the exporter needs: int, float, string or a list of ints.</summary>
internal sealed class AttributeProto : ProtoMessage
{
    private readonly long _int;
    private readonly float _float;
    private readonly string? _string;
    private readonly long[]? _ints;

    private AttributeProto(string name, F.AttributeType type, long i = 0, float f = 0, string? s = null, long[]? ints = null)
    {
        Name = name;
        Type = type;
        _int = i;
        _float = f;
        _string = s;
        _ints = ints;
    }

    public string Name { get; }

    public F.AttributeType Type { get; }

    public static AttributeProto Int(string name, long value) => new(name, F.AttributeType.Int, i: value);

    public static AttributeProto Float(string name, float value) => new(name, F.AttributeType.Float, f: value);

    public static AttributeProto String(string name, string value) => new(name, F.AttributeType.String, s: value);

    public static AttributeProto Ints(string name, params long[] values) => new(name, F.AttributeType.Ints, ints: values);

    protected override long ComputeSize() =>
        ProtoWriter.StringFieldSize(F.Attribute.Name, Name)
        + ProtoWriter.Int64FieldSize(F.Attribute.Type, (long)Type)
        + Type switch
        {
            F.AttributeType.Int => ProtoWriter.Int64FieldSize(F.Attribute.I, _int),
            F.AttributeType.Float => ProtoWriter.Fixed32FieldSize(F.Attribute.F),
            F.AttributeType.String => ProtoWriter.StringFieldSize(F.Attribute.S, _string!),
            F.AttributeType.Ints => ProtoWriter.PackedInt64Size(F.Attribute.Ints, _ints),
            _ => throw new InvalidOperationException($"Attribute type {Type} is not written."),
        };

    public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena)
    {
        w.WriteString(F.Attribute.Name, Name);
        w.WriteInt64(F.Attribute.Type, (long)Type);
        switch (Type)
        {
            case F.AttributeType.Int: w.WriteInt64(F.Attribute.I, _int); break;
            case F.AttributeType.Float: w.WriteFloat(F.Attribute.F, _float); break;
            case F.AttributeType.String: w.WriteString(F.Attribute.S, _string!); break;
            case F.AttributeType.Ints: w.WritePackedInt64(F.Attribute.Ints, _ints); break;
            default: throw new InvalidOperationException($"Attribute type {Type} is not written.");
        }
    }
}

/// <summary>
/// <c>TensorProto</c> with its elements in raw_data: either a range of the parameter arena (a model parameter) or a
/// small constant of its own (a shape, axes or an epsilon).
/// </summary>
internal sealed class TensorProto : ProtoMessage
{
    private TensorProto(string name, F.DataType dataType, long[] dims)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
    }

    public string Name { get; }

    public F.DataType DataType { get; }

    public long[] Dims { get; }

    private long[]? Int64s { get; init; }

    private float[]? Floats { get; init; }

    /// <summary>Where a parameter's elements start in the arena; -1 for a constant.</summary>
    public long ArenaOffset { get; private init; } = -1;

    /// <summary>The number of elements.</summary>
    public long Length { get; private init; }

    /// <summary>A float tensor read from <c>arena[offset .. offset + product(dims))</c> when written.</summary>
    public static TensorProto FromArena(string name, long[] dims, long offset) =>
        new(name, F.DataType.Float, dims) { ArenaOffset = offset, Length = Product(dims) };

    public static TensorProto Constant(string name, long[] dims, params float[] values) =>
        new(name, F.DataType.Float, dims) { Floats = Checked(values, dims), Length = values.Length };

    public static TensorProto Constant(string name, long[] dims, params long[] values) =>
        new(name, F.DataType.Int64, dims) { Int64s = Checked(values, dims), Length = values.Length };

    private static T[] Checked<T>(T[] values, long[] dims) =>
        values.Length == Product(dims) ? values : throw new ArgumentException($"A tensor of shape [{string.Join(", ", dims)}] holds {Product(dims)} values, not {values.Length}.");

    public static long Product(ReadOnlySpan<long> dims)
    {
        long p = 1;
        foreach (long d in dims) p *= d;
        return p;
    }

    private long RawBytes => Length * (DataType == F.DataType.Int64 ? 8 : 4);

    protected override long ComputeSize() =>
        ProtoWriter.PackedInt64Size(F.Tensor.Dims, Dims)
        + ProtoWriter.Int64FieldSize(F.Tensor.DataType, (long)DataType)
        + ProtoWriter.StringFieldSize(F.Tensor.Name, Name)
        + ProtoWriter.LengthDelimitedSize(F.Tensor.RawData, RawBytes);

    public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena)
    {
        w.WritePackedInt64(F.Tensor.Dims, Dims);
        w.WriteInt64(F.Tensor.DataType, (long)DataType);
        w.WriteString(F.Tensor.Name, Name);
        w.WriteLengthDelimitedHeader(F.Tensor.RawData, RawBytes);
        if (Int64s is not null) w.WriteRawInt64s(Int64s);
        else if (Floats is not null) w.WriteRawFloats(Floats);
        else w.WriteRawFloats(arena.Slice(checked((int)ArenaOffset), checked((int)Length)));
    }
}

/// <summary>One dimension of a value's shape: a fixed size or a symbolic name.</summary>
internal readonly record struct OnnxDim(long Value, string? Symbol)
{
    public static implicit operator OnnxDim(long value) => new(value, null);

    public static OnnxDim Named(string symbol) => new(0, symbol);

    public override string ToString() => Symbol ?? Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// <c>ValueInfoProto</c> of a float tensor, with its <c>TypeProto</c> / <c>TypeProto.Tensor</c> / <c>TensorShapeProto</c>
/// nested inside.
/// </summary>
internal sealed class ValueInfoProto(string name, IReadOnlyList<OnnxDim> shape, string docString = "") : ProtoMessage
{
    private readonly TypeProto _type = new(new TensorTypeProto(F.DataType.Float, new TensorShapeProto(shape)));

    public string Name => name;

    public IReadOnlyList<OnnxDim> Shape => shape;

    protected override long ComputeSize() =>
        ProtoWriter.StringFieldSize(F.ValueInfo.Name, name)
        + FieldSize(F.ValueInfo.Type, _type)
        + OptionalStringSize(F.ValueInfo.DocString, docString);

    public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena)
    {
        w.WriteString(F.ValueInfo.Name, name);
        WriteField(w, F.ValueInfo.Type, _type, arena);
        WriteOptionalString(w, F.ValueInfo.DocString, docString);
    }

    private sealed class TypeProto(TensorTypeProto tensor) : ProtoMessage
    {
        protected override long ComputeSize() => FieldSize(F.Type.TensorType, tensor);

        public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena) => WriteField(w, F.Type.TensorType, tensor, arena);
    }

    private sealed class TensorTypeProto(F.DataType elemType, TensorShapeProto shape) : ProtoMessage
    {
        protected override long ComputeSize() =>
            ProtoWriter.Int64FieldSize(F.TensorType.ElemType, (long)elemType) + FieldSize(F.TensorType.Shape, shape);

        public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena)
        {
            w.WriteInt64(F.TensorType.ElemType, (long)elemType);
            WriteField(w, F.TensorType.Shape, shape, arena);
        }
    }

    private sealed class TensorShapeProto(IReadOnlyList<OnnxDim> dims) : ProtoMessage
    {
        private readonly DimensionProto[] _dims = dims.Select(d => new DimensionProto(d)).ToArray();

        protected override long ComputeSize() => FieldsSize(F.TensorShape.Dim, _dims);

        public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena) => WriteFields(w, F.TensorShape.Dim, _dims, arena);
    }

    private sealed class DimensionProto(OnnxDim dim) : ProtoMessage
    {
        protected override long ComputeSize() => dim.Symbol is { } s
            ? ProtoWriter.StringFieldSize(F.Dimension.DimParam, s)
            : ProtoWriter.Int64FieldSize(F.Dimension.DimValue, dim.Value);

        public override void WriteFields(ProtoWriter w, ReadOnlySpan<float> arena)
        {
            if (dim.Symbol is { } s) w.WriteString(F.Dimension.DimParam, s);
            else w.WriteInt64(F.Dimension.DimValue, dim.Value);
        }
    }
}
