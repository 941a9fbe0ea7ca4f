using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;
using FaceNetGen.Onnx;
using Microsoft.ML.OnnxRuntime;
using static FaceNetGen.Tests.Onnx.OnnxTestSupport;

namespace FaceNetGen.Tests.Onnx;

/// <summary>
/// Each lowering on its own, on small hand-built models, run by ONNX Runtime and compared with
/// <see cref="ReferenceKernels"/> — including the corners the six specs barely touch: windows that hang over the
/// padding, an end pad larger than the begin pad, LRN at the first and last channels, rows of tiny norm.
/// </summary>
public sealed class OnnxOpTests
{
    private const double Tolerance = 1e-5;

    /// <summary>
    /// A one-op model: input (C, H, W) → the op → "op" → an identity fully connected layer → "out" (the graph output
    /// must be a vector per image). The identity read-out is exact in float (one product by 1 and zeros), so the output
    /// is the op's result itself.
    /// </summary>
    private sealed class OneOpModel
    {
        private readonly List<ParameterTensor> _parameters = [];
        private readonly List<float> _arena = [];

        public OneOpModel(int c, int h, int w)
        {
            (C, H, W) = (c, h, w);
        }

        public int C { get; }

        public int H { get; }

        public int W { get; }

        public float[] Arena => _arena.ToArray();

        public string Parameter(string name, int[] shape, float[] values)
        {
            Assert.Equal(shape.Aggregate(1, (a, b) => a * b), values.Length);
            _parameters.Add(new ParameterTensor(name, shape, _arena.Count, values.Length, name.EndsWith(".bias", StringComparison.Ordinal), 1, 1, default));
            _arena.AddRange(values);
            return name;
        }

        /// <summary>
        /// The description of input → <paramref name="op"/> (writing "op" of <paramref name="opShape"/>, and any
        /// <paramref name="intermediates"/> on the way) → identity read-out.
        /// </summary>
        public ModelDescription Describe(int[] opShape, Action<IGraphBuilder> op, params ActivationTensor[] intermediates)
        {
            int features = opShape.Aggregate(1, (a, b) => a * b);
            var identity = new float[features * features];
            for (int i = 0; i < features; i++) identity[i * features + i] = 1;
            Parameter("readout.weight", [features, features], identity);
            Parameter("readout.bias", [features], new float[features]);
            long inputSize = (long)C * H * W;
            var activations = new[]
            {
                new ActivationTensor("input", C, H, W, 0, 0, 0),
                opShape.Length == 3 ? new ActivationTensor("op", opShape[0], opShape[1], opShape[2], inputSize, inputSize, inputSize) : new ActivationTensor("op", features, 1, 1, inputSize, inputSize, inputSize),
                new ActivationTensor("out", features, 1, 1, inputSize + features, inputSize + features, inputSize + features),
            }.Concat(intermediates).ToArray();
            var (inC, inH, inW) = opShape.Length == 3 ? (opShape[0], opShape[1], opShape[2]) : (features, 1, 1);
            return new ModelDescription(
                "OneOp", "0000000000000000", H, W, C, features, 0, 0, 0, 0, _arena.Count, inputSize + 2 * features, inputSize + features, inputSize + 2 * features, inputSize + features, inputSize + 2 * features, inputSize + features,
                _parameters.ToArray(), activations, "", g =>
                {
                    op(g);
                    g.Linear("readout", "op", "out", "readout.weight", "readout.bias", inC, inH, inW, features, relu: false);
                });
        }
    }

    private static float[] RandomInput(int length, ulong seed, float min = -1, float max = 1)
    {
        var rng = new DeterministicRandom(seed);
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat(min, max);
        return x;
    }

    /// <summary>Exports, runs ONNX Runtime on <paramref name="n"/> images and returns the output.</summary>
    private static float[] RunExported(ModelDescription model, float[] arena, float[] input, int n)
    {
        using var folder = new TempFolder();
        string path = folder.File("op.onnx");
        OnnxExport.Export(model, arena, path);
        using var session = new InferenceSession(path);
        var (values, shape) = RunOrt(session, model, input, n);
        Assert.Equal(new long[] { n, model.EmbeddingSize }, shape);
        return values;
    }

    /// <summary>
    /// A pooling geometry whose kind is given by name ("Max", "Average", "L2"): the test assembly sees the pooling
    /// kind enum twice (the generator links the runtime's spec model), so it is reached through the geometry's own type.
    /// </summary>
    private static PoolGeometry Pool(string kind, int c, int inH, int inW, int outH, int outW, int kernel, int stride, int pad)
    {
        var g = new PoolGeometry(default, c, inH, inW, outH, outW, kernel, kernel, stride, stride, pad, pad);
        return g with { Kind = ParseEnum(g.Kind, kind) };
    }

    private static T ParseEnum<T>(T sample, string name)
        where T : struct, Enum =>
        Enum.Parse<T>(name);

    public static TheoryData<string, int, int, int, int, int, int, int> PoolCases => new()
    {
        // kind, in H, in W, out H, out W, kernel, stride, pad
        { "Max", 7, 6, 4, 3, 3, 2, 1 },
        { "Average", 7, 6, 4, 3, 3, 2, 1 },
        { "L2", 7, 6, 4, 3, 3, 2, 1 },
        { "L2", 5, 4, 5, 4, 3, 1, 1 },
        // 6 rows, 3x3 stride 2 pad 1, 4 outputs (ceil rule): the last window needs 2 rows of end padding.
        { "Max", 6, 6, 4, 4, 3, 2, 1 },
        { "Average", 6, 6, 4, 4, 3, 2, 1 },
        { "L2", 6, 6, 4, 4, 3, 2, 1 },
        // global average pooling, as at the end of the Inception specs
        { "Average", 5, 5, 1, 1, 5, 1, 0 },
    };

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void Pooling_matches_the_reference(string kind, int inH, int inW, int outH, int outW, int kernel, int stride, int pad)
    {
        const int c = 3, n = 2;
        var g = Pool(kind, c, inH, inW, outH, outW, kernel, stride, pad);
        var m = new OneOpModel(c, inH, inW);
        var model = m.Describe([c, outH, outW], b => b.Pool("pool", "input", "op", g));
        // All-negative inputs: a max that let the zero padding in would show it.
        var x = RandomInput(n * g.InSize, 5, -2f, -0.1f);
        var expected = new float[n * g.OutSize];
        ReferenceKernels.PoolForward(g, n, x, expected);

        var actual = RunExported(model, m.Arena, x, n);

        Assert.True(MaxRelativeError(actual, expected, g.OutSize) <= Tolerance, $"{g}: error {MaxRelativeError(actual, expected, g.OutSize):E2}");
    }

    [Theory]
    [InlineData(5, 6, 3, 3, 3, 2, 1)]
    [InlineData(6, 6, 4, 4, 3, 2, 1)] // the last window needs 2 rows and columns of end padding
    [InlineData(4, 5, 4, 5, 1, 1, 0)]
    [InlineData(7, 7, 7, 7, 5, 1, 2)]
    public void Convolution_with_relu_matches_the_reference(int inH, int inW, int outH, int outW, int kernel, int stride, int pad)
    {
        const int n = 2;
        var g = new ConvGeometry(3, inH, inW, 4, outH, outW, kernel, kernel, stride, stride, pad, pad);
        var m = new OneOpModel(g.InC, g.InH, g.InW);
        string w = m.Parameter("conv.weight", [g.OutC, g.InC, kernel, kernel], RandomInput(g.WeightSize, 6));
        string b = m.Parameter("conv.bias", [g.OutC], RandomInput(g.OutC, 7));
        var model = m.Describe([g.OutC, g.OutH, g.OutW], gb => gb.Conv("conv", "input", "op", w, b, g, relu: true));
        var x = RandomInput(n * g.InSize, 8);
        var expected = new float[n * g.OutSize];
        ReferenceKernels.ConvForward(g, n, x, m.Arena.AsSpan(0, g.WeightSize), m.Arena.AsSpan(g.WeightSize, g.OutC), expected, relu: true);
        Assert.Contains(expected, v => v == 0);

        var actual = RunExported(model, m.Arena, x, n);

        Assert.True(MaxRelativeError(actual, expected, g.OutSize) <= Tolerance);
    }

    [Theory]
    // Alpha and k differ from the usual 1e-4 and 1, so that each must be written to match; the three betas take the
    // three ways the exporter raises to the power (Sqrt, Sqrt·Sqrt(Sqrt), Pow), and size 4 has uneven channel pads.
    [InlineData(5, 0.6f)]
    [InlineData(5, 0.75f)]
    [InlineData(3, 0.5f)]
    [InlineData(4, 0.75f)]
    public void Lrn_matches_the_reference_at_every_channel(int size, float beta)
    {
        const int n = 2;
        var g = new LrnGeometry(7, 3, 2, size, 0.5f, beta, 2f);
        var m = new OneOpModel(g.C, g.H, g.W);
        var model = m.Describe([g.C, g.H, g.W], b => b.Lrn("lrn", "input", "op", g));
        var x = RandomInput(n * g.Length, 9, -3, 3);
        var expected = new float[n * g.Length];
        ReferenceKernels.LrnForward(g, n, x, expected);

        var actual = RunExported(model, m.Arena, x, n);

        Assert.True(MaxRelativeError(actual, expected, g.Length) <= Tolerance);
    }

    [Fact]
    public void Concat_stacks_channels_in_order()
    {
        const int n = 2;
        var m = new OneOpModel(2, 3, 3);
        var g1 = Pool("Max", 2, 3, 3, 3, 3, 3, 1, 1);
        var g2 = Pool("Average", 2, 3, 3, 3, 3, 3, 1, 1);
        var model = m.Describe([6, 3, 3], b =>
        {
            b.Pool("max", "input", "op.max", g1);
            b.Pool("avg", "input", "op.avg", g2);
            b.Concat("cat", ["input", "op.max", "op.avg"], "op");
        },
        new ActivationTensor("op.max", 2, 3, 3, 1000, 1000, 1000), new ActivationTensor("op.avg", 2, 3, 3, 2000, 2000, 2000));
        var x = RandomInput(n * 18, 10);
        var max = new float[n * 18];
        var avg = new float[n * 18];
        ReferenceKernels.PoolForward(g1, n, x, max);
        ReferenceKernels.PoolForward(g2, n, x, avg);
        var expected = new float[n * 54];
        ReferenceKernels.ConcatForward(n, 9, x, 2, expected, 6, 0);
        ReferenceKernels.ConcatForward(n, 9, max, 2, expected, 6, 2);
        ReferenceKernels.ConcatForward(n, 9, avg, 2, expected, 6, 4);

        var actual = RunExported(model, m.Arena, x, n);

        Assert.True(MaxRelativeError(actual, expected, 54) <= Tolerance);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Fully_connected_flattens_in_channel_row_column_order(bool relu)
    {
        const int n = 2, outF = 5;
        var m = new OneOpModel(3, 2, 4);
        int inF = 3 * 2 * 4;
        string w = m.Parameter("fc.weight", [outF, inF], RandomInput(outF * inF, 11));
        string b = m.Parameter("fc.bias", [outF], RandomInput(outF, 12));
        var model = m.Describe([outF], g => g.Linear("fc", "input", "op", w, b, 3, 2, 4, outF, relu));
        var x = RandomInput(n * inF, 13);
        var expected = new float[n * outF];
        ReferenceKernels.LinearForward(n, inF, outF, x, m.Arena.AsSpan(0, outF * inF), m.Arena.AsSpan(outF * inF, outF), expected, relu);
        if (relu) Assert.Contains(expected, v => v == 0);

        var actual = RunExported(model, m.Arena, x, n);

        Assert.True(MaxRelativeError(actual, expected, outF) <= Tolerance);
    }

    [Fact]
    public void Maxout_takes_the_maximum_of_consecutive_groups()
    {
        const int n = 2, units = 3, pool = 4;
        var m = new OneOpModel(units * pool, 1, 1);
        var model = m.Describe([units], g => g.Maxout("maxout", "input", "op", units, pool));
        var x = RandomInput(n * units * pool, 14);
        var expected = new float[n * units];
        ReferenceKernels.MaxoutForward(n, units, pool, x, expected);

        var actual = RunExported(model, m.Arena, x, n);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void L2_normalisation_divides_by_the_norm_but_never_by_less_than_1e_12()
    {
        const int n = 3, dim = 4;
        var m = new OneOpModel(dim, 1, 1);
        var model = m.Describe([dim], g => g.L2Normalize("l2", "input", "op", dim));
        // An ordinary row, an all-zero row, and a row whose norm (5e-14) is below the 1e-12 floor.
        float[] x = [3, -4, 0, 12, 0, 0, 0, 0, 3e-14f, 4e-14f, 0, 0];
        var expected = new float[n * dim];
        ReferenceKernels.L2NormalizeForward(n, dim, x, expected);
        Assert.Equal(3f / 13, expected[0], 1e-7f);
        Assert.Equal(0.03f, expected[8], 1e-7f);

        var actual = RunExported(model, m.Arena, x, n);

        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], Math.Abs(expected[i]) * 1e-5f);
    }
}
