using System.Collections.Immutable;
using FaceNetGen.Specs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace FaceNetGen.Generator;

/// <summary>
/// The pipeline, and only the pipeline: spec files in, model classes and diagnostics out.
/// <list type="number">
/// <item>AdditionalFiles marked <c>FaceNetSpec="true"</c> become plain (path, text) records at once;</item>
/// <item>each is parsed and analysed (<see cref="SpecAnalyzer"/>) into an equatable result;</item>
/// <item>each result is emitted (<see cref="ModelEmitter"/>) into source text and positioned diagnostics;</item>
/// <item>the collected outputs are added, with one check across files (two specs naming the same class).</item>
/// </list>
/// Every stage's output is an equatable record, so an edit that does not touch a spec leaves every stage cached.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class FaceNetGenerator : IIncrementalGenerator
{
    public const string SpecFilesStep = "SpecFiles";
    public const string AnalysisStep = "Analysis";
    public const string EmitStep = "Emit";

    internal static readonly string Version = typeof(FaceNetGenerator).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var defaultNamespace = context.AnalyzerConfigOptionsProvider.Select(static (provider, _) =>
        {
            provider.GlobalOptions.TryGetValue("build_property.FaceNetSpecNamespace", out var ns);
            if (string.IsNullOrWhiteSpace(ns)) provider.GlobalOptions.TryGetValue("build_property.RootNamespace", out ns);
            return string.IsNullOrWhiteSpace(ns) ? "FaceNetGen.Models" : ns!.Trim();
        });

        var specFiles = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Where(static pair =>
                pair.Right.GetOptions(pair.Left).TryGetValue("build_metadata.AdditionalFiles.FaceNetSpec", out var flag)
                && string.Equals(flag, "true", StringComparison.OrdinalIgnoreCase))
            .Select(static (pair, ct) => ReadSpec(pair.Left, ct))
            .WithTrackingName(SpecFilesStep);

        var analysed = specFiles
            .Select(static (file, _) => Analyse(file))
            .WithTrackingName(AnalysisStep);

        var emitted = analysed
            .Combine(defaultNamespace)
            .Select(static (pair, _) => Emit(pair.Left, pair.Right))
            .WithTrackingName(EmitStep);

        context.RegisterSourceOutput(emitted.Collect(), static (spc, outputs) => Output(spc, outputs));
    }

    private static SpecFile ReadSpec(AdditionalText text, CancellationToken ct)
    {
        try
        {
            return new SpecFile(text.Path, text.GetText(ct)?.ToString() ?? "", null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new SpecFile(text.Path, "", ex.GetType().Name + ": " + ex.Message);
        }
    }

    private static SpecResult Analyse(SpecFile file)
    {
        if (file.ReadError is not null)
        {
            return new SpecResult(file, null, new EquatableArray<SpecDiagnostic>(new[]
            {
                SpecDiagnostics.Create(SpecDiagnostics.Internal, SourceSpan.None, "the spec could not be read: " + file.ReadError),
            }));
        }

        try
        {
            var result = SpecAnalyzer.Compile(file.Text);
            return new SpecResult(file, result.Model, result.Diagnostics);
        }
        catch (Exception ex)
        {
            // A generator never throws: the failure becomes a diagnostic at the top of the spec.
            return new SpecResult(file, null, new EquatableArray<SpecDiagnostic>(new[]
            {
                SpecDiagnostics.Create(SpecDiagnostics.Internal, SourceSpan.None, ex.GetType().Name + ": " + ex.Message),
            }));
        }
    }

    private static GeneratedSpec Emit(SpecResult result, string defaultNamespace)
    {
        string fileName = Path.GetFileName(result.File.Path);
        var diagnostics = result.Diagnostics;
        string? source = null;
        string? name = null;
        SourceSpan nameSpan = SourceSpan.None;
        if (result.Model is { } model && diagnostics.Count == 0)
        {
            try
            {
                name = model.Spec.Name;
                nameSpan = model.Spec.NameSpan;
                source = ModelEmitter.Emit(model, model.Spec.Namespace ?? defaultNamespace, fileName, Version);
            }
            catch (Exception ex)
            {
                source = null;
                diagnostics = new EquatableArray<SpecDiagnostic>(new[]
                {
                    SpecDiagnostics.Create(SpecDiagnostics.Internal, SourceSpan.None, ex.GetType().Name + ": " + ex.Message),
                });
            }
        }
        return new GeneratedSpec(result.File.Path, result.File.Text, name, nameSpan, source, diagnostics);
    }

    private static void Output(SourceProductionContext context, ImmutableArray<GeneratedSpec> outputs)
    {
        var claimed = new Dictionary<string, GeneratedSpec>(StringComparer.Ordinal);
        // Ordinal order of paths: the same set of specs always produces the same outputs in the same order.
        foreach (var output in outputs.OrderBy(o => o.Path, StringComparer.Ordinal))
        {
            foreach (var d in output.Diagnostics)
            {
                context.ReportDiagnostic(ToDiagnostic(d, output.Path, output.Text));
            }
            if (output.Source is null || output.Name is null) continue;
            if (claimed.TryGetValue(output.Name, out var first))
            {
                var dup = SpecDiagnostics.Create(SpecDiagnostics.Duplicate, output.NameSpan, output.Name, "the spec " + Path.GetFileName(first.Path));
                context.ReportDiagnostic(ToDiagnostic(dup, output.Path, output.Text));
                continue;
            }
            claimed[output.Name] = output;
            context.AddSource(output.Name + ".g.cs", SourceText.From(output.Source, System.Text.Encoding.UTF8));
        }
    }

    private static Diagnostic ToDiagnostic(SpecDiagnostic d, string path, string text)
    {
        int start = Math.Min(d.Span.Start, text.Length);
        int end = Math.Max(start, Math.Min(d.Span.End, text.Length));
        var location = Location.Create(
            path,
            TextSpan.FromBounds(start, end),
            new LinePositionSpan(new LinePosition(d.Span.Line, d.Span.Column), new LinePosition(d.Span.EndLine, d.Span.EndColumn)));
        return Diagnostic.Create(DiagnosticDescriptors.Get(d.Id), location, d.Args.Cast<object>().ToArray());
    }
}

/// <summary>An AdditionalFile, reduced to plain strings the moment it enters the pipeline.</summary>
internal sealed record SpecFile(string Path, string Text, string? ReadError);

/// <summary>The analysis of one spec file.</summary>
internal sealed record SpecResult(SpecFile File, AnalyzedModel? Model, EquatableArray<SpecDiagnostic> Diagnostics);

/// <summary>What one spec contributes to the compilation: its source (when valid) and its diagnostics.</summary>
internal sealed record GeneratedSpec(string Path, string Text, string? Name, SourceSpan NameSpan, string? Source, EquatableArray<SpecDiagnostic> Diagnostics);
