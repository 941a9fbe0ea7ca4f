using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FaceNetGen.Evaluation;

/// <summary>
/// The outcome of a verification evaluation (<see cref="KFoldProtocol.Evaluate"/>): per-fold thresholds and
/// accuracies, mean accuracy ± standard error, and for all pairs together VAL at a target FAR, the best accuracy and
/// the ROC area. <see cref="ToText"/> gives a readable table, <see cref="ToJson"/> a JSON document that
/// <see cref="ParseJson"/> reads back.
/// </summary>
public sealed class VerificationReport
{
    /// <summary>Builds a report; the mean and standard error are computed from <paramref name="folds"/>.</summary>
    public VerificationReport(
        string? title, int pairCount, int sameCount, int diffCount, IReadOnlyList<FoldResult> folds,
        AccuracyOperatingPoint bestAccuracy, FarOperatingPoint valAtFar, double auc)
    {
        ArgumentNullException.ThrowIfNull(folds);
        if (folds.Count == 0) throw new ArgumentException("a report needs at least one fold.", nameof(folds));
        Title = title;
        PairCount = pairCount;
        SameCount = sameCount;
        DiffCount = diffCount;
        Folds = folds.ToArray();
        BestAccuracy = bestAccuracy;
        ValAtFar = valAtFar;
        Auc = auc;
        (MeanAccuracy, AccuracyStandardError) = KFoldProtocol.MeanAndStandardError(folds.Select(f => f.TestAccuracy).ToArray());
        MeanThreshold = folds.Average(f => (double)f.Threshold);
    }

    /// <summary>A heading (for example the model and data set), or null.</summary>
    public string? Title { get; }

    /// <summary>All pairs.</summary>
    public int PairCount { get; }

    /// <summary>|P_same|.</summary>
    public int SameCount { get; }

    /// <summary>|P_diff|.</summary>
    public int DiffCount { get; }

    /// <summary>The folds in ascending fold number.</summary>
    public IReadOnlyList<FoldResult> Folds { get; }

    /// <summary>The mean of the held-out accuracies.</summary>
    public double MeanAccuracy { get; }

    /// <summary>The standard error of <see cref="MeanAccuracy"/>: sample standard deviation of the fold accuracies / √k.</summary>
    public double AccuracyStandardError { get; }

    /// <summary>The mean of the per-fold thresholds (the paper's LFW folds chose 1.242).</summary>
    public double MeanThreshold { get; }

    /// <summary>The best accuracy on all pairs at once (an optimistic figure: threshold and test set coincide).</summary>
    public AccuracyOperatingPoint BestAccuracy { get; }

    /// <summary>VAL at the target FAR on all pairs.</summary>
    public FarOperatingPoint ValAtFar { get; }

    /// <summary>The area under the ROC curve of all pairs.</summary>
    public double Auc { get; }

    /// <summary>A readable text table of the report, lines ending in "\n".</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        if (Title is not null) sb.Append(Title).Append('\n');
        sb.Append(c, $"{PairCount} pairs ({SameCount} same, {DiffCount} different), {Folds.Count} folds\n");
        sb.Append("  fold   pairs   threshold   train acc    test acc\n");
        foreach (var f in Folds)
            sb.Append(c, $"{f.Fold,6} {f.PairCount,7} {f.Threshold,11:F4} {TextFormat.Percent(f.TrainAccuracy),10} {TextFormat.Percent(f.TestAccuracy),11}\n");
        sb.Append(c, $"accuracy: {100 * MeanAccuracy:F2}% ± {100 * AccuracyStandardError:F2} (mean ± standard error over {Folds.Count} folds)\n");
        sb.Append(c, $"mean threshold: {MeanThreshold:F4}\n");
        sb.Append(c, $"best accuracy on all pairs: {TextFormat.Percent(BestAccuracy.Accuracy)} at threshold {BestAccuracy.Threshold:F4}\n");
        var v = ValAtFar;
        sb.Append(c, $"VAL @ FAR <= {v.TargetFar:G3}: {TextFormat.Percent(v.Val)} (FAR {v.Far:G4}, {v.FalseAccepts}/{v.DiffCount} false accepts, {v.TrueAccepts}/{v.SameCount} true accepts, threshold {v.Threshold:F4})\n");
        if (v.Note is { } note) sb.Append("  note: ").Append(note).Append('\n');
        sb.Append(c, $"ROC AUC: {Auc:F4}\n");
        return sb.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => ToText();

    /// <summary>The report as an indented JSON document (NaN written as null).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            WriteJson(w);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes the report as one JSON object.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        if (Title is null) w.WriteNull("title");
        else w.WriteString("title", Title);
        w.WriteNumber("pairs", PairCount);
        w.WriteNumber("same", SameCount);
        w.WriteNumber("different", DiffCount);
        w.WriteStartArray("folds");
        foreach (var f in Folds)
        {
            w.WriteStartObject();
            w.WriteNumber("fold", f.Fold);
            w.WriteNumber("pairs", f.PairCount);
            Number(w, "threshold", f.Threshold);
            Number(w, "trainAccuracy", f.TrainAccuracy);
            Number(w, "testAccuracy", f.TestAccuracy);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Number(w, "meanAccuracy", MeanAccuracy);
        Number(w, "accuracyStandardError", AccuracyStandardError);
        Number(w, "meanThreshold", MeanThreshold);
        w.WriteStartObject("bestAccuracy");
        Number(w, "threshold", BestAccuracy.Threshold);
        Number(w, "accuracy", BestAccuracy.Accuracy);
        w.WriteNumber("trueAccepts", BestAccuracy.TrueAccepts);
        w.WriteNumber("falseAccepts", BestAccuracy.FalseAccepts);
        w.WriteEndObject();
        w.WriteStartObject("valAtFar");
        Number(w, "targetFar", ValAtFar.TargetFar);
        Number(w, "threshold", ValAtFar.Threshold);
        Number(w, "val", ValAtFar.Val);
        Number(w, "far", ValAtFar.Far);
        w.WriteNumber("trueAccepts", ValAtFar.TrueAccepts);
        w.WriteNumber("falseAccepts", ValAtFar.FalseAccepts);
        w.WriteNumber("allowedFalseAccepts", ValAtFar.AllowedFalseAccepts);
        w.WriteBoolean("resolved", ValAtFar.IsResolved);
        if (ValAtFar.Note is { } note) w.WriteString("note", note);
        else w.WriteNull("note");
        w.WriteEndObject();
        Number(w, "auc", Auc);
        w.WriteEndObject();
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>, atomically.</summary>
    public void SaveJson(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    /// <exception cref="FaceNetException">The text is not such a report; the message says what is missing.</exception>
    public static VerificationReport ParseJson(string json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new FaceNetException("a verification report must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new FaceNetException($"a verification report is not valid JSON: {e.Message}", e);
        }
        try
        {
            int same = Int(root, "same"), diff = Int(root, "different");
            var folds = (root["folds"] as JsonArray ?? throw new FaceNetException("a verification report has no 'folds' array."))
                .Select(n => n as JsonObject ?? throw new FaceNetException("a fold of a verification report is not an object."))
                .Select(f => new FoldResult(Int(f, "fold"), Int(f, "pairs"), (float)Dbl(f, "threshold"), Dbl(f, "trainAccuracy"), Dbl(f, "testAccuracy")))
                .ToArray();
            var best = Obj(root, "bestAccuracy");
            var atFar = Obj(root, "valAtFar");
            return new VerificationReport(
                root["title"]?.GetValue<string>(), Int(root, "pairs"), same, diff, folds,
                new AccuracyOperatingPoint((float)Dbl(best, "threshold"), Dbl(best, "accuracy"), Int(best, "trueAccepts"), Int(best, "falseAccepts"), same, diff),
                new FarOperatingPoint(Dbl(atFar, "targetFar"), (float)Dbl(atFar, "threshold"), Int(atFar, "trueAccepts"), Int(atFar, "falseAccepts"), Int(atFar, "allowedFalseAccepts"), same, diff),
                Dbl(root, "auc"));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new FaceNetException($"a verification report has a value of the wrong type: {e.Message}", e);
        }
    }

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    private static void Number(Utf8JsonWriter w, string name, float value)
    {
        if (float.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    private static JsonObject Obj(JsonObject o, string name) =>
        o[name] as JsonObject ?? throw new FaceNetException($"a verification report has no '{name}' object.");

    private static int Int(JsonObject o, string name) =>
        (o[name] ?? throw new FaceNetException($"a verification report has no '{name}'.")).GetValue<int>();

    private static double Dbl(JsonObject o, string name) => o[name] is { } n ? n.GetValue<double>() : double.NaN;
}
