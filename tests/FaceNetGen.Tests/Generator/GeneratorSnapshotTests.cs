using System.Globalization;
using FaceNetGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Snapshooter;
using Snapshooter.Xunit;

namespace FaceNetGen.Tests.Generator;

/// <summary>The emitted code of every paper spec, reviewed like code (snapshots under __snapshots__).</summary>
public class GeneratorSnapshotTests
{
    private static readonly string[] Names = { "NN1", "NN2", "NN3", "NN4", "NNS1", "NNS2" };

    public static TheoryData<string> SpecNames => new(Names);

    [Theory]
    [MemberData(nameof(SpecNames))]
    public void Emitted_model_class_matches_snapshot(string name)
    {
        var (run, _, diagnostics) = GeneratorHarness.Run(($"/repo/specs/{name}.yaml", GeneratorHarness.ReadRepoSpec(name)));

        Assert.Empty(diagnostics);
        var source = Assert.Single(run.Results.Single().GeneratedSources);
        Assert.Equal(name + ".g.cs", source.HintName);
        Snapshot.Match(source.SourceText.ToString(), SnapshotNameExtension.Create(name));
    }

    [Fact]
    public void Output_is_byte_identical_across_runs_and_cultures()
    {
        var specs = Names.Select(n => ($"/repo/specs/{n}.yaml", GeneratorHarness.ReadRepoSpec(n))).ToArray();
        string Emit()
        {
            var (run, _, _) = GeneratorHarness.Run(specs);
            return string.Join("\n//----\n", run.Results.Single().GeneratedSources.Select(s => s.HintName + "\n" + s.SourceText));
        }

        var original = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            string baseline = Emit();
            foreach (var culture in new[] { "de-DE", "tr-TR", "ar-SA", "fr-FR" })
            {
                CultureInfo.CurrentCulture = new CultureInfo(culture);
                Assert.Equal(baseline, Emit());
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = original;
        }
    }

    [Fact]
    public void Generated_code_for_all_specs_compiles_with_zero_warnings()
    {
        var specs = Names.Select(n => ($"/repo/specs/{n}.yaml", GeneratorHarness.ReadRepoSpec(n))).ToArray();
        var driver = GeneratorHarness.CreateDriver(specs.Select(s => (AdditionalText)new GeneratorHarness.Spec(s.Item1, s.Item2)));
        // User code that touches the generated API, so that it is compiled against it too.
        var user = GeneratorHarness.Compilation("""
            namespace UserApp;
            public static class Use
            {
                public static long Total() => NN2.ParameterCount + NN1.Flops + NNS2.Param.Conv1_Weight + NN4.Act.Input;
                public static global::FaceNetGen.Models.ModelDescription Info() => NN3.Info;
                public static NNS1 Make(global::FaceNetGen.Backends.IBackend b) => NNS1.Create(b, 2, training: true);
            }
            """);
        driver.RunGeneratorsAndUpdateCompilation(user, out var output, out var generatorDiagnostics);

        Assert.Empty(generatorDiagnostics);
        Assert.Equal(6, output.SyntaxTrees.Count() - 1);
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems.Select(p => p.ToString())));
    }
}
