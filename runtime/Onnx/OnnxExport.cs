using System.Globalization;
using System.Reflection;
using FaceNetGen.Models;

namespace FaceNetGen.Onnx;

/// <summary>
/// Writes a model with its parameters as a self-contained ONNX file (opset <see cref="OpsetVersion"/>, every parameter
/// an initializer), which ONNX Runtime and other ONNX engines run without FaceNetGen. How each layer is lowered is
/// described on the exporter; the file's metadata (<see cref="OnnxMetadataKeys"/>) records the spec and the input
/// format.
/// </summary>
/// <remarks>
/// <para><b>Running an exported file elsewhere.</b> The file has one input and one output:</para>
/// <list type="bullet">
/// <item><c>input</c>: float32, shape [N, 3, H, W] (NCHW). N, the batch, is free ("N"); H and W are the spec's input size
/// (NN1 220×220, NN2 224×224, NN3 160×160, NN4 96×96, NNS1 165×165, NNS2 140×116 rows × columns; the metadata keys
/// <c>facenet.input_height</c> / <c>facenet.input_width</c> say it for any spec). Channels are in RGB order. Resize
/// each face crop to H×W first (the model neither crops nor resizes), then map every 8-bit value v to
/// (v − 127.5) / 128, so that inputs lie in [−0.996, 0.996]. A grey image goes into all three channels.</item>
/// <item><c>embedding</c>: float32, shape [N, D] (D = 128 for the built-in specs), one row per image, each of unit L2 norm.
/// Two faces are the same person when the squared distance ‖a − b‖² of their embeddings is below a threshold
/// (cosine similarity a·b is equivalent, since the rows are unit vectors); choose the threshold on labelled pairs.</item>
/// </list>
/// <para>For example, with ONNX Runtime in Python: <c>session = onnxruntime.InferenceSession("nn2.onnx")</c>, then
/// <c>session.run(["embedding"], {"input": x})[0]</c> with <c>x</c> a float32 array of shape (N, 3, 224, 224) prepared
/// as above. Any engine that supports ONNX opset <see cref="OpsetVersion"/> (IR version <see cref="IrVersion"/>)
/// runs it; the ops used are Conv, Relu, MaxPool, AveragePool, Mul, Add, Sqrt, Pow, Div, Unsqueeze, Squeeze, Concat,
/// Flatten, Gemm, Reshape, ReduceMax, ReduceL2 and Max.</para>
/// <para>A file holds at most 2 GiB (the protobuf limit); the largest built-in spec, NN1, takes about 560 MB.</para>
/// </remarks>
public static class OnnxExport
{
    /// <summary>
    /// The ONNX operator set the files import (default domain): 18, the first in which every op the exporter writes has
    /// its present form (ReduceMax, ReduceL2, Unsqueeze and Squeeze take their axes as an input). Later opsets change
    /// nothing for these ops but the element types they admit, and every engine that reads 18 or later runs the file;
    /// ONNX Runtime 1.31 reads opsets 7 to 26.
    /// </summary>
    public const int OpsetVersion = 18;

    /// <summary>The ONNX IR version that goes with <see cref="OpsetVersion"/> (IR 8, ONNX 1.13).</summary>
    public const int IrVersion = 8;

    /// <summary>The name of the graph's input, (N, C, H, W) float32.</summary>
    public const string InputName = OnnxExporter.InputName;

    /// <summary>The name of the graph's output, (N, D) float32.</summary>
    public const string OutputName = OnnxExporter.OutputName;

    /// <summary>The symbolic name of the batch dimension of the input and output.</summary>
    public const string BatchDimension = OnnxExporter.BatchSymbol;

    /// <summary>The producer name written into every file.</summary>
    public const string ProducerName = "FaceNetGen";

    /// <summary>The largest file protobuf parsers accept.</summary>
    private const long MaxFileBytes = int.MaxValue;

    /// <summary>The producer version written into every file: this library's version.</summary>
    public static string ProducerVersion { get; } = ReadVersion();

    /// <summary>
    /// Writes <paramref name="model"/> with <paramref name="parameters"/> (its whole parameter arena,
    /// <see cref="ModelDescription.ParameterLength"/> floats, as <see cref="FaceNetModel.GetParameters"/> returns it) to
    /// <paramref name="path"/>, atomically: the file appears complete or not at all, and on any failure no partial file
    /// is left behind (an existing file at <paramref name="path"/> is then kept as it was).
    /// </summary>
    /// <exception cref="FaceNetException">The parameters do not fit the model (wrong length, a value that is not finite),
    /// or the file cannot be written; the message names the file. A missing folder is created.</exception>
    public static void Export(ModelDescription model, ReadOnlySpan<float> parameters, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new FaceNetException($"cannot write {full}: it names no file.");

        var proto = Prepare(model, parameters, full);
        try
        {
            using var file = AtomicFile.Begin(full);
            Write(proto, parameters, file.Stream);
            file.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"cannot write {full}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> with <paramref name="parameters"/> to <paramref name="stream"/> (left open). The
    /// parameters are checked before the first byte is written; if the stream itself fails, what it holds is incomplete.
    /// </summary>
    /// <exception cref="FaceNetException">The parameters do not fit the model (wrong length, a value that is not finite).</exception>
    public static void Export(ModelDescription model, ReadOnlySpan<float> parameters, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("The stream is not writable.", nameof(stream));
        var proto = Prepare(model, parameters, "the stream");
        Write(proto, parameters, stream);
    }

    /// <summary>Checks the parameters against the model and builds the whole message tree; writes nothing.</summary>
    internal static ModelProto Prepare(ModelDescription model, ReadOnlySpan<float> parameters, string target)
    {
        if (parameters.Length != model.ParameterLength)
        {
            throw new FaceNetException(string.Create(CultureInfo.InvariantCulture,
                $"cannot export {model.Name} to {target}: {model.Name} has {model.ParameterLength:N0} parameters but {parameters.Length:N0} values were given."));
        }
        foreach (var p in model.Parameters)
        {
            if (p.Offset < 0 || p.Length < 0 || p.Offset + p.Length > parameters.Length)
                throw new FaceNetException($"cannot export {model.Name} to {target}: parameter '{p.Name}' lies outside the parameter arena.");
            var values = parameters.Slice((int)p.Offset, (int)p.Length);
            for (int i = 0; i < values.Length; i++)
            {
                if (!float.IsFinite(values[i]))
                {
                    throw new FaceNetException(string.Create(CultureInfo.InvariantCulture,
                        $"cannot export {model.Name} to {target}: parameter '{p.Name}' holds {values[i]} at index {i}; a model with a value that is not finite cannot be exported."));
                }
            }
        }

        var graph = new OnnxExporter(model).Build();
        var proto = new ModelProto(IrVersion, OpsetVersion, ProducerName, ProducerVersion, Describe(model), graph, Metadata(model));
        if (proto.Size > MaxFileBytes)
        {
            throw new FaceNetException(string.Create(CultureInfo.InvariantCulture,
                $"cannot export {model.Name} to {target}: the file would take {proto.Size:N0} bytes, more than the 2 GiB an ONNX file can hold."));
        }
        return proto;
    }

    internal static void Write(ModelProto proto, ReadOnlySpan<float> parameters, Stream stream)
    {
        var w = new ProtoWriter(stream);
        proto.WriteFields(w, parameters);
        w.Flush();
        if (w.Position != proto.Size) throw new InvalidOperationException($"The model announced {proto.Size} bytes but wrote {w.Position}.");
    }

    internal static IReadOnlyList<StringStringEntryProto> Metadata(ModelDescription model)
    {
        string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        return
        [
            new(OnnxMetadataKeys.Spec, model.Name),
            new(OnnxMetadataKeys.SpecHash, model.SpecHash),
            new(OnnxMetadataKeys.EmbeddingSize, N(model.EmbeddingSize)),
            new(OnnxMetadataKeys.InputHeight, N(model.InputHeight)),
            new(OnnxMetadataKeys.InputWidth, N(model.InputWidth)),
            new(OnnxMetadataKeys.InputChannels, N(model.InputChannels)),
            new(OnnxMetadataKeys.ChannelOrder, InputFormat.ChannelOrder),
            new(OnnxMetadataKeys.Layout, InputFormat.Layout),
            new(OnnxMetadataKeys.Normalization, "(pixel - 127.5) / 128"),
            new(OnnxMetadataKeys.PixelMean, InputFormat.Mean.ToString("R", CultureInfo.InvariantCulture)),
            new(OnnxMetadataKeys.PixelScale, InputFormat.Scale.ToString("R", CultureInfo.InvariantCulture)),
        ];
    }

    private static string Describe(ModelDescription model) => string.Create(CultureInfo.InvariantCulture,
        $"FaceNet {model.Name} embedding network. Input '{InputName}': float32 [N, {model.InputChannels}, {model.InputHeight}, {model.InputWidth}], {InputFormat.Describe}. Output '{OutputName}': float32 [N, {model.EmbeddingSize}], rows of unit L2 norm.");

    private static string ReadVersion()
    {
        string? v = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(v)) return typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0.0.0";
        int plus = v.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? v : v[..plus];
    }
}
