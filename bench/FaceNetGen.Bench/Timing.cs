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
}
