using System.Globalization;
using FaceNetGen.Faces;
using FaceNetGen.Imaging;

namespace FaceNetGen.Cli;

/// <summary>
/// <c>facenet cluster &lt;folder&gt; --model CKPT [--out clusters.json] [--threshold T | --k K] [--linkage L] [--sheets DIR]</c>:
/// groups every image under a folder by identity, with agglomerative clustering at a squared-distance threshold (the
/// checkpoint's by default) or k-means with a given number of people, and writes the clusters as JSON and, with
/// --sheets, one contact sheet per cluster.
/// </summary>
internal static class ClusterCommand
{
    public const string Summary = "cluster <folder> --model CKPT [--out clusters.json] [--threshold T | --k K] [--linkage average|complete|single] [--sheets DIR] [--json]   group faces by identity";

    /// <summary>The most faces one contact sheet shows.</summary>
    private const int SheetLimit = 100;

    private const int SheetColumns = 10;
    private const int SheetCell = 96;

    private sealed record Cluster(int Id, IReadOnlyList<int> Members);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var cl = new CommandLine(args, new[] { "json" });
        string modelPath = cl.Required("model");
        string? outPath = cl.Option("out");
        double? threshold = CliSupport.Distance(cl, "threshold");
        int? k = cl.Option("k") is null ? null : cl.Int("k", 1, min: 1);
        string? linkageText = cl.Option("linkage");
        string? sheets = cl.Option("sheets");
        ulong seed = (ulong)cl.Int("seed", 1, min: 0);
        bool json = cl.Flag("json");
        double? crop = CliSupport.Crop(cl);
        cl.Done();
        if (cl.Positionals.Count != 1) throw new UsageException("give one folder of face images.");
        if (threshold is not null && k is not null) throw new UsageException("give --threshold (agglomerative clustering) or --k (k-means), not both.");
        if (k is not null && linkageText is not null) throw new UsageException("--linkage is for agglomerative clustering; k-means (--k) has none.");
        var linkage = ParseLinkage(linkageText ?? "average");
        if (outPath is not null && !outPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"--out '{outPath}': the clusters are written as JSON; name a .json file.");

        string folder = cl.Positionals[0];
        if (!Directory.Exists(folder)) throw new FaceNetException(File.Exists(folder) ? $"{folder}: is a file; cluster takes a folder of images." : $"{folder}: folder not found.");
        var paths = CliSupport.ImagesUnder(folder);
        if (paths.Count == 0) throw new FaceNetException($"{folder}: no images found (supported: {string.Join(", ", ImageDecoder.Extensions)}).");
        if (k > paths.Count) throw new UsageException($"--k {k} is more clusters than the {paths.Count} image(s) in {folder}.");

        using var model = LoadedModel.Load(modelPath, crop);
        (float Value, bool FromCheckpoint)? resolved = k is null ? model.ResolveThreshold(threshold) : null;
        var embeddings = model.EmbedFiles(paths);

        IReadOnlyList<int> assignments;
        double? inertia = null;
        if (k is { } kk)
        {
            var result = Clusterer.KMeans(embeddings, kk, seed);
            assignments = result.Assignments;
            inertia = result.Inertia;
        }
        else
        {
            assignments = Clusterer.Agglomerative(embeddings, resolved!.Value.Value, linkage).Assignments;
        }
        var clusters = Order(assignments);
        var relative = paths.Select(p => Path.GetRelativePath(folder, p).Replace('\\', '/')).ToList();

        var sheetFiles = new List<string>();
        if (sheets is not null)
        {
            foreach (var c in clusters)
            {
                string file = Path.Combine(sheets, string.Create(CultureInfo.InvariantCulture, $"cluster_{c.Id:000}.png"));
                var images = c.Members.Take(SheetLimit).Select(i => ImageDecoder.Load(paths[i])).ToList();
                var sheet = ContactSheet.Compose(images, SheetColumns, SheetCell, SheetCell);
                ImageEncoder.SavePng(sheet, file);
                sheetFiles.Add(file);
            }
        }

        string method = k is null ? "agglomerative" : "kmeans";
        string document = CliSupport.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("folder", Path.GetFullPath(folder));
            w.WriteString("model", model.Path);
            w.WriteString("spec", model.Description.Name);
            w.WriteString("method", method);
            if (resolved is { } r)
            {
                w.WriteNumber("threshold", r.Value);
                w.WriteString("thresholdSource", r.FromCheckpoint ? "checkpoint" : "option");
                w.WriteString("linkage", linkage.ToString().ToLowerInvariant());
            }
            else
            {
                w.WriteNumber("k", k!.Value);
                w.WriteNumber("seed", seed);
                CliSupport.Number(w, "inertia", inertia!.Value);
            }
            w.WriteNumber("images", paths.Count);
            w.WriteNumber("clusterCount", clusters.Count);
            w.WriteStartArray("clusters");
            foreach (var c in clusters)
            {
                w.WriteStartObject();
                w.WriteNumber("id", c.Id);
                w.WriteNumber("size", c.Members.Count);
                w.WriteStartArray("members");
                foreach (int i in c.Members) w.WriteStringValue(relative[i]);
                w.WriteEndArray();
                if (sheets is not null) w.WriteString("sheet", sheetFiles[c.Id]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
        if (outPath is not null) CliSupport.WriteText(outPath, document);

        if (json)
        {
            stdout.Write(document);
            return 0;
        }
        string how = resolved is { } rr
            ? $"agglomerative, {linkage.ToString().ToLowerInvariant()} linkage, threshold {CliSupport.F(rr.Value)} from {model.DescribeThreshold(rr.FromCheckpoint)}"
            : $"k-means, k = {k}, seed {seed}";
        stdout.WriteLine($"{model.Description.Name}: {paths.Count} image(s) in {folder} -> {clusters.Count} cluster(s) ({how})");
        stdout.WriteLine("cluster   size  members");
        foreach (var c in clusters)
        {
            var names = c.Members.Select(i => relative[i]).ToList();
            string shown = string.Join(", ", names.Take(5)) + (names.Count > 5 ? $", ... ({names.Count - 5} more)" : "");
            stdout.WriteLine($"{c.Id,7} {c.Members.Count,6}  {shown}");
        }
        if (outPath is not null) stdout.WriteLine($"wrote {outPath}");
        if (sheets is not null) stdout.WriteLine($"wrote {sheetFiles.Count} contact sheet(s) to {sheets}{(clusters.Any(c => c.Members.Count > SheetLimit) ? $" (a sheet shows at most {SheetLimit} faces)" : "")}");
        return 0;
    }

    /// <summary>Clusters by size, largest first (ties: the one whose first image comes first), numbered from 0.</summary>
    private static List<Cluster> Order(IReadOnlyList<int> assignments) =>
        Enumerable.Range(0, assignments.Count)
            .GroupBy(i => assignments[i])
            .Select(g => g.ToList())
            .OrderByDescending(m => m.Count)
            .ThenBy(m => m[0])
            .Select((m, id) => new Cluster(id, m))
            .ToList();

    private static Linkage ParseLinkage(string s) => s.ToLowerInvariant() switch
    {
        "average" => Linkage.Average,
        "complete" => Linkage.Complete,
        "single" => Linkage.Single,
        _ => throw new UsageException($"--linkage expects average, complete or single, not '{s}'."),
    };
}
