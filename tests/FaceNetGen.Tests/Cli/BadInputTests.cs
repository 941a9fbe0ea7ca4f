using FaceNetGen.Tests.Evaluation;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Cli;

/// <summary>
/// Every face command, given a missing image, a corrupt image, a truncated checkpoint or a checkpoint of an unknown
/// spec, exits with 1, names the file in its message, and leaves no output file (nor a temporary) behind.
/// </summary>
[Collection(CliModelCollection.Name)]
public class BadInputTests(CliModelFixture fixture)
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string command in new[] { "embed", "verify", "gallery", "cluster", "eval" })
        {
            foreach (string problem in new[] { "missing-image", "corrupt-image", "truncated-checkpoint", "unknown-spec" }) data.Add(problem, command);
        }
        data.Add("truncated-checkpoint", "export");
        data.Add("unknown-spec", "export");
        return data;
    }

    /// <summary>A JPEG signature followed by seeded noise: it passes format sniffing and fails to decode.</summary>
    private static byte[] Junk()
    {
        var random = new DeterministicRandom(7);
        var bytes = new byte[2000];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)random.NextUInt64();
        bytes[0] = 0xFF;
        bytes[1] = 0xD8;
        bytes[2] = 0xFF;
        return bytes;
    }

    [DataTheory]
    [MemberData(nameof(Cases))]
    public void Bad_input_exits_1_naming_the_file_and_writes_nothing(string problem, string command)
    {
        using var inputs = new TempFolder();
        using var outputs = new TempFolder();
        string model = fixture.Model;
        string[] images = [CliData.Att("s1/1.pgm"), CliData.Att("s2/1.pgm")];
        string faces = Path.Combine(inputs.Path, "faces");
        Directory.CreateDirectory(faces);
        foreach (string image in images) File.Copy(image, Path.Combine(faces, Path.GetFileName(Path.GetDirectoryName(image)) + ".pgm"));
        string bad;
        switch (problem)
        {
            case "missing-image":
                bad = inputs.File("missing.jpg");
                images[1] = bad;
                break;
            case "corrupt-image":
                bad = inputs.File("junk.jpg");
                File.WriteAllBytes(bad, Junk());
                images[1] = bad;
                File.WriteAllBytes(Path.Combine(faces, "junk.jpg"), Junk());
                break;
            case "truncated-checkpoint":
                bad = model = fixture.Truncated;
                break;
            default:
                bad = model = fixture.UnknownSpec;
                break;
        }

        string[] args;
        switch (command)
        {
            case "embed":
                args = ["embed", .. images, "--model", model, "--out", outputs.File("e.json")];
                break;
            case "verify":
                args = ["verify", images[0], images[1], "--model", model, "--threshold", "1"];
                break;
            case "gallery":
                args = ["gallery", "add", "--gallery", outputs.File("g.gallery"), "--label", "x", .. images, "--model", model];
                break;
            case "cluster":
                string folder = problem == "missing-image" ? inputs.File("no-such-folder") : faces;
                if (problem == "missing-image") bad = folder;
                if (problem == "corrupt-image") bad = Path.Combine(faces, "junk.jpg");
                args = ["cluster", folder, "--model", model, "--k", "2", "--out", outputs.File("c.json"), "--sheets", Path.Combine(outputs.Path, "sheets")];
                break;
            case "eval":
                string pairs = inputs.File("pairs.tsv");
                string a = images[0], b = images[1], c = CliData.Att("s3/1.pgm"), d = CliData.Att("s3/2.pgm");
                File.WriteAllText(pairs, $"fold\tpath_a\tpath_b\tsame\n1\t{a}\t{b}\t0\n1\t{c}\t{d}\t1\n2\t{a}\t{c}\t0\n2\t{d}\t{c}\t1\n");
                args = ["eval", "pairs", "--tsv", pairs, "--model", model, "--roc-csv", outputs.File("roc.csv"), "--int8"];
                break;
            default:
                args = ["export", "--model", model, "--out", outputs.File("m.onnx")];
                break;
        }

        var (exit, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal(1, exit);
        Assert.Contains(bad, stderr);
        Assert.StartsWith($"facenet {command}: ", stderr);
        Assert.Equal("", stdout);
        if (problem == "unknown-spec") Assert.Contains("'NN9'", stderr);
        if (problem == "truncated-checkpoint") Assert.Contains($"{bad}: truncated", stderr);
        Assert.Empty(Directory.GetFileSystemEntries(outputs.Path));
    }

    [DataFact]
    public void A_failed_write_leaves_an_existing_output_file_as_it_was()
    {
        using var outputs = new TempFolder();
        string output = outputs.File("e.csv");
        File.WriteAllText(output, "earlier\n");
        var (exit, _, stderr) = CliRunner.Run("embed", CliData.Att("s1/1.pgm"), "--model", fixture.Truncated, "--out", output);
        Assert.Equal(1, exit);
        Assert.Contains(fixture.Truncated, stderr);
        Assert.Equal("earlier\n", File.ReadAllText(output));
        Assert.Equal(["e.csv"], outputs.Files());
    }
}
