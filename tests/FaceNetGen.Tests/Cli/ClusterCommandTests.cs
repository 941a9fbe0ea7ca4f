using System.Text.Json;
using FaceNetGen.Tests.Evaluation;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Cli;

[Collection(CliModelCollection.Name)]
public class ClusterCommandTests(CliModelFixture fixture)
{
    /// <summary>Three AT&amp;T people, three images each, one of them a folder deeper; and a file that is not an image.</summary>
    private static string[] MakeFaces(TempFolder temp)
    {
        var relative = new List<string>();
        foreach (var (person, folder) in new[] { ("s1", "s1"), ("s2", "s2"), ("s3", "s3/more") })
        {
            Directory.CreateDirectory(Path.Combine(temp.Path, "faces", folder));
            for (int i = 1; i <= 3; i++)
            {
                string name = $"{folder}/{i}.pgm";
                File.Copy(CliData.Att($"{person}/{i}.pgm"), Path.Combine(temp.Path, "faces", name));
                relative.Add(name);
            }
        }
        File.WriteAllText(Path.Combine(temp.Path, "faces", "notes.txt"), "not an image");
        return relative.ToArray();
    }

    private static JsonElement Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    private static string[][] Members(JsonElement root) =>
        root.GetProperty("clusters").EnumerateArray().Select(c => c.GetProperty("members").EnumerateArray().Select(m => m.GetString()!).ToArray()).ToArray();

    [DataFact]
    public void Kmeans_clusters_every_image_once_and_writes_a_contact_sheet_per_cluster()
    {
        using var temp = new TempFolder();
        var faces = MakeFaces(temp);
        string output = temp.File("clusters.json");
        string sheets = Path.Combine(temp.Path, "sheets");
        var (exit, stdout, stderr) = CliRunner.Run("cluster", Path.Combine(temp.Path, "faces"), "--model", fixture.Model, "--k", "3", "--out", output, "--sheets", sheets);
        Assert.True(exit == 0, stderr);
        Assert.Contains("-> 3 cluster(s) (k-means, k = 3", stdout);

        var root = Read(output);
        Assert.Equal("kmeans", root.GetProperty("method").GetString());
        Assert.Equal(9, root.GetProperty("images").GetInt32());
        Assert.Equal(3, root.GetProperty("clusterCount").GetInt32());
        var members = Members(root);
        Assert.Equal(3, members.Length);
        Assert.Equal(faces.Order(StringComparer.Ordinal), members.SelectMany(m => m).Order(StringComparer.Ordinal));
        // Largest cluster first, numbered from 0, sizes that match the member lists.
        var clusters = root.GetProperty("clusters").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2], clusters.Select(c => c.GetProperty("id").GetInt32()));
        Assert.Equal(clusters.Select(c => c.GetProperty("members").GetArrayLength()), clusters.Select(c => c.GetProperty("size").GetInt32()));
        Assert.True(clusters[0].GetProperty("size").GetInt32() >= clusters[^1].GetProperty("size").GetInt32());

        Assert.Equal(["cluster_000.png", "cluster_001.png", "cluster_002.png"], Directory.GetFiles(sheets).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));
        foreach (var c in clusters)
        {
            byte[] png = File.ReadAllBytes(c.GetProperty("sheet").GetString()!);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        }
    }

    [DataFact]
    public void Agglomerative_thresholds_at_the_extremes_give_singletons_and_one_cluster()
    {
        using var temp = new TempFolder();
        var faces = MakeFaces(temp);
        string folder = Path.Combine(temp.Path, "faces");

        // Squared distances of unit vectors lie in [0, 4]: at 4 everything merges, at 0 nothing (no two images are identical).
        var (exit, stdout, stderr) = CliRunner.Run("cluster", folder, "--model", fixture.Model, "--threshold", "4", "--linkage", "complete", "--json");
        Assert.True(exit == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal("complete", doc.RootElement.GetProperty("linkage").GetString());
            Assert.Equal("option", doc.RootElement.GetProperty("thresholdSource").GetString());
            Assert.Equal(new[] { faces }, Members(doc.RootElement));
        }

        (exit, stdout, stderr) = CliRunner.Run("cluster", folder, "--model", fixture.Model, "--threshold", "0", "--json");
        Assert.True(exit == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(9, doc.RootElement.GetProperty("clusterCount").GetInt32());
            // Equal sizes keep the order of the first member.
            Assert.Equal(faces.Select(f => new[] { f }).ToArray(), Members(doc.RootElement));
        }

        // Without --threshold or --k, the checkpoint's threshold is used.
        string output = temp.File("c.json");
        (exit, _, stderr) = CliRunner.Run("cluster", folder, "--model", fixture.Model, "--out", output);
        Assert.True(exit == 0, stderr);
        var root = Read(output);
        Assert.Equal("checkpoint", root.GetProperty("thresholdSource").GetString());
        Assert.Equal(CliModelFixture.Threshold, root.GetProperty("threshold").GetSingle());
        Assert.Equal("average", root.GetProperty("linkage").GetString());
        Assert.Equal(9, Members(root).Sum(m => m.Length));
    }

    [DataFact]
    public void Cluster_option_mistakes_exit_2()
    {
        using var temp = new TempFolder();
        MakeFaces(temp);
        string folder = Path.Combine(temp.Path, "faces");
        Assert.Equal(2, CliRunner.Run("cluster", folder, "--model", fixture.Model, "--k", "2", "--threshold", "1").Exit);
        Assert.Equal(2, CliRunner.Run("cluster", folder, "--model", fixture.Model, "--k", "2", "--linkage", "single").Exit);
        Assert.Equal(2, CliRunner.Run("cluster", folder, "--model", fixture.Model, "--linkage", "ward").Exit);
        Assert.Equal(2, CliRunner.Run("cluster", folder, "--model", fixture.Model, "--k", "10").Exit);
        var (exit, _, stderr) = CliRunner.Run("cluster", folder, "--model", fixture.ModelWithoutThreshold);
        Assert.Equal(2, exit);
        Assert.Contains("--threshold", stderr);
        Assert.Equal(["faces"], Directory.GetDirectories(temp.Path).Select(f => Path.GetFileName(f)));
        Assert.Empty(temp.Files());
    }
}
