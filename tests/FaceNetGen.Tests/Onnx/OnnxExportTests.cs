using System.Globalization;
using FaceNetGen.Models;
using FaceNetGen.Onnx;
using Microsoft.ML.OnnxRuntime;
using static FaceNetGen.Tests.Onnx.OnnxTestSupport;

namespace FaceNetGen.Tests.Onnx;

/// <summary>The export API: what the file declares, dynamic batches, metadata, determinism and every failure path.</summary>
public sealed class OnnxExportTests
{
    /// <summary>The smallest built-in spec: exports in a fraction of a second and runs on the reference backend in about one.</summary>
    private static readonly ModelEntry Small = ModelCatalog.Get("NNS2");

    private static float[] RandomParameters(ModelDescription model, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var p = new float[model.ParameterLength];
        for (int i = 0; i < p.Length; i++) p[i] = (float)(rng.NextNormal() * 0.05);
        return p;
    }

    [Fact]
    public void Batch_dimension_is_dynamic()
    {
        var info = Small.Info;
        var parameters = RandomParameters(info, 1);
        var rng = new DeterministicRandom(2);
        var input = new float[3 * info.InputSize];
        for (int i = 0; i < input.Length; i++) input[i] = rng.NextFloat(-1, 1);
        var expected = Forward(Small, parameters, input, 3);
        using var folder = new TempFolder();
        string path = folder.File("nns2.onnx");
        OnnxExport.Export(info, parameters, path);

        using var session = new InferenceSession(path);
        var (three, shape3) = RunOrt(session, info, input, 3);
        var (one, shape1) = RunOrt(session, info, input[..info.InputSize], 1);

        Assert.Equal(new long[] { 3, 128 }, shape3);
        Assert.Equal(new long[] { 1, 128 }, shape1);
        Assert.True(MaxRelativeError(three, expected, 128) <= 1e-4);
        Assert.True(MaxRelativeError(one, expected.AsSpan(0, 128), 128) <= 1e-4);
        var inputMeta = session.InputMetadata[OnnxExport.InputName];
        Assert.Equal(new[] { -1, 3, 140, 116 }, inputMeta.Dimensions);
        Assert.Equal(OnnxExport.BatchDimension, inputMeta.SymbolicDimensions[0]);
        var outputMeta = session.OutputMetadata[OnnxExport.OutputName];
        Assert.Equal(new[] { -1, 128 }, outputMeta.Dimensions);
        Assert.Equal(OnnxExport.BatchDimension, outputMeta.SymbolicDimensions[0]);
        Assert.Single(session.InputMetadata);
        Assert.Single(session.OutputMetadata);
    }

    [Fact]
    public void Metadata_round_trips_through_onnx_runtime()
    {
        var info = Small.Info;
        using var folder = new TempFolder();
        string path = folder.File("nns2.onnx");
        OnnxExport.Export(info, RandomParameters(info, 3), path);

        using var session = new InferenceSession(path);
        var meta = session.ModelMetadata;

        Assert.Equal("FaceNetGen", meta.ProducerName);
        Assert.Equal(typeof(OnnxExport).Assembly.GetName().Version!.ToString(3), OnnxExport.ProducerVersion);
        Assert.Equal("NNS2", meta.GraphName);
        Assert.Contains("[N, 3, 140, 116]", meta.Description, StringComparison.Ordinal);
        var expected = new Dictionary<string, string>
        {
            ["facenet.spec"] = "NNS2",
            ["facenet.spec_hash"] = info.SpecHash,
            ["facenet.embedding_size"] = "128",
            ["facenet.input_height"] = "140",
            ["facenet.input_width"] = "116",
            ["facenet.input_channels"] = "3",
            ["facenet.channel_order"] = "RGB",
            ["facenet.layout"] = "NCHW",
            ["facenet.normalization"] = "(pixel - 127.5) / 128",
            ["facenet.pixel_mean"] = "127.5",
            ["facenet.pixel_scale"] = "0.0078125",
        };
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), meta.CustomMetadataMap.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(InputFormat.Mean, float.Parse(meta.CustomMetadataMap[OnnxMetadataKeys.PixelMean], CultureInfo.InvariantCulture));
        Assert.Equal(InputFormat.Scale, float.Parse(meta.CustomMetadataMap[OnnxMetadataKeys.PixelScale], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Every_parameter_is_an_initializer_with_its_shape()
    {
        foreach (var entry in ModelCatalog.All)
        {
            var info = entry.Info;
            var proto = OnnxExport.Prepare(info, new float[info.ParameterLength], "test");
            var initializers = proto.Graph.Initializers.ToDictionary(t => t.Name);
            foreach (var p in info.Parameters)
            {
                Assert.True(initializers.TryGetValue(p.Name, out var t), $"{info.Name}: {p.Name} is not an initializer");
                Assert.Equal(p.Shape.Select(d => (long)d), t.Dims);
                Assert.Equal(p.Offset, t.ArenaOffset);
            }
            var ops = proto.Graph.Nodes.Select(n => n.OpType).ToHashSet();
            Assert.Contains("Conv", ops);
            Assert.Contains("ReduceL2", ops);
            // L2 pooling and LRN are compositions of ops ONNX Runtime vectorises, never its scalar LpPool and LRN.
            Assert.DoesNotContain("LpPool", ops);
            Assert.DoesNotContain("LRN", ops);
            // Every built-in spec has L2 pooling or LRN (beta 0.75), and both end in Sqrt.
            Assert.Contains("Sqrt", ops);
            Assert.All(proto.Graph.Nodes.Where(n => n.OpType == "AveragePool"), n => Assert.Contains(n.Attributes, a => a.Name == "count_include_pad"));
            // Maxout (NN1, NNS1) is a Reshape and a ReduceMax.
            bool maxout = info.Parameters.Any(p => p.Name == "fc1.weight") && proto.Graph.Nodes.Any(n => n.OpType == "ReduceMax");
            if (info.Name is "NN1" or "NNS1") Assert.True(maxout, $"{info.Name} has no ReduceMax");
        }
    }

    [Fact]
    public void The_same_model_gives_byte_identical_files_and_streams()
    {
        var info = Small.Info;
        var parameters = RandomParameters(info, 4);
        using var folder = new TempFolder();
        OnnxExport.Export(info, parameters, folder.File("a.onnx"));
        OnnxExport.Export(info, parameters, folder.File("b.onnx"));
        using var stream = new MemoryStream();
        OnnxExport.Export(info, parameters, stream);

        byte[] a = File.ReadAllBytes(folder.File("a.onnx"));
        Assert.Equal(a, File.ReadAllBytes(folder.File("b.onnx")));
        Assert.Equal(a, stream.ToArray());
        // The parameters themselves are in the file, as raw little-endian floats.
        Assert.True(a.Length > 4 * info.ParameterLength);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(+1)]
    [InlineData(-1000)]
    public void A_parameter_span_of_the_wrong_length_fails_clearly_and_writes_nothing(int delta)
    {
        var info = Small.Info;
        var parameters = new float[info.ParameterLength + delta];
        using var folder = new TempFolder();
        string path = folder.File("nns2.onnx");

        var e = Assert.Throws<FaceNetException>(() => OnnxExport.Export(info, parameters, path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(info.ParameterLength.ToString("N0", CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Contains(parameters.Length.ToString("N0", CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Empty(folder.Files());
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void A_parameter_that_is_not_finite_fails_clearly_and_writes_nothing(float bad)
    {
        var info = Small.Info;
        var parameters = new float[info.ParameterLength];
        var last = info.Parameters[^1];
        parameters[last.Offset + last.Length - 1] = bad;
        using var folder = new TempFolder();
        string path = folder.File("nns2.onnx");

        var e = Assert.Throws<FaceNetException>(() => OnnxExport.Export(info, parameters, path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{last.Name}'", e.Message, StringComparison.Ordinal);
        Assert.Empty(folder.Files());
    }

    [Fact]
    public void A_failed_export_keeps_the_existing_file_as_it_was()
    {
        var info = Small.Info;
        using var folder = new TempFolder();
        string path = folder.File("nns2.onnx");
        File.WriteAllText(path, "previous model");

        Assert.Throws<FaceNetException>(() => OnnxExport.Export(info, new float[info.ParameterLength - 1], path));

        Assert.Equal("previous model", File.ReadAllText(path));
        Assert.Equal(new[] { "nns2.onnx" }, folder.Files());
    }

    [Fact]
    public void A_failure_after_writing_removes_the_temporary_file()
    {
        // The target is a folder: the whole model is written to the temporary file, then the final rename fails.
        var info = Small.Info;
        using var folder = new TempFolder();
        string path = folder.File("taken.onnx");
        Directory.CreateDirectory(path);

        var e = Assert.Throws<FaceNetException>(() => OnnxExport.Export(info, RandomParameters(info, 7), path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Empty(folder.Files());
        Assert.Empty(Directory.GetFileSystemEntries(path));
    }

    [Fact]
    public void A_missing_folder_is_created_as_for_every_file_the_library_writes()
    {
        var info = Small.Info;
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "no-such-folder", "nns2.onnx");

        OnnxExport.Export(info, RandomParameters(info, 8), path);

        Assert.True(File.Exists(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void The_stream_overload_writes_nothing_when_the_parameters_are_wrong()
    {
        var info = Small.Info;
        using var stream = new MemoryStream();

        var e = Assert.Throws<FaceNetException>(() => OnnxExport.Export(info, new float[10], stream));

        Assert.Contains("the stream", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, stream.Length);
    }
}
