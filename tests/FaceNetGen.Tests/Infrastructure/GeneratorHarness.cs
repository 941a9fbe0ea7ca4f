extern alias generator;

using System.Collections.Immutable;
using generator::FaceNetGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace FaceNetGen.Tests.Infrastructure;

/// <summary>Runs <see cref="FaceNetGenerator"/> in memory, the way the compiler does, over spec texts.</summary>
public static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    /// <summary>The runtime (for the generated classes' base types) and the framework's own assemblies.</summary>
    public static IReadOnlyList<MetadataReference> References { get; } = LoadReferences();

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .ToList();
        paths.Add(typeof(FaceNetGen.Models.FaceNetModel).Assembly.Location);
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    public static CSharpCompilation Compilation(params string[] sources) => CSharpCompilation.Create(
        "UserAssembly",
        sources.Select(s => CSharpSyntaxTree.ParseText(s, ParseOptions)),
        References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, warningLevel: 9999));

    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText> specs, string? rootNamespace = "UserApp", bool trackSteps = true)
    {
        var generator = new FaceNetGenerator().AsSourceGenerator();
        var texts = specs.ToImmutableArray();
        return CSharpGeneratorDriver.Create(
            new[] { generator },
            texts,
            ParseOptions,
            new OptionsProvider(rootNamespace),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));
    }

    /// <summary>Runs the generator over (path, text) specs on an otherwise empty compilation.</summary>
    public static (GeneratorDriverRunResult Run, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(params (string Path, string Text)[] specs)
    {
        var driver = CreateDriver(specs.Select(s => (AdditionalText)new Spec(s.Path, s.Text)));
        driver = driver.RunGeneratorsAndUpdateCompilation(Compilation(), out var output, out var diagnostics);
        return (driver.GetRunResult(), output, diagnostics);
    }

    public static string ReadRepoSpec(string name) => File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "specs", name + ".yaml"));

    /// <summary>An AdditionalFile held in memory.</summary>
    public sealed class Spec(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    /// <summary>Marks every AdditionalFile whose path ends in .yaml as a FaceNetSpec, as the package's targets do.</summary>
    private sealed class OptionsProvider(string? rootNamespace) : AnalyzerConfigOptionsProvider
    {
        private static readonly Options SpecOptions = new(new Dictionary<string, string> { ["build_metadata.AdditionalFiles.FaceNetSpec"] = "true" });
        private static readonly Options None = new(new Dictionary<string, string>());

        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(rootNamespace is null
            ? new Dictionary<string, string>()
            : new Dictionary<string, string> { ["build_property.RootNamespace"] = rootNamespace });

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => None;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            textFile.Path.EndsWith(".yaml", StringComparison.Ordinal) ? SpecOptions : None;
    }

    private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}
