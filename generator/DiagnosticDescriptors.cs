using FaceNetGen.Specs;
using Microsoft.CodeAnalysis;

namespace FaceNetGen.Generator;

/// <summary>
/// The Roslyn face of <see cref="SpecDiagnostics"/>: one descriptor per stable ID, all errors, all reported at the
/// YAML line and column. The titles and messages live in the shared table so that `facenet spec` says the same.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "FaceNetGen.Spec";

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = SpecDiagnostics.All.ToDictionary(
        info => info.Id,
        info => new DiagnosticDescriptor(
            info.Id,
            info.Title,
            info.MessageFormat,
            Category,
            DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            helpLinkUri: SpecDiagnostics.HelpLinkBase + "-" + info.Id.ToLowerInvariant()),
        StringComparer.Ordinal);

    public static DiagnosticDescriptor Get(string id) => ById[id];
}
