using System.Globalization;
using FaceNetGen.Data;
using FaceNetGen.Evaluation;
using FaceNetGen.Faces;

namespace FaceNetGen.Cli;

/// <summary>
/// <c>facenet eval lfw --pairs pairs.txt [--images DIR]</c> and <c>facenet eval pairs --tsv FILE</c>, both with
/// <c>--model CKPT</c>: the k-fold verification protocol on a pair file (accuracy mean ± standard error, VAL at a FAR,
/// ROC AUC), optionally the ROC as CSV and PNG, and with --int8 the same with 1-byte-per-component embeddings.
/// </summary>
internal static class EvalCommand
{
    public const string Summary =
        "eval lfw --pairs pairs.txt [--images DIR] | eval pairs --tsv FILE  --model CKPT [--roc-csv FILE] [--roc-png FILE] [--int8] [--skip-missing] [--far 1e-3] [--json]   the k-fold verification protocol";

    private const string Usage =
        "usage:\n" +
        "  eval lfw --pairs pairs.txt [--images DIR] --model CKPT [options]\n" +
        "  eval pairs --tsv FILE --model CKPT [options]\n" +
        "options: --roc-csv FILE, --roc-png FILE, --int8, --skip-missing, --far 1e-3, --json, --crop F";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0) throw new UsageException(Usage);
        if (args[0] is "-h" or "--help" or "help")
        {
            stdout.WriteLine(Usage);
            return 0;
        }
        var format = args[0] switch
        {
            "lfw" => PairsFormat.Lfw,
            "pairs" => PairsFormat.Tsv,
            _ => throw new UsageException($"unknown eval command '{args[0]}'; {Usage}"),
        };
        var cl = new CommandLine(args[1..], new[] { "int8", "skip-missing", "json" });
        string pairsPath = format == PairsFormat.Lfw ? cl.Required("pairs") : cl.Required("tsv");
        string? images = format == PairsFormat.Lfw ? cl.Option("images") : null;
        string modelPath = cl.Required("model");
        string? rocCsv = cl.Option("roc-csv");
        string? rocPng = cl.Option("roc-png");
        bool int8 = cl.Flag("int8");
        bool skipMissing = cl.Flag("skip-missing");
        bool json = cl.Flag("json");
        double far = cl.Double("far", 1e-3);
        double? crop = CliSupport.Crop(cl);
        cl.Done();
        if (cl.Positionals.Count != 0) throw new UsageException($"unexpected argument '{cl.Positionals[0]}' (options start with --).");
        if (!(far > 0 && far <= 1)) throw new UsageException($"--far expects a rate in (0, 1], not '{cl.Option("far")}'.");
        if (images is not null && !Directory.Exists(images)) throw new FaceNetException($"{images}: images folder not found.");

        var file = PairsFile.Load(pairsPath, images);
        if (file.Format != format)
        {
            throw new UsageException(format == PairsFormat.Lfw
                ? $"{pairsPath} is a TSV pair file; evaluate it with 'facenet eval pairs --tsv {pairsPath}'."
                : $"{pairsPath} is in the LFW pairs.txt format; evaluate it with 'facenet eval lfw --pairs {pairsPath}'.");
        }

        // Which pairs can be evaluated: both images must exist.
        var paths = file.Pairs.SelectMany(p => new[] { p.PathA, p.PathB }).Distinct(StringComparer.Ordinal).ToList();
        var present = new HashSet<string>(paths.Where(File.Exists), StringComparer.Ordinal);
        var pairs = file.Pairs.Where(p => present.Contains(p.PathA) && present.Contains(p.PathB)).ToList();
        int skipped = file.Pairs.Count - pairs.Count;
        var missing = paths.Where(p => !present.Contains(p)).ToList();
        if (skipped > 0 && !skipMissing)
        {
            string listed = string.Concat(missing.Take(CliSupport.ListedMissing).Select(m => "\n  missing: " + m));
            string more = missing.Count > CliSupport.ListedMissing ? string.Create(CultureInfo.InvariantCulture, $"\n  ... and {missing.Count - CliSupport.ListedMissing:N0} more") : "";
            throw new FaceNetException(string.Create(CultureInfo.InvariantCulture,
                $"{pairsPath}: {skipped:N0} of {file.Pairs.Count:N0} pairs use images that do not exist ({missing.Count:N0} images are missing); give --skip-missing to evaluate the {pairs.Count:N0} pairs whose images exist.{listed}{more}"));
        }
        if (pairs.Count == 0) throw new FaceNetException($"{pairsPath}: none of the {file.Pairs.Count:N0} pairs has both images (for example {string.Join(", ", missing.Take(CliSupport.ListedMissing))} are missing).");

        using var model = LoadedModel.Load(modelPath, crop);
        var used = pairs.SelectMany(p => new[] { p.PathA, p.PathB }).Distinct(StringComparer.Ordinal).ToList();
        var embeddings = model.EmbedFiles(used);
        var byPath = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int i = 0; i < used.Count; i++) byPath[used[i]] = embeddings[i];
        var embeddingPairs = pairs.Select(p => new EmbeddingPair(byPath[p.PathA], byPath[p.PathB], p.Same)).ToList();
        var folds = pairs.Select(p => p.Fold).ToList();
        var scored = EmbeddingDistance.Score(embeddingPairs);

        string title = $"{model.Description.Name} on {Path.GetFileName(pairsPath)}" + (skipped > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({pairs.Count:N0} of {file.Pairs.Count:N0} pairs: those whose images exist)") : "");
        var report = Protocol(scored, folds, far, title, pairsPath, skipped);

        VerificationReport? int8Report = null;
        QuantisationImpact? impact = null;
        if (int8)
        {
            var codes = byPath.ToDictionary(kv => kv.Key, kv => EmbeddingQuantiser.Quantise(kv.Value), StringComparer.Ordinal);
            var int8Scored = pairs.Select(p => new ScoredPair(EmbeddingQuantiser.SquaredDistance(codes[p.PathA], codes[p.PathB]), p.Same)).ToList();
            int8Report = Protocol(int8Scored, folds, far, title + ", int8 embeddings", pairsPath, skipped);
            impact = QuantisationImpact.Measure(embeddingPairs, far);
        }

        var roc = new PairSet(scored).Roc();
        if (rocCsv is not null) CliSupport.Write(rocCsv, () => roc.SaveCsv(rocCsv));
        if (rocPng is not null) CliSupport.Write(rocPng, () => roc.SavePng(rocPng, title));

        if (json)
        {
            stdout.Write(CliSupport.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("pairsFile", pairsPath);
                w.WriteString("format", format == PairsFormat.Lfw ? "lfw" : "tsv");
                w.WriteString("model", model.Path);
                w.WriteString("spec", model.Description.Name);
                w.WriteNumber("filePairs", file.Pairs.Count);
                w.WriteNumber("skippedPairs", skipped);
                w.WriteNumber("missingImages", missing.Count);
                w.WriteNumber("images", used.Count);
                w.WritePropertyName("report");
                report.WriteJson(w);
                if (int8Report is not null && impact is not null)
                {
                    w.WriteStartObject("int8");
                    w.WritePropertyName("report");
                    int8Report.WriteJson(w);
                    CliSupport.Number(w, "meanAccuracyChange", int8Report.MeanAccuracy - report.MeanAccuracy);
                    CliSupport.Number(w, "bestAccuracyFloat", impact.FloatBest.Accuracy);
                    CliSupport.Number(w, "bestAccuracyInt8", impact.Int8Best.Accuracy);
                    CliSupport.Number(w, "bestAccuracyChange", impact.AccuracyChange);
                    CliSupport.Number(w, "valFloat", impact.FloatAtFar.Val);
                    CliSupport.Number(w, "valInt8", impact.Int8AtFar.Val);
                    CliSupport.Number(w, "valChange", impact.ValChange);
                    CliSupport.Number(w, "maxDistanceChange", impact.MaxDistanceError);
                    CliSupport.Number(w, "meanDistanceChange", impact.MeanDistanceError);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }));
        }
        else
        {
            stdout.WriteLine($"pairs: {pairsPath} ({(format == PairsFormat.Lfw ? "LFW pairs.txt format" : "TSV")}), {used.Count:N0} images; model {model.Path}");
            if (skipped > 0)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"skipped {skipped:N0} of {file.Pairs.Count:N0} pairs whose images are missing ({missing.Count:N0} images); evaluated {pairs.Count:N0}"));
            }
            stdout.WriteLine();
            stdout.Write(report.ToText());
            if (int8Report is not null && impact is not null)
            {
                stdout.WriteLine();
                stdout.WriteLine("int8 embeddings (1 byte per component):");
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"k-fold accuracy: float {100 * report.MeanAccuracy:F2}% ± {100 * report.AccuracyStandardError:F2}, int8 {100 * int8Report.MeanAccuracy:F2}% ± {100 * int8Report.AccuracyStandardError:F2} (change {100 * (int8Report.MeanAccuracy - report.MeanAccuracy):+0.00;-0.00;0.00} points)"));
                stdout.WriteLine(impact.ToString());
            }
            if (rocCsv is not null) stdout.WriteLine($"wrote the ROC curve to {rocCsv}");
            if (rocPng is not null) stdout.WriteLine($"wrote the ROC plot to {rocPng}");
        }
        return 0;
    }

    /// <summary>The k-fold protocol; a pair set it cannot run on (one fold, or one kind of pair) is a message naming the file.</summary>
    private static VerificationReport Protocol(IReadOnlyList<ScoredPair> scored, IReadOnlyList<int> folds, double far, string title, string pairsPath, int skipped)
    {
        try
        {
            return KFoldProtocol.Evaluate(scored, folds, far, title);
        }
        catch (ArgumentException e)
        {
            string after = skipped > 0 ? $" after skipping {skipped:N0} pairs with missing images" : "";
            throw new FaceNetException($"{pairsPath}: cannot run the k-fold protocol on the {scored.Count:N0} pairs{after}: {e.Message.Split(" (Parameter")[0]}", e);
        }
    }
}
