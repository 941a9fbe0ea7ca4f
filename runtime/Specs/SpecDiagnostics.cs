using System.Globalization;

namespace FaceNetGen.Specs;

/// <summary>A problem found in a spec, positioned in its text. Roslyn-free, so the runtime can report it too.</summary>
public sealed record SpecDiagnostic(string Id, EquatableArray<string> Args, SourceSpan Span)
{
    public SpecDiagnosticInfo Info => SpecDiagnostics.Get(Id);

    public string Message => string.Format(CultureInfo.InvariantCulture, Info.MessageFormat, Args.Cast<object>().ToArray());

    /// <summary>"path(line,col): error FNG0007: message", the compiler's own layout.</summary>
    public string Format(string path) => $"{path}({Span.Line + 1},{Span.Column + 1}): error {Id}: {Message}";
}

/// <summary>The stable identity of one kind of spec problem.</summary>
public sealed record SpecDiagnosticInfo(string Id, string Title, string MessageFormat);

/// <summary>
/// Every spec diagnostic, in one table. IDs are stable: a released ID never changes meaning.
/// The generator turns each into a build error at the YAML line and column; `facenet spec` prints the same text.
/// </summary>
public static class SpecDiagnostics
{
    public const string HelpLinkBase = "docs/spec-format.md#diagnostics";

    public static readonly SpecDiagnosticInfo YamlSyntax = new("FNG0001", "YAML syntax error", "YAML syntax error: {0}");
    public static readonly SpecDiagnosticInfo UnknownLayerType = new("FNG0002", "Unknown layer type", "Unknown layer type '{0}'; expected one of: {1}");
    public static readonly SpecDiagnosticInfo UnknownKey = new("FNG0003", "Unknown key", "Unknown key '{0}' in {1}; expected one of: {2}");
    public static readonly SpecDiagnosticInfo MissingField = new("FNG0004", "Missing field", "{0} is missing the required field '{1}'");
    public static readonly SpecDiagnosticInfo InvalidValue = new("FNG0005", "Invalid value", "Invalid value '{0}' for '{1}': {2}");
    public static readonly SpecDiagnosticInfo NonPositiveOutput = new("FNG0006", "Non-positive output size", "Layer '{0}' produces a non-positive output size {1} from input {2}");
    public static readonly SpecDiagnosticInfo ChannelMismatch = new("FNG0007", "Channel mismatch", "Layer '{0}' declares {1} input channels, but its input has {2}");
    public static readonly SpecDiagnosticInfo ShapeMismatch = new("FNG0008", "Declared size differs", "Layer '{0}' declares {1} size {2}, but the computed size is {3}");
    public static readonly SpecDiagnosticInfo ParamsMismatch = new("FNG0009", "Declared parameter count differs", "{0} declares params {1} (accepting {2}), but the computed count is {3} ({4} weights + {5} biases)");
    public static readonly SpecDiagnosticInfo FlopsMismatch = new("FNG0010", "Declared FLOPS differ", "{0} declares FLOPS {1} (accepting {2}), but the computed figure is {3}");
    public static readonly SpecDiagnosticInfo Duplicate = new("FNG0011", "Duplicate name", "The name '{0}' is already used by {1}");
    public static readonly SpecDiagnosticInfo Internal = new("FNG0012", "Internal generator error", "The FaceNetGen generator failed on this spec: {0}");
    public static readonly SpecDiagnosticInfo EmbeddingMismatch = new("FNG0013", "Model output is not the declared embedding", "The model's output is {0}, but the spec declares a {1}-d embedding; end with a {1}-wide fully connected layer and l2norm");

    public static IReadOnlyList<SpecDiagnosticInfo> All { get; } = new[]
    {
        YamlSyntax, UnknownLayerType, UnknownKey, MissingField, InvalidValue, NonPositiveOutput, ChannelMismatch,
        ShapeMismatch, ParamsMismatch, FlopsMismatch, Duplicate, Internal, EmbeddingMismatch,
    };

    public static SpecDiagnosticInfo Get(string id)
    {
        foreach (var info in All)
        {
            if (info.Id == id) return info;
        }
        throw new ArgumentException($"Unknown diagnostic id {id}", nameof(id));
    }

    public static SpecDiagnostic Create(SpecDiagnosticInfo info, SourceSpan span, params object[] args)
        => new(info.Id, new EquatableArray<string>(args.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture) ?? "").ToArray()), span);
}
