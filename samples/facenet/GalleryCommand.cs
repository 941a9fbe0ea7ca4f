using System.Globalization;
using System.Text;
using FaceNetGen.Faces;
using FaceNetGen.Models;

namespace FaceNetGen.Cli;

/// <summary>
/// <c>facenet gallery add|identify|list|remove</c>: a gallery file of labelled embeddings (<see cref="Gallery"/>) and
/// k-nearest-neighbour identification against it (<see cref="Identifier"/>). The gallery is created by the first
/// <c>add</c>, records the model's spec, and is refused for another spec.
/// </summary>
internal static class GalleryCommand
{
    public const string Summary =
        "gallery add|identify|list|remove --gallery FILE ...   known faces: add --label NAME <images...> --model CKPT [--int8]; identify <images...> --model CKPT [--k 1] [--unknown T]; list; remove --label NAME";

    private const string Usage =
        "usage:\n" +
        "  gallery add --gallery FILE --label NAME <images...> --model CKPT [--int8] [--crop F]\n" +
        "  gallery identify --gallery FILE <images...> --model CKPT [--k 1] [--unknown T] [--json] [--crop F]\n" +
        "  gallery list --gallery FILE [--model CKPT] [--json]\n" +
        "  gallery remove --gallery FILE --label NAME [--model CKPT]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0) throw new UsageException(Usage);
        if (args[0] is "-h" or "--help" or "help")
        {
            stdout.WriteLine(Usage);
            return 0;
        }
        var rest = args[1..];
        return args[0] switch
        {
            "add" => Add(rest, stdout),
            "identify" => Identify(rest, stdout),
            "list" => List(rest, stdout),
            "remove" => Remove(rest, stdout),
            _ => throw new UsageException($"unknown gallery command '{args[0]}'; {Usage}"),
        };
    }

    private static int Add(string[] args, TextWriter stdout)
    {
        var cl = new CommandLine(args, new[] { "int8", "json" });
        string galleryPath = cl.Required("gallery");
        string label = cl.Required("label");
        string modelPath = cl.Required("model");
        bool int8 = cl.Flag("int8");
        bool json = cl.Flag("json");
        double? crop = CliSupport.Crop(cl);
        cl.Done();
        if (label.Trim().Length == 0) throw new UsageException("--label must not be empty.");
        if (cl.Positionals.Count == 0) throw new UsageException("give at least one image of the person to add.");
        var paths = CliSupport.ImagePaths(cl.Positionals);
        if (paths.Count == 0) throw new FaceNetException($"no images found in {string.Join(", ", cl.Positionals)}.");

        using var model = LoadedModel.Load(modelPath, crop);
        bool exists = File.Exists(galleryPath);
        Gallery gallery;
        if (exists)
        {
            gallery = Gallery.Load(galleryPath, model.Description);
            if (int8 && gallery.Storage != GalleryStorage.Int8)
                throw new FaceNetException($"gallery '{galleryPath}' stores float32 embeddings; the storage is chosen when a gallery is created (drop --int8, or start a new gallery).");
        }
        else
        {
            gallery = Gallery.For(model.Description, int8 ? GalleryStorage.Int8 : GalleryStorage.Float32);
        }
        var embeddings = model.EmbedFiles(paths);
        for (int i = 0; i < paths.Count; i++) gallery.Add(label, embeddings[i], Path.GetFullPath(paths[i]));
        CliSupport.Write(galleryPath, () => gallery.Save(galleryPath));

        int entries = gallery.Count, labels = gallery.Labels.Count;
        if (json)
        {
            stdout.Write(CliSupport.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("gallery", galleryPath);
                w.WriteBoolean("created", !exists);
                w.WriteString("spec", gallery.SpecName);
                w.WriteString("storage", StorageName(gallery.Storage));
                w.WriteString("label", label);
                w.WriteNumber("added", paths.Count);
                w.WriteNumber("entries", entries);
                w.WriteNumber("labels", labels);
                w.WriteEndObject();
            }));
            return 0;
        }
        if (!exists) stdout.WriteLine($"created {galleryPath} for {gallery.SpecName} ({StorageName(gallery.Storage)} storage)");
        stdout.WriteLine($"added {paths.Count} image(s) as '{label}' to {galleryPath}: now {entries} entries, {labels} label(s)");
        return 0;
    }

    private static int Identify(string[] args, TextWriter stdout)
    {
        var cl = new CommandLine(args, new[] { "json" });
        string galleryPath = cl.Required("gallery");
        string modelPath = cl.Required("model");
        int k = cl.Int("k", 1, min: 1);
        double? unknown = CliSupport.Distance(cl, "unknown");
        bool json = cl.Flag("json");
        double? crop = CliSupport.Crop(cl);
        cl.Done();
        if (cl.Positionals.Count == 0) throw new UsageException("give at least one image to identify.");
        var paths = CliSupport.ImagePaths(cl.Positionals);
        if (paths.Count == 0) throw new FaceNetException($"no images found in {string.Join(", ", cl.Positionals)}.");
        RequireGallery(galleryPath);

        using var model = LoadedModel.Load(modelPath, crop);
        var gallery = Gallery.Load(galleryPath, model.Description);
        if (gallery.Count == 0) throw new FaceNetException($"gallery '{galleryPath}' is empty: add faces with 'facenet gallery add'.");
        var identifier = new Identifier(gallery, k, unknown is { } u ? (float)u : float.PositiveInfinity);
        var embeddings = model.EmbedFiles(paths);
        var results = embeddings.Select(e => identifier.Identify(e)).ToList();

        if (json)
        {
            stdout.Write(CliSupport.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("gallery", galleryPath);
                w.WriteString("spec", gallery.SpecName);
                w.WriteNumber("k", k);
                CliSupport.Number(w, "unknownThreshold", identifier.UnknownThreshold);
                w.WriteStartArray("results");
                for (int i = 0; i < paths.Count; i++)
                {
                    var r = results[i];
                    w.WriteStartObject();
                    w.WriteString("path", paths[i]);
                    if (r.Label is null) w.WriteNull("label");
                    else w.WriteString("label", r.Label);
                    w.WriteBoolean("known", r.IsKnown);
                    CliSupport.Number(w, "distance", r.Distance);
                    w.WriteNumber("votes", r.Votes);
                    w.WriteStartArray("neighbours");
                    foreach (var n in r.Neighbours)
                    {
                        w.WriteStartObject();
                        w.WriteString("label", n.Entry.Label);
                        if (n.Entry.Source is null) w.WriteNull("source");
                        else w.WriteString("source", n.Entry.Source);
                        w.WriteNumber("distance", n.Distance);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }));
            return 0;
        }

        stdout.WriteLine($"gallery {galleryPath}: {gallery.Count} entries, {gallery.Labels.Count} label(s) ({gallery.SpecName}, {StorageName(gallery.Storage)}); k = {k}");
        if (unknown is { } t) stdout.WriteLine($"unknown beyond squared distance {CliSupport.F(t)} (--unknown)");
        else
        {
            string hint = model.CheckpointThreshold is { } ct ? $"; the checkpoint's calibrated threshold is {CliSupport.F(ct)}" : "";
            stdout.WriteLine($"no unknown threshold: every face gets the nearest label (give --unknown T to answer 'unknown' beyond T{hint})");
        }
        int pathWidth = Math.Clamp(paths.Max(p => p.Length), 4, 50);
        int labelWidth = Math.Clamp(results.Max(r => (r.Label ?? "unknown").Length), 8, 30);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(CliSupport.Cell("path", pathWidth)).Append("  ").Append(CliSupport.Cell("identity", labelWidth)).Append("  distance  votes  neighbours\n");
        for (int i = 0; i < paths.Count; i++)
        {
            var r = results[i];
            sb.Append(CliSupport.Cell(paths[i], pathWidth)).Append("  ").Append(CliSupport.Cell(r.Label ?? "unknown", labelWidth));
            sb.Append(c, $"  {r.Distance,8:F4}  {r.Votes,2}/{r.Neighbours.Count,-2}  ");
            sb.Append(string.Join(", ", r.Neighbours.Select(n => string.Create(c, $"{n.Entry.Label} {n.Distance:F4}"))));
            sb.Append('\n');
        }
        stdout.Write(sb.ToString());
        return 0;
    }

    private static int List(string[] args, TextWriter stdout)
    {
        var cl = new CommandLine(args, new[] { "json" });
        string galleryPath = cl.Required("gallery");
        string? modelPath = cl.Option("model");
        bool json = cl.Flag("json");
        cl.Done();
        if (cl.Positionals.Count != 0) throw new UsageException($"unexpected argument '{cl.Positionals[0]}'.");
        var gallery = LoadChecked(galleryPath, modelPath);
        var byLabel = gallery.Entries.GroupBy(e => e.Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();

        if (json)
        {
            stdout.Write(CliSupport.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("gallery", galleryPath);
                w.WriteString("spec", gallery.SpecName);
                w.WriteString("specHash", gallery.SpecHash);
                w.WriteNumber("embeddingSize", gallery.EmbeddingSize);
                w.WriteString("storage", StorageName(gallery.Storage));
                w.WriteNumber("entries", gallery.Count);
                w.WriteStartArray("labels");
                foreach (var g in byLabel)
                {
                    w.WriteStartObject();
                    w.WriteString("label", g.Key);
                    w.WriteNumber("count", g.Count());
                    w.WriteStartArray("sources");
                    foreach (var e in g)
                    {
                        if (e.Source is null) w.WriteNullValue();
                        else w.WriteStringValue(e.Source);
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }));
            return 0;
        }
        stdout.WriteLine($"{galleryPath}: {gallery.SpecName} (spec hash {gallery.SpecHash}), {gallery.EmbeddingSize}-d, {StorageName(gallery.Storage)}, {gallery.Count} entries, {byLabel.Count} label(s)");
        if (byLabel.Count == 0) return 0;
        int labelWidth = Math.Clamp(byLabel.Max(g => g.Key.Length), 5, 40);
        stdout.WriteLine($"{CliSupport.Cell("label", labelWidth)}  count  sources");
        foreach (var g in byLabel)
        {
            var sources = g.Select(e => e.Source is null ? "-" : ShortSource(e.Source)).ToList();
            string shown = string.Join(", ", sources.Take(4)) + (sources.Count > 4 ? $", ... ({sources.Count - 4} more)" : "");
            stdout.WriteLine($"{CliSupport.Cell(g.Key, labelWidth)}  {g.Count(),5}  {shown}");
        }
        return 0;
    }

    private static int Remove(string[] args, TextWriter stdout)
    {
        var cl = new CommandLine(args, Array.Empty<string>());
        string galleryPath = cl.Required("gallery");
        string label = cl.Required("label");
        string? modelPath = cl.Option("model");
        cl.Done();
        if (cl.Positionals.Count != 0) throw new UsageException($"unexpected argument '{cl.Positionals[0]}' (remove takes --label NAME).");
        var gallery = LoadChecked(galleryPath, modelPath);
        int removed = gallery.RemoveLabel(label);
        if (removed == 0)
        {
            var labels = gallery.Labels;
            string known = labels.Count == 0 ? "it is empty" : "its labels are " + string.Join(", ", labels.Take(10).Select(l => $"'{l}'")) + (labels.Count > 10 ? ", ..." : "");
            throw new FaceNetException($"gallery '{galleryPath}' has no entries labelled '{label}' ({known}).");
        }
        CliSupport.Write(galleryPath, () => gallery.Save(galleryPath));
        stdout.WriteLine($"removed {removed} entr{(removed == 1 ? "y" : "ies")} labelled '{label}' from {galleryPath}: now {gallery.Count} entries, {gallery.Labels.Count} label(s)");
        return 0;
    }

    private static void RequireGallery(string path)
    {
        if (!File.Exists(path)) throw new FaceNetException($"{path}: gallery not found ('facenet gallery add' creates it).");
    }

    /// <summary>Loads a gallery, checked against the checkpoint's spec when one is given (its weights are not needed).</summary>
    private static Gallery LoadChecked(string galleryPath, string? modelPath)
    {
        RequireGallery(galleryPath);
        if (modelPath is null) return Gallery.Load(galleryPath);
        var checkpoint = Checkpoint.Load(modelPath);
        return Gallery.Load(galleryPath, ModelCatalog.Get(checkpoint.SpecName).Info);
    }

    /// <summary>The last folder and the file name of a source path ("s1/1.pgm"), enough to tell images apart in a list.</summary>
    private static string ShortSource(string source)
    {
        string folder = Path.GetFileName(Path.GetDirectoryName(source) ?? "");
        return folder.Length == 0 ? Path.GetFileName(source) : folder + "/" + Path.GetFileName(source);
    }

    private static string StorageName(GalleryStorage storage) => storage == GalleryStorage.Int8 ? "int8" : "float32";
}
