using SkiaSharp;

namespace FaceNetGen.Evaluation;

/// <summary>
/// Finds a typeface that can draw plot labels: a common sans-serif family if the font manager has one, else
/// Skia's default typeface when it has glyphs, else the first usable font file in the usual font folders. On a
/// machine with no fonts at all, plots are still drawn but without text (<see cref="Typeface"/> is null).
/// </summary>
internal static class PlotFonts
{
    private static readonly Lazy<SKTypeface?> Found = new(Find);

    public static SKTypeface? Typeface => Found.Value;

    private static SKTypeface? Find()
    {
        foreach (string family in new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "FreeSans" })
        {
            var face = SKFontManager.Default.MatchFamily(family);
            if (face is not null && string.Equals(face.FamilyName, family, StringComparison.OrdinalIgnoreCase) && CanDraw(face)) return face;
            face?.Dispose();
        }
        if (CanDraw(SKTypeface.Default)) return SKTypeface.Default;
        var files = new List<string>();
        foreach (string folder in new[] { "/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "/System/Library/Fonts", @"C:\Windows\Fonts" })
        {
            if (!Directory.Exists(folder)) continue;
            try
            {
                files.AddRange(Directory.EnumerateFiles(folder, "*.ttf", SearchOption.AllDirectories).Take(2000));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        // Preferred sans-serif files first, then the rest in ordinal order.
        string[] preferred = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf", "arial.ttf", "NotoSans-Regular.ttf", "FreeSans.ttf"];
        var ordered = files
            .OrderBy(f => Array.IndexOf(preferred, Path.GetFileName(f)) is var i && i >= 0 ? i : preferred.Length)
            .ThenBy(f => f, StringComparer.Ordinal);
        foreach (string file in ordered)
        {
            var face = SKTypeface.FromFile(file);
            if (CanDraw(face)) return face;
            face?.Dispose();
        }
        return null;
    }

    private static bool CanDraw(SKTypeface? face)
    {
        if (face is null) return false;
        using var font = new SKFont(face, 12);
        return font.ContainsGlyphs("0123456789.Aa");
    }
}
