using FaceNetGen.Specs;
using FaceNetGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace FaceNetGen.Tests.Generator;

/// <summary>Every diagnostic ID, triggered from a bad spec, reported as a build error at the YAML line and column.</summary>
public class DiagnosticTests
{
    private const string Path = "/project/nets/Bad.yaml";

    /// <summary>A valid tiny spec; tests break one line of it.</summary>
    private const string Tiny = """
        name: Tiny
        input: 16x16x3
        embedding: 8
        layers:
          - { name: conv1, type: conv, kernel: 3x3x3, stride: 2, pad: 1, filters: 4, out: 8x8x4, params: 112, flops: 7168 }
          - { name: pool1, type: maxpool, kernel: 2, stride: 2 }
          - { name: fc, type: fc, units: 8 }
          - { name: l2, type: l2norm }
        """;

    private static Diagnostic Single(string yaml, string id)
    {
        var (run, _, diagnostics) = GeneratorHarness.Run((Path, yaml));
        var matching = diagnostics.Where(d => d.Id == id).ToList();
        Assert.True(matching.Count >= 1, $"expected {id}, got: {string.Join("; ", diagnostics.Select(d => d.ToString()))}");
        var d = matching[0];
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(Path, d.Location.GetLineSpan().Path);
        // A spec with errors produces no model class.
        Assert.Empty(run.Results.Single().GeneratedSources);
        return d;
    }

    /// <summary>One-based line and column of the first <paramref name="token"/> on one-based <paramref name="line"/> of <paramref name="yaml"/>.</summary>
    private static (int Line, int Column) At(string yaml, int line, string token)
    {
        string text = yaml.Replace("\r\n", "\n").Split('\n')[line - 1];
        int index = text.IndexOf(token, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{token}' is not on line {line}: {text}");
        return (line, index + 1);
    }

    /// <summary>One-based line and column of the diagnostic, as the build prints them.</summary>
    private static (int Line, int Column) Where(Diagnostic d)
    {
        var start = d.Location.GetLineSpan().StartLinePosition;
        return (start.Line + 1, start.Character + 1);
    }

    [Fact]
    public void The_tiny_spec_itself_is_valid()
    {
        var (run, _, diagnostics) = GeneratorHarness.Run((Path, Tiny));
        Assert.Empty(diagnostics);
        Assert.Single(run.Results.Single().GeneratedSources);
    }

    [Fact]
    public void FNG0001_yaml_syntax_error()
    {
        var d = Single(Tiny.Replace("  - { name: pool1, type: maxpool, kernel: 2, stride: 2 }", "  - { name: pool1, type: maxpool, kernel: 2, stride: 2"), "FNG0001");
        Assert.InRange(Where(d).Line, 6, 7);
        Assert.Contains("YAML syntax error", d.GetMessage());
    }

    [Fact]
    public void FNG0002_unknown_layer_type()
    {
        string yaml = Tiny.Replace("type: maxpool", "type: maxpooling");
        var d = Single(yaml, "FNG0002");
        Assert.Equal(At(yaml, 6, "maxpooling"), Where(d));
        Assert.Contains("'maxpooling'", d.GetMessage());
    }

    [Fact]
    public void FNG0003_unknown_key()
    {
        string yaml = Tiny.Replace("kernel: 2, stride: 2", "kernal: 2, stride: 2");
        var d = Single(yaml, "FNG0003");
        Assert.Equal(At(yaml, 6, "kernal"), Where(d));
        Assert.Contains("'kernal'", d.GetMessage());
    }

    [Fact]
    public void FNG0004_missing_field()
    {
        var d = Single(Tiny.Replace(", filters: 4", ""), "FNG0004");
        Assert.Equal(5, Where(d).Line);
        Assert.Contains("'filters'", d.GetMessage());
    }

    [Fact]
    public void FNG0005_invalid_value()
    {
        string yaml = Tiny.Replace("stride: 2, pad: 1", "stride: two, pad: 1");
        var d = Single(yaml, "FNG0005");
        Assert.Equal(At(yaml, 5, "two"), Where(d));
        Assert.Contains("'two'", d.GetMessage());
    }

    [Fact]
    public void FNG0006_non_positive_output_size()
    {
        var d = Single(Tiny.Replace("kernel: 2, stride: 2", "kernel: 12, stride: 2"), "FNG0006");
        Assert.Equal(6, Where(d).Line);
        Assert.Contains("pool1", d.GetMessage());
    }

    [Fact]
    public void FNG0007_channel_mismatch()
    {
        string yaml = Tiny.Replace("kernel: 3x3x3", "kernel: 3x3x64");
        var d = Single(yaml, "FNG0007");
        Assert.Equal(At(yaml, 5, "3x3x64"), Where(d));
        Assert.Contains("64 input channels, but its input has 3", d.GetMessage());
    }

    [Fact]
    public void FNG0008_declared_size_differs()
    {
        string yaml = Tiny.Replace("out: 8x8x4", "out: 8x8x5");
        var d = Single(yaml, "FNG0008");
        Assert.Equal(At(yaml, 5, "8x8x5"), Where(d));
        Assert.Contains("8x8x5", d.GetMessage());
    }

    [Fact]
    public void FNG0009_declared_params_differ_beyond_one_in_the_last_digit()
    {
        string yaml = Tiny.Replace("params: 112", "params: 110");
        var d = Single(yaml, "FNG0009");
        Assert.Equal(At(yaml, 5, "110"), Where(d));
        Assert.Contains("accepting 109–111", d.GetMessage());
        Assert.Contains("108 weights + 4 biases", d.GetMessage());
    }

    [Fact]
    public void FNG0010_declared_flops_differ()
    {
        string yaml = Tiny.Replace("flops: 7168", "flops: 7.0K");
        var d = Single(yaml, "FNG0010");
        Assert.Equal(At(yaml, 5, "7.0K"), Where(d));
        Assert.Contains("7,168", d.GetMessage());
    }

    [Fact]
    public void FNG0011_duplicate_layer_name()
    {
        var d = Single(Tiny.Replace("name: pool1", "name: conv1"), "FNG0011");
        Assert.Equal(6, Where(d).Line);
    }

    [Fact]
    public void FNG0011_two_specs_naming_the_same_class()
    {
        var (run, _, diagnostics) = GeneratorHarness.Run(("/a/First.yaml", Tiny), ("/b/Second.yaml", Tiny));
        var d = Assert.Single(diagnostics);
        Assert.Equal("FNG0011", d.Id);
        Assert.Equal("/b/Second.yaml", d.Location.GetLineSpan().Path);
        Assert.Equal(1, Where(d).Line);
        Assert.Single(run.Results.Single().GeneratedSources);
    }

    [Fact]
    public void FNG0012_an_internal_failure_becomes_a_diagnostic_not_a_crash()
    {
        // 60000 x 60000 x 3 floats per image overflow the 32-bit indices of the kernels; the analysis throws,
        // and the generator reports it instead of crashing the build.
        var d = Single(Tiny.Replace("input: 16x16x3", "input: 60000x60000x3").Replace(", out: 8x8x4, params: 112, flops: 7168", ""), "FNG0012");
        Assert.Contains("OverflowException", d.GetMessage());
        Assert.Equal(1, Where(d).Line);
    }

    [Fact]
    public void FNG0012_an_unreadable_spec_becomes_a_diagnostic()
    {
        var driver = GeneratorHarness.CreateDriver(new AdditionalText[] { new ThrowingText(Path) });
        driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(), out _, out var diagnostics);
        var d = Assert.Single(diagnostics);
        Assert.Equal("FNG0012", d.Id);
        Assert.Contains("could not be read", d.GetMessage());
    }

    [Fact]
    public void FNG0013_output_is_not_the_declared_embedding()
    {
        var d = Single(Tiny.Replace("units: 8", "units: 6"), "FNG0013");
        Assert.Equal(8, Where(d).Line);
        Assert.Contains("1x1x6", d.GetMessage());
    }

    [Fact]
    public void Every_diagnostic_id_has_a_test_here()
    {
        var tested = typeof(DiagnosticTests).GetMethods().Select(m => m.Name).Where(n => n.StartsWith("FNG", StringComparison.Ordinal)).Select(n => n[..7]).ToHashSet();
        foreach (var info in SpecDiagnostics.All) Assert.Contains(info.Id, tested);
    }

    private sealed class ThrowingText(string path) : AdditionalText
    {
        public override string Path { get; } = path;

        public override Microsoft.CodeAnalysis.Text.SourceText GetText(CancellationToken cancellationToken = default) =>
            throw new IOException("disk read failed");
    }
}
