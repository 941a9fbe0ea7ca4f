using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Specs;

namespace FaceNetGen.Tests.Kernels;

/// <summary>Every optimised CPU kernel against its naive reference, at every SIMD level and several worker counts.</summary>
public class CpuKernelAgreementTests
{
    public static IEnumerable<object[]> Backends() => KernelHarness.Backends();

    public static readonly ConvGeometry[] Convolutions =
    {
        Conv(3, 13, 11, 5, 3, 1, 1),    // odd map, 3x3 same
        Conv(4, 9, 9, 6, 1, 1, 0),      // pointwise
        Conv(3, 23, 21, 8, 7, 2, 3),    // conv1-like, stride 2
        Conv(6, 10, 9, 7, 5, 1, 2),     // 5x5 same
        Conv(5, 15, 15, 9, 3, 2, 1),    // inception 3c-like stride 2
        Conv(16, 3, 3, 12, 3, 1, 1),    // a tiny map (grouped images)
        Conv(40, 30, 30, 33, 1, 1, 0),  // pointwise, several column chunks per image
        Conv(9, 26, 27, 35, 3, 1, 1),   // 3x3, large enough for chunking
        Conv(2, 8, 8, 3, 3, 1, 0),      // valid padding
        Conv(3, 7, 9, 4, 1, 2, 0),      // strided 1x1
        Conv(4, 12, 17, 5, 3, 3, 1),    // stride 3 (the element-by-element gather)
        Conv(3, 11, 40, 6, 5, 2, 2),    // stride 2 over rows wider than one vector
        Conv(24, 3, 3, 70, 1, 1, 0),    // pointwise through the GEMM on a tiny map: panels of several images' runs
        Conv(20, 6, 5, 12, 1, 1, 0),    // the same with runs that straddle panels, and a short last panel
        Conv(70, 3, 3, 24, 1, 1, 0),    // pointwise on a tiny map, 64+ input channels: the data pass splits dx's channels across threads
        Conv(150, 4, 4, 20, 1, 1, 0),   // pointwise on a small map, more input channels than a data band of several images
        Conv(50, 9, 9, 12, 3, 2, 1),    // stride 2 with more column-matrix rows than the data pass folds back at a time
        // One image of at most 12 positions (a batch-1 embedding's last stages): one panel of columns, the output
        // channels split across the threads in bands.
        Conv(70, 3, 3, 70, 3, 1, 1),
        Conv(80, 3, 3, 70, 1, 1, 0),
        Conv(65, 4, 3, 66, 3, 1, 1),
    };

    private static ConvGeometry Conv(int c, int h, int w, int k, int kernel, int stride, int pad)
    {
        int oh = SpecAnalyzer.OutputSize(h, kernel, stride, pad, false), ow = SpecAnalyzer.OutputSize(w, kernel, stride, pad, false);
        return new ConvGeometry(c, h, w, k, oh, ow, kernel, kernel, stride, stride, pad, pad);
    }

    public static IEnumerable<object[]> ConvCases()
    {
        foreach (var b in Backends())
        {
            for (int i = 0; i < Convolutions.Length; i++)
            {
                yield return new object[] { b[0], b[1], i, 3 };
            }
            yield return new object[] { b[0], b[1], 0, 1 };
            yield return new object[] { b[0], b[1], 5, 7 };
            yield return new object[] { b[0], b[1], 12, 7 };
            yield return new object[] { b[0], b[1], 13, 5 };
            yield return new object[] { b[0], b[1], 14, 7 };
            foreach (int dots in new[] { 15, 16, 17 }) yield return new object[] { b[0], b[1], dots, 1 };
        }
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Convolution_forward_and_backward(SimdLevel level, int threads, int which, int n)
    {
        var g = Convolutions[which];
        using var cpu = new CpuBackend(threads, level);
        var x = KernelHarness.Random(n * g.InSize, 10);
        var w = KernelHarness.Random(g.WeightSize, 11, 0.5f);
        var b = KernelHarness.Random(g.OutC, 12);
        var y = new float[n * g.OutSize];
        foreach (bool relu in new[] { false, true })
        {
            KernelHarness.Agree(cpu, new[] { x, w, b, y }, (be, v) => be.ConvForward(g, n, v[0], v[1], v[2], v[3], relu), what: $"forward {g} relu={relu}");
        }
        var dy = KernelHarness.Random(n * g.OutSize, 13);
        var dx = KernelHarness.Random(n * g.InSize, 14);
        foreach (bool accumulate in new[] { false, true })
        {
            KernelHarness.Agree(cpu, new[] { dy, w, dx }, (be, v) => be.ConvBackwardData(g, n, v[0], v[1], v[2], accumulate), what: $"backward data {g} acc={accumulate}");
        }
        FilterGradientAgrees(cpu, g, n, x, dy, 15, $"backward filter {g}");
    }

    public static IEnumerable<object[]> PoolCases()
    {
        var shapes = new (int H, int W, int K, int S, int P, bool Ceil)[]
        {
            (9, 11, 3, 2, 1, false), (9, 11, 3, 2, 0, true), (7, 7, 3, 1, 1, false), (8, 8, 2, 2, 0, false), (6, 6, 3, 2, 1, true), (5, 4, 5, 1, 2, false),
            // Stride 1 with a centred window takes the box-filter path: rows longer than a vector, a 5-wide window, and
            // rows no wider than the window's two halves (every column an edge).
            (6, 23, 3, 1, 1, false), (4, 9, 5, 1, 2, false), (3, 2, 3, 1, 1, false), (2, 1, 3, 1, 1, false),
            // Planes smaller than a vector, and planes whose rows do not divide it (the forward's flat masked path).
            (3, 3, 3, 1, 1, false), (6, 6, 3, 1, 1, false), (9, 8, 3, 1, 1, false), (5, 7, 5, 1, 2, false),
            // The widest rows whose max backward runs flat (two passes: each output's window offset, then each input's
            // gathered gradients), and rows one wider.
            (10, 12, 3, 1, 1, false), (7, 13, 3, 1, 1, false),
            // Horizontal passes sixteen outputs at a time: several vectors and a masked tail, stride 2 and a stride-1
            // window that is not centred.
            (5, 71, 3, 2, 1, false), (4, 40, 3, 2, 1, true), (5, 37, 2, 1, 0, false),
            // Stride-2 rows of exactly one and two vectors: the last output's right tap lies past the last vector.
            (5, 32, 3, 2, 1, false), (3, 64, 3, 2, 1, false),
            // Stride-1 rows of 16, 31 and 16 outputs: the shifted taps of the last vector spill into the next 16 columns.
            (4, 16, 3, 1, 1, false), (3, 31, 3, 1, 1, false), (4, 18, 3, 1, 0, false),
        };
        foreach (var b in Backends())
        {
            foreach (var kind in new[] { PoolKind.Max, PoolKind.Average, PoolKind.L2 })
            {
                foreach (var s in shapes) yield return new object[] { b[0], b[1], kind, s.H, s.W, s.K, s.S, s.P, s.Ceil };
            }
        }
    }

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void Pooling_forward_and_backward(SimdLevel level, int threads, PoolKind kind, int h, int w, int k, int s, int p, bool ceil)
    {
        int c = 5, n = 3;
        var g = new PoolGeometry(kind, c, h, w, SpecAnalyzer.OutputSize(h, k, s, p, ceil), SpecAnalyzer.OutputSize(w, k, s, p, ceil), k, k, s, s, p, p);
        using var cpu = new CpuBackend(threads, level);
        var x = KernelHarness.Random(n * g.InSize, 20);
        var y = new float[n * g.OutSize];
        KernelHarness.Agree(cpu, new[] { x, y }, (be, v) => be.PoolForward(g, n, v[0], v[1]), what: $"forward {g}");
        PoolBackwardAgrees(cpu, g, n, x, 21);
    }

    /// <summary>Pooling backward (overwriting dx, then adding into it) against the reference, from the reference's y.</summary>
    private static void PoolBackwardAgrees(CpuBackend cpu, PoolGeometry g, int n, float[] x, int seed)
    {
        using var reference = new ReferenceBackend();
        var y = KernelHarness.Run(reference, new[] { x, new float[n * g.OutSize] }, (be, v) => be.PoolForward(g, n, v[0], v[1]))[1];
        var dy = KernelHarness.Random(n * g.OutSize, seed);
        var dx = KernelHarness.Random(n * g.InSize, seed + 1);
        foreach (bool accumulate in new[] { false, true })
        {
            KernelHarness.Agree(cpu, new[] { x, y, dy, dx }, (be, v) => be.PoolBackward(g, n, v[0], v[1], v[2], v[3], accumulate), what: $"backward {g} acc={accumulate}");
        }
    }

    public static IEnumerable<object[]> ManySmallPlaneCases()
    {
        foreach (var b in Backends())
        {
            foreach (var kind in new[] { PoolKind.Max, PoolKind.L2 })
            {
                foreach (var (h, w) in new[] { (3, 3), (6, 6), (9, 8), (12, 12), (24, 24), (1, 17), (8, 40), (2, 2), (5, 32), (4, 32) })
                {
                    foreach (int stride in new[] { 1, 2 }) yield return new object[] { b[0], b[1], kind, h, w, stride };
                }
            }
        }
    }

    /// <summary>
    /// 3×3 pooling with padding 1, stride 1 (a centred box) and 2, over enough planes that work items hold several
    /// planes each and the batch splits into several items: the flat forward paths' masks and offsets must restart
    /// with every plane and every item.
    /// </summary>
    [Theory]
    [MemberData(nameof(ManySmallPlaneCases))]
    public void Pooling_over_many_small_planes(SimdLevel level, int threads, PoolKind kind, int h, int w, int stride)
    {
        int c = 37, n = 3;
        var g = new PoolGeometry(kind, c, h, w, SpecAnalyzer.OutputSize(h, 3, stride, 1, false), SpecAnalyzer.OutputSize(w, 3, stride, 1, false), 3, 3, stride, stride, 1, 1);
        using var cpu = new CpuBackend(threads, level);
        var x = KernelHarness.Random(n * g.InSize, 23);
        var y = KernelHarness.Random(n * g.OutSize, 24);
        KernelHarness.Agree(cpu, new[] { x, y }, (be, v) => be.PoolForward(g, n, v[0], v[1]), what: $"forward {g}");
        // Backward over the same blocks of planes (the flat path for narrow stride-1 windows).
        PoolBackwardAgrees(cpu, g, n, x, 25);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Winograd_forward_and_backward_data_agree_with_the_reference(SimdLevel level, int threads)
    {
        // 3×3 stride-1 "same" convolutions with enough channels take Winograd F(2×2, 3×3): odd and even maps (ragged
        // edge tiles), a map split into several items, small maps grouped several images to an item, rows of more
        // than sixteen tiles; batches large enough for one item per thread (five threads included). At levels below Vector512 the transforms run scalar.
        // 24 input channels (which the direct kernel fits too) take Winograd forward; their backward data pass, with 24
        // output channels, keeps im2col. Maps of up to three tiles a row (6×6, 7×5, 4×4, 9×4) gather their tiles
        // sixteen at a time across rows and images, the last sixteen cut short, in all three passes; 9×8 (four tiles a
        // row) runs along rows forward and gathers for the filter gradient. Filter pair counts
        // that are and are not whole sixteens (the filter transform's vector and scalar parts); filter gradients whose
        // packed side is the input and the output (more and fewer output than input channels, large and small maps).
        foreach (var (c, h, w, k, n) in new[]
                 {
                     (32, 13, 12, 40, 5), (33, 12, 15, 32, 5), (32, 48, 47, 32, 1), (48, 12, 12, 64, 10), (32, 12, 45, 32, 5), (24, 13, 12, 32, 5),
                     (48, 6, 6, 64, 20), (96, 7, 7, 192, 10), (25, 7, 5, 33, 9), (32, 4, 4, 40, 5), (40, 9, 4, 32, 10), (48, 9, 8, 40, 10),
                     (32, 12, 12, 40, 32), (33, 13, 11, 32, 26), (24, 24, 24, 48, 16), (40, 7, 7, 32, 32),
                 })
        foreach (bool f4 in Im2Col.Wide(level) ? new[] { true, false } : new[] { false })
        {
            var g = Conv(c, h, w, k, 3, 1, 1);
            // The tap GEMMs off: they take the maps of 6×6 and under first.
            using var cpu = new CpuBackend(threads, level) { Winograd4 = f4, Taps = false };
            Assert.True(cpu.TakesWinograd(g, n), $"{g}, batch {n}, f4={f4}, should take the Winograd path");
            var x = KernelHarness.Random(n * g.InSize, 40);
            var wt = KernelHarness.Random(g.WeightSize, 41, 0.2f);
            var b = KernelHarness.Random(g.OutC, 42);
            foreach (bool relu in new[] { false, true })
            {
                KernelHarness.Agree(cpu, new[] { x, wt, b, new float[n * g.OutSize] }, (be, v) => be.ConvForward(g, n, v[0], v[1], v[2], v[3], relu), what: $"winograd {g} f4={f4} n={n} relu={relu}");
            }
            // The backward data pass is the transposed convolution (filters transposed and rotated), on the same path.
            Assert.Equal(c >= CpuBackend.WinogradMinOutChannels, cpu.TakesWinograd(CpuBackend.Transposed(g), n));
            var dy = KernelHarness.Random(n * g.OutSize, 43);
            var dx = KernelHarness.Random(n * g.InSize, 44);
            foreach (bool accumulate in new[] { false, true })
            {
                KernelHarness.Agree(cpu, new[] { dy, wt, dx }, (be, v) => be.ConvBackwardData(g, n, v[0], v[1], v[2], accumulate), what: $"winograd backward data {g} f4={f4} n={n} acc={accumulate}");
            }
            // The filter gradient by the adjoint transforms (dw and db overwritten, then accumulated), ragged edge tiles included.
            FilterGradientAgrees(cpu, g, n, x, dy, 45, $"winograd filter gradient {g}");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Winograd_lanes_split_output_channels_where_the_tiles_do_not_divide(SimdLevel level, int threads)
    {
        // Where a batch's lane tiles do not divide among the workers (12×12 maps have nine), each item computes part of
        // the output channels: whole sixteens, the last part taking the rest (72 channels: 32 + 40 on two workers,
        // 16 + 16 + 16 + 24 on five; 40: 16 + 24). Results agree with the reference either way. 3×3 maps keep im2col
        // (their lanes were slower inside NN4).
        foreach (var (c, h, w, k, n) in new[] { (48, 12, 12, 72, 16), (40, 12, 12, 40, 16), (40, 3, 3, 35, 16) })
        {
            var g = Conv(c, h, w, k, 3, 1, 1);
            using var cpu = new CpuBackend(threads, level);
            Assert.Equal(h > 3, cpu.TakesWinograd(g, n));
            ConvPassesAgree(cpu, g, n, 60, 0.2f, filter: false, "winograd lanes");
        }
    }

    /// <summary>
    /// The forward pass (with and without ReLU), the backward data pass (overwriting and accumulating) and, with
    /// <paramref name="filter"/>, the filter gradient of g on n random images agree with the reference.
    /// </summary>
    private static void ConvPassesAgree(CpuBackend cpu, ConvGeometry g, int n, int seed, float weightScale, bool filter, string label)
    {
        var x = KernelHarness.Random(n * g.InSize, seed);
        var wt = KernelHarness.Random(g.WeightSize, seed + 1, weightScale);
        var b = KernelHarness.Random(g.OutC, seed + 2);
        foreach (bool relu in new[] { false, true })
        {
            KernelHarness.Agree(cpu, new[] { x, wt, b, new float[n * g.OutSize] }, (be, v) => be.ConvForward(g, n, v[0], v[1], v[2], v[3], relu), what: $"{label} {g} n={n} relu={relu}");
        }
        var dy = KernelHarness.Random(n * g.OutSize, seed + 3);
        var dx = KernelHarness.Random(n * g.InSize, seed + 4);
        foreach (bool accumulate in new[] { false, true })
        {
            KernelHarness.Agree(cpu, new[] { dy, wt, dx }, (be, v) => be.ConvBackwardData(g, n, v[0], v[1], v[2], accumulate), what: $"{label} backward data {g} n={n} acc={accumulate}");
        }
        if (!filter) return;
        // The filter gradient by the adjoint transforms (dw and db overwritten, then accumulated).
        FilterGradientAgrees(cpu, g, n, x, dy, seed + 5, $"{label} filter gradient {g} n={n}");
    }

    /// <summary>
    /// The filter gradient against the reference from random dw and db (seeds <paramref name="seed"/> and seed + 1):
    /// overwritten, then accumulated.
    /// </summary>
    private static void FilterGradientAgrees(CpuBackend cpu, ConvGeometry g, int n, float[] x, float[] dy, int seed, string what)
    {
        foreach (bool accumulate in new[] { false, true })
        {
            KernelHarness.Agree(cpu, new[] { x, dy, KernelHarness.Random(g.WeightSize, seed), KernelHarness.Random(g.OutC, seed + 1) },
                (be, v) => be.ConvBackwardFilter(g, n, v[0], v[1], v[2], v[3], accumulate), what: $"{what} acc={accumulate}");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Winograd5_forward_and_backward_passes_agree_with_the_reference(SimdLevel level, int threads)
    {
        // 5×5 stride-1 "same" convolutions (padding 2) of batches that fill sixteen-image lanes take F(2×2, 5×5) at the wide
        // level (elsewhere im2col): even maps, odd maps (ragged edge tiles), a second lane group a third full, and the
        // backward data pass (the transposed convolution, filters rotated), overwriting and accumulating; the filter
        // gradient by the adjoint transforms (on maps of more than nine tiles: 6×6 keeps im2col for it).
        foreach (var (c, h, w, k, n) in new[] { (32, 6, 6, 64, 16), (24, 12, 12, 32, 16), (32, 7, 5, 40, 26), (40, 9, 8, 32, 32) })
        {
            var g = Conv(c, h, w, k, 5, 1, 2);
            using var cpu = new CpuBackend(threads, level) { Taps = false };
            Assert.Equal(Im2Col.Wide(level), cpu.TakesWinograd5(g, n));
            ConvPassesAgree(cpu, g, n, 50, 0.1f, filter: true, "winograd5");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Filter_gradient_of_tiny_maps_split_by_rows_agrees_with_the_reference(SimdLevel level, int threads)
    {
        // Tiny maps whose weights outnumber a part's columns split dW's rows across the workers (more than one thread):
        // 3×3 same, 1×1, stride 2 onto 3×3, tap counts that are not whole register tiles (9·23 = 207), more items than
        // a worker's share of output channels for db. dw and db overwritten, then accumulated.
        foreach (var (g, n) in new[]
                 {
                     (Conv(24, 3, 3, 40, 3, 1, 1), 4), (Conv(50, 3, 3, 48, 1, 1, 0), 3), (Conv(20, 6, 5, 48, 3, 2, 1), 4),
                     (Conv(23, 3, 3, 33, 3, 1, 1), 2), (Conv(7, 2, 2, 17, 1, 1, 0), 3),
                     // dW rows at least as long as the batch's columns (few output channels, more columns than a register
                     // tile's multiple, and 576 columns of a 6×6 map, more than the tiny maps' limit).
                     (Conv(150, 4, 4, 40, 1, 1, 0), 8), (Conv(600, 6, 6, 24, 1, 1, 0), 16),
                 })
        {
            // The 3×3 maps' tap GEMMs off, so that their shapes reach the row split.
            using var cpu = new CpuBackend(threads, level) { Taps = false };
            Assert.False(cpu.TakesTaps(g, n));
            Assert.Equal(threads > 1, CpuBackend.ConvBackwardFilterWorkSplitsRows(g, n, threads));
            var x = KernelHarness.Random(n * g.InSize, 80);
            var dy = KernelHarness.Random(n * g.OutSize, 81);
            FilterGradientAgrees(cpu, g, n, x, dy, 82, $"row-split filter gradient {g}, batch {n},");
        }
        // Shallower rows, or more columns than the deep split's limit (NN2's 7×7 maps at batch 16), keep the image split.
        Assert.False(CpuBackend.ConvBackwardFilterWorkSplitsRows(Conv(500, 6, 6, 24, 1, 1, 0), 16, threads));
        Assert.False(CpuBackend.ConvBackwardFilterWorkSplitsRows(Conv(1024, 7, 7, 128, 1, 1, 0), 16, threads));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Tap_gemms_of_small_maps_agree_with_the_reference(SimdLevel level, int threads)
    {
        // 3×3 and 5×5 "same" convolutions on maps of at most 6×6 run as one GEMM per tap over the positions it reaches:
        // 6×6, 5×4, 4×4, 3×3, 2×2, 3×2 and 1×1 maps (where only the centre tap reaches); 5×5 kernels on maps smaller
        // than the kernel; output channels that are not whole parts of 16 (33, 40, the transposed data pass's 17) and
        // fewer than two parts (16: one thread takes all); input channels that leave a tail after the reorder's sixteens
        // (23); batches of 5 to 64 images (at least 64 columns), whole sixteens (transposed sixteen images at a time,
        // two groups at 32; stride 1 packs the input once for all taps) and not. Stride 2 onto outputs of at most 6×6
        // (the data pass by parity classes where the batch is whole sixteens, else im2col): 12×12 → 6×6 with 3×3 and
        // 5×5 kernels, 6×6 → 3×3, odd maps (7×5 → 4×3, 5×5 → 3×3), both with and without whole sixteens.
        foreach (var (c, h, w, k, kernel, stride, n) in new[]
                 {
                     (23, 3, 3, 33, 3, 1, 8), (40, 3, 3, 48, 3, 1, 16), (17, 2, 2, 32, 3, 1, 17), (32, 3, 2, 20, 3, 1, 11), (16, 1, 1, 16, 3, 1, 64),
                     (48, 6, 6, 40, 3, 1, 32), (17, 4, 4, 33, 3, 1, 5), (32, 6, 6, 64, 5, 1, 16), (20, 5, 4, 24, 5, 1, 7), (24, 3, 3, 32, 5, 1, 16),
                     (24, 12, 12, 40, 3, 2, 16), (20, 12, 12, 32, 5, 2, 16), (40, 6, 6, 48, 3, 2, 16), (17, 7, 5, 33, 3, 2, 7), (16, 5, 5, 16, 5, 2, 9),
                     // 48 images: a position's columns start at either half of a 32-column panel.
                     (24, 5, 3, 40, 3, 1, 48), (17, 7, 5, 33, 3, 2, 16), (16, 5, 5, 16, 5, 2, 32),
                 })
        {
            var g = Conv(c, h, w, k, kernel, stride, kernel / 2);
            using var cpu = new CpuBackend(threads, level);
            Assert.True(cpu.TakesTaps(g, n));
            ConvPassesAgree(cpu, g, n, 90, 0.3f, filter: true, "taps");
            // A forward output into its slice of a wider tensor (an inception branch writing into the concatenation).
            var x = KernelHarness.Random(n * g.InSize, 95);
            var wt = KernelHarness.Random(g.WeightSize, 96, 0.3f);
            var b = KernelHarness.Random(g.OutC, 97);
            long yStride = g.OutSize + 5L * g.OutH * g.OutW;
            KernelHarness.Agree(cpu, new[] { x, wt, b, KernelHarness.Random((int)(n * yStride), 98) },
                (be, v) => be.ConvForward(g, n, v[0], v[1], v[2], v[3].Slice(2L * g.OutH * g.OutW), relu: true, yStride: yStride), what: $"taps {g} n={n} strided");
        }
        // Off, and on larger maps (Winograd's), other kernels, strides or paddings, too few channels or columns, they are not taken.
        using var off = new CpuBackend(threads, level) { Taps = false };
        Assert.False(off.TakesTaps(Conv(23, 3, 3, 33, 3, 1, 1), 16));
        using var on = new CpuBackend(threads, level);
        Assert.False(on.TakesTaps(Conv(23, 7, 7, 33, 3, 1, 1), 16));
        Assert.False(on.TakesTaps(Conv(23, 6, 7, 33, 5, 1, 2), 16));
        Assert.False(on.TakesTaps(Conv(23, 3, 3, 33, 1, 1, 0), 16));
        Assert.False(on.TakesTaps(Conv(23, 6, 6, 33, 7, 1, 3), 16));
        Assert.False(on.TakesTaps(Conv(23, 14, 14, 33, 3, 2, 1), 16));
        Assert.False(on.TakesTaps(CpuBackend.Transposed(Conv(23, 12, 12, 33, 3, 2, 1)), 16));
        Assert.False(on.TakesTaps(Conv(23, 9, 9, 33, 3, 3, 1), 16));
        Assert.False(on.TakesTaps(Conv(23, 6, 6, 33, 3, 1, 0), 16));
        Assert.False(on.TakesTaps(Conv(23, 3, 3, 15, 3, 1, 1), 16));
        Assert.False(on.TakesTaps(Conv(23, 3, 3, 33, 3, 1, 1), 7));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Direct_convolution_of_first_layers_agrees_with_the_reference(SimdLevel level, int threads)
    {
        // Few input taps and output channels in sixteens take the direct kernel (AVX-512 only; narrower levels and the
        // direct-off backend take im2col, which must agree too): stride 2 with odd and even padding, stride 1, rows of
        // one full tile, several tiles and a masked tail, bands of rows cut short at the bottom, 32 channels (two groups);
        // tap counts that leave 0, 1, 2 and 4 taps after the filter gradient's groups of five; a map taller than one of
        // the filter gradient's bands.
        foreach (var (c, h, w, k, kernel, stride, pad, n) in new[]
                 {
                     (3, 23, 41, 16, 7, 2, 3, 2), (3, 19, 34, 32, 3, 2, 1, 3), (2, 11, 37, 16, 5, 1, 2, 2),
                     (1, 9, 18, 16, 3, 1, 0, 1), (3, 17, 35, 16, 3, 2, 0, 2), (4, 6, 63, 16, 2, 2, 0, 1),
                     // The most taps (24·3·3 = 216) and the narrowest rows (15, one tile with a lane to spare).
                     (24, 7, 15, 32, 3, 1, 1, 2),
                     // More output rows (52) than a band of the filter gradient.
                     (3, 104, 34, 16, 7, 2, 3, 2),
                 })
        {
            var g = Conv(c, h, w, k, kernel, stride, pad);
            foreach (bool direct in new[] { true, false })
            {
                using var cpu = new CpuBackend(threads, level, direct: direct);
                Assert.Equal(direct && level == SimdLevel.Vector512 && Gemm.Best == SimdLevel.Vector512 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported, cpu.TakesDirect(g));
                var x = KernelHarness.Random(n * g.InSize, 70);
                var wt = KernelHarness.Random(g.WeightSize, 71, 0.3f);
                var b = KernelHarness.Random(g.OutC, 72);
                foreach (bool relu in new[] { false, true })
                {
                    KernelHarness.Agree(cpu, new[] { x, wt, b, new float[n * g.OutSize] }, (be, v) => be.ConvForward(g, n, v[0], v[1], v[2], v[3], relu), what: $"direct={direct} {g} relu={relu}");
                }
                // The filter gradient of these layers runs on the same prepared bands (dw and db overwritten, then accumulated).
                var dy = KernelHarness.Random(n * g.OutSize, 73);
                FilterGradientAgrees(cpu, g, n, x, dy, 74, $"direct={direct} {g} filter gradient");
            }
        }
        // 1×1 layers keep the GEMM, which reads their input in place.
        using (var cpu = new CpuBackend(threads, level)) Assert.False(cpu.TakesDirect(Conv(16, 20, 40, 16, 1, 1, 0)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sibling_convolutions_in_one_call_agree_with_the_reference(SimdLevel level, int threads)
    {
        // 1×1 convolutions of one input as one call: the forward and filter passes pack x once for all of them, the data
        // pass writes dx once. The reference runs one call each. Odd maps and widths, a tiny map whose whole batch is one item (the
        // threads splitting the stacked rows, which then straddle members), large maps cut into chunks, narrow members,
        // more members than one fused call takes, a first member that writes into a wider tensor (an image stride), and
        // more input channels than the data pass computes at a time for several images (bands of dx's channels).
        foreach (var (c, h, w, outs, n) in new (int, int, int, int[], int)[]
        {
            (24, 6, 6, new[] { 10, 40, 7 }, 3), (20, 3, 3, new[] { 70, 9 }, 16), (9, 13, 11, new[] { 5, 3, 17 }, 2),
            (33, 30, 30, new[] { 4, 20 }, 2), (70, 3, 3, new[] { 24, 48, 8 }, 7), (6, 5, 5, Enumerable.Repeat(3, CpuBackend.MaxSiblings + 1).ToArray(), 2),
            (300, 6, 6, new[] { 16, 40, 9 }, 5), (100, 3, 3, new[] { 48, 40, 7 }, 1),
        })
        {
            var g = outs.Select(k => Conv(c, h, w, k, 1, 1, 0)).ToArray();
            int m = g.Length, hw = h * w;
            long wideStride = (outs[0] + 5L) * hw;
            var strides = new long[m];
            strides[0] = wideStride;
            Assert.Equal(m <= CpuBackend.MaxSiblings, CpuBackend.FusesSiblings(g));
            using var cpu = new CpuBackend(threads, level);
            var inputs = new List<float[]> { KernelHarness.Random(n * c * hw, 90) };
            inputs.AddRange(g.Select((gi, i) => KernelHarness.Random(gi.WeightSize, 91 + i, 0.4f)));
            inputs.AddRange(g.Select((gi, i) => KernelHarness.Random(gi.OutC, 120 + i)));
            inputs.AddRange(g.Select((gi, i) => KernelHarness.Random((int)(i == 0 ? n * wideStride : n * gi.OutSize), 150 + i)));
            foreach (bool relu in new[] { false, true })
            {
                KernelHarness.Agree(cpu, inputs.ToArray(), (be, v) => be.ConvForwardSiblings(g, n, v[0], v[1..(1 + m)], v[(1 + m)..(1 + 2 * m)], v[(1 + 2 * m)..], relu, strides),
                    what: $"siblings forward {c}x{h}x{w} -> {string.Join("+", outs)} relu={relu}");
            }
            var data = new List<float[]>(g.Select((gi, i) => KernelHarness.Random(n * gi.OutSize, 180 + i)));
            data.AddRange(inputs.Skip(1).Take(m));
            data.Add(KernelHarness.Random(n * c * hw, 210));
            foreach (bool accumulate in new[] { false, true })
            {
                KernelHarness.Agree(cpu, data.ToArray(), (be, v) => be.ConvBackwardDataSiblings(g, n, v[..m], v[m..(2 * m)], v[2 * m], accumulate),
                    what: $"siblings data {c}x{h}x{w} -> {string.Join("+", outs)} acc={accumulate}");
            }
            // The filter gradients: x, the members' dy, then their dw and db (added to when accumulating).
            var filter = new List<float[]> { inputs[0] };
            filter.AddRange(data.Take(m));
            filter.AddRange(g.Select((gi, i) => KernelHarness.Random(gi.WeightSize, 240 + i)));
            filter.AddRange(g.Select((gi, i) => KernelHarness.Random(gi.OutC, 270 + i)));
            foreach (bool accumulate in new[] { false, true })
            {
                KernelHarness.Agree(cpu, filter.ToArray(), (be, v) => be.ConvBackwardFilterSiblings(g, n, v[0], v[1..(1 + m)], v[(1 + m)..(1 + 2 * m)], v[(1 + 2 * m)..], accumulate),
                    tolerance: 2e-4, what: $"siblings filter {c}x{h}x{w} -> {string.Join("+", outs)} acc={accumulate}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Narrow_pointwise_convolution_agrees_with_the_reference(SimdLevel level, int threads)
    {
        // 1×1 layers with at most 64 outputs on maps of 64+ pixels read x in place (AVX-512 only): channel groups of four
        // and short ones (1, 6, 61 outputs), blocks of 64 pixels, sixteen-pixel steps and a masked tail, maps cut into
        // several items.
        bool wide = level == SimdLevel.Vector512 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        foreach (var (c, h, w, k, n) in new[] { (16, 35, 29, 16, 2), (7, 8, 8, 1, 3), (33, 9, 13, 6, 2), (5, 21, 23, 61, 1), (64, 16, 16, 64, 2) })
        {
            var g = Conv(c, h, w, k, 1, 1, 0);
            foreach (bool direct in new[] { true, false })
            {
                using var cpu = new CpuBackend(threads, level, direct: direct);
                Assert.Equal(direct && wide, cpu.TakesPointwise(g));
                var x = KernelHarness.Random(n * g.InSize, 80);
                var wt = KernelHarness.Random(g.WeightSize, 81, 0.3f);
                var b = KernelHarness.Random(g.OutC, 82);
                foreach (bool relu in new[] { false, true })
                {
                    KernelHarness.Agree(cpu, new[] { x, wt, b, new float[n * g.OutSize] }, (be, v) => be.ConvForward(g, n, v[0], v[1], v[2], v[3], relu), what: $"pointwise direct={direct} {g} relu={relu}");
                }
            }
        }
        using var backend = new CpuBackend(threads, level);
        Assert.False(backend.TakesPointwise(Conv(16, 10, 10, 65, 1, 1, 0)), "65 outputs keep the GEMM");
        Assert.False(backend.TakesPointwise(Conv(16, 7, 9, 16, 1, 1, 0)), "63 pixels keep the GEMM");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Max_pooling_sends_a_tied_windows_gradient_to_its_first_maximum(SimdLevel level, int threads)
    {
        // After a ReLU most windows tie (at zero); the gradient must still go to one input, the first in row-major order
        // (narrow stride-1 windows included, whose backward runs flat over blocks of planes, and planes small enough
        // for the sixteen-plane lanes).
        foreach (var (h, w, k, st, p) in new[] { (9, 37, 3, 2, 1), (7, 40, 2, 1, 0), (6, 19, 3, 2, 0), (6, 6, 3, 1, 1), (3, 3, 3, 1, 1), (12, 12, 3, 1, 1), (6, 6, 3, 2, 1) })
        {
            int c = 4, n = 2;
            var g = new PoolGeometry(PoolKind.Max, c, h, w, SpecAnalyzer.OutputSize(h, k, st, p, false), SpecAnalyzer.OutputSize(w, k, st, p, false), k, k, st, st, p, p);
            var x = KernelHarness.Random(n * g.InSize, 30).Select(v => MathF.Max(0f, MathF.Round(v * 2f) / 2f)).ToArray();
            using var reference = new ReferenceBackend();
            var y = KernelHarness.Run(reference, new[] { x, new float[n * g.OutSize] }, (be, v) => be.PoolForward(g, n, v[0], v[1]))[1];
            var dy = KernelHarness.Random(n * g.OutSize, 31);
            using var cpu = new CpuBackend(threads, level);
            KernelHarness.Agree(cpu, new[] { x, y, dy, new float[n * g.InSize] }, (be, v) => be.PoolBackward(g, n, v[0], v[1], v[2], v[3], false), what: $"tied backward {g}");
            // Every output's gradient lands once: the sums agree whatever the routing.
            var dx = KernelHarness.Run(cpu, new[] { x, y, dy, new float[n * g.InSize] }, (be, v) => be.PoolBackward(g, n, v[0], v[1], v[2], v[3], false))[3];
            Assert.Equal(dy.Sum(), dx.Sum(), 3);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Local_response_normalisation(SimdLevel level, int threads)
    {
        using var cpu = new CpuBackend(threads, level);
        foreach (var g in new[] { new LrnGeometry(7, 5, 3, 5, 1e-4f, 0.75f, 1f), new LrnGeometry(4, 3, 3, 3, 0.5f, 0.6f, 2f), new LrnGeometry(2, 9, 1, 5, 2f, 0.75f, 1f),
            new LrnGeometry(9, 7, 5, 5, 1e-4f, 0.75f, 1f), new LrnGeometry(6, 4, 8, 3, 0.5f, 0.75f, 2f) })
        {
            int n = 3;
            var x = KernelHarness.Random(n * g.Length, 30, 3f);
            var y = new float[n * g.Length];
            KernelHarness.Agree(cpu, new[] { x, y }, (be, v) => be.LrnForward(g, n, v[0], v[1]), what: $"forward {g}");
            using var reference = new ReferenceBackend();
            y = KernelHarness.Run(reference, new[] { x, y }, (be, v) => be.LrnForward(g, n, v[0], v[1]))[1];
            var dy = KernelHarness.Random(n * g.Length, 31);
            var dx = KernelHarness.Random(n * g.Length, 32);
            foreach (bool accumulate in new[] { false, true })
            {
                KernelHarness.Agree(cpu, new[] { x, y, dy, dx }, (be, v) => be.LrnBackward(g, n, v[0], v[1], v[2], v[3], accumulate), what: $"backward {g} acc={accumulate}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Fully_connected_maxout_and_l2_normalisation(SimdLevel level, int threads)
    {
        using var cpu = new CpuBackend(threads, level);
        foreach (var (n, inF, outF) in new[] { (1, 1, 1), (1, 37, 19), (1, 16, 5), (1, 300, 70), (1, 83, 133), (3, 37, 19), (8, 300, 70), (9, 70, 66), (33, 5, 130), (16, 83, 37), (32, 48, 9), (17, 16, 5), (20, 5, 7) })
        {
            var x = KernelHarness.Random(n * inF, 40);
            var w = KernelHarness.Random(outF * inF, 41, 0.3f);
            var b = KernelHarness.Random(outF, 42);
            var y = new float[n * outF];
            foreach (bool relu in new[] { false, true })
            {
                KernelHarness.Agree(cpu, new[] { x, w, b, y }, (be, v) => be.LinearForward(n, inF, outF, v[0], v[1], v[2], v[3], relu), what: $"linear {n}x{inF}->{outF}");
            }
            var dy = KernelHarness.Random(n * outF, 43);
            var dx = KernelHarness.Random(n * inF, 44);
            foreach (bool accumulate in new[] { false, true })
            {
                KernelHarness.Agree(cpu, new[] { dy, w, dx }, (be, v) => be.LinearBackwardData(n, inF, outF, v[0], v[1], v[2], accumulate), what: "linear data");
            }
            var dw = KernelHarness.Random(outF * inF, 45);
            var db = KernelHarness.Random(outF, 46);
            foreach (bool accumulate in new[] { false, true })
            {
                KernelHarness.Agree(cpu, new[] { x, dy, dw, db }, (be, v) => be.LinearBackwardFilter(n, inF, outF, v[0], v[1], v[2], v[3], accumulate), what: $"linear filter acc={accumulate}");
            }
        }

        foreach (var (n, units, pool) in new[] { (2, 5, 2), (3, 7, 3), (1, 4, 1) })
        {
            var x = KernelHarness.Random(n * units * pool, 50);
            var y = new float[n * units];
            KernelHarness.Agree(cpu, new[] { x, y }, (be, v) => be.MaxoutForward(n, units, pool, v[0], v[1]), what: "maxout");
            var dy = KernelHarness.Random(n * units, 51);
            var dx = KernelHarness.Random(n * units * pool, 52);
            foreach (bool accumulate in new[] { false, true })
            {
                KernelHarness.Agree(cpu, new[] { x, dy, dx }, (be, v) => be.MaxoutBackward(n, units, pool, v[0], v[1], v[2], accumulate), what: "maxout backward");
            }
        }

        foreach (var (n, dim) in new[] { (3, 128), (2, 7), (1, 1) })
        {
            var x = KernelHarness.Random(n * dim, 60);
            var y = new float[n * dim];
            KernelHarness.Agree(cpu, new[] { x, y }, (be, v) => be.L2NormalizeForward(n, dim, v[0], v[1]), 1e-5, "l2norm");
            using var reference = new ReferenceBackend();
            y = KernelHarness.Run(reference, new[] { x, y }, (be, v) => be.L2NormalizeForward(n, dim, v[0], v[1]))[1];
            var dy = KernelHarness.Random(n * dim, 61);
            var dx = KernelHarness.Random(n * dim, 62);
            foreach (bool accumulate in new[] { false, true })
            {
                KernelHarness.Agree(cpu, new[] { x, y, dy, dx }, (be, v) => be.L2NormalizeBackward(n, dim, v[0], v[1], v[2], v[3], accumulate), 1e-5, "l2norm backward");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Concat_forward_and_backward(SimdLevel level, int threads)
    {
        using var cpu = new CpuBackend(threads, level);
        // Small concatenations (one thread copies them; 15 floats an image leave a scalar tail) and an inception-sized
        // one (an image per worker item).
        foreach (var (n, spatial, partC, wholeC, offset) in new[] { (3, 7, 4, 11, 5), (2, 5, 3, 9, 2), (16, 144, 96, 320, 128) })
        {
            var part = KernelHarness.Random(n * partC * spatial, 70);
            var whole = KernelHarness.Random(n * wholeC * spatial, 71);
            KernelHarness.Agree(cpu, new[] { part, whole }, (be, v) => be.ConcatForward(n, spatial, v[0], partC, v[1], wholeC, offset), 0, $"concat {n}×{partC}×{spatial}");
            foreach (bool accumulate in new[] { false, true })
            {
                KernelHarness.Agree(cpu, new[] { whole, part }, (be, v) => be.ConcatBackward(n, spatial, v[0], wholeC, offset, v[1], partC, accumulate), 0, $"concat backward {n}×{partC}×{spatial}");
            }
            // With the ReLU backward of a branch's output folded in: a ReLU output, zero on about half its values and on
            // every fifth exactly, masks the copied gradient (dPart's old values are overwritten).
            var relu = part.Select((v, i) => i % 5 == 0 ? 0f : Math.Max(v, 0f)).ToArray();
            KernelHarness.Agree(cpu, new[] { whole, relu, KernelHarness.Random(part.Length, 72) }, (be, v) => be.ConcatBackwardRelu(n, spatial, v[0], wholeC, offset, v[1], v[2], partC), 0, $"concat+relu backward {n}×{partC}×{spatial}");
        }
    }

    /// <summary>
    /// The forward kernels' output image stride: each image written into its channel slice of a wider tensor (as an
    /// inference model writes an inception branch straight into the concatenation), equal to the compact result, and
    /// the floats between the slices left as they were. Shapes that take every convolution path (narrow 1×1, Winograd,
    /// direct, im2col one image and several to an item) and every forward pooling path (halving, flat box, box, rows).
    /// </summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void Strided_forward_outputs_fill_their_slice_of_a_wider_tensor(SimdLevel level, int threads)
    {
        using var cpu = new CpuBackend(threads, level);
        using var reference = new ReferenceBackend();
        const int n = 5;
        foreach (var g in new[]
                 {
                     Conv(16, 35, 29, 16, 1, 1, 0), Conv(32, 13, 12, 40, 3, 1, 1), Conv(3, 23, 41, 16, 7, 2, 3),
                     Conv(9, 26, 27, 35, 3, 1, 1), Conv(16, 3, 3, 12, 3, 1, 1), Conv(20, 6, 5, 12, 1, 1, 0),
                     // Winograd with tiles gathered across tile rows and images.
                     Conv(24, 7, 5, 32, 3, 1, 1),
                 })
        {
            var x = KernelHarness.Random(n * g.InSize, 90);
            var wt = KernelHarness.Random(g.WeightSize, 91, 0.3f);
            var b = KernelHarness.Random(g.OutC, 92);
            var compact = KernelHarness.Run(reference, new[] { x, wt, b, new float[n * g.OutSize] }, (be, v) => be.ConvForward(g, n, v[0], v[1], v[2], v[3], relu: true))[3];
            CheckSlices(g.ToString(), compact, g.OutSize, (be, y, stride) => KernelHarness.Run(be, new[] { x, wt, b, y }, (bb, v) => bb.ConvForward(g, n, v[0], v[1], v[2], v[3].Slice(g.OutSize), relu: true, stride))[3]);
        }
        foreach (var g in new[]
                 {
                     new PoolGeometry(PoolKind.Max, 37, 24, 24, 12, 12, 3, 3, 2, 2, 1, 1), new PoolGeometry(PoolKind.L2, 37, 6, 6, 6, 6, 3, 3, 1, 1, 1, 1),
                     new PoolGeometry(PoolKind.Max, 21, 9, 40, 9, 40, 3, 3, 1, 1, 1, 1), new PoolGeometry(PoolKind.Average, 7, 11, 13, 5, 6, 3, 3, 2, 2, 0, 0),
                 })
        {
            var x = KernelHarness.Random(n * g.InSize, 93);
            var compact = KernelHarness.Run(reference, new[] { x, new float[n * g.OutSize] }, (be, v) => be.PoolForward(g, n, v[0], v[1]))[1];
            CheckSlices(g.ToString(), compact, g.OutSize, (be, y, stride) => KernelHarness.Run(be, new[] { x, y }, (bb, v) => bb.PoolForward(g, n, v[0], v[1].Slice(g.OutSize), stride))[1]);
        }

        // Images `size` floats long, `stride` apart from offset `size` on, in a tensor of sentinels.
        void CheckSlices(string what, float[] compact, int size, Func<IBackend, float[], long, float[]> run)
        {
            long stride = 3L * size + 5;
            var sentinels = KernelHarness.Random((int)(size + n * stride), 94);
            foreach (var backend in new IBackend[] { cpu, reference })
            {
                var y = run(backend, (float[])sentinels.Clone(), stride);
                var expected = (float[])sentinels.Clone();
                for (int i = 0; i < n; i++) Array.Copy(compact, i * size, expected, size + i * stride, size);
                KernelHarness.AssertClose(expected, y, 1e-4, $"{backend.Name} strided {what}");
                for (int i = 0; i < expected.Length; i++)
                {
                    long at = i - size;
                    bool inside = at >= 0 && at % stride < size && at / stride < n;
                    if (!inside) Assert.True(expected[i] == y[i], $"{backend.Name} strided {what}: float {i}, outside every image, changed");
                }
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => run(cpu, new float[size + n * size], size - 1));
        }
    }

    /// <summary>
    /// A convolution and the pooling of its output in one call: image by image where the direct kernel and a halving
    /// max pooling fit (AVX-512, two images per thread), the two calls otherwise. z as the reference computes it; y the
    /// convolution's output when kept (training), and as it was when not (an inference model's scratch holds it); z
    /// also into a channel slice of a wider tensor.
    /// </summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void Convolution_and_pooling_in_one_call(SimdLevel level, int threads)
    {
        using var cpu = new CpuBackend(threads, level);
        using var reference = new ReferenceBackend();
        bool wide = level == SimdLevel.Vector512 && Gemm.Best == SimdLevel.Vector512 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        foreach (var (conv, n) in new[] { (Conv(3, 23, 41, 16, 7, 2, 3), 2 * threads), (Conv(3, 29, 33, 32, 3, 2, 1), 2 * threads + 1), (Conv(3, 23, 41, 16, 7, 2, 3), 1), (Conv(5, 14, 12, 6, 3, 1, 1), 4) })
        {
            var pool = new PoolGeometry(PoolKind.Max, conv.OutC, conv.OutH, conv.OutW, (conv.OutH + 1) / 2, (conv.OutW + 1) / 2, 3, 3, 2, 2, 1, 1);
            Assert.Equal(wide && n >= 2 * threads && conv.OutC % 16 == 0, cpu.TakesConvPool(conv, pool, n));
            var x = KernelHarness.Random(n * conv.InSize, 100);
            var wt = KernelHarness.Random(conv.WeightSize, 101, 0.3f);
            var b = KernelHarness.Random(conv.OutC, 102);
            var y0 = KernelHarness.Random(n * conv.OutSize, 103);
            long stride = pool.OutSize + 7;
            var z0 = KernelHarness.Random((int)(n * stride), 104);
            var expected = KernelHarness.Run(reference, new[] { x, wt, b, y0, z0 }, (be, v) =>
            {
                be.ConvForward(conv, n, v[0], v[1], v[2], v[3], relu: true);
                be.PoolForward(pool, n, v[3], v[4], stride);
            });
            foreach (bool keep in new[] { true, false })
            {
                var actual = KernelHarness.Run(cpu, new[] { x, wt, b, y0, z0 }, (be, v) => be.ConvPoolForward(conv, pool, n, v[0], v[1], v[2], v[3], v[4], relu: true, keepConv: keep, stride));
                KernelHarness.AssertClose(expected[4], actual[4], 1e-4, $"{conv} + pool, keep={keep}, z");
                if (keep || !cpu.TakesConvPool(conv, pool, n)) KernelHarness.AssertClose(expected[3], actual[3], 1e-4, $"{conv} + pool, keep={keep}, y");
                else Assert.Equal(y0, actual[3]);
            }
        }
    }
}
