using System.Text.Json;
using FaceNetGen.Evaluation;
using FaceNetGen.Tests.Evaluation;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Cli;

[Collection(CliModelCollection.Name)]
public sealed class EvalCommandTests(CliModelFixture fixture) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static JsonElement Parse(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private static void AssertDevSubsetCounts(JsonElement report)
    {
        // lfw_devsubset/README.md: 600 pairs, 5 folds x (60 same + 60 different).
        Assert.Equal(600, report.GetProperty("pairs").GetInt32());
        Assert.Equal(300, report.GetProperty("same").GetInt32());
        Assert.Equal(300, report.GetProperty("different").GetInt32());
        var folds = report.GetProperty("folds").EnumerateArray().ToArray();
        Assert.Equal([1, 2, 3, 4, 5], folds.Select(f => f.GetProperty("fold").GetInt32()));
        Assert.All(folds, f => Assert.Equal(120, f.GetProperty("pairs").GetInt32()));
        Assert.InRange(report.GetProperty("meanAccuracy").GetDouble(), 0, 1);
        Assert.InRange(report.GetProperty("auc").GetDouble(), 0, 1);
    }

    [DataFact]
    public void Eval_pairs_and_eval_lfw_on_the_dev_subset_report_the_same_600_pairs_in_5_folds()
    {
        string rocCsv = _temp.File("roc.csv"), rocPng = _temp.File("roc.png");
        var (exit, stdout, stderr) = CliRunner.Run(
            "eval", "pairs", "--tsv", CliData.Lfw("pairs_devsubset.tsv"), "--model", fixture.Model,
            "--int8", "--roc-csv", rocCsv, "--roc-png", rocPng, "--json");
        Assert.True(exit == 0, stderr);
        var tsv = Parse(stdout);
        Assert.Equal("tsv", tsv.GetProperty("format").GetString());
        Assert.Equal(0, tsv.GetProperty("skippedPairs").GetInt32());
        var report = tsv.GetProperty("report");
        AssertDevSubsetCounts(report);
        // The nested report is a VerificationReport document.
        var parsed = VerificationReport.ParseJson(report.GetRawText());
        Assert.Equal(600, parsed.PairCount);

        // --int8: the same protocol on 1-byte codes, and the change.
        var int8 = tsv.GetProperty("int8");
        AssertDevSubsetCounts(int8.GetProperty("report"));
        Assert.Equal(
            int8.GetProperty("report").GetProperty("meanAccuracy").GetDouble() - report.GetProperty("meanAccuracy").GetDouble(),
            int8.GetProperty("meanAccuracyChange").GetDouble(), 12);
        // A code moves a component by at most 0.5/127, so distances move little.
        Assert.InRange(int8.GetProperty("maxDistanceChange").GetDouble(), 0, 0.1);

        var csv = File.ReadAllLines(rocCsv);
        Assert.True(csv.Length > 2);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(rocPng)[..4]);

        // The same pairs in the official text format (images found under --images): the same report.
        (exit, stdout, stderr) = CliRunner.Run(
            "eval", "lfw", "--pairs", CliData.Lfw("pairs_devsubset_lfwformat.txt"), "--images", CliData.Lfw("images"), "--model", fixture.Model, "--json");
        Assert.True(exit == 0, stderr);
        var lfw = Parse(stdout);
        Assert.Equal("lfw", lfw.GetProperty("format").GetString());
        var lfwReport = lfw.GetProperty("report");
        AssertDevSubsetCounts(lfwReport);
        foreach (string key in new[] { "meanAccuracy", "accuracyStandardError", "meanThreshold", "auc" })
            Assert.Equal(report.GetProperty(key).GetDouble(), lfwReport.GetProperty(key).GetDouble());
        Assert.False(lfw.TryGetProperty("int8", out _));
    }

    [DataFact]
    public void Eval_lfw_on_the_official_pairs_needs_skip_missing_and_then_evaluates_the_323_pairs_present()
    {
        string pairs = CliData.Lfw("protocol/pairs.txt");
        string rocCsv = _temp.File("roc.csv");
        var (exit, stdout, stderr) = CliRunner.Run("eval", "lfw", "--pairs", pairs, "--model", fixture.Model, "--roc-csv", rocCsv);
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        // lfw_devsubset/README.md: only 323 of the 6,000 pairs have both images here.
        Assert.Contains($"{pairs}: 5,677 of 6,000 pairs use images that do not exist", stderr);
        Assert.Contains("--skip-missing", stderr);
        Assert.Equal(5, stderr.Split('\n').Count(l => l.StartsWith("  missing: ", StringComparison.Ordinal)));
        Assert.Contains("more", stderr);
        Assert.Empty(_temp.Files());

        (exit, stdout, stderr) = CliRunner.Run("eval", "lfw", "--pairs", pairs, "--model", fixture.Model, "--skip-missing", "--roc-csv", rocCsv);
        Assert.True(exit == 0, stderr);
        Assert.Contains("skipped 5,677 of 6,000 pairs whose images are missing", stdout);
        Assert.Contains("evaluated 323", stdout);
        Assert.Contains("\n323 pairs (", stdout);
        Assert.Contains("10 folds", stdout);
        Assert.Contains("accuracy: ", stdout);
        Assert.Contains("VAL @ FAR <= 0.001", stdout);
        Assert.Contains("ROC AUC: ", stdout);
        Assert.True(File.Exists(rocCsv));
    }

    [Fact]
    public void Eval_mistakes_exit_2()
    {
        Assert.Equal(2, CliRunner.Run("eval").Exit);
        Assert.Equal(2, CliRunner.Run("eval", "roc", "--model", fixture.Model).Exit);
        Assert.Equal(2, CliRunner.Run("eval", "pairs", "--model", fixture.Model).Exit);
        Assert.Equal(2, CliRunner.Run("eval", "lfw", "--pairs", "p.txt", "--model", fixture.Model, "--far", "2").Exit);
    }

    [DataFact]
    public void Eval_refuses_a_pair_file_of_the_other_format()
    {
        var (exit, _, stderr) = CliRunner.Run("eval", "lfw", "--pairs", CliData.Lfw("pairs_devsubset.tsv"), "--model", fixture.Model);
        Assert.Equal(2, exit);
        Assert.Contains("facenet eval pairs --tsv", stderr);
        (exit, _, stderr) = CliRunner.Run("eval", "pairs", "--tsv", CliData.Lfw("pairs_devsubset_lfwformat.txt"), "--model", fixture.Model);
        Assert.Equal(2, exit);
        Assert.Contains("facenet eval lfw --pairs", stderr);
    }
}
