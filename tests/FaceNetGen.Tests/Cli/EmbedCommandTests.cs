using System.Globalization;
using System.Text.Json;
using FaceNetGen.Faces;
using FaceNetGen.Tests.Evaluation;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Cli;

[Collection(CliModelCollection.Name)]
public class EmbedCommandTests(CliModelFixture fixture)
{
    private static readonly string[] Images = [CliData.Att("s1/1.pgm"), CliData.Att("s1/2.pgm"), CliData.Att("s2/1.pgm")];

    [DataFact]
    public void Embed_writes_json_with_each_images_path_and_embedding()
    {
        using var temp = new TempFolder();
        string output = temp.File("e.json");
        var (exit, stdout, stderr) = CliRunner.Run(["embed", .. Images, "--model", fixture.Model, "--out", output]);
        Assert.True(exit == 0, stderr);
        Assert.Contains($"wrote 3 embedding(s) to {output}", stdout);

        var expected = fixture.Embed(Images);
        using var doc = JsonDocument.Parse(File.ReadAllText(output));
        var root = doc.RootElement;
        Assert.Equal("facenet-embeddings", root.GetProperty("format").GetString());
        Assert.Equal("NNS2", root.GetProperty("spec").GetString());
        Assert.Equal(128, root.GetProperty("embeddingSize").GetInt32());
        var entries = root.GetProperty("embeddings").EnumerateArray().ToArray();
        Assert.Equal(Images.Length, entries.Length);
        for (int i = 0; i < Images.Length; i++)
        {
            Assert.Equal(Images[i], entries[i].GetProperty("path").GetString());
            var values = entries[i].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.Equal(expected[i], values);
            Assert.False(entries[i].TryGetProperty("int8", out _));
        }
    }

    [DataFact]
    public void Embed_writes_csv_with_the_floats_and_with_int8_the_codes()
    {
        using var temp = new TempFolder();
        string output = temp.File("e.csv");
        var (exit, _, stderr) = CliRunner.Run(["embed", .. Images, "--model", fixture.Model, "--out", output, "--int8"]);
        Assert.True(exit == 0, stderr);

        var expected = fixture.Embed(Images);
        var lines = File.ReadAllText(output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + Images.Length, lines.Length);
        var header = lines[0].Split(',');
        Assert.Equal(1 + 2 * 128, header.Length);
        Assert.Equal(["path", "e0", "e1"], header[..3]);
        Assert.Equal("e127", header[128]);
        Assert.Equal("q0", header[129]);
        for (int i = 0; i < Images.Length; i++)
        {
            var cells = lines[i + 1].Split(',');
            Assert.Equal(Images[i], cells[0]);
            var floats = cells[1..129].Select(c => float.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(expected[i], floats);
            // The codes are round(x * 127), half to even.
            var codes = cells[129..].Select(c => sbyte.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            var handCodes = expected[i].Select(x => (sbyte)Math.Round(x * 127.0f, MidpointRounding.ToEven)).ToArray();
            Assert.Equal(handCodes, codes);
        }
    }

    [DataFact]
    public void Embed_prints_a_table_by_default_and_json_with_the_flag()
    {
        var (exit, stdout, stderr) = CliRunner.Run(["embed", .. Images, "--model", fixture.Model]);
        Assert.True(exit == 0, stderr);
        var rows = stdout.Split('\n').Where(l => Images.Any(p => l.StartsWith(p, StringComparison.Ordinal))).ToArray();
        Assert.Equal(Images.Length, rows.Length);
        var first = fixture.Embed(Images)[0];
        // path, norm (unit length), then the first components.
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"  1.0000{first[0],9:F4}{first[1],9:F4}"), rows[0]);

        (exit, stdout, stderr) = CliRunner.Run(["embed", Images[0], "--model", fixture.Model, "--json", "--int8"]);
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var entry = doc.RootElement.GetProperty("embeddings")[0];
        Assert.Equal(128, entry.GetProperty("int8").GetArrayLength());
        Assert.Equal(127, doc.RootElement.GetProperty("int8Scale").GetInt32());
    }

    [DataFact]
    public void Embed_searches_a_folder_in_natural_order()
    {
        var (exit, stdout, stderr) = CliRunner.Run("embed", CliData.Att("s3"), "--model", fixture.Model, "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var names = doc.RootElement.GetProperty("embeddings").EnumerateArray().Select(e => Path.GetFileName(e.GetProperty("path").GetString())).ToArray();
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"{i}.pgm").ToArray(), names);
    }

    [Fact]
    public void Embed_usage_mistakes_exit_2()
    {
        Assert.Equal(2, CliRunner.Run("embed", "--model", fixture.Model).Exit);
        var (exit, _, stderr) = CliRunner.Run("embed", "a.pgm", "--model", fixture.Model, "--out", "e.txt");
        Assert.Equal(2, exit);
        Assert.Contains(".json or .csv", stderr);
        Assert.Equal(2, CliRunner.Run("embed", "a.pgm").Exit);
    }
}
