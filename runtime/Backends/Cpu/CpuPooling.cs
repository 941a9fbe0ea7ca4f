using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FaceNetGen.Specs;

namespace FaceNetGen.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    private readonly PoolWork _pooling;

    public override void PoolForward(in PoolGeometry g, int n, BufferView x, BufferView y, long yStride = 0)
    {
        long stride = ImageStride.Resolve(yStride, g.OutSize);
        _pooling.Run(g, n, P(x, (long)n * g.InSize), P(y, ImageStride.Span(n, stride, g.OutSize)), null, null, false, backward: false, stride);
    }

    public override void PoolBackward(in PoolGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) =>
        _pooling.Run(g, n, P(x, (long)n * g.InSize), P(y, (long)n * g.OutSize), P(dy, (long)n * g.OutSize), P(dx, (long)n * g.InSize), accumulate, backward: true, g.OutSize);

    /// <summary>Max, average and L2 pooling, forward and backward, one channel plane at a time, planes split across workers.</summary>
    private sealed class PoolWork(CpuBackend owner) : IParallelWork
    {
        /// <summary>An item holds at least this many planes, and small planes are grouped up to about <see cref="FloatsPerItem"/> floats.</summary>
        private const int MinPlanesPerItem = 16;
        private const int FloatsPerItem = 8192;
        private int _planesPerItem;
        private PoolGeometry _g;
        private float* _x, _y, _dy, _dx;
        private bool _accumulate, _backward;
        private int _planes;
        /// <summary>Floats from one image of y to the next; when it is not compact, no item spans two images.</summary>
        private long _yStride;
        private int _itemsPerImage;

        public void Run(in PoolGeometry g, int n, float* x, float* y, float* dy, float* dx, bool accumulate, bool backward, long yStride)
        {
            _g = g;
            _x = x;
            _y = y;
            _dy = dy;
            _dx = dx;
            _accumulate = accumulate;
            _backward = backward;
            _planes = n * g.C;
            _planesPerItem = Math.Max(MinPlanesPerItem, Math.Min(FloatsPerItem / Math.Max(1, g.InH * g.InW), (_planes + owner.Threads - 1) / owner.Threads));
            _yStride = yStride;
            _itemsPerImage = 0;
            int items = (_planes + _planesPerItem - 1) / _planesPerItem;
            if (yStride != g.OutSize)
            {
                // A slice of a wider tensor: each image's planes are contiguous, but the images are yStride apart.
                _planesPerItem = Math.Min(_planesPerItem, g.C);
                _itemsPerImage = (g.C + _planesPerItem - 1) / _planesPerItem;
                items = n * _itemsPerImage;
            }
            owner._pool.Run(this, items, (backward ? 3.0 : 2.0) * n * g.KernelH * (g.InSize + g.OutSize) * NanosecondsPerFloat);
        }

        public void Execute(int index, int worker)
        {
            var g = _g;
            int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
            int first = index * _planesPerItem, end = Math.Min(_planes, first + _planesPerItem);
            if (_itemsPerImage > 0)
            {
                int image = index / _itemsPerImage;
                first = image * g.C + index % _itemsPerImage * _planesPerItem;
                end = Math.Min((image + 1) * g.C, first + _planesPerItem);
            }
            int count = end - first;
            bool box = g.Kind != PoolKind.Average && SameWidth(g) && SameHeight(g);
            // The box path works on all the item's planes at once: rows of every plane side by side (OutH × InW each).
            long block = box ? (long)g.OutH * g.InW : (long)Math.Max(g.OutH, 2) * Math.Max(g.InW, g.OutW);
            long floats = 2 * (box ? count : 1) * block + 16;
            bool flat = box && Im2Col.Wide(owner.Simd) && g.InW <= (!_backward ? FlatMaxWidth : g.Kind == PoolKind.L2 ? FlatL2BackwardMaxWidth : FlatMaxBackwardMaxWidth);
            if (flat) floats = Math.Max(floats, FlatFloats(g, count) + 2 * ((long)count * inPlane + 16));
            // The vector paths: forward, one padded line; max backward, padded planes of the input and its gradient.
            floats = Math.Max(floats, _backward ? 2L * ((long)g.InH * LineFloats(g) + LineSlack) : LineFloats(g) + LineSlack);
            if (_backward && g.Kind == PoolKind.Max && inPlane <= PoolLanesMaxPlane && Im2Col.Wide(owner.Simd))
            {
                MaxBackwardLanes(g, _x + (long)first * inPlane, _y + (long)first * outPlane, _dy + (long)first * outPlane, _dx + (long)first * inPlane, count, _accumulate,
                    owner.Scratch(worker).Tmp.Ensure(PoolLanesFloats(g)));
                return;
            }
            if (_backward && g.Kind == PoolKind.Max && TakesHalving(g) && Im2Col.Wide(owner.Simd))
            {
                float* dx = _dx + (long)first * inPlane;
                MaxBackwardHalving(g, _x + (long)first * inPlane, _y + (long)first * outPlane, _dy + (long)first * outPlane, dx, count, _accumulate, owner.Scratch(worker).Tmp.Ensure(g.InW + 48L));
                return;
            }
            if (!_backward && TakesHalving(g) && Im2Col.Wide(owner.Simd))
            {
                Halve(g, _x + (long)first * inPlane, Y(first, outPlane), count, owner.Scratch(worker).Tmp.Ensure((long)count * g.OutH * (g.InW + 1) + 64 + g.OutW));
                return;
            }
            float* rows = owner.Scratch(worker).Tmp.Ensure(floats);
            if (box)
            {
                // A centred stride-1 window both ways: two box filters over the whole block of planes.
                float* a = rows, b = rows + count * block;
                long length = count * block;
                if (flat && _backward)
                {
                    BoxFlatBackward(g, _x + (long)first * inPlane, _y + (long)first * outPlane, _dy + (long)first * outPlane, _dx + (long)first * inPlane, count, _accumulate, rows);
                    return;
                }
                if (flat)
                {
                    BoxFlat(g, _x + (long)first * inPlane, Y(first, outPlane), count, rows);
                    return;
                }
                if (!_backward)
                {
                    float* x = _x + (long)first * inPlane;
                    float* src = x;
                    if (g.Kind == PoolKind.L2)
                    {
                        TensorPrimitives.Multiply(new ReadOnlySpan<float>(x, (int)length), new ReadOnlySpan<float>(x, (int)length), new Span<float>(a, (int)length));
                        src = a;
                    }
                    VerticalBox(g.Kind, src, b, count, g.InH, g.InW, g.PadH);
                    float* y = Y(first, outPlane);
                    Box(g.Kind, b, y, count * g.OutH, g.InW, g.PadW);
                    if (g.Kind == PoolKind.L2) TensorPrimitives.Sqrt(new ReadOnlySpan<float>(y, (int)length), new Span<float>(y, (int)length));
                    return;
                }
                if (g.Kind == PoolKind.L2)
                {
                    // dx = x · (box of the weights dy / y), the box being its own transpose for centred windows.
                    L2Weights(_dy + (long)first * outPlane, _y + (long)first * outPlane, a, (int)length);
                    Box(PoolKind.L2, a, b, count * g.OutH, g.InW, g.PadW);
                    VerticalBox(PoolKind.L2, b, a, count, g.InH, g.InW, g.PadH);
                    var xs = new ReadOnlySpan<float>(_x + (long)first * inPlane, (int)length);
                    var dxs = new Span<float>(_dx + (long)first * inPlane, (int)length);
                    if (_accumulate) TensorPrimitives.MultiplyAdd(xs, new ReadOnlySpan<float>(a, (int)length), dxs, dxs);
                    else TensorPrimitives.Multiply(xs, new ReadOnlySpan<float>(a, (int)length), dxs);
                    return;
                }
            }
            for (int p = first; p < end; p++)
            {
                float* x = _x + (long)p * inPlane;
                float* y = Y(p, outPlane);
                if (!_backward)
                {
                    Forward(g, x, y, rows, Im2Col.Wide(owner.Simd));
                }
                else
                {
                    float* dx = _dx + (long)p * inPlane;
                    if (!_accumulate) new Span<float>(dx, inPlane).Clear();
                    Backward(g, x, y, _dy + (long)p * outPlane, dx, rows, Im2Col.Wide(owner.Simd));
                }
            }
        }

        /// <summary>Plane <paramref name="plane"/> (image × C + channel) of y, whose images are <see cref="_yStride"/> apart.</summary>
        private float* Y(int plane, int outPlane) => _y + (long)(plane / _g.C) * _yStride + (long)(plane % _g.C) * outPlane;

        /// <summary>
        /// Separable: for each output row, the window's input rows are reduced vertically with vector ops into one
        /// row (max, or a sum of values or squares), then each output takes the horizontal window of that row.
        /// </summary>
        private static void Forward(in PoolGeometry g, float* x, float* y, float* rows, bool wide)
        {
            if (g.Kind != PoolKind.Average && (g.StrideW == 1 || g.StrideW == 2) && wide)
            {
                ForwardVector(g, x, y, rows);
                return;
            }
            Vertical(g, x, rows);
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int rowsCounted = Math.Min(h0 + g.KernelH, g.InH) - Math.Max(h0, 0);
                float* yr = y + (long)oh * g.OutW;
                float* v = rows + (long)oh * g.InW;
                if (rowsCounted <= 0)
                {
                    new Span<float>(yr, g.OutW).Clear();
                    continue;
                }
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    int w0 = ow * g.StrideW - g.PadW;
                    int ws = Math.Max(w0, 0), we = Math.Min(w0 + g.KernelW, g.InW);
                    if (we <= ws)
                    {
                        yr[ow] = 0;
                        continue;
                    }
                    float r = v[ws];
                    if (g.Kind == PoolKind.Max)
                    {
                        for (int w = ws + 1; w < we; w++) r = MathF.Max(r, v[w]);
                    }
                    else
                    {
                        for (int w = ws + 1; w < we; w++) r += v[w];
                        r = g.Kind == PoolKind.Average ? r / (rowsCounted * (we - ws)) : MathF.Sqrt(r);
                    }
                    yr[ow] = r;
                }
            }
        }

        /// <summary>
        /// Row pitch of the padded planes of the vector paths: every tap of a valid output lane lies within its row. Lanes
        /// past the row's last output read (and, backward, add zeros to) the next row or the <see cref="LineSlack"/>
        /// after the plane; their results are never stored. Kept tight, so that small planes cost little to pad.
        /// </summary>
        private static int LineFloats(in PoolGeometry g) => Math.Max((g.OutW - 1) * g.StrideW + g.KernelW, g.PadW + g.InW);

        /// <summary>Floats after a padded plane that the last row's 16-lane loads (two for stride 2) may reach.</summary>
        private const int LineSlack = 96;

        /// <summary>
        /// Max and L2 pooling with stride 1 or 2, separably and sixteen values per step: for each output row, the
        /// window's input rows are reduced (max, or sum of squares) straight from the input into one line held between
        /// identity padding (−∞ or 0, which leaves a clipped window's result unchanged), and each output then reduces
        /// its horizontal taps, each a load (stride 1) or an even-element gather (stride 2) of that line.
        /// </summary>
        private static void ForwardVector(in PoolGeometry g, float* x, float* y, float* rows)
        {
            bool max = g.Kind == PoolKind.Max;
            int pitch = LineFloats(g);
            float* line = rows;
            var identity = Vector512.Create(max ? float.NegativeInfinity : 0f);
            new Span<float>(line, pitch + LineSlack).Fill(max ? float.NegativeInfinity : 0f);
            float* body = line + g.PadW;
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var tailMask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(g.InW & 15)).AsSingle();
            int fullIn = g.InW & ~15;
            // Outputs whose window lies wholly in the padding are 0, as in the scalar path.
            int lastFull = g.OutW;
            while (lastFull > 0 && (lastFull - 1) * g.StrideW - g.PadW >= g.InW) lastFull--;
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int hs = Math.Max(h0, 0), he = Math.Min(h0 + g.KernelH, g.InH);
                float* yr = y + (long)oh * g.OutW;
                if (he <= hs)
                {
                    new Span<float>(yr, g.OutW).Clear();
                    continue;
                }
                // Vertical: the window's rows into the line (the tail under a mask, so the right padding stays).
                for (int j = 0; j <= fullIn; j += 16)
                {
                    bool tail = j == fullIn;
                    if (tail && fullIn == g.InW) break;
                    float* src = x + (long)hs * g.InW + j;
                    var acc = tail ? Avx512F.MaskLoad(src, tailMask, identity) : Vector512.Load(src);
                    if (!max) acc *= acc;
                    for (int h = hs + 1; h < he; h++)
                    {
                        src += g.InW;
                        var v = tail ? Avx512F.MaskLoad(src, tailMask, identity) : Vector512.Load(src);
                        acc = max ? Vector512.Max(acc, v) : Vector512.FusedMultiplyAdd(v, v, acc);
                    }
                    if (tail) Avx512F.MaskStore(body + j, tailMask, acc);
                    else acc.Store(body + j);
                }
                // Horizontal.
                for (int t = 0; t < g.OutW; t += 16)
                {
                    float* at = line + (long)t * g.StrideW;
                    var acc = identity;
                    for (int kw = 0; kw < g.KernelW; kw++)
                    {
                        var v = g.StrideW == 1 ? Vector512.Load(at + kw) : Avx512F.PermuteVar16x32x2(Vector512.Load(at + kw), even, Vector512.Load(at + kw + 16));
                        acc = max ? Vector512.Max(acc, v) : acc + v;
                    }
                    if (!max) acc = Vector512.Sqrt(acc);
                    if (t + 16 <= g.OutW) acc.Store(yr + t);
                    else Avx512F.MaskStore(yr + t, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(g.OutW - t)).AsSingle(), acc);
                }
                for (int ow = lastFull; ow < g.OutW; ow++) yr[ow] = 0;
                for (int ow = 0; ow < lastFull && ow * g.StrideW - g.PadW + g.KernelW <= 0; ow++) yr[ow] = 0;
            }
        }

        /// <summary>
        /// The vertical half of a separable pooling: row oh of <paramref name="v"/> (OutH × InW) reduces the input rows of
        /// output row oh (max, sum, or sum of squares). Kernel row by kernel row, each a contiguous block of rows when the
        /// stride is 1, so the vector ops run over whole blocks rather than single rows.
        /// </summary>
        private static void Vertical(in PoolGeometry g, float* x, float* v)
        {
            var all = new Span<float>(v, g.OutH * g.InW);
            if (g.Kind == PoolKind.Max) all.Fill(float.NegativeInfinity);
            else all.Clear();
            for (int kh = 0; kh < g.KernelH; kh++)
            {
                if (g.StrideH == 1)
                {
                    int start = Math.Max(0, g.PadH - kh), end = Math.Min(g.OutH, g.InH + g.PadH - kh);
                    if (end > start) Reduce(g.Kind, x + (long)(start - g.PadH + kh) * g.InW, v + (long)start * g.InW, (end - start) * g.InW);
                    continue;
                }
                for (int oh = 0; oh < g.OutH; oh++)
                {
                    int ih = oh * g.StrideH - g.PadH + kh;
                    if ((uint)ih < (uint)g.InH) Reduce(g.Kind, x + (long)ih * g.InW, v + (long)oh * g.InW, g.InW);
                }
            }
        }

        private static void Reduce(PoolKind kind, float* src, float* dst, int length)
        {
            var s = new ReadOnlySpan<float>(src, length);
            var d = new Span<float>(dst, length);
            switch (kind)
            {
                case PoolKind.Max: TensorPrimitives.Max(d, s, d); break;
                case PoolKind.Average: TensorPrimitives.Add(d, s, d); break;
                default: TensorPrimitives.MultiplyAdd(s, s, d, d); break;
            }
        }

        /// <summary>
        /// Max: each output's gradient goes to the first input of its window (row by row) equal to the output.
        /// Average and L2: each output row's per-output weights (dy / count, or dy / y) are spread horizontally into one
        /// row, which is then added (times x for L2) to every input row of the window with vector ops.
        /// </summary>
        private static void Backward(in PoolGeometry g, float* x, float* y, float* dy, float* dx, float* rows, bool wide)
        {
            if (g.Kind == PoolKind.Max)
            {
                if ((g.StrideW == 1 || g.StrideW == 2) && wide) MaxBackwardVector(g, x, y, dy, dx, rows);
                else MaxBackward(g, x, y, dy, dx, rows);
                return;
            }

            // Spread each output's weight (dy / count, or dy / y) over its window's columns: row oh of t (OutH × InW).
            SpreadWeights(g, y, dy, rows);
            SpreadRows(g, rows, x, dx);
        }

        /// <summary>Adds each row of t (OutH × InW) to the input rows of its window (times x for L2), kernel row by kernel row.</summary>
        private static void SpreadRows(in PoolGeometry g, float* rows, float* x, float* dx)
        {
            for (int kh = 0; kh < g.KernelH; kh++)
            {
                if (g.StrideH == 1)
                {
                    int start = Math.Max(0, g.PadH - kh), end = Math.Min(g.OutH, g.InH + g.PadH - kh);
                    if (end > start) Spread(g.Kind, rows + (long)start * g.InW, x, dx, start - g.PadH + kh, (end - start) * g.InW, g.InW);
                    continue;
                }
                for (int oh = 0; oh < g.OutH; oh++)
                {
                    int ih = oh * g.StrideH - g.PadH + kh;
                    if ((uint)ih < (uint)g.InH) Spread(g.Kind, rows + (long)oh * g.InW, x, dx, ih, g.InW, g.InW);
                }
            }
        }

        /// <summary>Each output's weight (dy / count, or dy / y) spread over its window's columns: row oh of t (OutH × InW).</summary>
        private static void SpreadWeights(in PoolGeometry g, float* y, float* dy, float* rows)
        {
            new Span<float>(rows, g.OutH * g.InW).Clear();
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int rowsCounted = Math.Min(h0 + g.KernelH, g.InH) - Math.Max(h0, 0);
                if (rowsCounted <= 0) continue;
                float* t = rows + (long)oh * g.InW;
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    int w0 = ow * g.StrideW - g.PadW;
                    int ws = Math.Max(w0, 0), we = Math.Min(w0 + g.KernelW, g.InW);
                    if (we <= ws) continue;
                    int o = oh * g.OutW + ow;
                    float weight;
                    if (g.Kind == PoolKind.Average)
                    {
                        weight = dy[o] / (rowsCounted * (we - ws));
                    }
                    else
                    {
                        float yo = y[o];
                        if (!(yo > 0)) continue;
                        weight = dy[o] / yo;
                    }
                    for (int w = ws; w < we; w++) t[w] += weight;
                }
            }
        }

        /// <summary>
        /// Whether a forward pooling halves a map with the 3×3 stride-2 window and padding 1 (every stride-2 max pooling
        /// of the models): OutH = ⌈InH / 2⌉ and OutW = ⌈InW / 2⌉, so that only the first row and column of windows, and
        /// the last of an odd size, reach into the padding.
        /// </summary>
        internal static bool TakesHalving(in PoolGeometry g) =>
            g.Kind != PoolKind.Average && g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 1 && g.PadW == 1
            && g.OutH == (g.InH + 1) / 2 && g.OutW == (g.InW + 1) / 2;

        /// <summary>Input rows ahead of the current one that <see cref="Halve"/> prefetches (prefetches past the end are harmless).</summary>
        private const int PrefetchRows = 8;

        /// <summary>
        /// <see cref="TakesHalving"/> poolings over a block of whole planes. Vertically, output row oh reduces input rows
        /// 2oh − 1 … 2oh + 1 into v (max, or sum of squares), row by row with masked vector ops; v's rows have an even
        /// pitch (an odd width gets one column of identity, the right padding). Horizontally, v is then one flat run of
        /// rows, so output column q of the whole block reads v[2q − 1], v[2q] and v[2q + 1]
        /// whatever its row: the odd and even elements of two loads, the left tap masked off where q starts a row. The
        /// outputs come out in y's order, with no per-plane or per-row set-up.
        /// </summary>
        internal static void Halve(in PoolGeometry g, float* x, float* y, int planes, float* scratch)
        {
            bool max = g.Kind == PoolKind.Max;
            int width = g.InW, pitch = width + (width & 1), outW = g.OutW, rows = planes * g.OutH;
            var identity = Vector512.Create(max ? float.NegativeInfinity : 0f);
            // v, with 16 floats of identity before it (the left tap of the very first output) and after it.
            float* v = scratch + 16;
            identity.Store(scratch);
            for (int s = 0; s < rows; s++)
            {
                int oh = s % g.OutH;
                float* row = x + ((long)(s / g.OutH) * g.InH + 2 * oh) * width;
                float* dst = v + (long)s * pitch;
                bool below = 2 * oh + 1 < g.InH;
                // The two input rows four outputs ahead, into cache now: the input of a layer early in the network
                // has usually left the cache by the time its pooling runs, and the hardware prefetcher alone left
                // NN4's and NNS2's first poolings waiting on memory (cold 70×58×16: 0.30 → 0.13 ms).
                float* ahead = row + PrefetchRows * width;
                for (int w = 0; w < 2 * width; w += 16) Sse.Prefetch0(ahead + w);
                for (int w = 0; w < pitch; w += 16)
                {
                    // Lanes past the row read nothing and hold the identity, which also fills an odd row's extra column.
                    var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width - w)).AsSingle();
                    var a = Avx512F.MaskLoad(row + w, live, identity);
                    var acc = max ? a : a * a;
                    if (below)
                    {
                        var b = Avx512F.MaskLoad(row + width + w, live, identity);
                        acc = max ? Vector512.Max(acc, b) : Vector512.FusedMultiplyAdd(b, b, acc);
                    }
                    if (oh > 0)
                    {
                        var c = Avx512F.MaskLoad(row - width + w, live, identity);
                        acc = max ? Vector512.Max(acc, c) : Vector512.FusedMultiplyAdd(c, c, acc);
                    }
                    // Rows are written in order: a store past this row's end is overwritten by the next row.
                    acc.Store(dst + w);
                }
            }
            long length = (long)rows * pitch, outputs = length / 2;
            identity.Store(v + length);
            // firsts[j]: whether output column j mod outW starts a row (its left tap is padding), for any 16 from a phase.
            int* firsts = (int*)(v + length + 16);
            for (int j = 0; j < outW + 16; j++) firsts[j] = j % outW == 0 ? -1 : 0;
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            var lane = Vector512<int>.Indices;
            for (long q = 0, phase = 0; q < outputs; q += 16)
            {
                float* at = v + 2 * q;
                var lo = Vector512.Load(at);
                var hi = Vector512.Load(at + 16);
                var centre = Avx512F.PermuteVar16x32x2(lo, even, hi);
                var right = Avx512F.PermuteVar16x32x2(lo, odd, hi);
                var left = Avx512F.PermuteVar16x32x2(Vector512.Load(at - 2), odd, Vector512.Load(at + 14));
                left = Vector512.ConditionalSelect(Vector512.Load(firsts + phase).AsSingle(), identity, left);
                phase += 16;
                while (phase >= outW) phase -= outW;
                var acc = max ? Vector512.Max(Vector512.Max(centre, right), left) : Vector512.Sqrt(centre + right + left);
                var keep = Vector512.LessThan(lane, Vector512.Create((int)Math.Min(16, outputs - q))).AsSingle();
                Avx512F.MaskStore(y + q, keep, acc);
            }
        }

        /// <summary>
        /// Max backward of <see cref="TakesHalving"/> poolings straight on x and dx, output row by output row over a
        /// block of planes: no padded copies of each plane. For each window row, the taps are the odd and even elements
        /// of two masked loads (left tap masked off in column 0, right tap past the row's end), hits are taken in window
        /// order, and the three taps' gradients are combined in registers into the 32 columns from 2t − 1 (odd columns:
        /// left tap of output j and right tap of output j − 1, carried between vectors; even columns: centre taps). Each
        /// row of dx is written once, with masked stores that stay inside the row: the row an output row shares with the
        /// next (2oh + 1) waits in <paramref name="pending"/> (width + 48 floats) for the next one's share, so dx is
        /// neither cleared first nor read back unless accumulating (`bench pool`, backward ms: 24×24×192 1.14–1.20 →
        /// 0.55–0.65, 48×48×64 0.90 → 0.65–0.70, 12×12×320 0.74–0.77 → 0.44–0.56).
        /// </summary>
        private static void MaxBackwardHalving(in PoolGeometry g, float* x, float* y, float* dy, float* dx, int planes, bool accumulate, float* pending)
        {
            int width = g.InW, outW = g.OutW;
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            var shiftUp = Vector512.Create(15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
            var shiftDown = Vector512.Create(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
            var interleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            var interleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            var lane = Vector512<int>.Indices;
            var nan = Vector512.Create(float.NaN);
            var carries = stackalloc Vector512<float>[3];
            // pending[c + 1]: the gradient that output row oh sent to column c of input row 2oh + 1, which output row oh + 1
            // adds to before that row is written (once: no clearing of dx, no read-modify-write unless accumulating).
            for (int p = 0; p < planes; p++)
            {
                float* xPlane = x + (long)p * g.InH * width, dxPlane = dx + (long)p * g.InH * width;
                for (int oh = 0; oh < g.OutH; oh++)
                {
                    int hs = Math.Max(2 * oh - 1, 0), he = Math.Min(2 * oh + 2, g.InH);
                    carries[0] = carries[1] = carries[2] = Vector512<float>.Zero;
                    float* yRow = y + ((long)p * g.OutH + oh) * outW, dyRow = dy + ((long)p * g.OutH + oh) * outW;
                    // As in Halve: the rows of x and dx four outputs ahead, and y's and dy's, into cache now (`bench pool --cold`:
                    // 48×48×64 1.5 → 0.9 ms, 70×58×16 0.6 → 0.37).
                    float* aheadX = xPlane + (long)(2 * oh + PrefetchRows) * width, aheadDx = dxPlane + (long)(2 * oh + PrefetchRows) * width;
                    for (int w = 0; w < 2 * width; w += 16)
                    {
                        Sse.Prefetch0(aheadX + w);
                        Sse.Prefetch0(aheadDx + w);
                    }
                    for (int w = 0; w < outW; w += 16)
                    {
                        Sse.Prefetch0(yRow + PrefetchRows / 2 * outW + w);
                        Sse.Prefetch0(dyRow + PrefetchRows / 2 * outW + w);
                    }
                    for (int t = 0; t < outW; t += 16)
                    {
                        var valid = Vector512.LessThan(lane, Vector512.Create(outW - t)).AsSingle();
                        var target = Avx512F.MaskLoad(yRow + t, valid, Vector512<float>.Zero);
                        var grad = Avx512F.MaskLoad(dyRow + t, valid, Vector512<float>.Zero);
                        var open = valid;
                        // Columns 2t − 1 + i (i < 32) that lie in the row: masks for the loads and stores from 2t − 1 and 2t + 15.
                        var low = (Vector512.GreaterThanOrEqual(lane + Vector512.Create(2 * t - 1), Vector512<int>.Zero) & Vector512.LessThan(lane + Vector512.Create(2 * t - 1), Vector512.Create(width))).AsSingle();
                        var high = Vector512.LessThan(lane + Vector512.Create(2 * t + 15), Vector512.Create(width)).AsSingle();
                        for (int h = hs; h < he; h++)
                        {
                            float* at = xPlane + (long)h * width + 2 * t - 1;
                            // Outside the row, NaN: equal to nothing, so a clipped tap never takes the gradient.
                            var a = Avx512F.MaskLoad(at, low, nan);
                            var b = Avx512F.MaskLoad(at + 16, high, nan);
                            var left = Avx512F.PermuteVar16x32x2(a, even, b);
                            var centre = Avx512F.PermuteVar16x32x2(a, odd, b);
                            // Output j's right tap is output j + 1's left one; the last vector lane's is column 2t + 31.
                            var next = Avx512F.MaskLoad(at + 32, (Vector512.Equals(lane, Vector512<int>.Zero) & Vector512.LessThan(Vector512.Create(2 * t + 31), Vector512.Create(width))).AsSingle(), nan);
                            var right = Avx512F.PermuteVar16x32x2(left, shiftDown, next);
                            var hit = Vector512.Equals(left, target) & open;
                            open = Vector512.AndNot(open, hit);
                            var addLeft = grad & hit;
                            hit = Vector512.Equals(centre, target) & open;
                            open = Vector512.AndNot(open, hit);
                            var addCentre = grad & hit;
                            hit = Vector512.Equals(right, target) & open;
                            open = Vector512.AndNot(open, hit);
                            var addRight = grad & hit;
                            // Column 2t − 1 + 2j: left tap of output j and right tap of output j − 1; column 2t + 2j: centre tap.
                            int r = h - 2 * oh + 1;
                            var odds = addLeft + Avx512F.PermuteVar16x32x2(carries[r], shiftUp, addRight);
                            carries[r] = addRight;
                            var lo = Avx512F.PermuteVar16x32x2(odds, interleaveLow, addCentre);
                            var hi = Avx512F.PermuteVar16x32x2(odds, interleaveHigh, addCentre);
                            Put(dxPlane + (long)h * width + 2 * t - 1, pending + 2 * t, r, oh + 1 < g.OutH, lo, hi, low, high, accumulate);
                        }
                    }
                    if (outW % 16 == 0 && 2 * outW - 1 < width)
                    {
                        // The last output's right tap lies past the last vector: column 2·outW − 1, when the row has it.
                        for (int h = hs; h < he; h++)
                        {
                            int r = h - 2 * oh + 1;
                            float v = carries[r].GetElement(15);
                            if (r == 2 && oh + 1 < g.OutH)
                            {
                                pending[2 * outW] = v;
                                continue;
                            }
                            if (r == 0) v += pending[2 * outW];
                            float* d = dxPlane + (long)h * width + 2 * outW - 1;
                            *d = accumulate ? *d + v : v;
                        }
                    }
                }
            }
        }

        /// <summary>
        /// Writes one output row's gradient for 32 columns of window row r (0 top, 1 centre, 2 bottom) of <see
        /// cref="MaxBackwardHalving"/>: the bottom row's goes to pending (the next output row's top row adds to it), the
        /// top row adds what the previous output row left pending, and the finished values go to dx (or are added to it
        /// when accumulating). <paramref name="more"/>: whether another output row follows (otherwise the bottom row is
        /// finished too).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(float* d, float* pend, int r, bool more, Vector512<float> lo, Vector512<float> hi, Vector512<float> low, Vector512<float> high, bool accumulate)
        {
            if (r == 0)
            {
                lo += Avx512F.MaskLoad(pend, low, Vector512<float>.Zero);
                hi += Avx512F.MaskLoad(pend + 16, high, Vector512<float>.Zero);
            }
            else if (r == 2 && more)
            {
                Avx512F.MaskStore(pend, low, lo);
                Avx512F.MaskStore(pend + 16, high, hi);
                return;
            }
            if (accumulate)
            {
                lo += Avx512F.MaskLoad(d, low, Vector512<float>.Zero);
                hi += Avx512F.MaskLoad(d + 16, high, Vector512<float>.Zero);
            }
            Avx512F.MaskStore(d, low, lo);
            Avx512F.MaskStore(d + 16, high, hi);
        }

        /// <summary>
        /// Widest rows that <see cref="BoxFlat"/> takes. Measured with `bench pool` (batch 16, 2 threads, against the
        /// row-by-row box): L2 6×6×640 0.13 vs 0.24 ms, max 3×3×896 0.05 vs 0.15, L2 9×8×128 0.05 vs 0.08; from rows of
        /// 12 on the two are level or the row path is ahead (max 18×15×32 0.048 vs 0.06).
        /// </summary>
        private const int FlatMaxWidth = 9;


        /// <summary>
        /// Widest rows whose L2 backward runs flat (<see cref="BoxFlatBackward"/>). `bench pool`, backward ms, flat vs the
        /// row-by-row box: L2 6×6×640 0.18 vs 0.26, L2 9×8×128 0.068 vs 0.079, L2 12×12×256 0.30 vs 0.32–0.33.
        /// </summary>
        private const int FlatL2BackwardMaxWidth = 16;

        /// <summary>
        /// Widest rows whose max backward runs flat (<see cref="BoxFlatBackward"/>, two passes): `bench pool`, backward
        /// ms, flat vs the row-by-row box: max 12×12×192 0.716 vs 0.764, 3×3×896 0.204 vs 0.273; but 18×15×32 0.242 vs
        /// 0.225. NN4's training step (its 12×12 and 3×3 max poolings' backward) A/B 0.9930.
        /// </summary>
        private const int FlatMaxBackwardMaxWidth = 12;

        /// <summary>Scratch of <see cref="BoxFlat"/>: the vertical result, then the row and column masks of every offset.</summary>
        private static long FlatFloats(in PoolGeometry g, int planes) =>
            (long)planes * g.InH * g.InW + 16 + 2L * g.PadH * (g.InH * g.InW + 16) + 2L * g.PadW * (g.InW + 16);

        /// <summary>
        /// Forward max or L2 pooling with a centred stride-1 window (kernel 2·pad + 1 both ways) over a block of whole
        /// planes, treated as one flat run of floats, sixteen at a time: each window offset is a load at a fixed distance
        /// (±d rows, then ±d columns) under a mask that drops the lanes whose neighbour lies outside their own plane or
        /// row. The masks repeat with the plane (rows) and the row (columns), so they are tabled once for the whole
        /// block; masked-off lanes read nothing and take the identity (−∞ or 0). No per-row or per-plane edge work, which
        /// is what small planes (3×3, 6×6, 9×8) used to spend most of their time on.
        /// </summary>
        private static void BoxFlat(in PoolGeometry g, float* x, float* y, int planes, float* scratch, bool sum = false)
        {
            bool max = g.Kind == PoolKind.Max && !sum, squares = g.Kind == PoolKind.L2 && !sum;
            int width = g.InW, plane = g.InH * g.InW, total = planes * plane;
            int padH = g.PadH, padW = g.PadW;
            float* v = scratch;
            int* rowMasks = (int*)(v + total + 16);
            int* colMasks = rowMasks + 2L * padH * (plane + 16);
            FlatMasks(g, rowMasks, colMasks);
            var identity = Vector512.Create(max ? float.NegativeInfinity : 0f);
            // Vertical: v = max or sum of squares over rows −padH … padH.
            for (int i = 0, phase = 0; i < total; i += 16)
            {
                // One line, 2 KB ahead, into cache now (see PrefetchRows): past the end it is harmless.
                Sse.Prefetch0(x + i + 512);
                var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(total - i));
                var acc = Avx512F.MaskLoad(x + i, live.AsSingle(), identity);
                if (squares) acc *= acc;
                for (int t = 0; t < 2 * padH; t++)
                {
                    int d = t < padH ? t - padH : t - padH + 1;
                    var mask = (Vector512.Load(rowMasks + (long)t * (plane + 16) + phase) & live).AsSingle();
                    var value = Avx512F.MaskLoad(x + i + (long)d * width, mask, identity);
                    acc = max ? Vector512.Max(acc, value) : squares ? Vector512.FusedMultiplyAdd(value, value, acc) : acc + value;
                }
                acc.Store(v + i);
                phase += 16;
                while (phase >= plane) phase -= plane;
            }
            // Horizontal: y = max or sum over columns −padW … padW (then the square root for L2).
            for (int i = 0, phase = 0; i < total; i += 16)
            {
                var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(total - i));
                var acc = Vector512.Load(v + i);
                for (int t = 0; t < 2 * padW; t++)
                {
                    int d = t < padW ? t - padW : t - padW + 1;
                    var mask = (Vector512.Load(colMasks + (long)t * (width + 16) + phase) & live).AsSingle();
                    var value = Avx512F.MaskLoad(v + i + d, mask, identity);
                    acc = max ? Vector512.Max(acc, value) : acc + value;
                }
                if (squares) acc = Vector512.Sqrt(acc);
                Avx512F.MaskStore(y + i, live.AsSingle(), acc);
                phase += 16;
                while (phase >= width) phase -= width;
            }
        }

        /// <summary>
        /// The masks of <see cref="BoxFlat"/>: rowMasks[(d), j], whether the pixel at plane offset j (taken modulo the
        /// plane) has a row d rows away in its plane, d running −padH … −1, 1 … padH; colMasks likewise for columns,
        /// modulo the row.
        /// </summary>
        private static void FlatMasks(in PoolGeometry g, int* rowMasks, int* colMasks)
        {
            int width = g.InW, plane = g.InH * g.InW, padH = g.PadH, padW = g.PadW;
            for (int t = 0; t < 2 * padH; t++)
            {
                int d = t < padH ? t - padH : t - padH + 1;
                int* m = rowMasks + (long)t * (plane + 16);
                for (int j = 0; j < plane + 16; j++)
                {
                    int r = j % plane / width + d;
                    m[j] = r >= 0 && r < g.InH ? -1 : 0;
                }
            }
            for (int t = 0; t < 2 * padW; t++)
            {
                int d = t < padW ? t - padW : t - padW + 1;
                int* m = colMasks + (long)t * (width + 16);
                for (int j = 0; j < width + 16; j++)
                {
                    int c = j % width + d;
                    m[j] = c >= 0 && c < width ? -1 : 0;
                }
            }
        }

        /// <summary>
        /// Backward of <see cref="BoxFlat"/>'s poolings over a block of whole planes, sixteen outputs at a time with the
        /// same tabled masks. Max: window offset by window offset in window order (rows, then columns), the lanes whose
        /// input there equals their output and that have not yet found theirs add dy into dx at that offset (a masked
        /// read-modify-write of sixteen consecutive floats). L2: w = dy / y, then dx (=|+=) x · (the box sum of w), the
        /// window being centred so that the box is its own transpose. scratch holds <see cref="FlatFloats"/> floats plus
        /// two more blocks of the planes.
        /// </summary>
        private static void BoxFlatBackward(in PoolGeometry g, float* x, float* y, float* dy, float* dx, int planes, bool accumulate, float* scratch)
        {
            int width = g.InW, plane = g.InH * g.InW, total = planes * plane;
            int padH = g.PadH, padW = g.PadW;
            float* w = scratch;
            if (g.Kind == PoolKind.Max)
            {
                int* rowMasks = (int*)scratch;
                int* colMasks = rowMasks + 2L * padH * (plane + 16);
                FlatMasks(g, rowMasks, colMasks);
                // Two passes, with no read-modify-write of dx that a later window could overlap (a masked store and a
                // masked load of the same floats do not forward, and each window waited on the last). First, which
                // offset of its window (numbered in window order, rows then columns) each output took: the first that
                // holds its value, or −1. The numbers lie `reach` ints into a buffer padded with −1 both sides.
                int reach = padH * width + padW + 16;
                int* wins = colMasks + 2L * padW * (width + 16) + reach;
                new Span<int>(wins - reach, reach).Fill(-1);
                new Span<int>(wins + total, reach + 16).Fill(-1);
                for (int i = 0, phase = 0, phaseW = 0; i < total; i += 16)
                {
                    var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(total - i));
                    var out0 = Avx512F.MaskLoad(y + i, live.AsSingle(), Vector512<float>.Zero);
                    var open = live;
                    var win = Vector512.Create(-1);
                    int t = 0;
                    for (int dr = -padH; dr <= padH; dr++)
                    {
                        var rows = dr == 0 ? live : Vector512.Load(rowMasks + (long)(dr < 0 ? dr + padH : dr + padH - 1) * (plane + 16) + phase) & live;
                        for (int dc = -padW; dc <= padW; dc++, t++)
                        {
                            var mask = (dc == 0 ? rows : Vector512.Load(colMasks + (long)(dc < 0 ? dc + padW : dc + padW - 1) * (width + 16) + phaseW) & rows) & open;
                            long off = (long)dr * width + dc;
                            var value = Avx512F.MaskLoad(x + i + off, mask.AsSingle(), Vector512<float>.Zero);
                            var hit = Vector512.Equals(value, out0).AsInt32() & mask;
                            win = Vector512.ConditionalSelect(hit, Vector512.Create(t), win);
                            open &= ~hit;
                        }
                    }
                    win.Store(wins + i);
                    phase += 16;
                    while (phase >= plane) phase -= plane;
                    phaseW += 16;
                    while (phaseW >= width) phaseW -= width;
                }
                // Then each input gathers the gradients of the outputs that took it: output i − off took input i at
                // offset t when its number is t (which the first pass gave only where that input lies in its window).
                for (int i = 0; i < total; i += 16)
                {
                    var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(total - i)).AsSingle();
                    var sum = accumulate ? Avx512F.MaskLoad(dx + i, live, Vector512<float>.Zero) : Vector512<float>.Zero;
                    int t = 0;
                    for (int dr = -padH; dr <= padH; dr++)
                    {
                        for (int dc = -padW; dc <= padW; dc++, t++)
                        {
                            long off = (long)dr * width + dc;
                            var hit = Vector512.Equals(Vector512.Load(wins + i - off), Vector512.Create(t)).AsSingle();
                            sum += Avx512F.MaskLoad(dy + i - off, hit, Vector512<float>.Zero);
                        }
                    }
                    Avx512F.MaskStore(dx + i, live, sum);
                }
                return;
            }
            // L2: w = dy / y, its box sum (centred windows: the box is its own transpose), then times x.
            float* box = w + total + 16;
            L2Weights(dy, y, w, total);
            BoxFlat(g, w, box, planes, box + total + 16, sum: true);
            var xs = new ReadOnlySpan<float>(x, total);
            var dxs = new Span<float>(dx, total);
            if (accumulate) TensorPrimitives.MultiplyAdd(xs, new ReadOnlySpan<float>(box, total), dxs, dxs);
            else TensorPrimitives.Multiply(xs, new ReadOnlySpan<float>(box, total), dxs);
        }

        /// <summary>Whether the vertical window is stride 1 and centred (kernel 2·pad + 1), so that OutH = InH.</summary>
        private static bool SameHeight(in PoolGeometry g) =>
            g.StrideH == 1 && g.KernelH == 2 * g.PadH + 1 && g.OutH == g.InH;

        /// <summary>
        /// The vertical box filter of <paramref name="planes"/> planes of height × width: dst row r = max or sum of src rows
        /// r − pad … r + pad of its own plane. Shifted vector ops over the whole block (which mix neighbouring planes in
        /// the first and last <paramref name="pad"/> rows of each plane), then those rows redone with the window clipped.
        /// </summary>
        private static void VerticalBox(PoolKind kind, float* src, float* dst, int planes, int height, int width, int pad)
        {
            int total = planes * height * width;
            new ReadOnlySpan<float>(src, total).CopyTo(new Span<float>(dst, total));
            for (int d = 1; d <= pad; d++)
            {
                int shift = d * width;
                if (shift >= total) break;
                Combine(kind, new Span<float>(dst, total - shift), new ReadOnlySpan<float>(src + shift, total - shift));
                Combine(kind, new Span<float>(dst + shift, total - shift), new ReadOnlySpan<float>(src, total - shift));
            }
            int plane = height * width;
            for (int p = 0; p < planes; p++)
            {
                float* s = src + (long)p * plane;
                float* o = dst + (long)p * plane;
                for (int r = 0; r < height; r++)
                {
                    if (r == pad && height > 2 * pad) r = height - pad;
                    int rs = Math.Max(r - pad, 0), re = Math.Min(r + pad + 1, height);
                    float* row = o + (long)r * width;
                    if (width < SmallRow)
                    {
                        // Rows of a small plane (3×3, 6×6): a vector call per few floats would cost more than the work.
                        for (int j = 0; j < width; j++)
                        {
                            float v = s[(long)rs * width + j];
                            for (int h = rs + 1; h < re; h++) v = kind == PoolKind.Max ? MathF.Max(v, s[(long)h * width + j]) : v + s[(long)h * width + j];
                            row[j] = v;
                        }
                        continue;
                    }
                    var span = new Span<float>(row, width);
                    new ReadOnlySpan<float>(s + (long)rs * width, width).CopyTo(span);
                    for (int h = rs + 1; h < re; h++) Combine(kind, span, new ReadOnlySpan<float>(s + (long)h * width, width));
                }
            }
        }

        /// <summary>Rows narrower than this are fixed up with scalar loops rather than vector calls.</summary>
        private const int SmallRow = 16;

        private static void Combine(PoolKind kind, Span<float> accumulator, ReadOnlySpan<float> values)
        {
            if (kind == PoolKind.Max) TensorPrimitives.Max(accumulator, values, accumulator);
            else TensorPrimitives.Add(accumulator, values, accumulator);
        }

        /// <summary>Whether the horizontal window is stride 1 and centred (kernel 2·pad + 1), so that OutW = InW.</summary>
        private static bool SameWidth(in PoolGeometry g) =>
            g.StrideW == 1 && g.KernelW == 2 * g.PadW + 1 && g.OutW == g.InW;

        /// <summary>
        /// dst[r, j] = max or sum of src[r, j − pad … j + pad] clipped to the row, for <paramref name="rows"/> rows of
        /// <paramref name="width"/>: shifted vector ops over all rows at once (which mix neighbouring rows at the ends of
        /// each row), then the <paramref name="pad"/> columns at each end of every row recomputed with the window clipped.
        /// </summary>
        private static void Box(PoolKind kind, float* src, float* dst, int rows, int width, int pad)
        {
            int total = rows * width;
            new ReadOnlySpan<float>(src, total).CopyTo(new Span<float>(dst, total));
            if (width > 2 * pad)
            {
                for (int d = 1; d <= pad; d++)
                {
                    Combine(kind, new Span<float>(dst, total - d), new ReadOnlySpan<float>(src + d, total - d));
                    Combine(kind, new Span<float>(dst + d, total - d), new ReadOnlySpan<float>(src, total - d));
                }
            }
            if (pad == 1 && width >= 2)
            {
                // The common 3-wide window: each row's two end columns see two inputs.
                for (int r = 0; r < rows; r++)
                {
                    float* s = src + (long)r * width;
                    float* o = dst + (long)r * width;
                    if (kind == PoolKind.Max)
                    {
                        o[0] = MathF.Max(s[0], s[1]);
                        o[width - 1] = MathF.Max(s[width - 2], s[width - 1]);
                    }
                    else
                    {
                        o[0] = s[0] + s[1];
                        o[width - 1] = s[width - 2] + s[width - 1];
                    }
                }
                return;
            }
            for (int r = 0; r < rows; r++)
            {
                float* s = src + (long)r * width;
                float* o = dst + (long)r * width;
                for (int j = 0; j < width; j++)
                {
                    if (j == pad && width > 2 * pad) j = width - pad;
                    int ws = Math.Max(j - pad, 0), we = Math.Min(j + pad + 1, width);
                    float v = s[ws];
                    for (int w = ws + 1; w < we; w++) v = kind == PoolKind.Max ? MathF.Max(v, s[w]) : v + s[w];
                    o[j] = v;
                }
            }
        }

        /// <summary>w = dy / y where y &gt; 0, else 0: L2 pooling's per-output weight (an output of 0 passes nothing back).</summary>
        private static void L2Weights(float* dy, float* y, float* w, int length)
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i + 16 <= length; i += 16)
                {
                    var yv = Vector512.Load(y + i);
                    Vector512.ConditionalSelect(Vector512.GreaterThan(yv, Vector512<float>.Zero), Vector512.Load(dy + i) / yv, Vector512<float>.Zero).Store(w + i);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 8 <= length; i += 8)
                {
                    var yv = Vector256.Load(y + i);
                    Vector256.ConditionalSelect(Vector256.GreaterThan(yv, Vector256<float>.Zero), Vector256.Load(dy + i) / yv, Vector256<float>.Zero).Store(w + i);
                }
            }
            for (; i < length; i++) w[i] = y[i] > 0 ? dy[i] / y[i] : 0f;
        }

        /// <summary>
        /// Max pooling's gradient goes to the first maximum of each window in row-major order. Per output row: a vector
        /// pass down the window's rows keeps, for every input column, the largest value and the first row holding it;
        /// then each output scans its window's columns for the smallest (row, column) whose value is the maximum.
        /// </summary>
        private static void MaxBackward(in PoolGeometry g, float* x, float* y, float* dy, float* dx, float* rows)
        {
            float* best = rows;
            int* from = (int*)(rows + g.InW);
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int hs = Math.Max(h0, 0), he = Math.Min(h0 + g.KernelH, g.InH);
                if (he <= hs) continue;
                new ReadOnlySpan<float>(x + (long)hs * g.InW, g.InW).CopyTo(new Span<float>(best, g.InW));
                new Span<int>(from, g.InW).Fill(hs);
                for (int h = hs + 1; h < he; h++) KeepFirstMax(x + (long)h * g.InW, best, from, h, g.InW);
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    int w0 = ow * g.StrideW - g.PadW;
                    int ws = Math.Max(w0, 0), we = Math.Min(w0 + g.KernelW, g.InW);
                    int o = oh * g.OutW + ow;
                    float target = y[o];
                    int bestRow = int.MaxValue, bestColumn = -1;
                    for (int w = ws; w < we; w++)
                    {
                        if (best[w] == target && from[w] < bestRow)
                        {
                            bestRow = from[w];
                            bestColumn = w;
                        }
                    }
                    if (bestColumn >= 0) dx[(long)bestRow * g.InW + bestColumn] += dy[o];
                }
            }
        }

        /// <summary>
        /// <see cref="MaxBackward"/> sixteen outputs at a time (stride 1 or 2): the plane is copied between NaN padding
        /// (never equal to a maximum), and the window's taps are visited in row-major order; a tap whose gathered value
        /// equals the output, for outputs not yet served, adds dy at its input position in a padded gradient plane, which
        /// is added to dx at the end. So each output's gradient still goes to the first maximum of its window.
        /// </summary>
        private static void MaxBackwardVector(in PoolGeometry g, float* x, float* y, float* dy, float* dx, float* rows)
        {
            int pitch = LineFloats(g);
            float* xp = rows, dxp = rows + (long)g.InH * pitch + LineSlack;
            new Span<float>(xp, g.InH * pitch).Fill(float.NaN);
            new Span<float>(dxp, g.InH * pitch + LineSlack).Clear();
            for (int h = 0; h < g.InH; h++) Im2Col.Copy(x + (long)h * g.InW, xp + (long)h * pitch + g.PadW, g.InW, SimdLevel.Vector512);
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            // Spread sixteen values over the even lanes of two vectors (index 16 picks from a zero vector).
            var spreadLow = Vector512.Create(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16);
            var spreadHigh = Vector512.Create(8, 16, 9, 16, 10, 16, 11, 16, 12, 16, 13, 16, 14, 16, 15, 16);
            if (g.StrideW == 2 && g.KernelW == 3)
            {
                MaxBackwardStride2(g, y, dy, xp, dxp, pitch);
            }
            else if (g.StrideW == 1 && g.KernelW == 3)
            {
                MaxBackwardStride1(g, y, dy, xp, dxp, pitch);
            }
            else
            {
                MaxBackwardTaps(g, y, dy, xp, dxp, pitch, even, spreadLow, spreadHigh);
            }
            for (int h = 0; h < g.InH; h++) Im2Col.Add(dxp + (long)h * pitch + g.PadW, dx + (long)h * g.InW, g.InW, SimdLevel.Vector512);
        }

        /// <summary>
        /// The 3-wide, stride-2 window (every stride-2 max pooling of the models): per output vector and window row, the
        /// three taps' gradients are combined in registers into the 32 padded columns they reach (tap 0 and the previous
        /// output's tap 2 share the even columns, tap 1 has the odd ones) and added to the padded gradient with one
        /// read-modify-write per 16 columns. Adding each tap on its own made every load overlap the store just before
        /// it, which stalled it; this runs several times faster.
        /// </summary>
        private static void MaxBackwardStride2(in PoolGeometry g, float* y, float* dy, float* xp, float* dxp, int pitch)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            // Lane j: the previous vector's lane 15 for j = 0, else this vector's lane j − 1.
            var shiftUp = Vector512.Create(15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
            var interleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            var interleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            var carries = stackalloc Vector512<float>[g.KernelH];
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int hs = Math.Max(h0, 0), he = Math.Min(h0 + g.KernelH, g.InH);
                for (int r = 0; r < he - hs; r++) carries[r] = Vector512<float>.Zero;
                for (int t = 0; t < g.OutW; t += 16)
                {
                    var valid = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(g.OutW - t)).AsSingle();
                    var target = Avx512F.MaskLoad(y + (long)oh * g.OutW + t, valid, Vector512<float>.Zero);
                    var grad = Avx512F.MaskLoad(dy + (long)oh * g.OutW + t, valid, Vector512<float>.Zero);
                    var open = valid;
                    for (int h = hs; h < he; h++)
                    {
                        float* s = xp + (long)h * pitch + 2L * t;
                        // Taps in window order: the first input equal to the output takes its gradient.
                        var v0 = Avx512F.PermuteVar16x32x2(Vector512.Load(s), even, Vector512.Load(s + 16));
                        var hit = Vector512.Equals(v0, target) & open;
                        open = Vector512.AndNot(open, hit);
                        var add0 = grad & hit;
                        var v1 = Avx512F.PermuteVar16x32x2(Vector512.Load(s + 1), even, Vector512.Load(s + 17));
                        hit = Vector512.Equals(v1, target) & open;
                        open = Vector512.AndNot(open, hit);
                        var add1 = grad & hit;
                        var v2 = Avx512F.PermuteVar16x32x2(Vector512.Load(s + 2), even, Vector512.Load(s + 18));
                        hit = Vector512.Equals(v2, target) & open;
                        open = Vector512.AndNot(open, hit);
                        var add2 = grad & hit;
                        // Columns 2t + 2j: tap 0 of output j and tap 2 of output j − 1; columns 2t + 2j + 1: tap 1 of output j.
                        var evens = add0 + Avx512F.PermuteVar16x32x2(carries[h - hs], shiftUp, add2);
                        carries[h - hs] = add2;
                        float* d = dxp + (long)h * pitch + 2L * t;
                        (Vector512.Load(d) + Avx512F.PermuteVar16x32x2(evens, interleaveLow, add1)).Store(d);
                        (Vector512.Load(d + 16) + Avx512F.PermuteVar16x32x2(evens, interleaveHigh, add1)).Store(d + 16);
                    }
                }
                if (g.OutW % 16 == 0)
                {
                    // The last output's tap 2 falls past the last full vector: column 2·OutW.
                    for (int h = hs; h < he; h++) dxp[(long)h * pitch + 2L * g.OutW] += carries[h - hs].GetElement(15);
                }
            }
        }

        /// <summary>
        /// The 3-wide, stride-1 window, as <see cref="MaxBackwardStride2"/>: per output vector and window row, output j's
        /// taps reach columns j, j + 1 and j + 2, so the three taps' gradients are summed in registers (the two shifted
        /// ones carrying their last lanes into the next vector) and added with one read-modify-write per 16 columns.
        /// </summary>
        private static void MaxBackwardStride1(in PoolGeometry g, float* y, float* dy, float* xp, float* dxp, int pitch)
        {
            var shift1 = Vector512.Create(15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
            var shift2 = Vector512.Create(14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
            var carries1 = stackalloc Vector512<float>[g.KernelH];
            var carries2 = stackalloc Vector512<float>[g.KernelH];
            // The last vector's shifted taps spill into the next 16 columns when it has 15 or 16 outputs.
            int rest = g.OutW % 16;
            bool flush = rest == 0 || rest == 15;
            int end = Gemm.RoundUp(g.OutW, 16);
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int hs = Math.Max(h0, 0), he = Math.Min(h0 + g.KernelH, g.InH);
                for (int r = 0; r < he - hs; r++) carries1[r] = carries2[r] = Vector512<float>.Zero;
                for (int t = 0; t < g.OutW; t += 16)
                {
                    var valid = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(g.OutW - t)).AsSingle();
                    var target = Avx512F.MaskLoad(y + (long)oh * g.OutW + t, valid, Vector512<float>.Zero);
                    var grad = Avx512F.MaskLoad(dy + (long)oh * g.OutW + t, valid, Vector512<float>.Zero);
                    var open = valid;
                    for (int h = hs; h < he; h++)
                    {
                        float* s = xp + (long)h * pitch + t;
                        // Taps in window order: the first input equal to the output takes its gradient.
                        var hit = Vector512.Equals(Vector512.Load(s), target) & open;
                        open = Vector512.AndNot(open, hit);
                        var add0 = grad & hit;
                        hit = Vector512.Equals(Vector512.Load(s + 1), target) & open;
                        open = Vector512.AndNot(open, hit);
                        var add1 = grad & hit;
                        hit = Vector512.Equals(Vector512.Load(s + 2), target) & open;
                        open = Vector512.AndNot(open, hit);
                        var add2 = grad & hit;
                        int r = h - hs;
                        var sum = add0 + Avx512F.PermuteVar16x32x2(carries1[r], shift1, add1) + Avx512F.PermuteVar16x32x2(carries2[r], shift2, add2);
                        carries1[r] = add1;
                        carries2[r] = add2;
                        float* d = dxp + (long)h * pitch + t;
                        (Vector512.Load(d) + sum).Store(d);
                    }
                }
                if (flush)
                {
                    for (int h = hs; h < he; h++)
                    {
                        int r = h - hs;
                        var sum = Avx512F.PermuteVar16x32x2(carries1[r], shift1, Vector512<float>.Zero) + Avx512F.PermuteVar16x32x2(carries2[r], shift2, Vector512<float>.Zero);
                        float* d = dxp + (long)h * pitch + end;
                        (Vector512.Load(d) + sum).Store(d);
                    }
                }
            }
        }

        /// <summary>Max backward tap by tap: each tap's hits added to the padded gradient (stride 1 or 2).</summary>
        private static void MaxBackwardTaps(in PoolGeometry g, float* y, float* dy, float* xp, float* dxp, int pitch, Vector512<int> even, Vector512<int> spreadLow, Vector512<int> spreadHigh)
        {
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int hs = Math.Max(h0, 0), he = Math.Min(h0 + g.KernelH, g.InH);
                for (int t = 0; t < g.OutW; t += 16)
                {
                    var valid = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(g.OutW - t)).AsSingle();
                    var target = Avx512F.MaskLoad(y + (long)oh * g.OutW + t, valid, Vector512<float>.Zero);
                    var grad = Avx512F.MaskLoad(dy + (long)oh * g.OutW + t, valid, Vector512<float>.Zero);
                    var open = valid;
                    for (int h = hs; h < he; h++)
                    {
                        for (int kw = 0; kw < g.KernelW; kw++)
                        {
                            long at = (long)h * pitch + kw + (long)t * g.StrideW;
                            float* s = xp + at;
                            var v = g.StrideW == 1 ? Vector512.Load(s) : Avx512F.PermuteVar16x32x2(Vector512.Load(s), even, Vector512.Load(s + 16));
                            // Branch-free: which taps hit is data-dependent (mispredicted branches cost more than adding zeros).
                            var hit = Vector512.Equals(v, target) & open;
                            open = Vector512.AndNot(open, hit);
                            var add = grad & hit;
                            float* d = dxp + at;
                            if (g.StrideW == 1)
                            {
                                (Vector512.Load(d) + add).Store(d);
                            }
                            else
                            {
                                (Vector512.Load(d) + Avx512F.PermuteVar16x32x2(add, spreadLow, Vector512<float>.Zero)).Store(d);
                                (Vector512.Load(d + 16) + Avx512F.PermuteVar16x32x2(add, spreadHigh, Vector512<float>.Zero)).Store(d + 16);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>Where row h holds a strictly larger value, take it and remember h (ties keep the earlier row).</summary>
        private static void KeepFirstMax(float* row, float* best, int* from, int h, int width)
        {
            int w = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var hv = Vector256.Create(h);
                for (; w + 8 <= width; w += 8)
                {
                    var v = Vector256.Load(row + w);
                    var b = Vector256.Load(best + w);
                    var greater = Vector256.GreaterThan(v, b);
                    Vector256.ConditionalSelect(greater, v, b).Store(best + w);
                    Vector256.ConditionalSelect(greater.AsInt32(), hv, Vector256.Load(from + w)).Store(from + w);
                }
            }
            for (; w < width; w++)
            {
                if (row[w] > best[w])
                {
                    best[w] = row[w];
                    from[w] = h;
                }
            }
        }

        /// <summary>dx[rows from ih] += t (average) or x · t (L2), over <paramref name="length"/> contiguous floats.</summary>
        private static void Spread(PoolKind kind, float* t, float* x, float* dx, int ih, int length, int width)
        {
            var tt = new ReadOnlySpan<float>(t, length);
            var d = new Span<float>(dx + (long)ih * width, length);
            if (kind == PoolKind.Average) TensorPrimitives.Add(d, tt, d);
            else TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(x + (long)ih * width, length), tt, d, d);
        }
    }
}
