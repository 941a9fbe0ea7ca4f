using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FaceNetGen.Bench;

/// <summary>Measures this machine's single-precision FMA peak: independent FMA chains on every core at once.</summary>
public static class FmaPeak
{
    /// <summary>GFLOP/s (2 per multiply-add) with <paramref name="threads"/> threads.</summary>
    public static double Measure(int threads, double seconds = 0.5)
    {
        long iterations = 2_000_000;
        // Calibrate so one run lasts about `seconds`.
        var sw = Stopwatch.StartNew();
        Chains(iterations / 10);
        double per = sw.Elapsed.TotalSeconds / (iterations / 10);
        iterations = Math.Max(100_000, (long)(seconds / Math.Max(per, 1e-12)));
        double best = 0;
        for (int rep = 0; rep < 5; rep++)
        {
            var ts = new Thread[threads];
            var barrier = new Barrier(threads + 1);
            for (int t = 0; t < threads; t++)
            {
                ts[t] = new Thread(() => { barrier.SignalAndWait(); Chains(iterations); });
                ts[t].Start();
            }
            barrier.SignalAndWait();
            sw.Restart();
            foreach (var t in ts) t.Join();
            double flops = 2.0 * FlopsPerIteration * iterations * threads;
            best = Math.Max(best, flops / sw.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    private static int FlopsPerIteration => Vector512.IsHardwareAccelerated ? 12 * 16 : Vector256.IsHardwareAccelerated ? 12 * 8 : 12 * 4;

    // Fully optimised from the first call: a tier-0 or on-stack-replaced loop would understate the peak.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains(long iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(0.999999f);
            var x = Vector512.Create(1e-7f);
            Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
            for (long i = 0; i < iterations; i++)
            {
                a0 = Vector512.FusedMultiplyAdd(a0, m, x); a1 = Vector512.FusedMultiplyAdd(a1, m, x); a2 = Vector512.FusedMultiplyAdd(a2, m, x);
                a3 = Vector512.FusedMultiplyAdd(a3, m, x); a4 = Vector512.FusedMultiplyAdd(a4, m, x); a5 = Vector512.FusedMultiplyAdd(a5, m, x);
                a6 = Vector512.FusedMultiplyAdd(a6, m, x); a7 = Vector512.FusedMultiplyAdd(a7, m, x); a8 = Vector512.FusedMultiplyAdd(a8, m, x);
                a9 = Vector512.FusedMultiplyAdd(a9, m, x); a10 = Vector512.FusedMultiplyAdd(a10, m, x); a11 = Vector512.FusedMultiplyAdd(a11, m, x);
            }
            return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
        }
        else
        {
            var m = Vector256.Create(0.999999f);
            var x = Vector256.Create(1e-7f);
            Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
            for (long i = 0; i < iterations; i++)
            {
                a0 = Vector256.FusedMultiplyAdd(a0, m, x); a1 = Vector256.FusedMultiplyAdd(a1, m, x); a2 = Vector256.FusedMultiplyAdd(a2, m, x);
                a3 = Vector256.FusedMultiplyAdd(a3, m, x); a4 = Vector256.FusedMultiplyAdd(a4, m, x); a5 = Vector256.FusedMultiplyAdd(a5, m, x);
                a6 = Vector256.FusedMultiplyAdd(a6, m, x); a7 = Vector256.FusedMultiplyAdd(a7, m, x); a8 = Vector256.FusedMultiplyAdd(a8, m, x);
                a9 = Vector256.FusedMultiplyAdd(a9, m, x); a10 = Vector256.FusedMultiplyAdd(a10, m, x); a11 = Vector256.FusedMultiplyAdd(a11, m, x);
            }
            return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
        }
    }
}
