using FaceNetGen.Models;
using FaceNetGen.Specs;

namespace FaceNetGen.Tests.Analysis;

/// <summary>The shared analysis against the figures the paper prints (Tables 1 and 2, and paper.md's worked examples).</summary>
public class SpecAnalysisTests
{
    private static AnalyzedModel Compile(string name)
    {
        var result = SpecAnalyzer.Compile(BuiltInSpecs.GetText(name)!);
        Assert.Empty(result.Diagnostics);
        return result.Model!;
    }

    private static LayerReport Row(AnalyzedModel m, string layer) => m.Layers.Single(l => l.Name == layer);

    [Fact]
    public void NN2_rows_count_weights_and_biases_as_the_paper_does()
    {
        var nn2 = Compile("NN2");
        // paper.md: 3a = 163,328 weights + 368 biases; 3c = 397,312 + 480; 4a = 545,536 params.
        Assert.Equal((163_328L, 368L), (Row(nn2, "3a").Weights, Row(nn2, "3a").Biases));
        Assert.Equal((397_312L, 480L), (Row(nn2, "3c").Weights, Row(nn2, "3c").Biases));
        Assert.Equal(545_536L, Row(nn2, "4a").Params);
        // conv1: (9,408 + 64) x 112 x 112 FLOPS.
        Assert.Equal((9_408L + 64) * 112 * 112, Row(nn2, "conv1").Flops);
        Assert.Equal(9_408L * 112 * 112, Row(nn2, "conv1").MultiplyAdds);
        // 3c: reduces at 28x28, the stride-2 3x3 and 5x5 at 14x14.
        Assert.Equal((320L * 128 + 128 + 320 * 32 + 32) * 28 * 28 + (9L * 128 * 256 + 256 + 25 * 32 * 64 + 64) * 14 * 14, Row(nn2, "3c").Flops);
        Assert.Equal(new Shape(640, 14, 14), Row(nn2, "3c").Out);
        Assert.Equal(new Shape(1024, 7, 7), Row(nn2, "4e").Out);
    }

    [Theory]
    [InlineData("NN2", "conv1", "9K", "119M")]
    [InlineData("NN2", "inception2", "115K", "360M")]
    [InlineData("NN2", "3a", "164K", "128M")]
    [InlineData("NN2", "3b", "228K", "179M")]
    [InlineData("NN2", "3c", "398K", "108M")]
    [InlineData("NN2", "4b", "595K", "117M")]
    [InlineData("NN2", "4c", "654K", "128M")]
    [InlineData("NN2", "4d", "722K", "142M")]
    [InlineData("NN2", "4e", "717K", "56M")]
    [InlineData("NN2", "5a", "1.6M", "78M")]
    [InlineData("NN2", "5b", "1.6M", "78M")]
    [InlineData("NN2", "fc", "131K", "0.1M")]
    [InlineData("NN1", "conv1", "9K", "115M")]
    [InlineData("NN1", "conv2a", "4K", "13M")]
    [InlineData("NN1", "conv2", "111K", "335M")]
    [InlineData("NN1", "conv3a", "37K", "29M")]
    [InlineData("NN1", "conv3", "664K", "521M")]
    [InlineData("NN1", "conv4a", "148K", "29M")]
    [InlineData("NN1", "conv4", "885K", "173M")]
    [InlineData("NN1", "conv5a", "66K", "13M")]
    [InlineData("NN1", "conv5", "590K", "116M")]
    [InlineData("NN1", "conv6", "590K", "116M")]
    [InlineData("NN1", "fc1", "103M", "103M")]
    [InlineData("NN1", "fc2", "34M", "34M")]
    [InlineData("NN1", "fc7128", "524K", "0.5M")]
    public void Rows_print_as_the_paper_writes_them(string spec, string layer, string parameters, string flops)
    {
        var row = Row(Compile(spec), layer);
        Assert.Equal(parameters, SpecAnalyzer.FormatParams(row.Params));
        Assert.Equal(flops, SpecAnalyzer.FormatFlops(row.Flops));
    }

    [Theory]
    [InlineData("NN1", "140M", "1.6B")]
    [InlineData("NN2", "7.5M", "1.6B")]
    [InlineData("NN3", "7.5M", "816M")]
    public void Totals_match_the_paper(string spec, string parameters, string flops)
    {
        var m = Compile(spec);
        Assert.Equal(parameters, SpecAnalyzer.FormatParams(m.Params));
        Assert.Equal(flops, SpecAnalyzer.FormatFlops(m.Flops));
    }

    [Theory]
    [InlineData("NN4", 0, 285e6)]
    [InlineData("NNS1", 26e6, 220e6)]
    [InlineData("NNS2", 4.3e6, 20e6)]
    public void Designed_specs_are_within_five_percent_of_the_paper_totals(string spec, double parameters, double flops)
    {
        var m = Compile(spec);
        if (parameters > 0) Assert.InRange(m.Params / parameters, 0.95, 1.05);
        Assert.InRange(m.Flops / flops, 0.95, 1.05);
    }

    [Fact]
    public void NN3_has_NN2s_parameters_on_a_smaller_input()
    {
        var nn2 = Compile("NN2");
        var nn3 = Compile("NN3");
        Assert.Equal(nn2.Params, nn3.Params);
        Assert.Equal(nn2.Plan.Parameters.Select(p => p.Name), nn3.Plan.Parameters.Select(p => p.Name));
        Assert.Equal(160, nn3.Spec.InputHeight);
        Assert.True(nn3.Flops < nn2.Flops * 0.55);
    }

    [Theory]
    [InlineData(112, 3, 2, 1, false, 56)]
    [InlineData(112, 3, 2, 0, false, 55)]
    [InlineData(112, 3, 2, 0, true, 56)]
    [InlineData(55, 3, 2, 1, false, 28)]
    [InlineData(7, 3, 2, 0, true, 3)]
    [InlineData(6, 3, 2, 1, true, 4)]
    [InlineData(5, 2, 2, 1, true, 3)]
    [InlineData(2, 3, 1, 0, false, 0)]
    public void Output_sizes_follow_floor_and_ceil_mode(int input, int kernel, int stride, int pad, bool ceil, int expected)
    {
        // Ceil mode as PyTorch and ONNX define it: the last window must start inside the input or the left padding.
        Assert.Equal(expected, SpecAnalyzer.OutputSize(input, kernel, stride, pad, ceil));
    }

    [Theory]
    [InlineData("115K", 114_000, true)]
    [InlineData("115K", 116_499, true)]
    [InlineData("115K", 116_500, false)]
    [InlineData("115K", 113_499, false)]
    [InlineData("1.6B", 1_650_000_000, true)]
    [InlineData("1.6B", 1_750_000_000, false)]
    [InlineData("0.5M", 524_416, true)]
    [InlineData("545K", 545_536, true)]
    [InlineData("9K", 9_472, true)]
    public void Declared_figures_accept_one_unit_in_their_last_digit(string text, long computed, bool accepted)
    {
        Assert.True(SpecParser.TryParseFigure(text, out double value, out double unit));
        Assert.Equal(accepted, SpecAnalyzer.Accepts(new FigureDecl(text, value, unit, SourceSpan.None), null, computed, out _));
    }

    [Fact]
    public void A_percentage_tolerance_replaces_the_default()
    {
        Assert.True(SpecParser.TryParseFigure("285M", out double value, out double unit));
        var five = new ToleranceDecl("5%", 0.05, 0, SourceSpan.None);
        var decl = new FigureDecl("285M", value, unit, SourceSpan.None);
        Assert.True(SpecAnalyzer.Accepts(decl, five, 299_000_000, out _));
        Assert.False(SpecAnalyzer.Accepts(decl, five, 300_000_000, out _));
        Assert.False(SpecAnalyzer.Accepts(decl, null, 299_000_000, out _));
    }

    [Fact]
    public void Fan_out_gradients_assign_once_then_accumulate()
    {
        var nn2 = Compile("NN2");
        var plan = nn2.Plan;
        int input3a = plan.Tensors.Single(t => t.Name == "pool2").Id;
        // pool2 feeds 3a's four branches: one assigns (the first met going backward), three accumulate.
        var modes = plan.Ops.SelectMany(op => op.Inputs.Select((t, i) => (t, mode: op.InputGrads[i]))).Where(x => x.t == input3a).Select(x => x.mode).ToList();
        Assert.Equal(4, modes.Count);
        Assert.Equal(1, modes.Count(m => m == GradMode.Assign));
        Assert.Equal(3, modes.Count(m => m == GradMode.Accumulate));
        // The model input needs no gradient.
        Assert.All(plan.Ops.Where(op => op.Inputs.Contains(plan.InputTensor)), op => Assert.Equal(GradMode.None, op.InputGrads[0]));
    }

    [Fact]
    public void The_hash_ignores_comments_and_declared_figures_but_not_the_architecture()
    {
        string text = BuiltInSpecs.GetText("NNS2")!;
        string hash = SpecAnalyzer.Compile(text).Model!.Hash;
        Assert.Equal(hash, SpecAnalyzer.Compile("# another comment\n" + text.Replace("params: 4.3M", "params: 4.32M")).Model!.Hash);
        Assert.NotEqual(hash, SpecAnalyzer.Compile(text.Replace("units: 800", "units: 801").Replace("out: 1x1x800", "out: 1x1x801")).Model!.Hash);
        Assert.Equal(NNS2.SpecHash, hash);
    }

    [Fact]
    public void The_generated_classes_carry_the_analysis_figures()
    {
        foreach (var entry in ModelCatalog.All)
        {
            var m = Compile(entry.Name);
            Assert.Equal(m.Params, entry.Info.ParameterCount);
            Assert.Equal(m.Flops, entry.Info.Flops);
            Assert.Equal(m.Plan.ParameterLength, entry.Info.ParameterLength);
            Assert.Equal(m.Plan.Parameters.Sum(p => p.Length), entry.Info.ParameterLength);
            Assert.Equal(m.Hash, entry.Info.SpecHash);
        }
    }
}
