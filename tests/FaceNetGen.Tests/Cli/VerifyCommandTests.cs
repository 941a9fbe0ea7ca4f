using System.Globalization;
using System.Text.Json;
using FaceNetGen.Faces;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Cli;

[Collection(CliModelCollection.Name)]
public class VerifyCommandTests(CliModelFixture fixture)
{
    private static string S1a => CliData.Att("s1/1.pgm");

    private static string S1b => CliData.Att("s1/2.pgm");

    private static string S2 => CliData.Att("s2/1.pgm");

    private float Distance(string a, string b)
    {
        var e = fixture.Embed(a, b);
        return EmbeddingDistance.Squared(e[0], e[1]);
    }

    [DataFact]
    public void Verify_defaults_to_the_checkpoints_threshold_and_says_where_it_came_from()
    {
        float d = Distance(S1a, S1b);
        var (exit, stdout, stderr) = CliRunner.Run("verify", S1a, S1b, "--model", fixture.Model, "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(d, root.GetProperty("distance").GetSingle(), 1e-6f);
        Assert.Equal(CliModelFixture.Threshold, root.GetProperty("threshold").GetSingle());
        Assert.Equal("checkpoint", root.GetProperty("thresholdSource").GetString());
        Assert.Equal(d <= CliModelFixture.Threshold, root.GetProperty("same").GetBoolean());

        (exit, stdout, stderr) = CliRunner.Run("verify", S1a, S1b, "--model", fixture.Model);
        Assert.True(exit == 0, stderr);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"squared distance: {d:F4}"), stdout);
        Assert.Contains($"threshold:        0.7500 (from the 'threshold' metadata of {fixture.Model}", stdout);
    }

    [DataFact]
    public void Verify_says_same_person_within_the_threshold_and_different_beyond_it()
    {
        // Random weights: the distances mean nothing, so the thresholds are put just either side of them.
        float same = Distance(S1a, S1b);
        var (exit, stdout, stderr) = CliRunner.Run("verify", S1a, S1b, "--model", fixture.Model, "--threshold", (same * 1.001f).ToString("R", CultureInfo.InvariantCulture));
        Assert.True(exit == 0, stderr);
        Assert.Contains("same person (", stdout);
        Assert.Contains("(from --threshold)", stdout);

        float different = Distance(S1a, S2);
        (exit, stdout, stderr) = CliRunner.Run("verify", S1a, S2, "--model", fixture.Model, "--threshold", (different * 0.999f).ToString("R", CultureInfo.InvariantCulture), "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.False(doc.RootElement.GetProperty("same").GetBoolean());
        Assert.Equal("option", doc.RootElement.GetProperty("thresholdSource").GetString());
        Assert.Equal(different, doc.RootElement.GetProperty("distance").GetSingle(), 1e-6f);
    }

    [DataFact]
    public void Verify_without_a_threshold_anywhere_asks_for_one()
    {
        var (exit, stdout, stderr) = CliRunner.Run("verify", S1a, S1b, "--model", fixture.ModelWithoutThreshold);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains(fixture.ModelWithoutThreshold, stderr);
        Assert.Contains("--threshold", stderr);
    }

    [Fact]
    public void Verify_takes_exactly_two_images()
    {
        Assert.Equal(2, CliRunner.Run("verify", "a.pgm", "--model", fixture.Model).Exit);
        Assert.Equal(2, CliRunner.Run("verify", "a.pgm", "b.pgm", "c.pgm", "--model", fixture.Model).Exit);
        Assert.Equal(2, CliRunner.Run("verify", "a.pgm", "b.pgm", "--model", fixture.Model, "--threshold", "-1").Exit);
    }
}
