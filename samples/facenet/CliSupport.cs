using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FaceNetGen.Data;
using FaceNetGen.Imaging;

namespace FaceNetGen.Cli;

/// <summary>What the face commands share: finding image files, writing output files and JSON, number formatting.</summary>
internal static class CliSupport
{
    /// <summary>How many missing paths an error lists before "and N more".</summary>
    public const int ListedMissing = 5;

    /// <summary>
    /// The image files named by <paramref name="arguments"/>: files as given, folders searched recursively for
    /// supported images (hidden files skipped, in natural order of their path). Missing files and folders are one
    /// error listing the first few.
    /// </summary>
    public static IReadOnlyList<string> ImagePaths(IReadOnlyList<string> arguments)
    {
        var paths = new List<string>();
        var missing = new List<string>();
        foreach (string a in arguments)
        {
            if (Directory.Exists(a)) paths.AddRange(ImagesUnder(a));
            else if (File.Exists(a)) paths.Add(a);
            else missing.Add(a);
        }
        if (missing.Count > 0) throw new FaceNetException(Missing(missing, "image"));
        return paths;
    }

    /// <summary>The supported image files under <paramref name="folder"/>, recursively, in natural order of their relative path.</summary>
    public static IReadOnlyList<string> ImagesUnder(string folder)
    {
        if (!Directory.Exists(folder)) throw new FaceNetException($"{folder}: folder not found.");
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden, IgnoreInaccessible = false };
        try
        {
            return Directory.EnumerateFiles(folder, "*", options)
                .Where(p => ImageDecoder.IsSupported(p) && !Path.GetFileName(p).StartsWith('.'))
                .OrderBy(p => Path.GetRelativePath(folder, p), NaturalComparer.Instance)
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"{folder}: cannot list the folder ({e.Message})", e);
        }
    }

    /// <summary>"a: image not found" or "3 images not found: a, b, c" (the first few, then how many more).</summary>
    public static string Missing(IReadOnlyList<string> missing, string what)
    {
        if (missing.Count == 1) return $"{missing[0]}: {what} not found.";
        string listed = string.Join(", ", missing.Take(ListedMissing));
        string more = missing.Count > ListedMissing ? $" and {missing.Count - ListedMissing} more" : "";
        return $"{missing.Count} {what}s not found: {listed}{more}.";
    }

    /// <summary>Runs a write of <paramref name="path"/> (itself atomic), turning file-system errors into messages naming it.</summary>
    public static void Write(string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"{path}: cannot write ({e.Message})", e);
        }
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteText(string path, string text) => Write(path, () => AtomicFile.WriteAllText(path, text));

    /// <summary>An indented JSON document (non-ASCII kept as is), ending in "\n".</summary>
    public static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Writes a number, or null for NaN and infinities (which JSON cannot hold).</summary>
    public static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    /// <summary>Writes a float, or null for NaN and infinities.</summary>
    public static void Number(Utf8JsonWriter w, string name, float value)
    {
        if (float.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    /// <summary>A number with invariant culture.</summary>
    public static string F(double value, string format = "F4") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Reads an optional non-negative number option (a squared distance).</summary>
    public static double? Distance(CommandLine cl, string name)
    {
        if (cl.Option(name) is null) return null;
        double v = cl.Double(name, 0);
        if (!(v >= 0) || double.IsInfinity(v)) throw new UsageException($"--{name} expects a non-negative squared distance, not '{cl.Option(name)}'.");
        return v;
    }

    /// <summary>Reads the optional --crop option: a fraction in (0, 1].</summary>
    public static double? Crop(CommandLine cl)
    {
        if (cl.Option("crop") is null) return null;
        double v = cl.Double("crop", 1);
        if (!(v > 0 && v <= 1)) throw new UsageException($"--crop expects a fraction in (0, 1], not '{cl.Option("crop")}'.");
        return v;
    }

    /// <summary>Text padded on the right to <paramref name="width"/>, or cut with "..." when longer.</summary>
    public static string Cell(string text, int width) =>
        text.Length <= width ? text.PadRight(width) : "..." + text[^(width - 3)..];
}
