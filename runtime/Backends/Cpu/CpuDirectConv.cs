using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Direct forward convolution for layers with few input taps per output (InC·KH·KW ≤ <see cref="DirectMaxTaps"/>: the
/// networks' first layers, on 3-channel images), where im2col would copy each input pixel KH·KW/stride² times for a
/// GEMM that is short in K. Per output row, each (channel, kernel row) input row is copied between zero padding, split
/// into even and odd columns for stride 2, so that every tap of sixteen neighbouring outputs is one contiguous load;
/// sixteen output channels accumulate in registers across all taps, each tap's load multiplied by the sixteen
/// channels' weights. The filter gradient of the same layers runs on the same prepared bands (see
/// <c>ConvBackwardFilterWork.DirectFilter</c>; `bench conv`, filter column, 2 threads: 140×116×3→70×58×16 3×3/2
/// 34 → 124 GFLOP/s, 96×96×3→48×48×64 7×7/2 130 → 188 against im2col).
/// </summary>
public sealed unsafe partial class CpuBackend
{
    private readonly DirectConvWork _direct;

    /// <summary>
    /// Whether convolutions may take the direct kernels: few input taps (<see cref="TakesDirect"/>) and narrow 1×1
    /// layers (<see cref="TakesPointwise"/>).
    /// </summary>
    public bool Direct { get; }

    /// <summary>Most input taps (InC·KH·KW) of a convolution that takes the direct path.</summary>
    internal const int DirectMaxTaps = 216;

    /// <summary>
    /// Whether a convolution's forward pass takes the direct path: AVX-512, a kernel larger than 1×1 with few taps,
    /// output channels in sixteens, horizontal stride 1 or 2, and output rows of at least sixteen. Measured with
    /// `bench conv` (batch 16, 2 threads, direct vs im2col): 224×224×3→112×112×64 7×7/2 310 vs 229 GFLOP/s,
    /// 96×96×3→48×48×64 7×7/2 313 vs 245, 140×116×3→70×58×16 3×3/2 118 vs 77, 18×15×24→32 3×3 (216 taps, rows of 15)
    /// 213 vs 185 (in the model that layer takes Winograd, which ConvForward tries first); but 1×1 layers
    /// (56×56×64→64: 123 vs 159) keep the GEMM, which reads their input in place, and so do rows of 12 or fewer
    /// (9×8×48→96 140 vs 265, 12×12×32→64 5×5 222 vs 268), where a tile of sixteen is mostly empty.
    /// </summary>
    internal bool TakesDirect(in ConvGeometry g) =>
        Direct && Im2Col.Wide(Simd) && (long)g.InC * g.KernelH * g.KernelW <= DirectMaxTaps && g.KernelH * g.KernelW > 1 &&
        g.OutC % 16 == 0 && (g.StrideW == 1 || g.StrideW == 2) && g.OutW >= 15;

    private sealed class DirectConvWork(CpuBackend owner) : IParallelWork
    {
        /// <summary>Output rows of one work item.</summary>
        private const int RowsPerItem = 8;

        private int _rowsPerBand = RowsPerItem;

        private ConvGeometry _g;
        private float* _x, _wt, _b, _y;
        private long _yStride;
        private bool _relu;
        private int _bands, _phaseLength;

        public void Run(in ConvGeometry g, int n, float* x, float* w, float* b, float* y, bool relu, long yStride)
        {
            Prepare(g, x, w, b, y, relu, yStride);
            owner._pool.Run(this, n * _bands, 2.0 * g.MultiplyAdds * n * owner.FlopNanoseconds);
        }

        /// <summary>Sets up a call (the weights transposed, the bands planned) without running it: <see cref="Band"/> then runs its pieces.</summary>
        public void Prepare(in ConvGeometry g, float* x, float* w, float* b, float* y, bool relu, long yStride)
        {
            Plan(g, x);
            _b = b;
            _y = y;
            _yStride = yStride;
            _relu = relu;
            // Weights as [tap][OutC], so that a tap's sixteen channel weights are adjacent.
            int taps = g.InC * g.KernelH * g.KernelW;
            _wt = owner._shared.Ensure((long)taps * g.OutC);
            Transpose(w, g.OutC, taps, _wt);
        }

        /// <summary>Plans the bands of a convolution of <paramref name="x"/>, <paramref name="rowsPerBand"/> output rows each (0: a work item's), for <see cref="Load"/>.</summary>
        public void Plan(in ConvGeometry g, float* x, int rowsPerBand = 0)
        {
            _g = g;
            _x = x;
            _rowsPerBand = rowsPerBand > 0 ? rowsPerBand : RowsPerItem;
            _bands = (g.OutH + _rowsPerBand - 1) / _rowsPerBand;
            // A phase holds the outputs' columns plus the kernel's reach, and slack for the last tile's full loads.
            _phaseLength = Gemm.RoundUp(g.OutW + (g.KernelW - 1) / g.StrideW + 1 + 16, 16);
        }

        /// <summary>Bands of output rows per image.</summary>
        public int Bands => _bands;

        public void Execute(int index, int worker)
        {
            int img = index / _bands;
            Band(img, index % _bands, worker, _y + img * _yStride);
        }

        /// <summary>Output rows of band <paramref name="index"/> of image <paramref name="img"/>, into that image's output <paramref name="yImage"/>.</summary>
        public void Band(int img, int index, int worker, float* yImage)
        {
            var g = _g;
            int taps = g.InC * g.KernelH * g.KernelW;
            int* tapOffset = stackalloc int[taps];
            float* buffer = Load(img, index, worker, tapOffset, out int oy0, out int oy1, out long rowStep);
            int plane = g.OutH * g.OutW;
            bool relu = _relu;
            int tiles = (g.OutW + 15) / 16;
            for (int oy = oy0; oy < oy1; oy++)
            {
                float* band = buffer + (oy - oy0) * rowStep;
                for (int oc0 = 0; oc0 < g.OutC; oc0 += 16)
                {
                    float* bias = _b + oc0;
                    for (int t = 0; t < tiles; t++)
                    {
                        int ox = 16 * t;
                        float* yp = yImage + (long)oc0 * plane + (long)oy * g.OutW + ox;
                        Tile(band + ox, tapOffset, taps, _wt + oc0, g.OutC, yp, plane, bias, relu, g.OutW - ox);
                    }
                }
            }
        }

        /// <summary>
        /// Prepares the input of band <paramref name="index"/> of image <paramref name="img"/> in the worker's
        /// scratch, and returns it: output row oy (oy0 ≤ oy &lt; oy1) reads tap t's sixteen inputs for columns ox … ox + 15
        /// at (oy − oy0) · rowStep + tapOffset[t] + ox. Taps are in weight order (channel, kernel row, kernel column).
        /// </summary>
        public float* Load(int img, int index, int worker, int* tapOffset, out int oy0, out int oy1, out long rowStep)
        {
            var g = _g;
            oy0 = index * _rowsPerBand;
            oy1 = Math.Min(g.OutH, oy0 + _rowsPerBand);
            int stride = g.StrideW, phases = stride;
            // The band's input rows, each prepared once: for every channel, rows iyFirst … iyFirst + rows − 1 (zero
            // outside the image), each as its phases of the zero-padded row.
            int rows = (oy1 - oy0 - 1) * g.StrideH + g.KernelH, iyFirst = oy0 * g.StrideH - g.PadH;
            long rowFloats = (long)phases * _phaseLength;
            rowStep = g.StrideH * rowFloats;
            var s = owner.Scratch(worker);
            float* buffer = s.Col.Ensure(g.InC * rows * rowFloats);
            float* x = _x + (long)img * g.InSize;
            // Every input line the band reads, requested at once so that the misses overlap: in the model the image
            // has usually left the cache (NNS2's 140×116×3 stem, in the model: 0.61 → 0.57 ms in one run).
            int rowFirst = Math.Max(0, iyFirst), rowEnd = Math.Min(g.InH, iyFirst + rows);
            for (int c = 0; c < g.InC && rowFirst < rowEnd; c++)
            {
                float* start = x + ((long)c * g.InH + rowFirst) * g.InW;
                long length = (long)(rowEnd - rowFirst) * g.InW;
                for (long i = 0; i < length; i += 16) Sse.Prefetch0(start + i);
            }
            // Padded column ox·stride + kx is phase kx mod stride, element ox + kx / stride.
            // Every tap (c, ky, kx) in weight order, as its offset from the band's first prepared row: one flat loop
            // of loads and multiply-adds, with no index arithmetic in it.
            for (int c = 0, t = 0; c < g.InC; c++)
            {
                for (int ky = 0; ky < g.KernelH; ky++)
                {
                    for (int kx = 0; kx < g.KernelW; kx++, t++) tapOffset[t] = (int)((c * rows + ky) * rowFloats) + kx % stride * _phaseLength + kx / stride;
                }
            }
            for (int c = 0; c < g.InC; c++)
            {
                for (int r = 0; r < rows; r++)
                {
                    float* dst = buffer + (c * rows + r) * rowFloats;
                    int iy = iyFirst + r;
                    if ((uint)iy >= (uint)g.InH) new Span<float>(dst, (int)rowFloats).Clear();
                    else Phases(x + ((long)c * g.InH + iy) * g.InW, g.InW, g.PadW, stride, dst, _phaseLength);
                }
            }
            return buffer;
        }

        /// <summary>
        /// Sixteen outputs of one row for sixteen channels: every tap's sixteen inputs (one load at its offset from
        /// <paramref name="at"/>) times the sixteen channels' weights, then bias, ReLU and a store of the first
        /// <paramref name="valid"/> columns of each channel's row (channel planes <paramref name="plane"/> apart).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile(float* at, int* tapOffset, int taps, float* wp, int outC, float* yp, long plane, float* bias, bool relu, int valid)
        {
            bool full = valid >= 16;
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(valid)).AsSingle();
            Vector512<float> a0 = default;
            Vector512<float> a1 = default;
            Vector512<float> a2 = default;
            Vector512<float> a3 = default;
            Vector512<float> a4 = default;
            Vector512<float> a5 = default;
            Vector512<float> a6 = default;
            Vector512<float> a7 = default;
            Vector512<float> a8 = default;
            Vector512<float> a9 = default;
            Vector512<float> a10 = default;
            Vector512<float> a11 = default;
            Vector512<float> a12 = default;
            Vector512<float> a13 = default;
            Vector512<float> a14 = default;
            Vector512<float> a15 = default;
            for (int tap = 0; tap < taps; tap++, wp += outC)
            {
                var v = Vector512.Load(at + tapOffset[tap]);
                a0 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[0]), a0);
                a1 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[1]), a1);
                a2 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[2]), a2);
                a3 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[3]), a3);
                a4 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[4]), a4);
                a5 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[5]), a5);
                a6 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[6]), a6);
                a7 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[7]), a7);
                a8 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[8]), a8);
                a9 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[9]), a9);
                a10 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[10]), a10);
                a11 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[11]), a11);
                a12 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[12]), a12);
                a13 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[13]), a13);
                a14 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[14]), a14);
                a15 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wp[15]), a15);
            }
            Store(yp + 0L * plane, a0, bias[0], relu, mask, full);
            Store(yp + 1L * plane, a1, bias[1], relu, mask, full);
            Store(yp + 2L * plane, a2, bias[2], relu, mask, full);
            Store(yp + 3L * plane, a3, bias[3], relu, mask, full);
            Store(yp + 4L * plane, a4, bias[4], relu, mask, full);
            Store(yp + 5L * plane, a5, bias[5], relu, mask, full);
            Store(yp + 6L * plane, a6, bias[6], relu, mask, full);
            Store(yp + 7L * plane, a7, bias[7], relu, mask, full);
            Store(yp + 8L * plane, a8, bias[8], relu, mask, full);
            Store(yp + 9L * plane, a9, bias[9], relu, mask, full);
            Store(yp + 10L * plane, a10, bias[10], relu, mask, full);
            Store(yp + 11L * plane, a11, bias[11], relu, mask, full);
            Store(yp + 12L * plane, a12, bias[12], relu, mask, full);
            Store(yp + 13L * plane, a13, bias[13], relu, mask, full);
            Store(yp + 14L * plane, a14, bias[14], relu, mask, full);
            Store(yp + 15L * plane, a15, bias[15], relu, mask, full);
        }

        /// <summary>
        /// The zero-padded row (padded column p = input column p − pad) split into its stride phases: phase q holds
        /// padded columns q, q + stride, … . One pass of sixteen-lane loads, masked where they reach past either end of
        /// the row, and for stride 2 a split of each 32 padded columns into sixteen even and sixteen odd.
        /// </summary>
        internal static void Phases(float* row, int width, int pad, int stride, float* dst, int length)
        {
            if (stride == 1)
            {
                for (int t = 0; t < length; t += 16) Sixteen(row, t - pad, width).Store(dst + t);
                return;
            }
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            for (int t = 0; t < length; t += 16)
            {
                var lo = Sixteen(row, 2 * t - pad, width);
                var hi = Sixteen(row, 2 * t + 16 - pad, width);
                Avx512F.PermuteVar16x32x2(lo, even, hi).Store(dst + t);
                Avx512F.PermuteVar16x32x2(lo, odd, hi).Store(dst + length + t);
            }
        }

        /// <summary>Input columns start … start + 15 of a row of <paramref name="width"/>, zero outside it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Sixteen(float* row, int start, int width)
        {
            if (start >= 0 && start + 16 <= width) return Vector512.Load(row + start);
            var column = Vector512<int>.Indices + Vector512.Create(start);
            var inside = Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, Vector512.Create(width));
            return Avx512F.MaskLoad(row + start, inside.AsSingle(), Vector512<float>.Zero);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* y, Vector512<float> acc, float bias, bool relu, Vector512<float> mask, bool full)
        {
            acc += Vector512.Create(bias);
            if (relu) acc = Vector512.Max(acc, Vector512<float>.Zero);
            if (full) acc.Store(y);
            else Avx512F.MaskStore(y, mask, acc);
        }
    }
}
