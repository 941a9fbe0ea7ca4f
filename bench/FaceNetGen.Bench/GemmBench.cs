using System.Diagnostics;
using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Bench;

/// <summary>GEMM throughput of one thread at typical convolution shapes, per SIMD level.</summary>
public static unsafe class GemmBench
{
    public static void Run(string[] args)
    {
        double peak1 = FmaPeak.Measure(1);
        Console.WriteLine($"FMA peak (1 thread): {peak1:F1} GFLOP/s");
        var shapes = new (int M, int N, int K)[] { (192, 3136, 576), (128, 784, 864), (256, 196, 640), (384, 49, 1728), (64, 12544, 147), (1024, 1024, 1024) };
        foreach (var level in new[] { SimdLevel.Vector512, SimdLevel.Vector256 })
        {
            var (_, nr) = Gemm.Tile(level);
            foreach (var (m, n, k) in shapes)
            {
                var a = new float[m * k];
                var b = new float[k * n];
                var c = new float[m * n];
                var rnd = new Random(1);
                for (int i = 0; i < a.Length; i++) a[i] = (float)rnd.NextDouble();
                for (int i = 0; i < b.Length; i++) b[i] = (float)rnd.NextDouble();
                var packed = new float[Gemm.PackedSize(k, n, nr)];
                var scratch = new float[Gemm.ScratchFloats];
                fixed (float* pa = a, pb = b, pc = c, pp = packed, ps = scratch)
                {
                    Gemm.PackB(k, n, pb, n, pp, nr);
                    Gemm.Multiply(level, m, n, k, pa, k, pp, pc, n, false, ps);
                    int reps = Math.Max(3, (int)(2e9 / (2.0 * m * n * k)));
                    var sw = Stopwatch.StartNew();
                    for (int r = 0; r < reps; r++) Gemm.Multiply(level, m, n, k, pa, k, pp, pc, n, false, ps);
                    double gflops = 2.0 * m * n * k * reps / sw.Elapsed.TotalSeconds / 1e9;
                    Console.WriteLine($"{level,-10} {Gemm.Tile(level).MR,2}x{Gemm.Tile(level).NR} M={m,5} N={n,6} K={k,5}: {gflops,7:F1} GFLOP/s ({gflops / peak1 * 100,5:F1}% of peak)");
                }
            }
        }
    }
}
