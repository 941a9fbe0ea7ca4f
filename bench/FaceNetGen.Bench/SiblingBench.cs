using System.Globalization;
using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Bench;

/// <summary>
/// `bench siblings`: the 1×1 convolutions that read one inception module's input (NN4's and NN2's), batch 16, as one
/// fused call (<see cref="IBackend.ConvForwardSiblings"/>, <see cref="IBackend.ConvBackwardDataSiblings"/>,
/// <see cref="IBackend.ConvBackwardFilterSiblings"/>) against one call each, all three passes, in ms per module. Cold caches by default (64 MB written before each call, as in a
/// whole network, whose working set exceeds the cache); --warm repeats each call on warm data instead.
/// </summary>
public static class SiblingBench
{
    public static void Run(string[] args)
    {
        bool warm = args.Contains("--warm");
        Func<Action, double> time = warm ? Timing.Best : Timing.Cold;
        const int n = 16;
        // (input channels, map size, the siblings' output channels)
        var modules = new (string Name, int C, int Size, int[] Out)[]
        {
            ("NN4 3a", 192, 12, new[] { 64, 96, 16 }),
            ("NN4 3b", 256, 12, new[] { 64, 96, 32 }),
            ("NN4 3c", 320, 12, new[] { 128, 32 }),
            ("NN4 4a", 640, 6, new[] { 256, 96, 32 }),
            ("NN4 4d", 640, 6, new[] { 160, 144, 32 }),
            ("NN4 5a", 896, 3, new[] { 384, 192 }),
            ("NN2 4a", 640, 14, new[] { 256, 96, 32 }),
        };
        using var cpu = new CpuBackend();
        Console.WriteLine($"1x1 siblings of one input, batch {n}, {cpu.Threads} threads{(warm ? ", warm" : ", cold caches (medians)")}: ms per module, one call each vs one fused call");
        Console.WriteLine($"{"module",-8} {"input",-12} {"outputs",-14} {"fwd each",9} {"fused",7} {"ratio",6} {"data each",10} {"fused",7} {"ratio",6} {"filter each",12} {"fused",7} {"ratio",6}");
        foreach (var (name, c, size, outs) in modules)
        {
            var g = outs.Select(o => new ConvGeometry(c, size, size, o, size, size, 1, 1, 1, 1, 0, 0)).ToArray();
            using var x = cpu.Allocate((long)n * g[0].InSize);
            using var dx = cpu.Allocate((long)n * g[0].InSize);
            var w = g.Select(gi => cpu.Allocate(gi.WeightSize)).ToArray();
            var b = g.Select(gi => cpu.Allocate(gi.OutC)).ToArray();
            var y = g.Select(gi => cpu.Allocate((long)n * gi.OutSize)).ToArray();
            foreach (var buffer in w.Concat(y)) cpu.Fill(buffer.At(0), buffer.Length, 0.01f);
            var wv = w.Select(v => v.At(0)).ToArray();
            var bv = b.Select(v => v.At(0)).ToArray();
            var yv = y.Select(v => v.At(0)).ToArray();
            var strides = new long[g.Length];
            double fwdEach = time(() =>
            {
                for (int i = 0; i < g.Length; i++) cpu.ConvForward(g[i], n, x.At(0), wv[i], bv[i], yv[i], relu: true);
            });
            double fwdFused = time(() => cpu.ConvForwardSiblings(g, n, x.At(0), wv, bv, yv, relu: true, strides));
            double dataEach = time(() =>
            {
                for (int i = 0; i < g.Length; i++) cpu.ConvBackwardData(g[i], n, yv[i], wv[i], dx.At(0), accumulate: true);
            });
            double dataFused = time(() => cpu.ConvBackwardDataSiblings(g, n, yv, wv, dx.At(0), accumulate: true));
            // The filter gradients into the weight buffers (their values do not matter here).
            double filterEach = time(() =>
            {
                for (int i = 0; i < g.Length; i++) cpu.ConvBackwardFilter(g[i], n, x.At(0), yv[i], wv[i], bv[i], accumulate: false);
            });
            double filterFused = time(() => cpu.ConvBackwardFilterSiblings(g, n, x.At(0), yv, wv, bv, accumulate: false));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-8} {$"{size}x{size}x{c}",-12} {string.Join("+", outs),-14} {fwdEach * 1e3,9:F3} {fwdFused * 1e3,7:F3} {fwdFused / fwdEach,6:F3} {dataEach * 1e3,10:F3} {dataFused * 1e3,7:F3} {dataFused / dataEach,6:F3} {filterEach * 1e3,12:F3} {filterFused * 1e3,7:F3} {filterFused / filterEach,6:F3}"));
            foreach (var buffer in w.Concat(b).Concat(y)) buffer.Dispose();
        }
    }
}
