using System.Diagnostics;

namespace FaceNetGen.Bench;

/// <summary>The timed slices of the benches in which engines take turns (`versus`, `models`), and their statistics.</summary>
internal static class Turns
{
    /// <summary>Calls per second over whole calls run for at least <paramref name="seconds"/>.</summary>
    public static double Slice(Action step, double seconds)
    {
        long start = Stopwatch.GetTimestamp();
        int steps = 0;
        double elapsed;
        do
        {
            step();
            steps++;
            elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        while (elapsed < seconds);
        return steps / elapsed;
    }

    /// <summary>The <paramref name="q"/> quantile of <paramref name="values"/>, interpolated between neighbours.</summary>
    public static double Quantile(IReadOnlyCollection<double> values, double q)
    {
        var v = values.OrderBy(x => x).ToArray();
        if (v.Length == 0) return double.NaN;
        double pos = q * (v.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return v[lo] + (v[hi] - v[lo]) * (pos - lo);
    }

    /// <summary>
    /// The medians of the first, second and last third of <paramref name="ratios"/> (in run order), formatted: a ratio
    /// that holds across the machine's phases is the same in each.
    /// </summary>
    public static string Thirds(List<double> ratios, string format)
    {
        int third = Math.Max(1, ratios.Count / 3);
        var thirds = Enumerable.Range(0, 3).Select(t => ratios.Skip(t * third).Take(t == 2 ? int.MaxValue : third).ToList()).Where(l => l.Count > 0);
        return string.Join(", ", thirds.Select(l => Quantile(l, 0.5).ToString(format, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
