using System.Diagnostics;

namespace FaceNetGen.Bench;

/// <summary>The timing loop of the kernel benches.</summary>
public static class Timing
{
    /// <summary>Best of seven rounds of at least 20 ms each, after 0.3 s of warm-up (so that the code is fully optimised), seconds per call.</summary>
    public static double Best(Action action)
    {
        var warm = Stopwatch.StartNew();
        int reps = 0;
        while (warm.Elapsed.TotalSeconds < 0.3)
        {
            action();
            reps++;
        }
        reps = Math.Max(1, (int)(reps * 0.02 / warm.Elapsed.TotalSeconds) + 1);
        double best = double.MaxValue;
        for (int round = 0; round < 7; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < reps; r++) action();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }
        return best;
    }

    /// <summary>
    /// Median seconds of 41 calls, each after writing 64 MB (more than the last-level cache), so that every call first
    /// finds its tensors out of cache, as a layer does in a whole network whose working set exceeds the cache.
    /// </summary>
    public static double Cold(Action action)
    {
        var flush = s_flush ??= new float[16 * 1024 * 1024];
        action();
        var times = new double[41];
        for (int r = 0; r < times.Length; r++)
        {
            for (int i = 0; i < flush.Length; i += 16) flush[i] += 1;
            var sw = Stopwatch.StartNew();
            action();
            times[r] = sw.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    private static float[]? s_flush;
}
