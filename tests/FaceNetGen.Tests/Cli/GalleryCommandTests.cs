using System.Text.Json;
using FaceNetGen.Faces;
using FaceNetGen.Tests.Evaluation;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Cli;

[Collection(CliModelCollection.Name)]
public class GalleryCommandTests(CliModelFixture fixture)
{
    private (int Exit, string Out, string Err) Gallery(string file, params string[] args) =>
        CliRunner.Run(["gallery", .. args, "--gallery", file]);

    private static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    [DataFact]
    public void Add_identify_list_remove_round_trip()
    {
        using var temp = new TempFolder();
        string g = temp.File("people.gallery");
        var (exit, stdout, stderr) = Gallery(g, "add", "--label", "alice", CliData.Att("s1/1.pgm"), CliData.Att("s1/2.pgm"), "--model", fixture.Model);
        Assert.True(exit == 0, stderr);
        Assert.Contains($"created {g} for NNS2 (float32 storage)", stdout);
        Assert.Contains("added 2 image(s) as 'alice'", stdout);
        (exit, stdout, stderr) = Gallery(g, "add", "--label", "bob", CliData.Att("s2/1.pgm"), CliData.Att("s2/2.pgm"), CliData.Att("s2/3.pgm"), "--model", fixture.Model, "--json");
        Assert.True(exit == 0, stderr);
        var added = Json(stdout);
        Assert.False(added.GetProperty("created").GetBoolean());
        Assert.Equal(5, added.GetProperty("entries").GetInt32());
        Assert.Equal(2, added.GetProperty("labels").GetInt32());

        (exit, stdout, stderr) = Gallery(g, "list", "--json");
        Assert.True(exit == 0, stderr);
        var list = Json(stdout);
        Assert.Equal("NNS2", list.GetProperty("spec").GetString());
        Assert.Equal("float32", list.GetProperty("storage").GetString());
        Assert.Equal(["alice:2", "bob:3"], list.GetProperty("labels").EnumerateArray().Select(l => $"{l.GetProperty("label").GetString()}:{l.GetProperty("count").GetInt32()}").ToArray());
        Assert.Equal(Path.GetFullPath(CliData.Att("s1/1.pgm")), list.GetProperty("labels")[0].GetProperty("sources")[0].GetString());

        // An image that is in the gallery is its own nearest neighbour, at distance 0 up to rounding (the weights
        // are random, so nothing else about the distances is known).
        (exit, stdout, stderr) = Gallery(g, "identify", CliData.Att("s1/2.pgm"), CliData.Att("s2/3.pgm"), "--model", fixture.Model, "--k", "3", "--json");
        Assert.True(exit == 0, stderr);
        var results = Json(stdout).GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        Assert.InRange(results[0].GetProperty("neighbours")[0].GetProperty("distance").GetSingle(), 0f, 1e-6f);
        Assert.Equal("alice", results[0].GetProperty("neighbours")[0].GetProperty("label").GetString());
        Assert.Equal(Path.GetFullPath(CliData.Att("s1/2.pgm")), results[0].GetProperty("neighbours")[0].GetProperty("source").GetString());
        Assert.Equal("bob", results[1].GetProperty("neighbours")[0].GetProperty("label").GetString());
        Assert.All(results.EnumerateArray(), r => Assert.Equal(3, r.GetProperty("neighbours").GetArrayLength()));

        // With k = 1 and an unknown threshold of (nearly) 0, a face that is not in the gallery is unknown.
        (exit, stdout, stderr) = Gallery(g, "identify", CliData.Att("s1/2.pgm"), CliData.Att("s3/1.pgm"), "--model", fixture.Model, "--unknown", "1e-6");
        Assert.True(exit == 0, stderr);
        var rows = stdout.Split('\n');
        Assert.Matches(@"s1/2\.pgm\s+alice\s+0\.0000\s+1/1", rows.Single(r => r.Contains("s1/2.pgm", StringComparison.Ordinal)));
        Assert.Matches(@"s3/1\.pgm\s+unknown\s", rows.Single(r => r.Contains("s3/1.pgm", StringComparison.Ordinal)));

        (exit, stdout, stderr) = Gallery(g, "remove", "--label", "bob");
        Assert.True(exit == 0, stderr);
        Assert.Contains("removed 3 entries labelled 'bob'", stdout);
        (exit, stdout, _) = Gallery(g, "list");
        Assert.Equal(0, exit);
        Assert.Contains("2 entries, 1 label(s)", stdout);
        Assert.DoesNotContain("bob", stdout);

        // Removing a label that is not there fails and names the gallery; the file is unchanged.
        byte[] before = File.ReadAllBytes(g);
        (exit, _, stderr) = Gallery(g, "remove", "--label", "bob");
        Assert.Equal(1, exit);
        Assert.Contains(g, stderr);
        Assert.Contains("'alice'", stderr);
        Assert.Equal(before, File.ReadAllBytes(g));
        Assert.Equal(["people.gallery"], temp.Files());
    }

    [DataFact]
    public void A_gallery_made_for_another_spec_is_refused()
    {
        using var temp = new TempFolder();
        string g = temp.File("nn4.gallery");
        var other = new Gallery(128, "NN4", "0000000000000000");
        other.Add("carol", new float[128].Select((_, i) => i == 0 ? 1f : 0f).ToArray());
        other.Save(g);
        byte[] before = File.ReadAllBytes(g);

        var (exit, _, stderr) = Gallery(g, "add", "--label", "alice", CliData.Att("s1/1.pgm"), "--model", fixture.Model);
        Assert.Equal(1, exit);
        Assert.Contains(g, stderr);
        Assert.Contains("NN4", stderr);
        Assert.Equal(before, File.ReadAllBytes(g));

        (exit, _, stderr) = Gallery(g, "identify", CliData.Att("s1/1.pgm"), "--model", fixture.Model);
        Assert.Equal(1, exit);
        Assert.Contains("made for spec NN4, not NNS2", stderr);

        (exit, _, stderr) = Gallery(g, "list", "--model", fixture.Model);
        Assert.Equal(1, exit);
        Assert.Contains(g, stderr);
        // Without --model, list shows any gallery.
        Assert.Equal(0, Gallery(g, "list").Exit);
    }

    [DataFact]
    public void Int8_storage_is_chosen_when_the_gallery_is_created()
    {
        using var temp = new TempFolder();
        string g = temp.File("int8.gallery");
        var (exit, stdout, stderr) = Gallery(g, "add", "--label", "alice", CliData.Att("s1/1.pgm"), "--model", fixture.Model, "--int8");
        Assert.True(exit == 0, stderr);
        Assert.Contains("(int8 storage)", stdout);
        Assert.Equal(GalleryStorage.Int8, FaceNetGen.Faces.Gallery.Load(g).Storage);
        // Later adds keep int8 without the flag.
        Assert.Equal(0, Gallery(g, "add", "--label", "bob", CliData.Att("s2/1.pgm"), "--model", fixture.Model).Exit);
        (exit, stdout, _) = Gallery(g, "identify", CliData.Att("s1/1.pgm"), "--model", fixture.Model, "--json");
        Assert.Equal(0, exit);
        var result = Json(stdout).GetProperty("results")[0];
        Assert.Equal("alice", result.GetProperty("label").GetString());
        // The same image: the same codes, up to a code flipping at a rounding edge.
        Assert.InRange(result.GetProperty("distance").GetSingle(), 0f, 1e-4f);

        // A float32 gallery cannot become int8.
        string f = temp.File("float.gallery");
        Assert.Equal(0, Gallery(f, "add", "--label", "alice", CliData.Att("s1/1.pgm"), "--model", fixture.Model).Exit);
        (exit, _, stderr) = Gallery(f, "add", "--label", "bob", CliData.Att("s2/1.pgm"), "--model", fixture.Model, "--int8");
        Assert.Equal(1, exit);
        Assert.Contains("float32", stderr);
    }

    [Fact]
    public void Gallery_mistakes_fail_clearly()
    {
        using var temp = new TempFolder();
        Assert.Equal(2, CliRunner.Run("gallery").Exit);
        Assert.Equal(2, CliRunner.Run("gallery", "rename", "--gallery", temp.File("g")).Exit);
        Assert.Equal(2, Gallery(temp.File("g"), "add", "a.pgm", "--model", fixture.Model).Exit);
        var (exit, _, stderr) = Gallery(temp.File("none.gallery"), "list");
        Assert.Equal(1, exit);
        Assert.Contains("none.gallery: gallery not found", stderr);
        Assert.Empty(temp.Files());
    }
}
