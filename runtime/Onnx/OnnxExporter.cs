using System.Globalization;
using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;
using FaceNetGen.Specs;

namespace FaceNetGen.Onnx;

/// <summary>
/// Lowers a generated model's graph (<see cref="ModelDescription.BuildGraph"/>) to ONNX nodes, one
/// <see cref="IGraphBuilder"/> call at a time, checking every shape against the model's own activation and parameter
/// tables as it goes. The graph input is <see cref="InputName"/> (N, C, H, W) and the output <see cref="OutputName"/>
/// (N, D), N being the symbolic batch dimension <see cref="BatchSymbol"/>; every other value keeps its activation name
/// ("conv1", "3a.1x1", …), and helper values get the name of the value they lead to plus ":" and a suffix.
/// </summary>
/// <remarks>
/// <para>The lowering of each op, with the semantics of <see cref="ReferenceKernels"/>:</para>
/// <list type="bullet">
/// <item><b>Convolution</b>: <c>Conv</c> (OIHW weights, bias) then <c>Relu</c>.</item>
/// <item><b>Max and average pooling</b>: <c>MaxPool</c> / <c>AveragePool</c> with <c>count_include_pad = 0</c>, so that an
/// average divides by the number of unpadded inputs and a max never sees the padding. Pads are explicit and
/// <c>ceil_mode</c> is 0: the end pad of each axis is chosen so that ONNX's floor-mode output size equals the model's
/// (equal to the begin pad wherever that already holds, as in all six built-in specs), which states every window
/// exactly and leaves nothing to a runtime's reading of ceil mode.</item>
/// <item><b>L2 pooling</b> (√Σx² over the window, the padding contributing zero): x·x → <c>AveragePool</c>
/// (<c>count_include_pad = 1</c>, the same explicit pads, so that every window lies inside the padded extent and is
/// divided by exactly kH·kW) → × kH·kW → <c>Sqrt</c>. ONNX's single <c>LpPool</c> (p = 2) states the same function, but
/// ONNX Runtime runs it with a scalar loop: on NN2 its six LpPool nodes took 55% of the forward pass, while this
/// composition runs on the runtime's vectorised pooling and element-wise kernels (with both changes below, ONNX Runtime's
/// NN2 forward went from about 17 to about 80 images/s at batch 16 on two cores).</item>
/// <item><b>LRN</b> (y = x / (k + alpha/size · Σ x²)^beta, the sum over channels [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]
/// with zeros beyond the ends): x·x → <c>Unsqueeze</c> to (N, 1, C, H, W) → <c>AveragePool</c> with kernel (size, 1, 1)
/// and channel pads ⌊(size−1)/2⌋, ⌈(size−1)/2⌉ (<c>count_include_pad = 1</c>, so it yields Σ/size) → <c>Squeeze</c> →
/// × alpha → + k → the power beta → x ÷ it. The power is <c>Sqrt</c> for beta = 0.5, Sqrt(s)·Sqrt(Sqrt(s)) for the
/// usual beta = 0.75 and <c>Pow</c> otherwise. ONNX's own <c>LRN</c> op is the same function, but ONNX Runtime's
/// implementation took 20% of NN2's forward pass for two layers, and its element-wise <c>Pow</c> is a scalar call per
/// value.</item>
/// <item><b>Concatenation</b>: <c>Concat</c> on axis 1.</item>
/// <item><b>Fully connected</b>: <c>Flatten</c> (axis 1, only when the input is N×C×H×W: it flattens in the same C, H, W
/// order as our arena) then <c>Gemm</c> with <c>transB = 1</c> ([out, in] weights), then <c>Relu</c>.</item>
/// <item><b>Maxout</b>: <c>Reshape</c> to [N, units, pool] then <c>ReduceMax</c> over axis 2 without keeping it: the maximum of
/// each run of <c>pool</c> consecutive features.</item>
/// <item><b>L2 normalisation</b>: <c>ReduceL2</c> over axis 1 keeping it, <c>Max</c> with 1e-12, then <c>Div</c>:
/// y = x / max(‖x‖₂, 1e-12), the rule of <see cref="ReferenceKernels.L2NormalizeForward"/> (and of
/// torch.nn.functional.normalize). ONNX's <c>LpNormalization</c> is not used: it has no epsilon.</item>
/// </list>
/// </remarks>
internal sealed class OnnxExporter : IGraphBuilder
{
    public const string InputName = "input";
    public const string OutputName = "embedding";
    public const string BatchSymbol = "N";

    private readonly ModelDescription _model;
    private readonly Dictionary<string, ParameterTensor> _parameters;
    private readonly Dictionary<string, ActivationTensor> _activations;
    private readonly HashSet<string> _usedParameters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _shapes = new(StringComparer.Ordinal);
    private readonly List<NodeProto> _nodes = [];
    private readonly List<TensorProto> _constants = [];
    private readonly string _outputActivation;

    public OnnxExporter(ModelDescription model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _parameters = model.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        _activations = model.Activations.ToDictionary(a => a.Name, StringComparer.Ordinal);
        var output = model.Activations.Where(a => a.Offset == model.OutputOffset).ToList();
        if (output.Count != 1)
            throw Invalid($"{output.Count} activations sit at the output offset {model.OutputOffset}; expected exactly one");
        _outputActivation = output[0].Name;
        foreach (var p in model.Parameters) _names.Add(p.Name);
        _names.Add(InputName);
        _shapes[InputName] = [model.InputChannels, model.InputHeight, model.InputWidth];
    }

    /// <summary>Runs the model's graph description through this builder and returns the finished graph.</summary>
    public GraphProto Build()
    {
        _model.BuildGraph(this);
        if (!_shapes.TryGetValue(OutputName, out var outShape))
            throw Invalid($"the graph never produced its output activation '{_outputActivation}'");
        if (outShape.Length != 1 || outShape[0] != _model.EmbeddingSize)
            throw Invalid($"the output '{_outputActivation}' has per-image shape [{string.Join(", ", outShape)}], not [{_model.EmbeddingSize}]");
        var unused = _model.Parameters.Where(p => !_usedParameters.Contains(p.Name)).Select(p => p.Name).ToList();
        if (unused.Count > 0) throw Invalid($"the graph never uses the parameters {string.Join(", ", unused)}");

        var initializers = _model.Parameters
            .Select(p => TensorProto.FromArena(p.Name, p.Shape.Select(d => (long)d).ToArray(), p.Offset))
            .Concat(_constants)
            .ToList();
        var input = new ValueInfoProto(InputName,
            [OnnxDim.Named(BatchSymbol), _model.InputChannels, _model.InputHeight, _model.InputWidth],
            $"Face images, {InputFormat.Describe}.");
        var output = new ValueInfoProto(OutputName, [OnnxDim.Named(BatchSymbol), _model.EmbeddingSize],
            "Embeddings of unit L2 norm, one row per image.");
        return new GraphProto(_model.Name, $"{_model}", _nodes, initializers, [input], [output]);
    }

    // ---- IGraphBuilder -------------------------------------------------------------------------------------

    public void Conv(string layer, string input, string output, string weight, string bias, in ConvGeometry g, bool relu)
    {
        string x = Consume(layer, input, g.InC, g.InH, g.InW);
        string w = Parameter(layer, weight, g.OutC, g.InC, g.KernelH, g.KernelW);
        string b = Parameter(layer, bias, g.OutC);
        var (padTop, padBottom) = Pads(layer, "rows", g.InH, g.OutH, g.KernelH, g.StrideH, g.PadH, pooling: false);
        var (padLeft, padRight) = Pads(layer, "columns", g.InW, g.OutW, g.KernelW, g.StrideW, g.PadW, pooling: false);
        string y = Produce(layer, output, g.OutC, g.OutH, g.OutW);
        string conv = relu ? Helper(y, "conv") : y;
        Node("Conv", [x, w, b], conv,
            AttributeProto.Ints("kernel_shape", g.KernelH, g.KernelW),
            AttributeProto.Ints("strides", g.StrideH, g.StrideW),
            AttributeProto.Ints("pads", padTop, padLeft, padBottom, padRight),
            AttributeProto.Ints("dilations", 1, 1),
            AttributeProto.Int("group", 1));
        if (relu) Node("Relu", [conv], y);
    }

    public void Pool(string layer, string input, string output, in PoolGeometry g)
    {
        string x = Consume(layer, input, g.C, g.InH, g.InW);
        var (padTop, padBottom) = Pads(layer, "rows", g.InH, g.OutH, g.KernelH, g.StrideH, g.PadH, pooling: true);
        var (padLeft, padRight) = Pads(layer, "columns", g.InW, g.OutW, g.KernelW, g.StrideW, g.PadW, pooling: true);
        string y = Produce(layer, output, g.C, g.OutH, g.OutW);
        var window = new[]
        {
            AttributeProto.Ints("kernel_shape", g.KernelH, g.KernelW),
            AttributeProto.Ints("strides", g.StrideH, g.StrideW),
            AttributeProto.Ints("pads", padTop, padLeft, padBottom, padRight),
            AttributeProto.Int("ceil_mode", 0),
        };
        switch (g.Kind)
        {
            case PoolKind.Max:
                Node("MaxPool", [x], y, window);
                break;
            case PoolKind.Average:
                Node("AveragePool", [x], y, [.. window, AttributeProto.Int("count_include_pad", 0)]);
                break;
            case PoolKind.L2:
            {
                string squares = Helper(y, "squares");
                string mean = Helper(y, "window_mean");
                string sum = Helper(y, "window_sum");
                Node("Mul", [x, x], squares);
                Node("AveragePool", [squares], mean, [.. window, AttributeProto.Int("count_include_pad", 1)]);
                Node("Mul", [mean, Constant(Helper(y, "window_size"), [], (float)(g.KernelH * g.KernelW))], sum);
                Node("Sqrt", [sum], y);
                break;
            }
            default:
                throw Invalid($"layer '{layer}' pools with {g.Kind}, which the exporter does not know");
        }
    }

    public void Lrn(string layer, string input, string output, in LrnGeometry g)
    {
        string x = Consume(layer, input, g.C, g.H, g.W);
        string y = Produce(layer, output, g.C, g.H, g.W);
        string squares = Helper(y, "squares");
        string stacked = Helper(y, "squares_5d");
        string mean = Helper(y, "window_mean_5d");
        string flat = Helper(y, "window_mean");
        string scaled = Helper(y, "scaled");
        string denominator = Helper(y, "base");
        string axis = Constant(Helper(y, "axis"), [1], 1L);
        Node("Mul", [x, x], squares);
        Node("Unsqueeze", [squares, axis], stacked);
        int before = (g.Size - 1) / 2, after = g.Size - 1 - before;
        Node("AveragePool", [stacked], mean,
            AttributeProto.Ints("kernel_shape", g.Size, 1, 1),
            AttributeProto.Ints("strides", 1, 1, 1),
            AttributeProto.Ints("pads", before, 0, 0, after, 0, 0),
            AttributeProto.Int("ceil_mode", 0),
            AttributeProto.Int("count_include_pad", 1));
        Node("Squeeze", [mean, axis], flat);
        Node("Mul", [flat, Constant(Helper(y, "alpha"), [], g.Alpha)], scaled);
        Node("Add", [scaled, Constant(Helper(y, "k"), [], g.K)], denominator);
        string power = Helper(y, "power");
        if (g.Beta == 0.5f)
        {
            Node("Sqrt", [denominator], power);
        }
        else if (g.Beta == 0.75f)
        {
            string root = Helper(y, "sqrt");
            string fourth = Helper(y, "fourth_root");
            Node("Sqrt", [denominator], root);
            Node("Sqrt", [root], fourth);
            Node("Mul", [root, fourth], power);
        }
        else
        {
            Node("Pow", [denominator, Constant(Helper(y, "beta"), [], g.Beta)], power);
        }
        Node("Div", [x, power], y);
    }

    public void Concat(string layer, IReadOnlyList<string> inputs, string output)
    {
        if (inputs.Count == 0) throw Invalid($"layer '{layer}' concatenates nothing");
        var names = new List<string>(inputs.Count);
        long channels = 0;
        long[]? spatial = null;
        foreach (string input in inputs)
        {
            var shape = Shape(layer, input);
            if (shape.Length != 3 || (spatial is not null && (shape[1] != spatial[0] || shape[2] != spatial[1])))
                throw Invalid($"layer '{layer}' concatenates '{input}' of shape [{string.Join(", ", shape)}], which does not line up with its other inputs");
            spatial ??= [shape[1], shape[2]];
            channels += shape[0];
            names.Add(Name(input));
        }
        string y = Produce(layer, output, channels, spatial![0], spatial[1]);
        Node("Concat", names, y, AttributeProto.Int("axis", 1));
    }

    public void Linear(string layer, string input, string output, string weight, string bias, int inChannels, int inHeight, int inWidth, int outFeatures, bool relu)
    {
        long inFeatures = (long)inChannels * inHeight * inWidth;
        string w = Parameter(layer, weight, outFeatures, inFeatures);
        string b = Parameter(layer, bias, outFeatures);
        string x = Flat(layer, input, inFeatures, output);
        string y = Produce(layer, output, outFeatures);
        string gemm = relu ? Helper(y, "gemm") : y;
        Node("Gemm", [x, w, b], gemm, AttributeProto.Int("transB", 1));
        if (relu) Node("Relu", [gemm], y);
    }

    public void Maxout(string layer, string input, string output, int units, int pool)
    {
        string x = Flat(layer, input, (long)units * pool, output);
        string y = Produce(layer, output, units);
        string shape = Constant(Helper(y, "shape"), [3], 0L, units, pool);
        string axes = Constant(Helper(y, "axes"), [1], 2L);
        string groups = Helper(y, "groups");
        Node("Reshape", [x, shape], groups);
        Node("ReduceMax", [groups, axes], y, AttributeProto.Int("keepdims", 0));
    }

    public void L2Normalize(string layer, string input, string output, int dim)
    {
        string x = Flat(layer, input, dim, output);
        string y = Produce(layer, output, dim);
        string axes = Constant(Helper(y, "axes"), [1], 1L);
        string epsilon = Constant(Helper(y, "epsilon"), [], (float)ReferenceKernels.NormEpsilon);
        string norm = Helper(y, "norm");
        string clamped = Helper(y, "clamped_norm");
        Node("ReduceL2", [x, axes], norm, AttributeProto.Int("keepdims", 1));
        Node("Max", [norm, epsilon], clamped);
        Node("Div", [x, clamped], y);
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /// <summary>
    /// The begin and end pads of one axis such that ONNX's floor-mode output count is <paramref name="outSize"/> and each
    /// window covers the input positions ours do: window o spans [o·stride − pad, o·stride − pad + kernel) clipped to the
    /// input, i.e. <paramref name="pad"/> before and whatever the last window needs after.
    /// </summary>
    private (long Begin, long End) Pads(string layer, string axis, int inSize, int outSize, int kernel, int stride, int pad, bool pooling)
    {
        static long FloorCount(long inSize, long begin, long end, long kernel, long stride) =>
            inSize + begin + end < kernel ? 0 : (inSize + begin + end - kernel) / stride + 1;

        if (inSize < 1 || outSize < 1 || kernel < 1 || stride < 1 || pad < 0)
            throw Invalid($"layer '{layer}' has an impossible window over its {axis} (in {inSize}, out {outSize}, kernel {kernel}, stride {stride}, pad {pad})");
        long end = pad;
        if (FloorCount(inSize, pad, end, kernel, stride) != outSize)
            end = Math.Max(0, (long)(outSize - 1) * stride + kernel - inSize - pad);
        if (FloorCount(inSize, pad, end, kernel, stride) != outSize)
            throw Invalid($"layer '{layer}': a {kernel}-wide window with stride {stride} and padding {pad} over {inSize} {axis} cannot give {outSize} outputs");
        if (pooling && ((long)(outSize - 1) * stride - pad >= inSize || pad >= kernel))
            throw Invalid($"layer '{layer}' has a pooling window over its {axis} that lies wholly in the padding");
        return (pad, end);
    }

    private void Node(string opType, IReadOnlyList<string> inputs, string output, params AttributeProto[] attributes) =>
        _nodes.Add(new NodeProto(output, opType, inputs, [output], attributes));

    /// <summary>The ONNX name of an activation: the graph's input and output have fixed names.</summary>
    private string Name(string activation) =>
        activation == _outputActivation ? OutputName : activation;

    private long[] Shape(string layer, string activation) =>
        _shapes.TryGetValue(Name(activation), out var shape)
            ? shape
            : throw Invalid($"layer '{layer}' reads '{activation}' before anything produced it");

    /// <summary>Checks that <paramref name="activation"/> exists with the per-image shape <paramref name="shape"/>, and names it.</summary>
    private string Consume(string layer, string activation, params long[] shape)
    {
        var actual = Shape(layer, activation);
        if (!actual.AsSpan().SequenceEqual(shape))
            throw Invalid($"layer '{layer}' expects '{activation}' of shape [{string.Join(", ", shape)}], not [{string.Join(", ", actual)}]");
        return Name(activation);
    }

    /// <summary>
    /// <paramref name="activation"/> as an (N, <paramref name="features"/>) value: itself when it already is one, else a
    /// <c>Flatten</c> of it (axis 1, which reads C, H, W in our arena's order) named after <paramref name="consumer"/>.
    /// </summary>
    private string Flat(string layer, string activation, long features, string consumer)
    {
        var shape = Shape(layer, activation);
        if (TensorProto.Product(shape) != features)
            throw Invalid($"layer '{layer}' expects {features} features per image but '{activation}' has shape [{string.Join(", ", shape)}]");
        if (shape.Length == 1) return Name(activation);
        string flat = Helper(Name(consumer), "flatten");
        Node("Flatten", [Name(activation)], flat, AttributeProto.Int("axis", 1));
        return flat;
    }

    /// <summary>Registers a new activation with its per-image shape, checked against the model's activation table.</summary>
    private string Produce(string layer, string activation, params long[] shape)
    {
        if (!_activations.TryGetValue(activation, out var a))
            throw Invalid($"layer '{layer}' writes '{activation}', which is not in the model's activation table");
        if (a.Size != TensorProto.Product(shape))
            throw Invalid($"layer '{layer}' writes {TensorProto.Product(shape)} values per image to '{activation}', whose slot holds {a.Size}");
        string name = Name(activation);
        if (!_names.Add(name)) throw Invalid($"layer '{layer}' writes '{name}' a second time");
        _shapes[name] = shape;
        return name;
    }

    /// <summary>The name of a helper value on the way to <paramref name="value"/>.</summary>
    private string Helper(string value, string suffix)
    {
        string name = value + ":" + suffix;
        if (!_names.Add(name)) throw Invalid($"the helper value '{name}' is produced twice");
        return name;
    }

    private string Parameter(string layer, string name, params long[] shape)
    {
        if (!_parameters.TryGetValue(name, out var p))
            throw Invalid($"layer '{layer}' uses the parameter '{name}', which is not in the model's parameter table");
        if (!p.Shape.Select(d => (long)d).SequenceEqual(shape) || p.Length != TensorProto.Product(shape))
            throw Invalid($"layer '{layer}' needs '{name}' of shape [{string.Join(", ", shape)}], but the parameter table gives [{string.Join(", ", p.Shape)}] ({p.Length} values)");
        _usedParameters.Add(name);
        return name;
    }

    private string Constant(string name, long[] dims, params long[] values)
    {
        _constants.Add(TensorProto.Constant(name, dims, values));
        return name;
    }

    private string Constant(string name, long[] dims, params float[] values)
    {
        _constants.Add(TensorProto.Constant(name, dims, values));
        return name;
    }

    private FaceNetException Invalid(string what) =>
        new(string.Create(CultureInfo.InvariantCulture, $"cannot export {_model.Name} to ONNX: {what}."));
}
