namespace FaceNetGen.Data;

/// <summary>
/// Orders strings the way people number files: runs of digits compare by their numeric value, so 1.pgm, 2.pgm,
/// 10.pgm come in that order; everything else compares ordinally. Ties (such as "01" and "1") are broken
/// ordinally, so the order is total and the same on every machine.
/// </summary>
public sealed class NaturalComparer : IComparer<string?>
{
    /// <summary>The single instance.</summary>
    public static NaturalComparer Instance { get; } = new();

    private NaturalComparer()
    {
    }

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;

        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                int si = i, sj = j;
                while (i < x.Length && char.IsAsciiDigit(x[i])) i++;
                while (j < y.Length && char.IsAsciiDigit(y[j])) j++;
                var a = x.AsSpan(si, i - si).TrimStart('0');
                var b = y.AsSpan(sj, j - sj).TrimStart('0');
                if (a.Length != b.Length) return a.Length < b.Length ? -1 : 1;
                int digits = a.SequenceCompareTo(b);
                if (digits != 0) return digits < 0 ? -1 : 1;
            }
            else
            {
                if (x[i] != y[j]) return x[i] < y[j] ? -1 : 1;
                i++;
                j++;
            }
        }

        if (i < x.Length) return 1;
        if (j < y.Length) return -1;
        return string.CompareOrdinal(x, y);
    }
}
