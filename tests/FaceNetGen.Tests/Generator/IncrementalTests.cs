extern alias generator;

using generator::FaceNetGen.Generator;
using FaceNetGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FaceNetGen.Tests.Generator;

/// <summary>The pipeline's models are equatable: unrelated edits leave every step cached; a spec edit regenerates.</summary>
public class IncrementalTests
{
    private static readonly string[] Steps = { FaceNetGenerator.SpecFilesStep, FaceNetGenerator.AnalysisStep, FaceNetGenerator.EmitStep };

    private static (GeneratorDriver Driver, Compilation Compilation, AdditionalText Nn2, AdditionalText Nns2) Start()
    {
        var nn2 = new GeneratorHarness.Spec("/repo/specs/NN2.yaml", GeneratorHarness.ReadRepoSpec("NN2"));
        var nns2 = new GeneratorHarness.Spec("/repo/specs/NNS2.yaml", GeneratorHarness.ReadRepoSpec("NNS2"));
        var driver = GeneratorHarness.CreateDriver(new AdditionalText[] { nn2, nns2 });
        var compilation = GeneratorHarness.Compilation("namespace UserApp; public class A { }");
        driver = driver.RunGenerators(compilation);
        return (driver, compilation, nn2, nns2);
    }

    private static IEnumerable<IncrementalStepRunReason> Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results.Single().TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason);

    [Fact]
    public void An_unrelated_code_edit_leaves_every_step_cached()
    {
        var (driver, compilation, _, _) = Start();
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace UserApp; public class B { int x; }", GeneratorHarness.ParseOptions));

        driver = driver.RunGenerators(edited);

        foreach (var step in Steps)
        {
            var reasons = Reasons(driver, step).ToList();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
    }

    [Fact]
    public void Editing_one_spec_regenerates_it_and_leaves_the_other_cached()
    {
        var (driver, compilation, nn2, _) = Start();
        string before = driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName == "NN2.g.cs").SourceText.ToString();
        var edited = new GeneratorHarness.Spec(nn2.Path, nn2.GetText()!.ToString().Replace("name: fc,         type: fc,      units: 128", "name: fc,         type: fc,      units: 128, relu: false"));

        driver = driver.ReplaceAdditionalText(nn2, edited).RunGenerators(compilation);

        var analysis = Reasons(driver, FaceNetGenerator.AnalysisStep).ToList();
        Assert.Contains(IncrementalStepRunReason.Modified, analysis);
        Assert.Contains(IncrementalStepRunReason.Cached, analysis);
        string after = driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName == "NN2.g.cs").SourceText.ToString();
        // Same network (relu: false is the default), but the spec's text positions moved: regenerated, same code.
        Assert.Equal(before, after);

        var widened = new GeneratorHarness.Spec(nn2.Path, edited.GetText()!.ToString().Replace("units: 128, relu: false", "units: 128, relu: true"));
        driver = driver.ReplaceAdditionalText(edited, widened).RunGenerators(compilation);
        string relu = driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName == "NN2.g.cs").SourceText.ToString();
        Assert.NotEqual(before, relu);
        Assert.Contains("relu: true);", relu.Split('\n').Single(l => l.Contains("b.LinearForward(", StringComparison.Ordinal)));
    }
}
