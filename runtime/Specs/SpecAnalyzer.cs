using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FaceNetGen.Specs;

/// <summary>One row of the regenerated paper table.</summary>
public sealed record LayerReport(string Name, string Type, Shape In, Shape Out, string Kernel, long Weights, long Biases, long Flops, long MultiplyAdds, int Depth)
{
    public long Params => Weights + Biases;
}

/// <summary>A spec that passed every check: its table, totals and lowered plan.</summary>
public sealed record AnalyzedModel(ModelSpec Spec, EquatableArray<LayerReport> Layers, long Weights, long Biases, long Flops, long MultiplyAdds, Plan Plan, string Hash)
{
    public long Params => Weights + Biases;
}

public sealed record AnalysisResult(AnalyzedModel? Model, EquatableArray<SpecDiagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Count > 0;
}

/// <summary>
/// The one implementation of the model arithmetic: shape inference, parameter counts, FLOPS, the checks of
/// declared figures, and the lowering to a kernel plan. Compiled into the source generator and the runtime.
/// </summary>
/// <remarks>
/// Counting convention (that of the paper's Tables 1 and 2): params = weights + biases; FLOPS = (weights + biases)
/// × output positions of each convolution, counted at the resolution each convolution runs at (an inception
/// module's 1×1 reduces at its input resolution, its 3×3 and 5×5 at its output resolution); fully connected
/// layers count weights + biases once. Pooling, normalisation and ReLU count nothing. MultiplyAdds is the same
/// without the bias terms. A declared figure passes when the computed one, rounded to the unit the figure is
/// written in, is within one of it ("115K" accepts 114K–116K), unless a tolerance is given.
/// </remarks>
public static class SpecAnalyzer
{
    /// <summary>Parses and analyses spec text: everything the generator and `facenet spec` need.</summary>
    public static AnalysisResult Compile(string text)
    {
        var parsed = SpecParser.Parse(text);
        if (parsed.Spec is null || parsed.Diagnostics.Count > 0)
        {
            return new AnalysisResult(null, parsed.Diagnostics);
        }
        return Analyze(parsed.Spec);
    }

    public static AnalysisResult Analyze(ModelSpec spec)
    {
        var builder = new Builder(spec);
        var model = builder.Run();
        return new AnalysisResult(builder.Diagnostics.Count == 0 ? model : null, new EquatableArray<SpecDiagnostic>(builder.Diagnostics.ToArray()));
    }

    /// <summary>floor((in + 2·pad − k) / stride) + 1, or the ceil-mode size (a window must start inside the input or its left padding).</summary>
    public static int OutputSize(int input, int kernel, int stride, int pad, bool ceil)
    {
        int span = input + 2 * pad - kernel;
        if (span < 0) return 0;
        if (!ceil) return span / stride + 1;
        int output = (span + stride - 1) / stride + 1;
        if ((output - 1) * stride >= input + pad) output--;
        return output;
    }

    /// <summary>Is <paramref name="computed"/> acceptable for the declared figure?</summary>
    public static bool Accepts(FigureDecl declared, ToleranceDecl? tolerance, long computed, out string accepting)
    {
        if (tolerance is not null)
        {
            double slack = tolerance.Relative > 0 ? tolerance.Relative * declared.Value : tolerance.Absolute;
            accepting = $"{declared.Text} ± {tolerance.Text}";
            return Math.Abs(computed - declared.Value) <= slack + 1e-9;
        }
        double written = Math.Round(declared.Value / declared.Unit, MidpointRounding.AwayFromZero);
        accepting = $"{WriteUnits(written - 1, declared)}–{WriteUnits(written + 1, declared)}";
        return Math.Abs(Math.Round(computed / declared.Unit, MidpointRounding.AwayFromZero) - written) <= 1;
    }

    private static string WriteUnits(double units, FigureDecl like)
    {
        // Writes `units` of like.Unit with the same suffix and number of decimals as like.Text.
        string text = like.Text.Trim();
        char last = text.Length > 0 ? char.ToUpperInvariant(text[text.Length - 1]) : ' ';
        string suffix = last is 'K' or 'M' or 'B' or 'G' ? text.Substring(text.Length - 1) : "";
        double scale = suffix.Length == 0 ? 1 : char.ToUpperInvariant(suffix[0]) switch { 'K' => 1e3, 'M' => 1e6, _ => 1e9 };
        int decimals = (int)Math.Round(-Math.Log10(like.Unit / scale));
        double value = Math.Max(0, units * like.Unit / scale);
        return value.ToString("F" + Math.Max(0, decimals), CultureInfo.InvariantCulture) + suffix;
    }

    /// <summary>Paper-style parameter count: 9K, 115K, 1.6M, 140M.</summary>
    public static string FormatParams(long value)
    {
        if (value == 0) return "0";
        if (value < 1000) return value.ToString(CultureInfo.InvariantCulture);
        if (value < 999_500) return (value / 1e3).ToString("F0", CultureInfo.InvariantCulture) + "K";
        if (value < 9_950_000) return (value / 1e6).ToString("F1", CultureInfo.InvariantCulture) + "M";
        if (value < 999_500_000) return (value / 1e6).ToString("F0", CultureInfo.InvariantCulture) + "M";
        return (value / 1e9).ToString("F1", CultureInfo.InvariantCulture) + "B";
    }

    /// <summary>Paper-style FLOPS: 0.1M, 2.6M, 119M, 1.6B (one decimal below 10M, as the paper's 0.5M and 0.1M).</summary>
    public static string FormatFlops(long value)
    {
        if (value == 0) return "";
        if (value < 9_950_000) return (value / 1e6).ToString("F1", CultureInfo.InvariantCulture) + "M";
        if (value < 999_500_000) return (value / 1e6).ToString("F0", CultureInfo.InvariantCulture) + "M";
        return (value / 1e9).ToString("F1", CultureInfo.InvariantCulture) + "B";
    }

    private sealed class Builder
    {
        private readonly ModelSpec _spec;
        private readonly List<TensorSlot> _tensors = new();
        private readonly List<ParamSlot> _params = new();
        private readonly List<PlanOp> _ops = new();
        private readonly List<LayerReport> _reports = new();
        private readonly HashSet<string> _identifiers = new(StringComparer.Ordinal);
        private long _activationOffset;
        private long _paramOffset;

        public Builder(ModelSpec spec) => _spec = spec;

        public List<SpecDiagnostic> Diagnostics { get; } = new();

        public AnalyzedModel? Run()
        {
            var inputShape = _spec.InputShape;
            int current = AddTensor("input", "Input", inputShape);
            var shape = inputShape;
            var names = new Dictionary<string, LayerSpec>(StringComparer.Ordinal);
            bool broken = false;

            foreach (var layer in _spec.Layers)
            {
                if (names.TryGetValue(layer.Name, out var first))
                {
                    Report(SpecDiagnostics.Duplicate, layer.Span, layer.Name, $"the layer at line {first.Span.Line + 1}");
                }
                else
                {
                    names[layer.Name] = layer;
                }

                CheckInput(layer, shape);
                var before = (Weights: _weights, Biases: _biases, Flops: _flops, Madds: _madds);
                var result = Lower(layer, current, shape, out string kernelText, out int depth);
                if (result is null)
                {
                    broken = true;
                    break;
                }

                var (tensor, outShape) = result.Value;
                var report = new LayerReport(layer.Name, TypeText(layer), shape, outShape, kernelText,
                    _weights - before.Weights, _biases - before.Biases, _flops - before.Flops, _madds - before.Madds, depth);
                _reports.Add(report);
                outShape = CheckDeclared(layer.Declared, layer.Name, $"Layer '{layer.Name}'", report, outShape);
                current = tensor;
                shape = outShape;
            }

            if (!broken)
            {
                var last = _spec.Layers.Count > 0 ? _spec.Layers[_spec.Layers.Count - 1] : null;
                if (shape.Size != _spec.Embedding || !shape.IsVector || last is not L2NormLayer)
                {
                    string what = last is L2NormLayer ? shape.ToString() : $"{shape} from a '{(last is null ? "(none)" : TypeText(last))}' layer";
                    Report(SpecDiagnostics.EmbeddingMismatch, last?.Span ?? _spec.EmbeddingSpan, what, _spec.Embedding);
                }

                var total = new LayerReport("total", "", inputShape, shape, "", _weights, _biases, _flops, _madds, 0);
                CheckDeclared(_spec.Totals, "total", $"The spec '{_spec.Name}'", total, shape);
            }

            if (Diagnostics.Count > 0) return null;

            var backwardOrder = GradientArena.BackwardOrder(_ops);
            var ops = AssignGradModes(backwardOrder);
            var forwardOrder = InferenceArena.ForwardOrder(ops);
            var inference = InferenceArena.Place(_tensors.Select(t => t.Shape).ToArray(), forwardOrder.Select(i => ops[i]).ToArray(), 0, current);
            var gradients = GradientArena.Place(_tensors.Select(t => t.Shape).ToArray(), ops, backwardOrder, 0, current);
            var plan = new Plan(
                new EquatableArray<TensorSlot>(_tensors.Select(t => t with
                {
                    InferenceOffset = inference.Offsets[t.Id], InferenceView = inference.ViewOf[t.Id], InferenceViewOffset = inference.ViewOffsets[t.Id],
                    GradientOffset = gradients.Offsets[t.Id],
                }).ToArray()),
                new EquatableArray<ParamSlot>(_params.ToArray()),
                new EquatableArray<PlanOp>(ops),
                0,
                current,
                _activationOffset,
                _paramOffset,
                inference.Length) { GradientsPerImage = gradients.Length, ForwardOrder = new EquatableArray<int>(forwardOrder), BackwardOrder = new EquatableArray<int>(backwardOrder) };
            return new AnalyzedModel(_spec, new EquatableArray<LayerReport>(_reports.ToArray()), _weights, _biases, _flops, _madds, plan, Hash(plan));
        }

        private long _weights, _biases, _flops, _madds;

        private void Report(SpecDiagnosticInfo info, SourceSpan span, params object[] args) =>
            Diagnostics.Add(SpecDiagnostics.Create(info, span, args));

        private void CheckInput(LayerSpec layer, Shape shape)
        {
            if (layer is ConvLayer { DeclaredInChannels: > 0 } conv && conv.DeclaredInChannels != shape.C)
            {
                Report(SpecDiagnostics.ChannelMismatch, conv.KernelSpan, layer.Name, conv.DeclaredInChannels, shape.C);
            }
            if (layer.Declared.In is { } declaredIn)
            {
                if (shape.IsVector && (long)declaredIn.H * declaredIn.W * declaredIn.C == shape.Size)
                {
                    // A vector written as a table (1x32x128 for 4096 features): only the element count matters.
                }
                else if (declaredIn.C != shape.C)
                {
                    Report(SpecDiagnostics.ChannelMismatch, declaredIn.Span, layer.Name, declaredIn.C, shape.C);
                }
                else if (declaredIn.H != shape.H || declaredIn.W != shape.W)
                {
                    Report(SpecDiagnostics.ShapeMismatch, declaredIn.Span, layer.Name, "input", declaredIn.Text, shape.ToString());
                }
            }
        }

        private Shape CheckDeclared(Declarations declared, string name, string who, LayerReport report, Shape computed)
        {
            var result = computed;
            if (declared.Out is { } outDecl)
            {
                var d = new Shape(outDecl.C, outDecl.H, outDecl.W);
                // The paper writes vectors as tables (NN1's 4096-wide layers as 1×32×128), so for a vector
                // output only the element count is compared.
                bool same = computed.IsVector ? d.Size == computed.Size : d == computed;
                if (!same)
                {
                    Report(SpecDiagnostics.ShapeMismatch, outDecl.Span, name, "output", outDecl.Text, computed.ToString());
                    // Go on from the declared size, so that one wrong number yields one error, not one per later layer.
                    if (d.C > 0 && d.H > 0 && d.W > 0 && !computed.IsVector) result = d;
                }
            }
            if (declared.Params is { } p && !Accepts(p, declared.Tolerance, report.Params, out string acceptP))
            {
                Report(SpecDiagnostics.ParamsMismatch, p.Span, who, p.Text, acceptP, Exact(report.Params), Exact(report.Weights), Exact(report.Biases));
            }
            if (declared.Flops is { } f && !Accepts(f, declared.Tolerance, report.Flops, out string acceptF))
            {
                Report(SpecDiagnostics.FlopsMismatch, f.Span, who, f.Text, acceptF, Exact(report.Flops));
            }
            return result;
        }

        private static string Exact(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

        private (int Tensor, Shape Shape)? Lower(LayerSpec layer, int input, Shape shape, out string kernel, out int depth)
        {
            kernel = "";
            depth = 0;
            string id = LayerIdentifier(layer);
            switch (layer)
            {
                case ConvLayer c:
                {
                    depth = 1;
                    kernel = $"{c.KernelH}x{c.KernelW}x{shape.C}, {StrideText(c.StrideH, c.StrideW)}";
                    return Conv(layer, layer.Name, id, input, shape, c.Filters, c.KernelH, c.KernelW, c.StrideH, c.StrideW, c.PadH, c.PadW, c.Relu);
                }
                case PoolLayer p:
                {
                    int kh = p.Global ? shape.H : p.KernelH;
                    int kw = p.Global ? shape.W : p.KernelW;
                    kernel = $"{PoolText(p.Pool)} {kh}x{kw}, {StrideText(p.StrideH, p.StrideW)}";
                    return Pool(layer, layer.Name, id, input, shape, p.Pool, kh, kw, p.StrideH, p.StrideW, p.PadH, p.PadW, p.Ceil);
                }
                case LrnLayer n:
                {
                    kernel = $"size {n.Size}";
                    int t = AddTensor(layer.Name, id, shape);
                    _ops.Add(new LrnOp(layer.Name, input, t, shape, n.Size, n.Alpha, n.Beta, n.K));
                    return (t, shape);
                }
                case InceptionLayer m:
                    return Inception(m, id, input, shape, out kernel, out depth);
                case FullyConnectedLayer fc:
                {
                    depth = 1;
                    kernel = $"{shape.Size}>{fc.Outputs}";
                    var (w, b) = AddLinearParams(layer.Name, id, (int)shape.Size, fc.Outputs, fc.Relu);
                    var outShape = new Shape(fc.Outputs, 1, 1);
                    int t = AddTensor(layer.Name, id, outShape);
                    _ops.Add(new LinearOp(layer.Name, input, t, w, b, (int)shape.Size, fc.Outputs, fc.Relu));
                    return (t, outShape);
                }
                case MaxoutLayer mo:
                {
                    depth = 1;
                    kernel = $"maxout p={mo.PoolSize}";
                    int units = checked(mo.Outputs * mo.PoolSize);
                    var (w, b) = AddLinearParams(layer.Name, id, (int)shape.Size, units, relu: false);
                    int lin = AddTensor(layer.Name + ".linear", id + "_Linear", new Shape(units, 1, 1));
                    _ops.Add(new LinearOp(layer.Name, input, lin, w, b, (int)shape.Size, units, Relu: false));
                    var outShape = new Shape(mo.Outputs, 1, 1);
                    int t = AddTensor(layer.Name, id, outShape);
                    _ops.Add(new MaxoutOp(layer.Name, lin, t, mo.Outputs, mo.PoolSize));
                    return (t, outShape);
                }
                case ConcatLayer:
                    // A concat with one input is the identity: the next layer reads the same tensor.
                    return (input, shape);
                default:
                {
                    var outShape = new Shape((int)shape.Size, 1, 1);
                    int t = AddTensor(layer.Name, id, outShape);
                    _ops.Add(new L2NormOp(layer.Name, input, t, (int)shape.Size));
                    return (t, outShape);
                }
            }
        }

        private (int Tensor, Shape Shape)? Inception(InceptionLayer m, string id, int input, Shape shape, out string kernel, out int depth)
        {
            int s = m.Stride;
            var parts = new List<(int Tensor, Shape Shape)>();
            var text = new List<string>();
            depth = 0;
            // Where the module's convolutions are counted: reduces at the input resolution, the rest at the output.
            if (m.Conv1x1 > 0)
            {
                var r = Conv(m, m.Name + ".1x1", id + "_Conv1x1", input, shape, m.Conv1x1, 1, 1, s, s, 0, 0, true);
                if (r is null) { kernel = ""; return null; }
                parts.Add(r.Value);
                text.Add($"1x1 {m.Conv1x1}");
                depth = 1;
            }
            foreach (var (k, reduce, filters) in new[] { (3, m.Reduce3x3, m.Conv3x3), (5, m.Reduce5x5, m.Conv5x5) })
            {
                if (filters == 0) continue;
                int src = input;
                var srcShape = shape;
                string kk = $"{k}x{k}";
                if (reduce > 0)
                {
                    var r = Conv(m, $"{m.Name}.{kk}_reduce", $"{id}_Reduce{kk}", input, shape, reduce, 1, 1, 1, 1, 0, 0, true);
                    if (r is null) { kernel = ""; return null; }
                    (src, srcShape) = r.Value;
                }
                var c = Conv(m, $"{m.Name}.{kk}", $"{id}_Conv{kk}", src, srcShape, filters, k, k, s, s, k / 2, k / 2, true);
                if (c is null) { kernel = ""; return null; }
                parts.Add(c.Value);
                text.Add(reduce > 0 ? $"{kk} {reduce}>{filters}" : $"{kk} {filters}");
                depth = Math.Max(depth, reduce > 0 ? 2 : 1);
            }
            if (m.HasPool)
            {
                int pk = m.PoolKernel;
                var p = Pool(m, m.Name + ".pool", id + "_Pool", input, shape, m.Pool, pk, pk, s, s, pk / 2, pk / 2, ceil: false);
                if (p is null) { kernel = ""; return null; }
                var branch = p.Value;
                if (m.PoolProj > 0)
                {
                    var proj = Conv(m, m.Name + ".pool_proj", id + "_PoolProj", branch.Tensor, branch.Shape, m.PoolProj, 1, 1, 1, 1, 0, 0, true);
                    if (proj is null) { kernel = ""; return null; }
                    branch = proj.Value;
                    depth = Math.Max(depth, 2);
                }
                parts.Add(branch);
                text.Add($"{PoolText(m.Pool)} {pk}x{pk}" + (m.PoolProj > 0 ? $">{m.PoolProj}p" : ""));
            }
            kernel = string.Join(" | ", text) + (s > 1 ? $", {s}" : "");
            if (parts.Count == 0)
            {
                Report(SpecDiagnostics.NonPositiveOutput, m.Span, m.Name, "0x0x0 (the module has no branch)", shape.ToString());
                return null;
            }
            var outShape0 = parts[0].Shape;
            foreach (var part in parts)
            {
                if (part.Shape.H != outShape0.H || part.Shape.W != outShape0.W)
                {
                    Report(SpecDiagnostics.ShapeMismatch, m.Span, m.Name, "branch", part.Shape.ToString(), outShape0.ToString());
                    return null;
                }
            }
            if (parts.Count == 1)
            {
                // A single branch (NN2's "inception (2)") needs no concatenation.
                return parts[0];
            }
            var offsets = new int[parts.Count];
            int channels = 0;
            for (int i = 0; i < parts.Count; i++)
            {
                offsets[i] = channels;
                channels += parts[i].Shape.C;
            }
            var outShape = new Shape(channels, outShape0.H, outShape0.W);
            int t = AddTensor(m.Name, id, outShape);
            _ops.Add(new ConcatOp(m.Name, new EquatableArray<int>(parts.Select(x => x.Tensor).ToArray()), t, new EquatableArray<int>(offsets), outShape));
            return (t, outShape);
        }

        private (int Tensor, Shape Shape)? Conv(LayerSpec layer, string name, string id, int input, Shape shape, int filters,
            int kh, int kw, int sh, int sw, int ph, int pw, bool relu)
        {
            int oh = OutputSize(shape.H, kh, sh, ph, ceil: false);
            int ow = OutputSize(shape.W, kw, sw, pw, ceil: false);
            var outShape = new Shape(filters, oh, ow);
            if (oh <= 0 || ow <= 0)
            {
                Report(SpecDiagnostics.NonPositiveOutput, layer.Span, name, $"{oh}x{ow}x{filters}", shape.ToString());
                return null;
            }
            long weights = (long)filters * shape.C * kh * kw;
            var positions = (long)oh * ow;
            _weights += weights;
            _biases += filters;
            _flops += (weights + filters) * positions;
            _madds += weights * positions;
            int w = AddParam(name + ".weight", id + "_Weight", new[] { filters, shape.C, kh, kw }, shape.C * kh * kw, filters * kh * kw, relu ? ParamInit.He : ParamInit.Glorot, layer.Name);
            int b = AddParam(name + ".bias", id + "_Bias", new[] { filters }, shape.C * kh * kw, filters, ParamInit.Zero, layer.Name);
            int t = AddTensor(name, id, outShape);
            _ops.Add(new ConvOp(name, input, t, w, b, shape, outShape, kh, kw, sh, sw, ph, pw, relu));
            return (t, outShape);
        }

        private (int Tensor, Shape Shape)? Pool(LayerSpec layer, string name, string id, int input, Shape shape, PoolKind kind,
            int kh, int kw, int sh, int sw, int ph, int pw, bool ceil)
        {
            int oh = OutputSize(shape.H, kh, sh, ph, ceil);
            int ow = OutputSize(shape.W, kw, sw, pw, ceil);
            var outShape = new Shape(shape.C, oh, ow);
            if (oh <= 0 || ow <= 0 || ph * 2 > kh || pw * 2 > kw)
            {
                Report(SpecDiagnostics.NonPositiveOutput, layer.Span, name, $"{oh}x{ow}x{shape.C}", shape.ToString() + (ph * 2 > kh || pw * 2 > kw ? " (padding may be at most half the kernel)" : ""));
                return null;
            }
            int t = AddTensor(name, id, outShape);
            _ops.Add(new PoolOp(name, input, t, kind, shape, outShape, kh, kw, sh, sw, ph, pw));
            return (t, outShape);
        }

        private (int Weight, int Bias) AddLinearParams(string name, string id, int inFeatures, int outFeatures, bool relu)
        {
            long weights = (long)inFeatures * outFeatures;
            _weights += weights;
            _biases += outFeatures;
            _flops += weights + outFeatures;
            _madds += weights;
            int w = AddParam(name + ".weight", id + "_Weight", new[] { outFeatures, inFeatures }, inFeatures, outFeatures, relu ? ParamInit.He : ParamInit.Glorot, name);
            int b = AddParam(name + ".bias", id + "_Bias", new[] { outFeatures }, inFeatures, outFeatures, ParamInit.Zero, name);
            return (w, b);
        }

        private int AddTensor(string name, string id, Shape shape)
        {
            if (shape.Size > int.MaxValue)
            {
                // Kernels index one image's tensor with 32-bit integers; a spec this large cannot be compiled.
                throw new OverflowException($"tensor '{name}' would hold {shape.Size} floats per image, more than the 2^31 a kernel can index");
            }
            id = Unique(id);
            int t = _tensors.Count;
            _tensors.Add(new TensorSlot(t, name, id, shape, _activationOffset, 0, -1, 0));
            _activationOffset += shape.Size;
            return t;
        }

        private int AddParam(string name, string id, int[] dims, int fanIn, int fanOut, ParamInit init, string layer)
        {
            long length = 1;
            foreach (int d in dims) length *= d;
            int p = _params.Count;
            _params.Add(new ParamSlot(name, Unique(id), new EquatableArray<int>(dims), _paramOffset, length, init == ParamInit.Zero, fanIn, fanOut, init, layer));
            _paramOffset += length;
            return p;
        }

        private string Unique(string id)
        {
            string candidate = id;
            for (int i = 2; !_identifiers.Add(candidate); i++) candidate = id + "_" + i.ToString(CultureInfo.InvariantCulture);
            return candidate;
        }

        private PlanOp[] AssignGradModes(int[] backwardOrder)
        {
            // Walk backward: the first op (in backward order) to produce a tensor's gradient assigns it, later ones add to it.
            var written = new bool[_tensors.Count];
            var result = new PlanOp[_ops.Count];
            foreach (int i in backwardOrder)
            {
                var op = _ops[i];
                var modes = new GradMode[op.Inputs.Count];
                for (int j = 0; j < op.Inputs.Count; j++)
                {
                    int t = op.Inputs[j];
                    if (t == 0) modes[j] = GradMode.None;
                    else if (written[t]) modes[j] = GradMode.Accumulate;
                    else
                    {
                        modes[j] = GradMode.Assign;
                        written[t] = true;
                    }
                }
                result[i] = op with { InputGrads = new EquatableArray<GradMode>(modes) };
            }
            return result;
        }

        private string Hash(Plan plan)
        {
            // The architecture's identity: what the weights mean. Comments, names of the spec file and declared
            // figures do not change it; any change to shapes, parameters or ops does.
            var sb = new StringBuilder();
            sb.Append(_spec.Name).Append('|').Append(_spec.InputShape).Append('|').Append(_spec.Embedding).Append('\n');
            foreach (var p in plan.Parameters) sb.Append(p.Name).Append(':').Append(p.DimsText).Append('@').Append(p.Offset).Append('\n');
            foreach (var op in plan.Ops) sb.Append(Describe(op)).Append('\n');
            using var sha = SHA256.Create();
            var bytes = sha.ComputeHash(Encoding.UTF8.GetBytes(sb.ToString()));
            return string.Concat(bytes.Take(8).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        }

        private static string Describe(PlanOp op) => op switch
        {
            ConvOp c => $"conv {c.Input}>{c.Output} {c.In}>{c.Out} k{c.KernelH}x{c.KernelW} s{c.StrideH}x{c.StrideW} p{c.PadH}x{c.PadW} relu={c.Relu}",
            PoolOp p => $"pool {p.Pool} {p.Inputs[0]}>{p.Output} {p.In}>{p.Out} k{p.KernelH}x{p.KernelW} s{p.StrideH}x{p.StrideW} p{p.PadH}x{p.PadW}",
            LrnOp n => string.Format(CultureInfo.InvariantCulture, "lrn {0}>{1} {2} {3} {4:R} {5:R} {6:R}", n.Inputs[0], n.Output, n.Shape, n.Size, n.Alpha, n.Beta, n.K),
            ConcatOp c => $"concat {string.Join(",", c.Parts)}>{c.Output} {c.Out}",
            LinearOp l => $"linear {l.Input}>{l.Output} {l.InFeatures}>{l.OutFeatures} relu={l.Relu}",
            MaxoutOp m => $"maxout {m.Input}>{m.Output} {m.Units}x{m.PoolSize}",
            L2NormOp n => $"l2norm {n.Input}>{n.Output} {n.Dim}",
            _ => op.Kind.ToString(),
        };
    }

    public static string TypeText(LayerSpec layer) => layer switch
    {
        ConvLayer => "conv",
        PoolLayer p => p.Pool switch { PoolKind.Max => "max pool", PoolKind.Average => "avg pool", _ => "L2 pool" },
        LrnLayer => "norm",
        InceptionLayer => "inception",
        FullyConnectedLayer => "fully conn",
        MaxoutLayer => "maxout",
        ConcatLayer => "concat",
        _ => "L2 normalization",
    };

    private static string PoolText(PoolKind kind) => kind switch { PoolKind.Max => "m", PoolKind.Average => "avg", _ => "L2" };

    private static string StrideText(int sh, int sw) => sh == sw ? sh.ToString(CultureInfo.InvariantCulture) : $"{sh}x{sw}";

    /// <summary>The C# identifier for a layer: its name with other characters turned into '_', prefixed by its type if it starts with a digit.</summary>
    public static string LayerIdentifier(LayerSpec layer)
    {
        var sb = new StringBuilder();
        foreach (char ch in layer.Name) sb.Append(char.IsLetterOrDigit(ch) && ch < 128 ? ch : '_');
        string id = sb.ToString();
        if (id.Length == 0 || char.IsDigit(id[0]))
        {
            string prefix = layer.Kind switch
            {
                LayerKind.Inception => "Inception",
                LayerKind.Conv => "Conv",
                LayerKind.Lrn => "Norm",
                LayerKind.FullyConnected => "Fc",
                LayerKind.L2Norm => "L2Norm",
                LayerKind.Maxout => "Maxout",
                LayerKind.Concat => "Concat",
                _ => "Pool",
            };
            id = prefix + id;
        }
        return char.ToUpperInvariant(id[0]) + id.Substring(1);
    }
}
