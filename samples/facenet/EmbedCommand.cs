using System.Globalization;
using System.Text;
using FaceNetGen.Faces;

namespace FaceNetGen.Cli;

/// <summary>
/// <c>facenet embed &lt;images...&gt; --model CKPT [--out FILE.json|FILE.csv] [--int8] [--json]</c>: the embeddings of
/// image files (folders are searched recursively). Prints a table of path, norm and the first components; --out
/// writes every component (<see cref="EmbeddingsFile"/>), --json prints the JSON form.
/// </summary>
internal static class EmbedCommand
{
    public const string Summary = "embed <images|folders...> --model CKPT [--out FILE.json|.csv] [--int8] [--json] [--crop F]   embeddings of image files";

    /// <summary>How many leading components the table shows.</summary>
    private const int Shown = 4;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var cl = new CommandLine(args, new[] { "int8", "json" });
        string modelPath = cl.Required("model");
        string? outPath = cl.Option("out");
        bool int8 = cl.Flag("int8");
        bool json = cl.Flag("json");
        double? crop = CliSupport.Crop(cl);
        cl.Done();
        if (cl.Positionals.Count == 0) throw new UsageException("give at least one image file or folder.");
        if (outPath is not null && !EmbeddingsFile.IsSupported(outPath))
            throw new UsageException($"--out '{outPath}': the file must end in .json or .csv (which picks the format).");

        var paths = CliSupport.ImagePaths(cl.Positionals);
        if (paths.Count == 0) throw new FaceNetException($"no images found in {string.Join(", ", cl.Positionals)} (supported: {string.Join(", ", Imaging.ImageDecoder.Extensions)}).");

        using var model = LoadedModel.Load(modelPath, crop);
        var embeddings = model.EmbedFiles(paths);
        var items = paths.Select((p, i) => new ImageEmbedding(p, embeddings[i])).ToList();
        string spec = model.Description.Name;

        if (outPath is not null) EmbeddingsFile.Save(outPath, spec, items, int8);

        if (json)
        {
            stdout.Write(EmbeddingsFile.ToJson(spec, items, int8));
            return 0;
        }
        stdout.WriteLine($"{spec} ({model.Path}): {items.Count} image(s), {model.Embedder.EmbeddingSize}-d embeddings, centre crop {CliSupport.F(model.Embedder.CropFraction, "0.###")}");
        stdout.Write(Table(items, int8));
        if (outPath is not null) stdout.WriteLine($"wrote {items.Count} embedding(s){(int8 ? " with int8 codes" : "")} to {outPath}");
        return 0;
    }

    private static string Table(IReadOnlyList<ImageEmbedding> items, bool int8)
    {
        int pathWidth = Math.Clamp(items.Max(i => i.Path.Length), 4, 60);
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        sb.Append(CliSupport.Cell("path", pathWidth)).Append("    norm");
        int shown = Math.Min(Shown, items[0].Embedding.Length);
        for (int j = 0; j < shown; j++) sb.Append(c, $"{"e" + j,9}");
        sb.Append(items[0].Embedding.Length > shown ? "  ..." : "");
        if (int8) sb.Append("  int8 codes");
        sb.Append('\n');
        foreach (var item in items)
        {
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm<float>(item.Embedding);
            sb.Append(CliSupport.Cell(item.Path, pathWidth)).Append(c, $"{norm,8:F4}");
            for (int j = 0; j < shown; j++) sb.Append(c, $"{item.Embedding[j],9:F4}");
            sb.Append(item.Embedding.Length > shown ? "  ..." : "");
            if (int8) sb.Append("  ").Append(string.Join(" ", EmbeddingQuantiser.Quantise(item.Embedding.AsSpan(0, shown)))).Append(" ...");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
