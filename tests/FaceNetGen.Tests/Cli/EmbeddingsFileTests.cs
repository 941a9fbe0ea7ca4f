using System.Text.Json;
using FaceNetGen.Faces;
using FaceNetGen.Tests.Evaluation;

namespace FaceNetGen.Tests.Cli;

public class EmbeddingsFileTests
{
    private static readonly ImageEmbedding[] Items =
    [
        new("plain.jpg", [0.6f, -0.8f, 0f]),
        new("a, \"quoted\" ünïcode.jpg", [1f / 3, 0.5f, -1f]),
    ];

    [Fact]
    public void Csv_quotes_paths_with_commas_and_quotes_and_writes_round_trip_floats()
    {
        string csv = EmbeddingsFile.ToCsv(Items, includeCodes: true);
        Assert.Equal(
            "path,e0,e1,e2,q0,q1,q2\n" +
            "plain.jpg,0.6,-0.8,0,76,-102,0\n" +
            "\"a, \"\"quoted\"\" ünïcode.jpg\",0.33333334,0.5,-1,42,64,-127\n",
            csv);
    }

    [Fact]
    public void Json_keeps_paths_and_values_exactly()
    {
        using var doc = JsonDocument.Parse(EmbeddingsFile.ToJson("NN2", Items));
        var root = doc.RootElement;
        Assert.Equal("facenet-embeddings", root.GetProperty("format").GetString());
        Assert.Equal(3, root.GetProperty("embeddingSize").GetInt32());
        Assert.False(root.TryGetProperty("int8Scale", out _));
        var entries = root.GetProperty("embeddings");
        Assert.Equal(Items[1].Path, entries[1].GetProperty("path").GetString());
        Assert.Equal(Items[1].Embedding, entries[1].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()));
    }

    [Fact]
    public void Save_picks_the_format_by_extension_and_refuses_others()
    {
        using var temp = new TempFolder();
        EmbeddingsFile.Save(temp.File("e.CSV"), "NN2", Items);
        Assert.StartsWith("path,e0", File.ReadAllText(temp.File("e.CSV")));
        EmbeddingsFile.Save(temp.File("e.json"), "NN2", Items, includeCodes: true);
        Assert.Contains("\"int8\": [76,-102,0]", File.ReadAllText(temp.File("e.json")));
        Assert.Throws<ArgumentException>(() => EmbeddingsFile.Save(temp.File("e.txt"), "NN2", Items));
        Assert.Equal(["e.CSV", "e.json"], temp.Files());
    }

    [Fact]
    public void Unequal_lengths_and_non_finite_values_are_refused()
    {
        Assert.Throws<ArgumentException>(() => EmbeddingsFile.ToCsv([Items[0], new ImageEmbedding("b.jpg", [1f])]));
        var e = Assert.Throws<ArgumentException>(() => EmbeddingsFile.ToJson("NN2", [new ImageEmbedding("nan.jpg", [float.NaN, 0, 0])]));
        Assert.Contains("nan.jpg", e.Message);
    }
}
