using System.Text.Json.Nodes;
using FaceNetGen.Evaluation;

namespace FaceNetGen.Tests.Evaluation;

public class VerificationReportTests
{
    private static VerificationReport Toy(string? title = "toy")
    {
        var (pairs, folds) = KFoldProtocolTests.Toy();
        return KFoldProtocol.Evaluate(pairs, folds, 1e-3, title);
    }

    [Fact]
    public void Text_table_lists_folds_and_summary()
    {
        string text = Toy().ToText();
        string[] lines = text.Split('\n');
        Assert.Equal("toy", lines[0]);
        Assert.Equal("12 pairs (6 same, 6 different), 3 folds", lines[1]);
        Assert.Equal("  fold   pairs   threshold   train acc    test acc", lines[2]);
        Assert.Equal("    10       4      0.5000     87.50%     100.00%", lines[3]);
        Assert.Equal("    30       4      0.4000    100.00%      50.00%", lines[5]);
        Assert.Contains("accuracy: 83.33% ± 16.67 (mean ± standard error over 3 folds)", text);
        Assert.Contains("best accuracy on all pairs: 91.67% at threshold 0.5000", text);
        Assert.Contains("VAL @ FAR <= 0.001: 83.33% (FAR 0, 0/6 false accepts, 5/6 true accepts", text);
        Assert.Contains("note: FAR target 0.001 is below this set's resolution 1/6", text);
        Assert.Contains("ROC AUC: 0.9444", text);
    }

    [Fact]
    public void Json_has_the_documented_fields()
    {
        var root = JsonNode.Parse(Toy().ToJson())!.AsObject();
        Assert.Equal("toy", root["title"]!.GetValue<string>());
        Assert.Equal(12, root["pairs"]!.GetValue<int>());
        var folds = root["folds"]!.AsArray();
        Assert.Equal(3, folds.Count);
        Assert.Equal(30, folds[2]!["fold"]!.GetValue<int>());
        Assert.Equal(0.4f, folds[2]!["threshold"]!.GetValue<float>());
        Assert.Equal(0.5, folds[2]!["testAccuracy"]!.GetValue<double>());
        Assert.Equal(5.0 / 6, root["meanAccuracy"]!.GetValue<double>(), 12);
        Assert.False(root["valAtFar"]!["resolved"]!.GetValue<bool>());
        Assert.Equal(0, root["valAtFar"]!["allowedFalseAccepts"]!.GetValue<int>());
    }

    [Fact]
    public void Json_round_trips()
    {
        var original = Toy(title: null);
        var copy = VerificationReport.ParseJson(original.ToJson());
        Assert.Null(copy.Title);
        Assert.Equal(original.ToText(), copy.ToText());
        Assert.Equal(original.Folds, copy.Folds);
        Assert.Equal(original.ValAtFar, copy.ValAtFar);
        Assert.Equal(original.BestAccuracy, copy.BestAccuracy);
        Assert.Equal(original.AccuracyStandardError, copy.AccuracyStandardError);
    }

    [Fact]
    public void Json_file_is_written_atomically()
    {
        using var folder = new TempFolder();
        var report = Toy();
        report.SaveJson(folder.File("report.json"));
        Assert.Equal(["report.json"], folder.Files());
        Assert.Equal(report.ToJson(), File.ReadAllText(folder.File("report.json")));
    }

    [Fact]
    public void Malformed_json_is_a_facenet_exception()
    {
        Assert.Throws<FaceNetException>(() => VerificationReport.ParseJson("{"));
        Assert.Throws<FaceNetException>(() => VerificationReport.ParseJson("[1]"));
        Assert.Throws<FaceNetException>(() => VerificationReport.ParseJson("{\"same\":1}"));
    }
}
