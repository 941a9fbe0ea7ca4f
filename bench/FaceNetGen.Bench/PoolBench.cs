using System.Diagnostics;
using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Specs;

namespace FaceNetGen.Bench;

/// <summary>
/// The pooling layers of NN4 and NNS2 alone, batch 16: forward ms per call and the bytes it moves per second, and
/// backward ms. With --cold, every call first finds its tensors out of cache (64 MB written in between), as a layer
/// early in a network does, and the figures are medians.
/// </summary>
public static class PoolBench
{
    public static void Run(string[] args)
    {
        var shapes = new PoolGeometry[]
        {
            new(PoolKind.L2, 640, 6, 6, 6, 6, 3, 3, 1, 1, 1, 1),
            new(PoolKind.L2, 256, 12, 12, 12, 12, 3, 3, 1, 1, 1, 1),
            new(PoolKind.Max, 192, 12, 12, 12, 12, 3, 3, 1, 1, 1, 1),
            new(PoolKind.Max, 896, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1),
            new(PoolKind.L2, 128, 9, 8, 9, 8, 3, 3, 1, 1, 1, 1),
            new(PoolKind.Max, 32, 18, 15, 18, 15, 3, 3, 1, 1, 1, 1),
            new(PoolKind.Max, 64, 48, 48, 24, 24, 3, 3, 2, 2, 1, 1),
            new(PoolKind.Max, 192, 24, 24, 12, 12, 3, 3, 2, 2, 1, 1),
            new(PoolKind.Max, 320, 12, 12, 6, 6, 3, 3, 2, 2, 1, 1),
            new(PoolKind.Max, 640, 6, 6, 3, 3, 3, 3, 2, 2, 1, 1),
            new(PoolKind.Max, 16, 70, 58, 35, 29, 3, 3, 2, 2, 1, 1),
            new(PoolKind.Max, 192, 9, 8, 5, 4, 3, 3, 2, 2, 1, 1),
        };
        const int n = 16;
        bool cold = args.Contains("--cold");
        Func<Action, double> time = cold ? Timing.Cold : Timing.Best;
        int threads = Environment.ProcessorCount;
        using var cpu = new CpuBackend(threads);
        Console.WriteLine($"forward pooling, batch {n}, {threads} threads{(cold ? ", cold caches" : "")}");
        Console.WriteLine($"{"shape",-46} {"ms",8} {"GB/s",7} {"backward ms",12}");
        var random = new Random(1);
        foreach (var g in shapes)
        {
            using var x = cpu.Allocate((long)n * g.InSize);
            using var y = cpu.Allocate((long)n * g.OutSize);
            var data = new float[(long)n * g.InSize];
            for (int i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble() - 0.5f;
            cpu.Upload(data, x.At(0));
            double seconds = time(() => cpu.PoolForward(g, n, x.At(0), y.At(0)));
            double bytes = 4.0 * n * (g.InSize + g.OutSize);
            using var dy = cpu.Allocate((long)n * g.OutSize);
            using var dx = cpu.Allocate((long)n * g.InSize);
            double backward = time(() => cpu.PoolBackward(g, n, x.At(0), y.At(0), dy.At(0), dx.At(0), accumulate: false));
            Console.WriteLine($"{g,-46} {seconds * 1e3,8:F3} {bytes / seconds / 1e9,7:F1} {backward * 1e3,12:F3}");
        }
    }
}
