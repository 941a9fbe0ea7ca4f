using System.Text.Json;
using System.Text.RegularExpressions;

namespace FaceNetGen.Tests.Cli;

public class SpecCommandTests
{
    private static string[] Cells(string output, string layer)
    {
        var line = output.Split('\n').Single(l => l.StartsWith(layer + " ", StringComparison.Ordinal));
        return Regex.Split(line.Trim(), @"\s{2,}");
    }

    [Theory]
    [InlineData("conv1", "224x224x3", "112x112x64", "9K", "119M")]
    [InlineData("inception2", "56x56x64", "56x56x192", "115K", "360M")]
    [InlineData("3a", "28x28x192", "28x28x256", "164K", "128M")]
    [InlineData("3c", "28x28x320", "14x14x640", "398K", "108M")]
    [InlineData("4e", "14x14x640", "7x7x1024", "717K", "56M")]
    [InlineData("5b", "7x7x1024", "7x7x1024", "1.6M", "78M")]
    [InlineData("fc", "1x1x1024", "1x1x128", "131K", "0.1M")]
    public void Spec_NN2_prints_the_rows_of_table_2(string layer, string sizeIn, string sizeOut, string parameters, string flops)
    {
        var (exit, output, _) = CliRunner.Run("spec", "NN2");
        Assert.Equal(0, exit);
        var cells = Cells(output, layer);
        Assert.Equal(sizeIn, cells[2]);
        Assert.Equal(sizeOut, cells[3]);
        Assert.Equal(parameters, cells[5]);
        Assert.Equal(flops, cells[6]);
    }

    [Theory]
    [InlineData("conv1", "220x220x3", "110x110x64", "9K", "115M")]
    [InlineData("conv2", "55x55x64", "55x55x192", "111K", "335M")]
    [InlineData("conv3", "28x28x192", "28x28x384", "664K", "521M")]
    [InlineData("conv4", "14x14x384", "14x14x256", "885K", "173M")]
    [InlineData("fc1", "7x7x256", "1x1x4096", "103M", "103M")]
    [InlineData("fc7128", "1x1x4096", "1x1x128", "524K", "0.5M")]
    public void Spec_NN1_prints_the_rows_of_table_1(string layer, string sizeIn, string sizeOut, string parameters, string flops)
    {
        var (exit, output, _) = CliRunner.Run("spec", "nn1");
        Assert.Equal(0, exit);
        var cells = Cells(output, layer);
        Assert.Equal(sizeIn, cells[2]);
        Assert.Equal(sizeOut, cells[3]);
        Assert.Equal(parameters, cells[5]);
        Assert.Equal(flops, cells[6]);
        Assert.Contains("= 140M", output);
        Assert.Contains("= 1.6B", output);
    }

    [Fact]
    public void Spec_json_has_the_totals()
    {
        var (exit, output, _) = CliRunner.Run("spec", "NNS2", "--json");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("NNS2", doc.RootElement.GetProperty("name").GetString());
        Assert.Equal(doc.RootElement.GetProperty("weights").GetInt64() + doc.RootElement.GetProperty("biases").GetInt64(), doc.RootElement.GetProperty("params").GetInt64());
        Assert.Equal(12, doc.RootElement.GetProperty("layers").GetArrayLength());
    }

    [Fact]
    public void A_bad_spec_file_prints_the_diagnostic_with_file_and_line()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fng-bad-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "name: Bad\ninput: 8x8x3\nembedding: 4\nlayers:\n  - { name: c, type: conv, kernel: 3, filters: 4, stride: 0 }\n");
        try
        {
            var (exit, _, err) = CliRunner.Run("spec", path);
            Assert.Equal(1, exit);
            Assert.Contains($"{path}(5,", err);
            Assert.Contains("FNG0005", err);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Unknown_spec_and_missing_file_fail_clearly()
    {
        var (exit, _, err) = CliRunner.Run("spec", "NN9");
        Assert.Equal(1, exit);
        Assert.Contains("unknown spec 'NN9'", err);

        (exit, _, err) = CliRunner.Run("spec", "/nonexistent/x.yaml");
        Assert.Equal(1, exit);
        Assert.Contains("/nonexistent/x.yaml", err);

        (exit, _, err) = CliRunner.Run("spec");
        Assert.Equal(2, exit);
    }
}
