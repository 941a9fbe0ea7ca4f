using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Moves between an image batch and the column matrix of a convolution, for a range of output columns.
/// Column j of the range is output position (image img0 + j / hwCount, pixel hw0 + j % hwCount); row k of the matrix
/// is (input channel, kernel row, kernel column). The matrix is laid out in panels of <c>panelWidth</c> columns, each
/// K × panelWidth floats row by row (panelWidth = NR gives the packed-B layout of <see cref="Gemm"/>; panelWidth = the
/// column count gives a plain row-major matrix). Packing goes through a zero-padded copy of the input rows, so every
/// run of columns on one output row is an unconditional vector copy (stride 1) or even-element gather (stride 2).
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>Floats of slack after the padded input and after the row buffer, for vector loads and stores that run past a segment.</summary>
    private const int Slack = 64;

    /// <summary>Rows of the column matrix built before they are written out to the panels.</summary>
    private const int RowBlock = 16;

    /// <summary>
    /// Writes the column matrix of x's images into dst (zero outside the image and in panel padding).
    /// <paramref name="work"/> is the caller's scratch: it receives a zero-padded copy of the input rows the columns
    /// read and one row of the matrix at a time, so that every run of columns on an output row becomes one
    /// unconditional vector copy (stride 1) or gather of even elements (stride 2) instead of bounds-checked pieces.
    /// </summary>
    /// <remarks>
    /// With <paramref name="rowStart"/> and <paramref name="rowEnd"/>, only rows [rowStart, rowEnd) are written, as a
    /// matrix of rowEnd - rowStart rows: a GEMM can then take the column matrix one K block at a time, while the block
    /// is still in cache.
    /// </remarks>
    public static void Pack(in ConvGeometry g, float* x, int img0, int imgCount, int hw0, int hwCount, float* dst, int panelWidth, NativeScratch work, SimdLevel level, int rowStart = 0, int rowEnd = -1)
    {
        int kAll = g.InC * g.KernelH * g.KernelW;
        if (rowEnd < 0) rowEnd = kAll;
        if (g.IsPointwise)
        {
            PackPointwise(g, x, img0, imgCount, hw0, hwCount, dst, panelWidth, level, rowStart, rowEnd);
            return;
        }
        int cols = imgCount * hwCount;
        int k = rowEnd - rowStart;
        int taps = g.KernelH * g.KernelW;
        var (ohFirst, ohLast, rows, wp, plane, padFloats, maxSegments) = new Region(g, imgCount, hw0, hwCount);
        float* pad = work.Ensure(padFloats + Slack + (long)RowBlock * (cols + Slack) + 2L * maxSegments);
        float* line = pad + padFloats + Slack;
        int* segments = (int*)(line + (long)RowBlock * (cols + Slack));
        Pad(g, x, img0, imgCount, ohFirst * g.StrideH - g.PadH, rows, wp, pad, level, rowStart / taps, (rowEnd - 1) / taps + 1);

        // One segment per (image, output row): where its first column reads in the padded input, for kernel tap (0, 0, 0)
        // of channel 0, and how many columns it has. Segments follow the column order, so they fill the row in turn.
        // The padded copy is channel-major (channel, image, row, column): a row of the matrix reads one channel of every
        // image, which then lie side by side, and the kernel taps of one channel (consecutive rows) reuse them from L1.
        int count = Segments(g, imgCount, hw0, hwCount, ohFirst, ohLast, wp, plane, plane, segments);

        // Rows are built a block at a time and then written panel by panel, so that each panel receives one contiguous
        // burst per block: row-at-a-time writes hit every panel at the same offset, whose addresses often share their
        // cache set (panel strides are multiples of 4 KiB for K = 576, 800, 864, ...).
        int pitch = cols + Slack;
        for (int r0 = 0; r0 < k; r0 += RowBlock)
        {
            int block = Math.Min(RowBlock, k - r0);
            for (int b = 0; b < block; b++)
            {
                int row = rowStart + r0 + b;
                int kw = row % g.KernelW, kh = row / g.KernelW % g.KernelH, ic = row / (g.KernelW * g.KernelH);
                float* tap = pad + (long)ic * imgCount * plane + (long)kh * wp + kw;
                float* d = line + (long)b * pitch;
                for (int sIndex = 0; sIndex < count; sIndex++)
                {
                    int length = segments[2 * sIndex + 1];
                    Gather(tap + segments[2 * sIndex], g.StrideW, d, length, level);
                    d += length;
                }
            }
            for (int p0 = 0; p0 < cols; p0 += panelWidth)
            {
                int w = Math.Min(panelWidth, cols - p0);
                float* panelRow = dst + (long)p0 * k + (long)r0 * panelWidth;
                for (int b = 0; b < block; b++, panelRow += panelWidth)
                {
                    Copy(line + (long)b * pitch + p0, panelRow, w, level);
                    if (w < panelWidth) Clear(panelRow + w, panelWidth - w);
                }
            }
        }
    }

    /// <summary>pad[c, i, r, col] = x[img0 + i, c, ih0 + r, col - PadW] for channels [c0, c1), zero outside the image.</summary>
    private static void Pad(in ConvGeometry g, float* x, int img0, int imgCount, int ih0, int rows, int wp, float* padAll, SimdLevel level, int c0, int c1)
    {
        int inHw = g.InH * g.InW;
        int left = Math.Min(wp, g.PadW);
        int right = Math.Max(left, Math.Min(wp, g.PadW + g.InW));
        long plane = (long)rows * wp;
        for (int i = 0; i < imgCount; i++)
        {
            float* image = x + (long)(img0 + i) * g.InSize;
            for (int c = c0; c < c1; c++)
            {
                float* pad = padAll + ((long)c * imgCount + i) * plane;
                for (int r = 0; r < rows; r++, pad += wp)
                {
                    int ih = ih0 + r;
                    if ((uint)ih >= (uint)g.InH)
                    {
                        Clear(pad, wp);
                        continue;
                    }
                    // Padded column col reads input column col - PadW.
                    float* src = image + (long)c * inHw + (long)ih * g.InW - g.PadW;
                    if (Wide(level))
                    {
                        // Masked loads leave the padding lanes zero and never touch memory outside the input row.
                        for (int t = 0; t < wp; t += 16)
                        {
                            var lane = Vector512<int>.Indices + Vector512.Create(t);
                            var load = Vector512.GreaterThanOrEqual(lane, Vector512.Create(left)) & Vector512.LessThan(lane, Vector512.Create(right));
                            var v = Avx512F.MaskLoad(src + t, load.AsSingle(), Vector512<float>.Zero);
                            Avx512F.MaskStore(pad + t, Vector512.LessThan(lane, Vector512.Create(wp)).AsSingle(), v);
                        }
                        continue;
                    }
                    if (left > 0) Clear(pad, left);
                    Copy(src + left, pad + left, right - left, level);
                    if (wp > right) Clear(pad + right, wp - right);
                }
            }
        }
    }

    /// <summary>
    /// d[t] = s[t·stride] for t &lt; count. May read up to 2·16 floats past the last element and write up to 16 past
    /// d[count - 1]: both buffers carry <see cref="Slack"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gather(float* s, int stride, float* d, int count, SimdLevel level)
    {
        if (Wide(level))
        {
            if (stride == 1)
            {
                for (int t = 0; t < count; t += 16) Vector512.Load(s + t).Store(d + t);
                return;
            }
            if (stride == 2)
            {
                var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
                for (int t = 0; t < count; t += 16)
                {
                    Avx512F.PermuteVar16x32x2(Vector512.Load(s + 2 * t), even, Vector512.Load(s + 2 * t + 16)).Store(d + t);
                }
                return;
            }
        }
        else if (stride == 1 && level >= SimdLevel.Vector256)
        {
            for (int t = 0; t < count; t += 8) Vector256.Load(s + t).Store(d + t);
            return;
        }
        for (int t = 0; t < count; t++) d[t] = s[t * stride];
    }

    /// <summary>d[0, count) = s[0, count), without touching anything past either end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(float* s, float* d, int count, SimdLevel level)
    {
        int t = 0;
        if (Wide(level))
        {
            for (; t + 16 <= count; t += 16) Vector512.Load(s + t).Store(d + t);
        }
        else if (level >= SimdLevel.Vector256)
        {
            for (; t + 8 <= count; t += 8) Vector256.Load(s + t).Store(d + t);
        }
        for (; t < count; t++) d[t] = s[t];
    }

    /// <summary>The 1×1 stride-1 case: column j is pixel j, so runs of columns are runs of each channel plane.</summary>
    private static void PackPointwise(in ConvGeometry g, float* x, int img0, int imgCount, int hw0, int hwCount, float* dst, int panelWidth, SimdLevel level, int c0, int c1)
    {
        int cols = imgCount * hwCount;
        int inHw = g.InH * g.InW;
        int k = c1 - c0;
        if (Wide(level) && hwCount < panelWidth && panelWidth <= 64)
        {
            PackPointwiseRuns(g, x, img0, imgCount, hw0, hwCount, dst, panelWidth, c0, c1);
            return;
        }
        for (int p0 = 0; p0 < cols; p0 += panelWidth)
        {
            int w = Math.Min(panelWidth, cols - p0);
            float* panel = dst + (long)p0 * k;
            int j = 0;
            while (j < w)
            {
                int col = p0 + j;
                int hw = hw0 + col % hwCount;
                int run = Math.Min(w - j, hwCount - col % hwCount);
                float* image = x + (long)(img0 + col / hwCount) * g.InSize + (long)c0 * inHw + hw;
                for (int ic = 0; ic < k; ic++) Copy(image + (long)ic * inHw, panel + (long)ic * panelWidth + j, run, level);
                j += run;
            }
            if (w < panelWidth)
            {
                for (int row = 0; row < k; row++) Clear(panel + (long)row * panelWidth + w, panelWidth - w);
            }
        }
    }

    /// <summary>
    /// <see cref="PackPointwise"/> for maps smaller than a panel (the 3×3, 6×6 and 9×8 layers), where a panel row holds
    /// runs of several images: the panel's runs are listed once, then every row is written run by run with one masked
    /// load and store per 16 floats, padding included (a run of a short last panel is followed by zeros).
    /// </summary>
    private static void PackPointwiseRuns(in ConvGeometry g, float* x, int img0, int imgCount, int hw0, int hwCount, float* dst, int panelWidth, int c0, int c1)
    {
        int cols = imgCount * hwCount;
        int inHw = g.InH * g.InW;
        int k = c1 - c0;
        // Each run: its source offset, its first column in the panel and its length; at most one per column.
        long* source = stackalloc long[panelWidth + 1];
        int* first = stackalloc int[panelWidth + 1];
        int* length = stackalloc int[panelWidth + 1];
        for (int p0 = 0; p0 < cols; p0 += panelWidth)
        {
            int w = Math.Min(panelWidth, cols - p0);
            float* panel = dst + (long)p0 * k;
            int runs = 0;
            for (int j = 0; j < w;)
            {
                int col = p0 + j;
                int run = Math.Min(w - j, hwCount - col % hwCount);
                source[runs] = (long)(img0 + col / hwCount) * g.InSize + (long)c0 * inHw + hw0 + col % hwCount;
                first[runs] = j;
                length[runs] = run;
                runs++;
                j += run;
            }
            if (w < panelWidth)
            {
                // The padding columns: a run of zeros, read from nowhere.
                source[runs] = -1;
                first[runs] = w;
                length[runs] = panelWidth - w;
                runs++;
            }
            for (int ic = 0; ic < k; ic++)
            {
                float* row = panel + (long)ic * panelWidth;
                long plane = (long)ic * inHw;
                for (int r = 0; r < runs; r++)
                {
                    for (int t = 0; t < length[r]; t += 16)
                    {
                        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(length[r] - t)).AsSingle();
                        var v = source[r] < 0 ? Vector512<float>.Zero : Avx512F.MaskLoad(x + source[r] + plane + t, mask, Vector512<float>.Zero);
                        Avx512F.MaskStore(row + first[r] + t, mask, v);
                    }
                }
            }
        }
    }

    /// <summary>
    /// dx += the column matrix (row-major, ld = column count) folded back onto the images, in three steps
    /// (<see cref="BeginUnpack"/>, <see cref="UnpackRows"/> for bands of its rows, <see cref="FinishUnpack"/>). The
    /// columns are added into a zeroed, padded copy of the input rows they touch, with one masked vector add per run of
    /// columns on an output row (stride 1), and the interior of that copy is then added to dx: no bounds checks in the
    /// inner loop. The caller owns whole images, or the only item that writes these rows. The fold under way: the padded
    /// copy (in the worker's scratch) and the runs of columns on each output row.
    /// </summary>
    public readonly struct Fold
    {
        internal Fold(float* pad, int* segments, int count, int imgCount, int cols, int ohFirst, int rows, int wp, long plane)
        {
            Pad = pad;
            Segments = segments;
            Count = count;
            ImgCount = imgCount;
            Cols = cols;
            OhFirst = ohFirst;
            Rows = rows;
            Wp = wp;
            Plane = plane;
        }

        internal float* Pad { get; }
        internal int* Segments { get; }
        internal int Count { get; }
        internal int ImgCount { get; }
        internal int Cols { get; }
        internal int OhFirst { get; }
        internal int Rows { get; }
        internal int Wp { get; }
        internal long Plane { get; }
    }

    /// <summary>Starts folding back columns [hw0, hw0 + hwCount) of <paramref name="imgCount"/> images, in <paramref name="work"/> (<see cref="FinishUnpack"/> says which images).</summary>
    public static Fold BeginUnpack(in ConvGeometry g, int imgCount, int hw0, int hwCount, NativeScratch work)
    {
        var (ohFirst, _, rows, wp, plane, padFloats, maxSegments) = new Region(g, imgCount, hw0, hwCount);
        float* pad = work.Ensure(padFloats + Slack + 2L * maxSegments);
        int* segments = (int*)(pad + padFloats + Slack);
        new Span<float>(pad, (int)(padFloats + Slack)).Clear();
        int count = Segments(g, imgCount, hw0, hwCount, ohFirst, (hw0 + hwCount - 1) / g.OutW, wp, plane, g.InC * plane, segments);
        return new Fold(pad, segments, count, imgCount, imgCount * hwCount, ohFirst, rows, wp, plane);
    }

    /// <summary>Adds rows [row0, row1) of the column matrix (<paramref name="dCol"/> holding row row0 first) into the fold's padded copy.</summary>
    public static void UnpackRows(in ConvGeometry g, in Fold fold, float* dCol, int row0, int row1, SimdLevel level)
    {
        for (int row = row0; row < row1; row++)
        {
            int kw = row % g.KernelW, kh = row / g.KernelW % g.KernelH, ic = row / (g.KernelW * g.KernelH);
            float* tap = fold.Pad + ic * fold.Plane + (long)kh * fold.Wp + kw;
            float* src = dCol + (long)(row - row0) * fold.Cols;
            for (int sIndex = 0; sIndex < fold.Count; sIndex++)
            {
                int length = fold.Segments[2 * sIndex + 1];
                ScatterAdd(src, tap + fold.Segments[2 * sIndex], g.StrideW, length, level);
                src += length;
            }
        }
    }

    /// <summary>dx += the fold's padded copy, images from <paramref name="img0"/> on.</summary>
    public static void FinishUnpack(in ConvGeometry g, in Fold fold, int img0, float* dx, SimdLevel level)
    {
        // Fold the padded rows back: padded (r, col) is input (OhFirst·StrideH - PadH + r, col - PadW).
        int ih0 = fold.OhFirst * g.StrideH - g.PadH;
        int inHw = g.InH * g.InW;
        int left = Math.Min(fold.Wp, g.PadW);
        int right = Math.Max(left, Math.Min(fold.Wp, g.PadW + g.InW));
        for (int i = 0; i < fold.ImgCount; i++)
        {
            float* image = dx + (long)(img0 + i) * g.InSize;
            for (int c = 0; c < g.InC; c++)
            {
                float* padPlane = fold.Pad + ((long)i * g.InC + c) * fold.Plane;
                for (int r = 0; r < fold.Rows; r++)
                {
                    int ih = ih0 + r;
                    if ((uint)ih >= (uint)g.InH || right == left) continue;
                    float* d = image + (long)c * inHw + (long)ih * g.InW + left - g.PadW;
                    float* v = padPlane + (long)r * fold.Wp + left;
                    Add(v, d, right - left, level);
                }
            }
        }
    }

    /// <summary>
    /// The padded input a range of output columns reads: output rows OhFirst..OhLast, so Rows input rows of each
    /// channel, each Wp = (OutW - 1)·StrideW + KernelW wide. Padded column c is input column c - PadW, and padded row r
    /// is input row OhFirst·StrideH - PadH + r; Plane floats a channel, PadFloats in all, at most MaxSegments runs.
    /// </summary>
    private readonly record struct Region(int OhFirst, int OhLast, int Rows, int Wp, long Plane, long PadFloats, int MaxSegments)
    {
        public Region(in ConvGeometry g, int imgCount, int hw0, int hwCount)
            : this(hw0 / g.OutW, (hw0 + hwCount - 1) / g.OutW, 0, (g.OutW - 1) * g.StrideW + g.KernelW, 0, 0, 0)
        {
            Rows = (OhLast - OhFirst) * g.StrideH + g.KernelH;
            Plane = (long)Rows * Wp;
            PadFloats = imgCount * g.InC * Plane;
            MaxSegments = imgCount * (OhLast - OhFirst + 1);
        }
    }

    /// <summary>The (image, output row) runs of a column range, in column order: source offset for tap (0, 0, 0) and length.</summary>
    private static int Segments(in ConvGeometry g, int imgCount, int hw0, int hwCount, int ohFirst, int ohLast, int wp, long plane, long imageStride, int* segments)
    {
        int count = 0;
        for (int i = 0; i < imgCount; i++)
        {
            for (int oh = ohFirst; oh <= ohLast; oh++)
            {
                int owStart = Math.Max(0, hw0 - oh * g.OutW);
                int owEnd = Math.Min(g.OutW, hw0 + hwCount - oh * g.OutW);
                if (owEnd <= owStart) continue;
                segments[2 * count] = (int)(i * imageStride + (long)(oh - ohFirst) * g.StrideH * wp + owStart * g.StrideW);
                segments[2 * count + 1] = owEnd - owStart;
                count++;
            }
        }
        return count;
    }

    /// <summary>d[t·stride] += s[t] for t &lt; count; d may be touched (with +0) up to 16 floats past its last element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScatterAdd(float* s, float* d, int stride, int count, SimdLevel level)
    {
        if (stride == 1 && Wide(level))
        {
            int t = 0;
            for (; t + 16 <= count; t += 16) (Vector512.Load(d + t) + Vector512.Load(s + t)).Store(d + t);
            if (t < count)
            {
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count - t)).AsSingle();
                (Vector512.Load(d + t) + Avx512F.MaskLoad(s + t, mask, Vector512<float>.Zero)).Store(d + t);
            }
            return;
        }
        for (int t = 0; t < count; t++) d[t * stride] += s[t];
    }

    /// <summary>d[0, count) += s[0, count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Add(float* s, float* d, int count, SimdLevel level)
    {
        int t = 0;
        if (Wide(level))
        {
            for (; t + 16 <= count; t += 16) (Vector512.Load(d + t) + Vector512.Load(s + t)).Store(d + t);
        }
        for (; t < count; t++) d[t] += s[t];
    }

    /// <summary>Whether the AVX-512 paths may run: the backend's level is Vector512 and the CPU has AVX-512F.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Wide(SimdLevel level) => level == SimdLevel.Vector512 && Avx512F.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear(float* d, int count) => Unsafe.InitBlockUnaligned(d, 0, (uint)(count * sizeof(float)));
}
