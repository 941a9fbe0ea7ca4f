using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FaceNetGen.Faces;

/// <summary>One image's embedding, as <see cref="EmbeddingsFile"/> writes it.</summary>
/// <param name="Path">The image file (as the caller names it).</param>
/// <param name="Embedding">Its embedding; every component finite.</param>
public sealed record ImageEmbedding(string Path, float[] Embedding);

/// <summary>
/// Writes image embeddings for other tools, as JSON or CSV (chosen by the file's extension), atomically.
/// Floats are written in their shortest round-trip form, so reading them back gives the same bits.
/// </summary>
/// <remarks>
/// <para>JSON (<c>.json</c>), UTF-8:
/// <code>
/// {
///   "format": "facenet-embeddings", "version": 1, "spec": "NN2", "embeddingSize": 128,
///   "int8Scale": 127,                      (only with codes)
///   "embeddings": [
///     { "path": "a.jpg", "embedding": [0.0123, ...], "int8": [2, ...] },   ("int8" only with codes)
///     ...
///   ]
/// }
/// </code></para>
/// <para>CSV (<c>.csv</c>, RFC 4180 quoting, "\n" line ends): a header row <c>path,e0,…,e{n−1}</c> (then
/// <c>q0,…,q{n−1}</c> with codes), then one row per image: the path, the n floats, and with codes the n int8 codes of
/// <see cref="EmbeddingQuantiser"/> (component ≈ code / 127).</para>
/// </remarks>
public static class EmbeddingsFile
{
    /// <summary>The "format" value of the JSON file.</summary>
    public const string FileFormat = "facenet-embeddings";

    /// <summary>The JSON file version this code writes.</summary>
    public const int FileVersion = 1;

    /// <summary>True when <paramref name="path"/> ends in .json or .csv (any case).</summary>
    public static bool IsSupported(string path) => FormatOf(path) is not null;

    /// <summary>
    /// Writes <paramref name="items"/> to <paramref name="path"/> as JSON or CSV by its extension, atomically.
    /// </summary>
    /// <param name="path">The file; it must end in .json or .csv.</param>
    /// <param name="specName">The spec whose embeddings these are (recorded in the JSON form).</param>
    /// <param name="items">The embeddings, all of one length.</param>
    /// <param name="includeCodes">Also write each embedding's 1-byte-per-component <see cref="EmbeddingQuantiser"/> codes.</param>
    /// <exception cref="ArgumentException">The extension is neither .json nor .csv, or the embeddings differ in length or hold a non-finite value.</exception>
    /// <exception cref="FaceNetException">The file cannot be written (the message names it); no partial file is left.</exception>
    public static void Save(string path, string specName, IReadOnlyList<ImageEmbedding> items, bool includeCodes = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text = FormatOf(path) switch
        {
            ".json" => ToJson(specName, items, includeCodes),
            ".csv" => ToCsv(items, includeCodes),
            _ => throw new ArgumentException($"'{path}': an embeddings file ends in .json or .csv.", nameof(path)),
        };
        try
        {
            AtomicFile.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"{path}: cannot write the embeddings ({e.Message})", e);
        }
    }

    /// <summary>The JSON form (see the remarks), ending in "\n".</summary>
    public static string ToJson(string specName, IReadOnlyList<ImageEmbedding> items, bool includeCodes = false)
    {
        ArgumentNullException.ThrowIfNull(specName);
        int size = Check(items);
        using var buffer = new MemoryStream();
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var w = new Utf8JsonWriter(buffer, options))
        {
            w.WriteStartObject();
            w.WriteString("format", FileFormat);
            w.WriteNumber("version", FileVersion);
            w.WriteString("spec", specName);
            w.WriteNumber("embeddingSize", size);
            if (includeCodes) w.WriteNumber("int8Scale", EmbeddingQuantiser.Scale);
            w.WriteStartArray("embeddings");
            foreach (var item in items)
            {
                w.WriteStartObject();
                w.WriteString("path", item.Path);
                // One line per vector: raw, compact arrays keep the file readable.
                w.WritePropertyName("embedding");
                w.WriteRawValue("[" + string.Join(",", item.Embedding.Select(Float)) + "]", skipInputValidation: true);
                if (includeCodes)
                {
                    w.WritePropertyName("int8");
                    w.WriteRawValue("[" + string.Join(",", EmbeddingQuantiser.Quantise(item.Embedding).Select(c => c.ToString(CultureInfo.InvariantCulture))) + "]", skipInputValidation: true);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>The CSV form (see the remarks).</summary>
    public static string ToCsv(IReadOnlyList<ImageEmbedding> items, bool includeCodes = false)
    {
        int size = Check(items);
        var sb = new StringBuilder();
        sb.Append("path");
        for (int i = 0; i < size; i++) sb.Append(",e").Append(i.ToString(CultureInfo.InvariantCulture));
        if (includeCodes)
        {
            for (int i = 0; i < size; i++) sb.Append(",q").Append(i.ToString(CultureInfo.InvariantCulture));
        }
        sb.Append('\n');
        foreach (var item in items)
        {
            sb.Append(CsvField(item.Path));
            foreach (float v in item.Embedding) sb.Append(',').Append(Float(v));
            if (includeCodes)
            {
                foreach (sbyte c in EmbeddingQuantiser.Quantise(item.Embedding)) sb.Append(',').Append(c.ToString(CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string? FormatOf(string path)
    {
        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        return ext is ".json" or ".csv" ? ext : null;
    }

    private static int Check(IReadOnlyList<ImageEmbedding> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        int size = items.Count == 0 ? 0 : items[0].Embedding.Length;
        foreach (var item in items)
        {
            if (item.Embedding.Length != size)
                throw new ArgumentException($"the embedding of '{item.Path}' has {item.Embedding.Length} values; the first has {size}.", nameof(items));
            if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(item.Embedding))
                throw new ArgumentException($"the embedding of '{item.Path}' holds NaN or infinite values.", nameof(items));
        }
        return size;
    }

    private static string Float(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A CSV field, quoted when it holds a comma, a quote or a line break (quotes doubled).</summary>
    private static string CsvField(string s) =>
        s.AsSpan().IndexOfAny(",\"\r\n") < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
