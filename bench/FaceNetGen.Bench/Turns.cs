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
}
