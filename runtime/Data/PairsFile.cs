using System.Globalization;

namespace FaceNetGen.Data;

/// <summary>One verification pair: two image paths and whether they show the same person.</summary>
/// <param name="Fold">The cross-validation fold (1-based).</param>
/// <param name="PathA">The first image's full path.</param>
/// <param name="PathB">The second image's full path.</param>
/// <param name="Same">True when both images show the same person.</param>
public sealed record FacePair(int Fold, string PathA, string PathB, bool Same);

/// <summary>The two pair-file layouts <see cref="PairsFile"/> reads.</summary>
public enum PairsFormat
{
    /// <summary>
    /// The official LFW text format: a first line "folds&lt;TAB&gt;n" (pairs.txt: per fold n same-person lines
    /// "name i j" then n different-person lines "name1 i name2 j") or a single count "N" (pairsDevTrain.txt: N
    /// same-person lines then N different-person lines, one fold).
    /// </summary>
    Lfw,

    /// <summary>Tab-separated "fold path_a path_b same" with an optional header row; paths relative to the file's folder; same is 1/0 (or true/false).</summary>
    Tsv,
}

/// <summary>
/// A list of verification pairs read from an LFW-format or a TSV pair file. In the LFW format an image is
/// <c>&lt;images&gt;/&lt;name&gt;/&lt;name&gt;_&lt;i:0000&gt;.jpg</c>. Every error names the file and the line.
/// </summary>
public sealed class PairsFile
{
    private static readonly string[] TsvHeader = ["fold", "path_a", "path_b", "same"];

    private PairsFile(string path, PairsFormat format, IReadOnlyList<FacePair> pairs)
    {
        Path = path;
        Format = format;
        Pairs = pairs;
        Folds = pairs.Count == 0 ? 0 : pairs.Select(p => p.Fold).Distinct().Count();
    }

    /// <summary>The file that was read.</summary>
    public string Path { get; }

    /// <summary>Which layout it has.</summary>
    public PairsFormat Format { get; }

    /// <summary>The pairs in file order.</summary>
    public IReadOnlyList<FacePair> Pairs { get; }

    /// <summary>The number of distinct folds.</summary>
    public int Folds { get; }

    /// <summary>
    /// Reads a pair file, telling the format from its first line. <paramref name="imagesRoot"/> is where LFW-format
    /// names are looked up; when null, the first of <c>images/</c> beside the file and <c>../images/</c> that exists
    /// (so both <c>lfw_devsubset/pairs_devsubset_lfwformat.txt</c> and <c>lfw_devsubset/protocol/pairs.txt</c> find
    /// <c>lfw_devsubset/images</c>), else <c>images/</c> beside the file.
    /// </summary>
    /// <exception cref="FaceNetException">The file is missing or malformed (the message names the file and line).</exception>
    public static PairsFile Load(string path, string? imagesRoot = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FaceNetException($"{path}: pair file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"{path}: cannot read the pair file ({e.Message})", e);
        }

        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".";
        return Parse(text, path, folder, imagesRoot ?? DefaultImagesRoot(folder));
    }

    /// <summary>
    /// Parses pair-file text. <paramref name="name"/> starts error messages; TSV paths are relative to
    /// <paramref name="folder"/>; LFW-format names are looked up under <paramref name="imagesRoot"/>.
    /// </summary>
    /// <exception cref="FaceNetException">The text is malformed (the message names <paramref name="name"/> and the line).</exception>
    public static PairsFile Parse(string text, string name, string folder, string imagesRoot)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new List<(int Number, string Text)>();
        int number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            string line = raw.TrimEnd('\r');
            if (line.Trim().Length > 0) lines.Add((number, line));
        }

        if (lines.Count == 0) throw new FaceNetException($"{name}: the pair file is empty");

        var first = lines[0];
        var firstFields = first.Text.Split('\t');
        if (firstFields.Length == 4 && (IsTsvHeader(firstFields) || IsInt(firstFields[0])))
        {
            return new PairsFile(name, PairsFormat.Tsv, ParseTsv(lines, name, folder));
        }

        var header = SplitWhitespace(first.Text);
        if (header.Length is 1 or 2 && header.All(IsInt))
        {
            return new PairsFile(name, PairsFormat.Lfw, ParseLfw(lines, header, name, imagesRoot));
        }

        throw new FaceNetException($"{name}: line {first.Number}: expected an LFW header ('folds<TAB>pairs per fold' or 'pairs') or a TSV header 'fold<TAB>path_a<TAB>path_b<TAB>same', found '{Shorten(first.Text)}'");
    }

    private static List<FacePair> ParseTsv(List<(int Number, string Text)> lines, string name, string folder)
    {
        var pairs = new List<FacePair>();
        int start = IsTsvHeader(lines[0].Text.Split('\t')) ? 1 : 0;
        for (int k = start; k < lines.Count; k++)
        {
            var (n, text) = lines[k];
            var f = text.Split('\t');
            if (f.Length != 4)
            {
                throw new FaceNetException($"{name}: line {n}: expected 4 tab-separated fields (fold, path_a, path_b, same), found {f.Length}: '{Shorten(text)}'");
            }

            if (!int.TryParse(f[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int fold) || fold < 1)
            {
                throw new FaceNetException($"{name}: line {n}: the fold must be a whole number from 1, not '{f[0]}'");
            }

            bool same = f[3].Trim().ToLowerInvariant() switch
            {
                "1" or "true" => true,
                "0" or "false" => false,
                _ => throw new FaceNetException($"{name}: line {n}: 'same' must be 1 or 0 (or true/false), not '{f[3]}'"),
            };

            string a = f[1].Trim(), b = f[2].Trim();
            if (a.Length == 0 || b.Length == 0) throw new FaceNetException($"{name}: line {n}: an image path is empty");
            pairs.Add(new FacePair(fold, Resolve(folder, a), Resolve(folder, b), same));
        }

        if (pairs.Count == 0) throw new FaceNetException($"{name}: the pair file has a header but no pairs");
        return pairs;
    }

    private static List<FacePair> ParseLfw(List<(int Number, string Text)> lines, string[] header, string name, string imagesRoot)
    {
        int folds, perFold;
        int headerLine = lines[0].Number;
        if (header.Length == 2)
        {
            folds = ParseCount(header[0], name, headerLine, "fold count");
            perFold = ParseCount(header[1], name, headerLine, "pairs per fold");
        }
        else
        {
            folds = 1;
            perFold = ParseCount(header[0], name, headerLine, "pair count");
        }

        long expected = 2L * folds * perFold;
        if (lines.Count - 1 != expected)
        {
            string shape = header.Length == 2
                ? $"{folds} folds x ({perFold} same + {perFold} different)"
                : $"{perFold} same + {perFold} different";
            throw new FaceNetException(string.Create(
                CultureInfo.InvariantCulture,
                $"{name}: the header on line {headerLine} promises {expected:N0} pair lines ({shape}), but the file has {lines.Count - 1:N0}"));
        }

        var pairs = new List<FacePair>((int)expected);
        for (int k = 1; k < lines.Count; k++)
        {
            var (n, text) = lines[k];
            int index = k - 1;
            int fold = (index / (2 * perFold)) + 1;
            bool same = index % (2 * perFold) < perFold;
            var f = SplitWhitespace(text);
            if (same)
            {
                if (f.Length != 3)
                {
                    throw new FaceNetException($"{name}: line {n}: expected a same-person pair 'name<TAB>i<TAB>j' (fold {fold}), found {f.Length} fields: '{Shorten(text)}'");
                }

                int i = ParseImageNumber(f[1], name, n), j = ParseImageNumber(f[2], name, n);
                pairs.Add(new FacePair(fold, LfwPath(imagesRoot, f[0], i), LfwPath(imagesRoot, f[0], j), true));
            }
            else
            {
                if (f.Length != 4)
                {
                    throw new FaceNetException($"{name}: line {n}: expected a different-person pair 'name1<TAB>i<TAB>name2<TAB>j' (fold {fold}), found {f.Length} fields: '{Shorten(text)}'");
                }

                int i = ParseImageNumber(f[1], name, n), j = ParseImageNumber(f[3], name, n);
                pairs.Add(new FacePair(fold, LfwPath(imagesRoot, f[0], i), LfwPath(imagesRoot, f[2], j), false));
            }
        }

        return pairs;
    }

    /// <summary>An LFW image path: &lt;images&gt;/&lt;name&gt;/&lt;name&gt;_&lt;i:0000&gt;.jpg.</summary>
    public static string LfwPath(string imagesRoot, string person, int number) =>
        System.IO.Path.Combine(imagesRoot, person, string.Create(CultureInfo.InvariantCulture, $"{person}_{number:0000}.jpg"));

    private static string DefaultImagesRoot(string folder)
    {
        string beside = System.IO.Path.Combine(folder, "images");
        if (Directory.Exists(beside)) return beside;
        string above = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, "..", "images"));
        return Directory.Exists(above) ? above : beside;
    }

    private static string Resolve(string folder, string relative) =>
        System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, relative.Replace('\\', '/')));

    private static int ParseCount(string text, string name, int line, string what)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
        {
            throw new FaceNetException($"{name}: line {line}: the {what} must be a whole number from 1, not '{text}'");
        }

        return value;
    }

    private static int ParseImageNumber(string text, string name, int line)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1 || value > 9999)
        {
            throw new FaceNetException($"{name}: line {line}: an image number must be a whole number from 1 to 9999, not '{text}'");
        }

        return value;
    }

    private static bool IsTsvHeader(string[] fields) =>
        fields.Length == 4 && fields.Select(f => f.Trim()).SequenceEqual(TsvHeader, StringComparer.OrdinalIgnoreCase);

    private static bool IsInt(string text) => int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private static string[] SplitWhitespace(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
