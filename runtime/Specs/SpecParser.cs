using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FaceNetGen.Specs;

/// <summary>What parsing a spec produced: the model when it is usable, and every problem found.</summary>
public sealed record ParseResult(ModelSpec? Spec, EquatableArray<SpecDiagnostic> Diagnostics);

/// <summary>
/// YAML text → <see cref="ModelSpec"/>. No arithmetic happens here (that is <see cref="SpecAnalyzer"/>'s job),
/// only reading, checking keys and values, and remembering where each one was written.
/// See docs/spec-format.md for the language.
/// </summary>
public static class SpecParser
{
    public static readonly IReadOnlyList<string> LayerTypes = new[]
    {
        "conv", "maxpool", "avgpool", "l2pool", "lrn", "inception", "fc", "maxout", "concat", "l2norm",
    };

    private static readonly string[] TopKeys =
    {
        "name", "namespace", "description", "notes", "input", "embedding", "layers", "params", "flops", "tolerance",
    };

    private static readonly string[] DeclKeys = { "name", "type", "in", "out", "params", "flops", "tolerance" };

    private static readonly Dictionary<string, string[]> LayerKeys = new(StringComparer.Ordinal)
    {
        ["conv"] = new[] { "kernel", "stride", "pad", "filters", "relu" },
        ["maxpool"] = new[] { "kernel", "stride", "pad", "ceil", "global" },
        ["avgpool"] = new[] { "kernel", "stride", "pad", "ceil", "global" },
        ["l2pool"] = new[] { "kernel", "stride", "pad", "ceil", "global" },
        ["lrn"] = new[] { "size", "alpha", "beta", "k" },
        ["inception"] = new[] { "stride", "1x1", "3x3reduce", "3x3", "5x5reduce", "5x5", "pool", "poolkernel", "proj" },
        ["fc"] = new[] { "units", "relu" },
        ["maxout"] = new[] { "units", "p" },
        ["concat"] = Array.Empty<string>(),
        ["l2norm"] = Array.Empty<string>(),
    };

    private static readonly Regex FigurePattern = new(@"^(\d+)(?:\.(\d+))?\s*([KMBG]?)$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    private static readonly Regex DimsPattern = new(@"^(\d+)(?:\s*[x×]\s*(\d+))?(?:\s*[x×]\s*(\d+))?$", RegexOptions.CultureInvariant);
    private static readonly Regex IdentifierPattern = new(@"^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant);
    private static readonly Regex NamespacePattern = new(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", RegexOptions.CultureInvariant);

    public static ParseResult Parse(string text)
    {
        var diagnostics = new List<SpecDiagnostic>();
        var spec = ParseCore(text, diagnostics);
        return new ParseResult(spec, new EquatableArray<SpecDiagnostic>(diagnostics.ToArray()));
    }

    private static ModelSpec? ParseCore(string text, List<SpecDiagnostic> diagnostics)
    {
        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(text));
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (YamlException ex)
        {
            var span = ToSpan(ex.Start, ex.End);
            diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.YamlSyntax, span, StripMarkPrefix(ex.Message)));
            return null;
        }
        catch (InvalidOperationException)
        {
            // The YAML scanner can fail without a YamlException on some unterminated flow collections; report
            // where it stopped.
            var at = scanner.CurrentPosition;
            diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.YamlSyntax, ToSpan(at, at), "the text near here is not valid YAML (is a '}' or ']' missing?)"));
            return null;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            var span = stream.Documents.Count == 0 ? SourceSpan.None : SpanOf(stream.Documents[0].RootNode);
            diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.InvalidValue, span, "(document)", "spec", "a spec is a YAML mapping with name, input, embedding and layers"));
            return null;
        }

        var top = new MappingReader(root, "the spec", diagnostics);
        top.CheckKeys(TopKeys);
        string name = top.Identifier("name", "model") ?? "Model";
        var nameSpan = top.SpanOf("name");
        string? ns = top.String("namespace");
        if (ns is not null && !NamespacePattern.IsMatch(ns))
        {
            top.Invalid("namespace", ns, "a dotted C# namespace is expected");
            ns = null;
        }
        string? description = top.String("description");
        string? notes = top.String("notes");
        var input = top.Dims("input", required: true, allowThree: true, min: 1);
        int embedding = top.Int("embedding", required: true, min: 1, fallback: 128);
        var totals = top.Declarations();

        var layers = new List<LayerSpec>();
        var layersNode = top.Node("layers", required: true);
        if (layersNode is YamlSequenceNode seq)
        {
            int index = 0;
            foreach (var item in seq.Children)
            {
                index++;
                if (item is not YamlMappingNode map)
                {
                    diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.InvalidValue, SpanOf(item), ScalarText(item), "layers", "each layer is a mapping such as { name: conv1, type: conv, ... }"));
                    continue;
                }
                var layer = ParseLayer(map, index, diagnostics);
                if (layer is not null) layers.Add(layer);
            }
            if (seq.Children.Count == 0)
            {
                diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.InvalidValue, SpanOf(seq), "[]", "layers", "a model needs at least one layer"));
            }
        }
        else if (layersNode is not null)
        {
            diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.InvalidValue, SpanOf(layersNode), ScalarText(layersNode), "layers", "a sequence of layers is expected"));
        }

        int h = 0, w = 0, c = 0;
        if (input is { } dims)
        {
            h = dims.A;
            w = dims.B;
            c = dims.C == 0 ? 3 : dims.C;
        }

        return new ModelSpec(name, ns, description, notes, h, w, c, embedding,
            new EquatableArray<LayerSpec>(layers.ToArray()), totals, nameSpan, top.SpanOf("input"), top.SpanOf("embedding"));
    }

    private static LayerSpec? ParseLayer(YamlMappingNode map, int index, List<SpecDiagnostic> diagnostics)
    {
        var reader = new MappingReader(map, $"layer {index}", diagnostics);
        var typeNode = reader.Node("type", required: false);
        if (typeNode is null)
        {
            diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.MissingField, SpanOf(map), $"layer {index}", "type"));
            return null;
        }
        string type = ScalarText(typeNode);
        if (!LayerKeys.TryGetValue(type, out var keys))
        {
            diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.UnknownLayerType, SpanOf(typeNode), type, string.Join(", ", LayerTypes)));
            return null;
        }

        string name = reader.String("name") ?? $"{type}{index}";
        if (name.Length == 0 || name.Any(ch => !(char.IsLetterOrDigit(ch) || ch == '_' || ch == '-' || ch == '.')) || name.Any(ch => ch > 127))
        {
            reader.Invalid("name", name, "layer names use ASCII letters, digits, '_', '-' and '.'");
            name = $"{type}{index}";
        }
        reader.Context = $"layer '{name}'";
        reader.CheckKeys(DeclKeys.Concat(keys));
        var span = SpanOf(map);
        var decl = reader.Declarations();

        switch (type)
        {
            case "conv":
            {
                var kernel = reader.Dims("kernel", required: true, allowThree: true, min: 1) ?? new Dims(1, 1, 0);
                var stride = reader.Dims("stride", required: false, allowThree: false, min: 1) ?? new Dims(1, 1, 0);
                var pad = reader.Pad("pad", kernel) ?? new Dims((kernel.A - 1) / 2, (kernel.B - 1) / 2, 0);
                int filters = reader.Int("filters", required: true, min: 1, fallback: 1);
                bool relu = reader.Bool("relu", true);
                return new ConvLayer(name, span, decl, kernel.A, kernel.B, kernel.C, reader.SpanOf("kernel"),
                    stride.A, stride.B, pad.A, pad.B, filters, relu);
            }
            case "maxpool":
            case "avgpool":
            case "l2pool":
            {
                bool global = reader.Bool("global", false);
                var kernel = reader.Dims("kernel", required: !global, allowThree: false, min: 1) ?? new Dims(0, 0, 0);
                var stride = reader.Dims("stride", required: false, allowThree: false, min: 1) ?? (global ? new Dims(1, 1, 0) : kernel);
                var pad = reader.Dims("pad", required: false, allowThree: false, min: 0) ?? new Dims(0, 0, 0);
                bool ceil = reader.Bool("ceil", false);
                var kind = type == "maxpool" ? LayerKind.MaxPool : type == "avgpool" ? LayerKind.AvgPool : LayerKind.L2Pool;
                return new PoolLayer(name, kind, span, decl, kernel.A, kernel.B, stride.A, stride.B, pad.A, pad.B, ceil, global);
            }
            case "lrn":
            {
                int size = reader.Int("size", required: false, min: 1, fallback: 5);
                if (size % 2 == 0)
                {
                    // An even window is centred differently by PyTorch and ONNX; odd sizes mean the same everywhere.
                    reader.Invalid("size", size.ToString(CultureInfo.InvariantCulture), "the LRN window must be an odd number of channels");
                    size++;
                }
                return new LrnLayer(name, span, decl,
                    size,
                    reader.Double("alpha", 1e-4),
                    reader.Double("beta", 0.75),
                    reader.Double("k", 1.0));
            }
            case "inception":
            {
                int stride = reader.Int("stride", required: false, min: 1, fallback: 1);
                int c1 = reader.Int("1x1", required: false, min: 0, fallback: 0);
                int r3 = reader.Int("3x3reduce", required: false, min: 0, fallback: 0);
                int c3 = reader.Int("3x3", required: false, min: 0, fallback: 0);
                int r5 = reader.Int("5x5reduce", required: false, min: 0, fallback: 0);
                int c5 = reader.Int("5x5", required: false, min: 0, fallback: 0);
                int poolKernel = reader.Int("poolkernel", required: false, min: 1, fallback: 3);
                int proj = reader.Int("proj", required: false, min: 0, fallback: 0);
                bool hasPool = false;
                var pool = PoolKind.Max;
                string? poolText = reader.String("pool");
                if (poolText is not null)
                {
                    switch (poolText)
                    {
                        case "max": hasPool = true; pool = PoolKind.Max; break;
                        case "avg": hasPool = true; pool = PoolKind.Average; break;
                        case "l2": hasPool = true; pool = PoolKind.L2; break;
                        case "none": break;
                        default: reader.Invalid("pool", poolText, "expected max, avg, l2 or none"); break;
                    }
                }
                if (proj > 0 && !hasPool)
                {
                    reader.Invalid("proj", proj.ToString(CultureInfo.InvariantCulture), "a projection needs a pool branch (pool: max, avg or l2)");
                }
                if (r3 > 0 && c3 == 0) reader.Invalid("3x3reduce", r3.ToString(CultureInfo.InvariantCulture), "a 3x3 reduce needs a 3x3 convolution after it");
                if (r5 > 0 && c5 == 0) reader.Invalid("5x5reduce", r5.ToString(CultureInfo.InvariantCulture), "a 5x5 reduce needs a 5x5 convolution after it");
                return new InceptionLayer(name, span, decl, stride, c1, r3, c3, r5, c5, hasPool, pool, poolKernel, proj);
            }
            case "fc":
                return new FullyConnectedLayer(name, span, decl, reader.Int("units", required: true, min: 1, fallback: 1), reader.Bool("relu", false));
            case "maxout":
                return new MaxoutLayer(name, span, decl, reader.Int("units", required: true, min: 1, fallback: 1), reader.Int("p", required: false, min: 1, fallback: 2));
            case "concat":
                return new ConcatLayer(name, span, decl);
            default:
                return new L2NormLayer(name, span, decl);
        }
    }

    /// <summary>Parses "115K", "1.6B", "0.5M" or "545536"; the unit is one in the last written digit.</summary>
    public static bool TryParseFigure(string text, out double value, out double unit)
    {
        value = 0;
        unit = 1;
        var m = FigurePattern.Match(text.Replace(",", "").Replace("_", "").Trim());
        if (!m.Success) return false;
        double scale = char.ToUpperInvariant(m.Groups[3].Value.FirstOrDefault()) switch
        {
            'K' => 1e3,
            'M' => 1e6,
            'B' or 'G' => 1e9,
            _ => 1,
        };
        string digits = m.Groups[1].Value + (m.Groups[2].Success ? "." + m.Groups[2].Value : "");
        value = double.Parse(digits, NumberStyles.Float, CultureInfo.InvariantCulture) * scale;
        int decimals = m.Groups[2].Success ? m.Groups[2].Value.Length : 0;
        unit = scale * Math.Pow(10, -decimals);
        return true;
    }

    internal readonly record struct Dims(int A, int B, int C);

    private sealed class MappingReader
    {
        private readonly YamlMappingNode _map;
        private readonly List<SpecDiagnostic> _diagnostics;
        private readonly Dictionary<string, (YamlNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);

        public MappingReader(YamlMappingNode map, string context, List<SpecDiagnostic> diagnostics)
        {
            _map = map;
            Context = context;
            _diagnostics = diagnostics;
            foreach (var pair in map.Children)
            {
                string key = ScalarText(pair.Key);
                if (_entries.ContainsKey(key))
                {
                    _diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.Duplicate, NodeSpan(pair.Key), key, "an earlier key of " + context));
                    continue;
                }
                _entries[key] = (pair.Key, pair.Value);
            }
        }

        public string Context { get; set; }

        public void CheckKeys(IEnumerable<string> allowed)
        {
            var set = new HashSet<string>(allowed, StringComparer.Ordinal);
            foreach (var pair in _map.Children)
            {
                string key = ScalarText(pair.Key);
                if (!set.Contains(key))
                {
                    _diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.UnknownKey, NodeSpan(pair.Key), key, Context, string.Join(", ", set)));
                }
            }
        }

        public SourceSpan SpanOf(string key) => _entries.TryGetValue(key, out var e) ? NodeSpan(e.Value) : NodeSpan(_map);

        private static SourceSpan NodeSpan(YamlNode node) => SpecParser.SpanOf(node);

        public YamlNode? Node(string key, bool required)
        {
            if (_entries.TryGetValue(key, out var e)) return e.Value;
            if (required) Missing(key);
            return null;
        }

        public void Missing(string key) =>
            _diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.MissingField, NodeSpan(_map), Context, key));

        public void Invalid(string key, string value, string why) =>
            _diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.InvalidValue, SpanOf(key), value, key, why));

        private YamlScalarNode? Scalar(string key, bool required)
        {
            var node = Node(key, required);
            if (node is null) return null;
            if (node is YamlScalarNode s) return s;
            _diagnostics.Add(SpecDiagnostics.Create(SpecDiagnostics.InvalidValue, NodeSpan(node), ScalarText(node), key, "a single value is expected"));
            return null;
        }

        public string? String(string key)
        {
            var s = Scalar(key, false);
            return s?.Value;
        }

        public string? Identifier(string key, string what)
        {
            var s = Scalar(key, true);
            if (s is null) return null;
            if (!IdentifierPattern.IsMatch(s.Value ?? ""))
            {
                Invalid(key, s.Value ?? "", $"the {what} name becomes a C# class name: letters, digits and '_', not starting with a digit");
                return null;
            }
            return s.Value;
        }

        public int Int(string key, bool required, int min, int fallback)
        {
            var s = Scalar(key, required);
            if (s is null) return fallback;
            if (!int.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min)
            {
                Invalid(key, s.Value ?? "", min == 0 ? "a whole number of 0 or more is expected" : $"a whole number of {min} or more is expected");
                return fallback;
            }
            return v;
        }

        public double Double(string key, double fallback)
        {
            var s = Scalar(key, false);
            if (s is null) return fallback;
            if (!double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v) || double.IsInfinity(v) || v < 0)
            {
                Invalid(key, s.Value ?? "", "a non-negative number is expected");
                return fallback;
            }
            return v;
        }

        public bool Bool(string key, bool fallback)
        {
            var s = Scalar(key, false);
            if (s is null) return fallback;
            switch (s.Value)
            {
                case "true": return true;
                case "false": return false;
                default:
                    Invalid(key, s.Value ?? "", "true or false is expected");
                    return fallback;
            }
        }

        /// <summary>"3", "3x3" or (where allowed) "3x3x64". Returns A×B with C = 0 when absent.</summary>
        public Dims? Dims(string key, bool required, bool allowThree, int min)
        {
            var s = Scalar(key, required);
            if (s is null) return null;
            var m = DimsPattern.Match(s.Value ?? "");
            if (!m.Success || (m.Groups[3].Success && !allowThree))
            {
                Invalid(key, s.Value ?? "", allowThree ? "expected N, NxM or NxMxC" : "expected N or NxM");
                return null;
            }
            int a = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            int b = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : a;
            int c = m.Groups[3].Success ? int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : 0;
            if (a < min || b < min || (m.Groups[3].Success && c < 1))
            {
                Invalid(key, s.Value ?? "", min == 0 ? "sizes must be 0 or more" : $"sizes must be {min} or more");
                return null;
            }
            return new Dims(a, b, c);
        }

        /// <summary>Padding: N, NxM, or "same" ((k-1)/2 on each axis).</summary>
        public Dims? Pad(string key, Dims kernel)
        {
            var node = Node(key, false);
            if (node is YamlScalarNode { Value: "same" }) return new Dims((kernel.A - 1) / 2, (kernel.B - 1) / 2, 0);
            return Dims(key, required: false, allowThree: false, min: 0);
        }

        public Declarations Declarations()
        {
            var inShape = Shape("in");
            var outShape = Shape("out");
            var parms = Figure("params");
            var flops = Figure("flops");
            ToleranceDecl? tolerance = null;
            var t = Scalar("tolerance", false);
            if (t is not null)
            {
                string text = (t.Value ?? "").Trim();
                if (text.EndsWith("%", StringComparison.Ordinal)
                    && double.TryParse(text.Substring(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double pct) && pct >= 0)
                {
                    tolerance = new ToleranceDecl(text, pct / 100.0, 0, NodeSpan(t));
                }
                else if (TryParseFigure(text, out double abs, out _))
                {
                    tolerance = new ToleranceDecl(text, 0, abs, NodeSpan(t));
                }
                else
                {
                    Invalid("tolerance", text, "expected a percentage such as 5% or a figure such as 10M");
                }
            }
            if (inShape is null && outShape is null && parms is null && flops is null && tolerance is null) return Specs.Declarations.None;
            return new Declarations(inShape, outShape, parms, flops, tolerance);
        }

        private ShapeDecl? Shape(string key)
        {
            var s = Scalar(key, false);
            if (s is null) return null;
            var m = DimsPattern.Match(s.Value ?? "");
            if (!m.Success || !m.Groups[3].Success)
            {
                Invalid(key, s.Value ?? "", "a size is written HxWxC, as in the paper's tables (56x56x192)");
                return null;
            }
            return new ShapeDecl(s.Value!,
                int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture),
                NodeSpan(s));
        }

        private FigureDecl? Figure(string key)
        {
            var s = Scalar(key, false);
            if (s is null) return null;
            if (!TryParseFigure(s.Value ?? "", out double value, out double unit))
            {
                Invalid(key, s.Value ?? "", "a figure is written as the paper does: 115K, 1.6M, 0.5M, 1.6B or a whole number");
                return null;
            }
            return new FigureDecl(s.Value!, value, unit, NodeSpan(s));
        }
    }

    private static string ScalarText(YamlNode node) => node is YamlScalarNode s ? s.Value ?? "" : node.NodeType.ToString().ToLowerInvariant();

    internal static SourceSpan SpanOf(YamlNode node) => ToSpan(node.Start, node.End);

    private static SourceSpan ToSpan(Mark start, Mark end)
    {
        // YamlDotNet marks are one-based in line and column; SourceSpan is zero-based like Roslyn's.
        int line = Math.Max(0, (int)start.Line - 1);
        int col = Math.Max(0, (int)start.Column - 1);
        int endLine = Math.Max(line, (int)end.Line - 1);
        int endCol = endLine == line ? Math.Max(col, (int)end.Column - 1) : Math.Max(0, (int)end.Column - 1);
        int startIndex = (int)Math.Max(0, start.Index);
        int endIndex = (int)Math.Max(startIndex, end.Index);
        return new SourceSpan(startIndex, endIndex, line, col, endLine, endCol);
    }

    private static string StripMarkPrefix(string message)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the diagnostic carries the position itself.
        int i = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && i >= 0 ? message.Substring(i + 3) : message;
    }
}
