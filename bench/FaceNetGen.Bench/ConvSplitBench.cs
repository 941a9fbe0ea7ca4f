using System.Diagnostics;
using System.Runtime.InteropServices;
using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Bench;

/// <summary>
/// One thread, one work item of the forward convolution at typical shapes: how the time splits between packing the
/// column matrix (im2col) and the GEMM. Shows where a layer's GFLOP/s goes when it falls short of the GEMM's.
/// </summary>
public static unsafe class ConvSplitBench
{
    public static void Run(string[] args)
    {
        ConvGeometry[] shapes = new ConvGeometry[]
        {
            new(3, 224, 224, 64, 112, 112, 7, 7, 2, 2, 3, 3),
            new(64, 56, 56, 192, 56, 56, 3, 3, 1, 1, 1, 1),
            new(96, 28, 28, 128, 28, 28, 3, 3, 1, 1, 1, 1),
            new(32, 28, 28, 64, 28, 28, 5, 5, 1, 1, 2, 2),
            new(32, 14, 14, 64, 14, 14, 5, 5, 1, 1, 2, 2),
            new(144, 14, 14, 288, 14, 14, 3, 3, 1, 1, 1, 1),
            new(128, 14, 14, 256, 14, 14, 3, 3, 1, 1, 1, 1),
            new(3, 140, 116, 16, 70, 58, 3, 3, 2, 2, 1, 1),
            new(3, 96, 96, 64, 48, 48, 7, 7, 2, 2, 3, 3),
            new(16, 35, 29, 16, 35, 29, 1, 1, 1, 1, 0, 0),
            new(32, 18, 15, 4, 18, 15, 1, 1, 1, 1, 0, 0),
            new(32, 18, 15, 16, 18, 15, 1, 1, 1, 1, 0, 0),
            new(128, 9, 8, 16, 9, 8, 1, 1, 1, 1, 0, 0),
            new(640, 6, 6, 64, 6, 6, 1, 1, 1, 1, 0, 0),
            new(1024, 7, 7, 48, 7, 7, 1, 1, 1, 1, 0, 0),
            new(896, 3, 3, 64, 3, 3, 1, 1, 1, 1, 0, 0),
            new(192, 7, 7, 384, 7, 7, 3, 3, 1, 1, 1, 1),
            new(64, 24, 24, 192, 24, 24, 3, 3, 1, 1, 1, 1),
            new(96, 12, 12, 128, 12, 12, 3, 3, 1, 1, 1, 1),
            new(144, 6, 6, 288, 6, 6, 3, 3, 1, 1, 1, 1),
            new(48, 9, 8, 96, 9, 8, 3, 3, 1, 1, 1, 1),
            new(128, 28, 28, 256, 14, 14, 3, 3, 2, 2, 1, 1),
            new(640, 14, 14, 32, 14, 14, 1, 1, 1, 1, 0, 0),
            new(640, 14, 14, 128, 14, 14, 1, 1, 1, 1, 0, 0),
            new(256, 28, 28, 64, 28, 28, 1, 1, 1, 1, 0, 0),
            new(64, 56, 56, 64, 56, 56, 1, 1, 1, 1, 0, 0),
            new(1024, 7, 7, 384, 7, 7, 1, 1, 1, 1, 0, 0),
        };
        int target = CpuBackend.TargetColumns;
        var only = new List<ConvGeometry>();
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--cols") target = int.Parse(args[i + 1]);
            if (args[i] == "--shape") only.Add(ParseShape(args[i + 1]));
        }
        // `--shape C,H,W,OC,K,S,P` (input channels and size, outputs, square kernel, stride, padding): just those layers.
        if (only.Count > 0) shapes = only.ToArray();
        var level = Gemm.Best;
        var (_, nr) = Gemm.Tile(level);
        Console.WriteLine($"one thread, {level}; columns per item: {target} (several small images, or a chunk of one large one)");
        Console.WriteLine($"{"shape",-40} {"cols",5} {"pack µs",9} {"gemm µs",9} {"pack %",7} {"gemm GFLOP/s",13} {"item GFLOP/s",13}");
        foreach (var g in shapes)
        {
            int hw = g.OutH * g.OutW;
            int images = hw >= target / 2 ? 1 : Math.Max(1, target / hw);
            int cols = images == 1 ? Math.Min(hw, target) : images * hw;
            int k = g.InC * g.KernelH * g.KernelW;
            float* x = Alloc((long)images * g.InSize);
            float* w = Alloc((long)g.OutC * k);
            float* packed = Alloc(Gemm.PackedSize(k, cols, nr));
            float* c = Alloc((long)g.OutC * cols);
            float* scratch = Alloc(Gemm.ScratchFloats);
            for (long i = 0; i < (long)images * g.InSize; i++) x[i] = i % 13 * 0.1f;
            for (long i = 0; i < (long)g.OutC * k; i++) w[i] = i % 7 * 0.1f;
            int hwCount = images == 1 ? cols : hw;
            double flops = 2.0 * g.OutC * k * cols;
            using var work = new NativeScratch();
            double pack = Timing.Best(() => Im2Col.Pack(g, x, 0, images, 0, hwCount, packed, nr, work, level));
            double gemm = Timing.Best(() => Gemm.Multiply(level, g.OutC, cols, k, w, k, packed, c, cols, false, scratch));
            Console.WriteLine($"{g,-40} {cols,5} {pack * 1e6,9:F1} {gemm * 1e6,9:F1} {pack / (pack + gemm) * 100,6:F1}% {flops / gemm / 1e9,13:F1} {flops / (pack + gemm) / 1e9,13:F1}");
            foreach (var p in new[] { x, w, packed, c, scratch }) NativeMemory.AlignedFree(p);
        }
        Whole(shapes, args.Contains("--cold") ? Timing.Cold : Timing.Best);
    }

    private static ConvGeometry ParseShape(string text)
    {
        var v = text.Split(',').Select(int.Parse).ToArray();
        if (v.Length != 7) throw new ArgumentException($"--shape wants C,H,W,OC,K,S,P, got '{text}'");
        int outH = (v[1] + 2 * v[6] - v[4]) / v[5] + 1, outW = (v[2] + 2 * v[6] - v[4]) / v[5] + 1;
        return new ConvGeometry(v[0], v[1], v[2], v[3], outH, outW, v[4], v[4], v[5], v[5], v[6], v[6]);
    }

    /// <summary>
    /// The whole forward convolution of a batch of 16 through the backend, per thread count and path (every path; no
    /// F(4×4, 3×3), so F(2×2, 3×3) where Winograd fits; im2col only), then both backward passes on 2 threads (every
    /// path, and without F(4×4, 3×3)).
    /// </summary>
    private static void Whole(ConvGeometry[] shapes, Func<Action, double> time)
    {
        const int n = 16;
        Console.WriteLine();
        Console.WriteLine($"whole ConvForward, then ConvBackwardData and ConvBackwardFilter, batch {n} (bias and ReLU included){(time == Timing.Best ? "" : ", cold caches (medians)")}; GFLOP/s counts the direct convolution's multiply-adds, also for Winograd");
        Console.WriteLine($"{"shape",-40} {"1 thread",9} {"2 threads",10} {"no F(4×4)",10} {"im2col only",12} {"data",8} {"no F(4×4)",10} {"filter",8} {"no F(4×4)",10}");
        foreach (var g in shapes)
        {
            var line = $"{g,-40}";
            double Rate(double seconds) => 2.0 * g.MultiplyAdds * n / seconds / 1e9;
            foreach (var (threads, winograd, f4, width) in new[] { (1, true, true, 9), (2, true, true, 10), (2, true, false, 10), (2, false, false, 12) })
            {
                using var cpu = new CpuBackend(threads, winograd: winograd, direct: winograd) { Winograd4 = f4 };
                using var x = cpu.Allocate((long)n * g.InSize);
                using var w = cpu.Allocate(g.WeightSize);
                using var b = cpu.Allocate(g.OutC);
                using var y = cpu.Allocate((long)n * g.OutSize);
                line += " " + Rate(time(() => cpu.ConvForward(g, n, x.At(0), w.At(0), b.At(0), y.At(0), relu: true))).ToString("F1").PadLeft(width);
            }
            // The two backward passes (same multiply-adds as the forward one), on 2 threads with every path enabled.
            foreach (var f4 in new[] { true, false })
            {
                using var cpu = new CpuBackend(2) { Winograd4 = f4 };
                using var x = cpu.Allocate((long)n * g.InSize);
                using var w = cpu.Allocate(g.WeightSize);
                using var dy = cpu.Allocate((long)n * g.OutSize);
                using var dx = cpu.Allocate((long)n * g.InSize);
                double data = time(() => cpu.ConvBackwardData(g, n, dy.At(0), w.At(0), dx.At(0), accumulate: false));
                line += " " + Rate(data).ToString("F1").PadLeft(f4 ? 8 : 10);
            }
            foreach (var f4 in new[] { true, false })
            {
                using var cpu = new CpuBackend(2) { Winograd4 = f4 };
                using var x = cpu.Allocate((long)n * g.InSize);
                using var dy = cpu.Allocate((long)n * g.OutSize);
                using var dw = cpu.Allocate(g.WeightSize);
                using var db = cpu.Allocate(g.OutC);
                double filter = time(() => cpu.ConvBackwardFilter(g, n, x.At(0), dy.At(0), dw.At(0), db.At(0), accumulate: false));
                line += " " + Rate(filter).ToString("F1").PadLeft(f4 ? 8 : 10);
            }
            Console.WriteLine(line);
        }
    }

    private static float* Alloc(long floats) => (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
}
