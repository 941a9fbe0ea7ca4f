using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Winograd's F(4×4, 3×3) for the forward and backward data passes: every 4×4 block of outputs comes from a 6×6 input
/// patch d as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so the 9·16 = 144 multiply-adds of a tile per channel pair become 36 (F(2×2,
/// 3×3) takes 16 for 4 outputs, 64 for 16), at the price of transforms with larger coefficients (rounding errors a
/// few times those of F(2×2, 3×3), still near 1e-6 of the outputs' scale in float32).
/// </summary>
/// <remarks>
/// With the interpolation points 0, ±1, ±2 and ∞:
/// Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
/// G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
/// The 36 products per tile and channel pair are 36 GEMMs, U[ξ] (OutC × InC) · V[ξ] (InC × tiles). Tiles are taken
/// sixteen at a time in column order across tile rows and images, each patch element a masked gather (padding reads as
/// zero), so maps of few tiles a row (12×12 has three) fill the vector lanes as well as large ones. AVX-512 with AVX2
/// gathers only; other levels keep F(2×2, 3×3).
/// </remarks>
public sealed unsafe partial class CpuBackend
{
    /// <summary>Whether Winograd convolutions may take F(4×4, 3×3) where it needs fewer products (see <see cref="TakesF4"/>).</summary>
    internal bool Winograd4 { get; init; } = true;

    /// <summary>
    /// Whether a Winograd convolution takes F(4×4, 3×3) rather than F(2×2, 3×3): the wide SIMD level, and at most
    /// <see cref="F4CostRatio"/> of F(2×2, 3×3)'s products once ragged edge tiles are counted whole (12×12, 24×24,
    /// 7×7, 9×8 and 4×4 do; 6×6 and 5×5, the same products either way, do not).
    /// </summary>
    internal bool TakesF4(in ConvGeometry g) =>
        Winograd4 && Im2Col.Wide(Simd) && Avx2.IsSupported &&
        36.0 * Tiles(g.OutH, 4) * Tiles(g.OutW, 4) <= F4CostRatio * 16.0 * Tiles(g.OutH, 2) * Tiles(g.OutW, 2);

    /// <summary>
    /// Columns an item of the gathered F(4×4, 3×3) aims at (whole images of small maps, at most a worker's share of
    /// the batch): its 36 transformed panels and products grow with them.
    /// </summary>
    internal const int F4TargetColumns = 160;

    /// <summary>Largest ratio of F(4×4, 3×3)'s products to F(2×2, 3×3)'s for which it is taken.</summary>
    internal const double F4CostRatio = 0.8;

    private static int Tiles(int size, int tile) => (size + tile - 1) / tile;

    /// <summary>Ints of an item's F(4×4) gather plan for <paramref name="cols"/> columns (see <see cref="PlanGather4"/>).</summary>
    internal static long Gather4PlanInts(int cols, int nr) => 14L * Gemm.RoundUp(cols, nr);

    /// <summary>Bits of a column's output offset in the F(4×4) plan; its valid width and height less one lie above them.</summary>
    private const int F4OffsetBits = 26;

    /// <summary>Whether an item of <paramref name="imgCount"/> images has offsets that fit the F(4×4) plan.</summary>
    internal static bool FitsGather4(int imgCount, long imageFloats) => imgCount * imageFloats < 1 << F4OffsetBits;

    /// <summary>
    /// Per column j, padded to whole GEMM panels (P columns): at plan[j] the offset of its tile's 6×6 patch corner in x
    /// (from image img0, channel 0; it may lie in the padding); at plan[P + j] the offset of its tile's first output in y
    /// with the tile's valid width and height less one in bits 26–27 and 28–29; at plan[(2 + r)P + j] −1 where patch
    /// row r lies inside the map, and at plan[(8 + c)P + j] −1 where patch column c does (0 for padding and for
    /// columns past the item's last).
    /// </summary>
    internal static void PlanGather4(in ConvGeometry g, int tilesW, long yStride, int tCount, int t0, int cols, int nr, int* plan)
    {
        int padded = Gemm.RoundUp(cols, nr);
        for (int j = 0; j < padded; j++)
        {
            if (j >= cols)
            {
                for (int q = 0; q < 14; q++) plan[q * padded + j] = 0;
                continue;
            }
            int i = j / tCount, t = t0 + j % tCount;
            int oy = 4 * (t / tilesW), ox = 4 * (t % tilesW);
            int iy = oy - 1, ix = ox - 1;
            plan[j] = (int)(i * g.InSize) + iy * g.InW + ix;
            int vw = Math.Min(4, g.OutW - ox), vh = Math.Min(4, g.OutH - oy);
            plan[padded + j] = (int)(i * yStride) + oy * g.OutW + ox | (vw - 1) << F4OffsetBits | (vh - 1) << (F4OffsetBits + 2);
            for (int r = 0; r < 6; r++)
            {
                plan[(2 + r) * padded + j] = (uint)(iy + r) < (uint)g.InH ? -1 : 0;
                plan[(8 + r) * padded + j] = (uint)(ix + r) < (uint)g.InW ? -1 : 0;
            }
        }
    }

    /// <summary>
    /// (Bᵀ d)ᵢ for i = 0 … 5 of six vectors d (one patch row or column each): with a = d4 − 4d2, b = d3 − 4d1,
    /// c = d4 − d2, e = 2(d3 − d1): 4d0 − 5d2 + d4, a + b, a − b, c + e, c − e, 4d1 − 5d3 + d5.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputRow4(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5,
        out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3, out Vector512<float> o4, out Vector512<float> o5)
    {
        var four = Vector512.Create(4f);
        var five = Vector512.Create(5f);
        var a = Vector512.FusedMultiplyAdd(-four, d2, d4);
        var b = Vector512.FusedMultiplyAdd(-four, d1, d3);
        var c = d4 - d2;
        var e = (d3 - d1) * Vector512.Create(2f);
        o0 = Vector512.FusedMultiplyAdd(four, d0, Vector512.FusedMultiplyAdd(-five, d2, d4));
        o1 = a + b;
        o2 = a - b;
        o3 = c + e;
        o4 = c - e;
        o5 = Vector512.FusedMultiplyAdd(four, d1, Vector512.FusedMultiplyAdd(-five, d3, d5));
    }

    /// <summary>
    /// Bᵀ (d B) from the row results rows[6r + k] = (d B)[r, k]: each column k through <see cref="InputRow4"/>, position
    /// ξ = 6i + k stored at o + ξ·xiStride.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void InputColumns4(Vector512<float>* rows, float* o, long xiStride)
    {
        for (int k = 0; k < 6; k++)
        {
            InputRow4(rows[k], rows[6 + k], rows[12 + k], rows[18 + k], rows[24 + k], rows[30 + k],
                out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
            StoreColumn6(o + k * xiStride, xiStride, v0, v1, v2, v3, v4, v5);
        }
    }

    /// <summary>Column k of a transformed 6×6 tile: element i (ξ = 6i + k) at o + 6i·xiStride, o being ξ = k's place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreColumn6(float* o, long xiStride, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2,
        Vector512<float> v3, Vector512<float> v4, Vector512<float> v5)
    {
        v0.Store(o);
        v1.Store(o + 6 * xiStride);
        v2.Store(o + 12 * xiStride);
        v3.Store(o + 18 * xiStride);
        v4.Store(o + 24 * xiStride);
        v5.Store(o + 30 * xiStride);
    }

    /// <summary>
    /// V[ξ][ic, j] = (Bᵀ d B)[ξ] (ξ = 6i + k) for the 6×6 patches of columns [0, padded), sixteen at a time, each
    /// element a masked gather through the plan of <see cref="PlanGather4"/>. Column j of channel ic goes to
    /// v + (j / block)·blockStride + ic·icStride + j % block, position ξ ξ·xiStride further. x points at channel 0 of
    /// the item's first image.
    /// </summary>
    internal static void TransformInput4(in ConvGeometry g, float* x, int padded, int* plan, float* v, int block, long blockStride, long icStride, long xiStride)
    {
        int inHw = g.InH * g.InW, w = g.InW;
        var rows = stackalloc Vector512<float>[36];
        for (int ic = 0; ic < g.InC; ic++)
        {
            float* plane = x + (long)ic * inHw;
            for (int j = 0; j < padded; j += 16)
            {
                var corner = Vector512.Load(plan + j);
                var c0 = Vector512.Load(plan + 8 * padded + j); var c1 = Vector512.Load(plan + 9 * padded + j);
                var c2 = Vector512.Load(plan + 10 * padded + j); var c3 = Vector512.Load(plan + 11 * padded + j);
                var c4 = Vector512.Load(plan + 12 * padded + j); var c5 = Vector512.Load(plan + 13 * padded + j);
                // d B for each patch row r: a row's six elements are gathers at corner + r·w + c.
                for (int r = 0; r < 6; r++)
                {
                    var live = Vector512.Load(plan + (2 + r) * padded + j);
                    var at = corner + Vector512.Create(r * w);
                    InputRow4(
                        Gather(plane, at, live & c0), Gather(plane, at + Vector512<int>.One, live & c1),
                        Gather(plane, at + Vector512.Create(2), live & c2), Gather(plane, at + Vector512.Create(3), live & c3),
                        Gather(plane, at + Vector512.Create(4), live & c4), Gather(plane, at + Vector512.Create(5), live & c5),
                        out rows[6 * r], out rows[6 * r + 1], out rows[6 * r + 2], out rows[6 * r + 3], out rows[6 * r + 4], out rows[6 * r + 5]);
                }
                // Bᵀ (d B): each column k of the row results.
                float* o = v + (long)(j / block) * blockStride + ic * icStride + j % block;
                InputColumns4(rows, o, xiStride);
            }
        }
    }

    /// <summary>
    /// (Aᵀ m)ᵢ for i = 0 … 3 of six vectors m: with p = m1 + m2, q = m1 − m2, r = m3 + m4, s = m3 − m4:
    /// m0 + p + r, q + 2s, p + 4r, q + 8s + m5.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputRow4(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4, Vector512<float> m5,
        out Vector512<float> y0, out Vector512<float> y1, out Vector512<float> y2, out Vector512<float> y3)
    {
        var p = m1 + m2;
        var q = m1 - m2;
        var r = m3 + m4;
        var s = m3 - m4;
        y0 = m0 + p + r;
        y1 = Vector512.FusedMultiplyAdd(Vector512.Create(2f), s, q);
        y2 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), r, p);
        y3 = Vector512.FusedMultiplyAdd(Vector512.Create(8f), s, q) + m5;
    }

    /// <summary>
    /// y = Aᵀ M A + bias (then ReLU) for sixteen columns whose 36 products M[ξ] lie xiStride apart from src (the lanes
    /// that <paramref name="live"/> selects loaded, the rest zero): each of the six rows of M (ξ = 6i … 6i + 5) through
    /// Aᵀ into <paramref name="rows"/>, then each column c of those; output (r, c) of the 4×4 block to ys[4r + c].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void OutputBlock4(float* src, long xiStride, Vector512<float> live, Vector512<float> bias, bool relu, Vector512<float>* rows, Vector512<float>* ys)
    {
        for (int i = 0; i < 6; i++)
        {
            float* at = src + 6 * i * xiStride;
            Vector512<float> M(int k) => Avx512F.MaskLoad(at + k * xiStride, live, Vector512<float>.Zero);
            OutputRow4(M(0), M(1), M(2), M(3), M(4), M(5), out rows[4 * i], out rows[4 * i + 1], out rows[4 * i + 2], out rows[4 * i + 3]);
        }
        for (int c = 0; c < 4; c++)
        {
            OutputRow4(rows[c], rows[4 + c], rows[8 + c], rows[12 + c], rows[16 + c], rows[20 + c], out var r0, out var r1, out var r2, out var r3);
            r0 += bias; r1 += bias; r2 += bias; r3 += bias;
            if (relu)
            {
                r0 = Vector512.Max(r0, Vector512<float>.Zero);
                r1 = Vector512.Max(r1, Vector512<float>.Zero);
                r2 = Vector512.Max(r2, Vector512<float>.Zero);
                r3 = Vector512.Max(r3, Vector512<float>.Zero);
            }
            ys[c] = r0; ys[4 + c] = r1; ys[8 + c] = r2; ys[12 + c] = r3;
        }
    }

    /// <summary>
    /// U[ξ][oc, ic] = (G g Gᵀ)[ξ], 6×6, for the 3×3 (F(4×4, 3×3)) or 5×5 (F(2×2, 5×5)) filters g = w[oc, ic] of pairs
    /// [p0, p1), sixteen pairs at a time (the last sixteen under a mask), each tap a gather across the pairs' filters.
    /// </summary>
    [SkipLocalsInit]
    internal static void TransformFilters6x6(in ConvGeometry g, float* w, float* u, bool transposed, long p0, long p1)
    {
        int k = g.KernelH, taps = k * k;
        long plane = FilterPlane(g);
        if (k == 3) p0 = TransformFilters3x3(g, w, u, transposed, p0, p1);
        int* offsets = stackalloc int[16];
        var f = stackalloc Vector512<float>[25];
        var gg = stackalloc Vector512<float>[30];
        var row = stackalloc Vector512<float>[6];
        for (long p = p0; p < p1; p += 16)
        {
            int count = (int)Math.Min(16, p1 - p);
            var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count));
            float* baseTap = FilterTapOffsets(g, w, transposed, p, count, offsets);
            PrefetchFilterPairs(g, w, u, p, p1, taps, 36, plane, transposed);
            var index = Vector512.Load(offsets);
            for (int t = 0; t < taps; t++) f[t] = Gather(baseTap + (transposed ? taps - 1 - t : t), index, live);
            // G g: 6 × k, kernel column by kernel column, into gg[k·i + c].
            for (int c = 0; c < k; c++) FilterRow(k, f + c, k, gg + c, k);
            // (G g) Gᵀ: 6 × 6, row i from row i of G g.
            float* o = u + p;
            var mask = live.AsSingle();
            for (int i = 0; i < 6; i++)
            {
                FilterRow(k, gg + k * i, 1, row, 1);
                for (int j = 0; j < 6; j++) Avx512F.MaskStore(o + (6 * i + j) * plane, mask, row[j]);
            }
        }
    }

    /// <summary>
    /// <see cref="TransformFilters6x6"/> for 3×3 filters, the whole sixteens of pairs from p0 (returns where it stopped):
    /// the nine taps, both passes of G and the 36 stores of a sixteen held in registers, where the general loop keeps
    /// them in stack arrays (24×24×64→192 from warm caches: 7–8 against 9–14 ns a pair; the gathers take about 3).
    /// </summary>
    private static long TransformFilters3x3(in ConvGeometry g, float* w, float* u, bool transposed, long p0, long p1)
    {
        long plane = FilterPlane(g);
        int* offsets = stackalloc int[16];
        var f = stackalloc Vector512<float>[9];
        long p = p0;
        for (; p + 16 <= p1; p += 16)
        {
            GatherFilterTaps3x3(g, w, u, p, p1, 36, plane, transposed, offsets, f);
            // G g, kernel column c into a … c.
            FilterRow4(f[0], f[3], f[6], out var a0, out var a1, out var a2, out var a3, out var a4, out var a5);
            FilterRow4(f[1], f[4], f[7], out var b0, out var b1, out var b2, out var b3, out var b4, out var b5);
            FilterRow4(f[2], f[5], f[8], out var c0, out var c1, out var c2, out var c3, out var c4, out var c5);
            float* o = u + p;
            StoreFilterRow(o, plane, a0, b0, c0);
            StoreFilterRow(o + 6 * plane, plane, a1, b1, c1);
            StoreFilterRow(o + 12 * plane, plane, a2, b2, c2);
            StoreFilterRow(o + 18 * plane, plane, a3, b3, c3);
            StoreFilterRow(o + 24 * plane, plane, a4, b4, c4);
            StoreFilterRow(o + 30 * plane, plane, a5, b5, c5);
        }
        return p;
    }

    /// <summary>
    /// f[t] = tap t of the 3×3 filters of pairs p … p + 15 (rotated by 180° when transposed), gathered across the pairs,
    /// after prefetching what the transform of the sixteen <see cref="FilterPrefetchGroups"/> ahead reads and writes
    /// (its <paramref name="planes"/> planes <paramref name="plane"/> floats apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void GatherFilterTaps3x3(in ConvGeometry g, float* w, float* u, long p, long p1, int planes, long plane, bool transposed, int* offsets, Vector512<float>* f)
    {
        float* baseTap = FilterTapOffsets(g, w, transposed, p, 16, offsets);
        PrefetchFilterPairs(g, w, u, p, p1, 9, planes, plane, transposed);
        var lo = Vector256.Load(offsets);
        var hi = Vector256.Load(offsets + 8);
        for (int t = 0; t < 9; t++)
        {
            float* tap = baseTap + (transposed ? 8 - t : t);
            f[t] = Vector512.Create(Avx2.GatherVector256(tap, lo, 4), Avx2.GatherVector256(tap, hi, 4));
        }
    }

    /// <summary>Sixteens of filter pairs a filter transform prefetches ahead: its weights and its transformed planes.</summary>
    private const int FilterPrefetchGroups = 4;

    /// <summary>
    /// Prefetches what the filter transform of pairs p … p + 15 reads and writes <see cref="FilterPrefetchGroups"/>
    /// sixteens ahead: the taps of w (in pair order, or OutC filters apart when transposed) and a cache line
    /// of each of the transformed planes. The weights come from memory and the planes are cold; without it a 3×3
    /// transform took 19 ns a pair from cold caches against 7 from warm ones, with it 10–11.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchFilterPairs(in ConvGeometry g, float* w, float* u, long p, long p1, int taps, int planes, long plane, bool transposed)
    {
        long ahead = p + 16 * FilterPrefetchGroups;
        if (ahead + 16 > p1) return;
        if (!transposed)
        {
            float* line = w + ahead * taps;
            for (int l = 0; l < taps; l++) Sse.Prefetch0(line + 16 * l);
        }
        float* o = u + ahead;
        for (int xi = 0; xi < planes; xi++) Sse.Prefetch0(o + xi * plane);
    }

    /// <summary>Row i of (G g) Gᵀ from row i (a, b, c) of G g: its six elements, plane floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFilterRow(float* o, long plane, Vector512<float> a, Vector512<float> b, Vector512<float> c)
    {
        FilterRow4(a, b, c, out var r0, out var r1, out var r2, out var r3, out var r4, out var r5);
        r0.Store(o);
        r1.Store(o + plane);
        r2.Store(o + 2 * plane);
        r3.Store(o + 3 * plane);
        r4.Store(o + 4 * plane);
        r5.Store(o + 5 * plane);
    }

    /// <summary>
    /// (G f)ᵢ, i = 0 … 5, of the k (3 or 5) vectors f[0], f[stride], …, into o[0], o[outStride], …: G of F(4×4, 3×3)
    /// (<see cref="FilterRow4"/>) or of F(2×2, 5×5) (<see cref="FilterRow5"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterRow(int k, Vector512<float>* f, int stride, Vector512<float>* o, int outStride)
    {
        if (k == 3)
        {
            FilterRow4(f[0], f[stride], f[2 * stride], out o[0], out o[outStride], out o[2 * outStride], out o[3 * outStride], out o[4 * outStride], out o[5 * outStride]);
        }
        else
        {
            FilterRow5(f[0], f[stride], f[2 * stride], f[3 * stride], f[4 * stride], out o[0], out o[outStride], out o[2 * outStride], out o[3 * outStride], out o[4 * outStride], out o[5 * outStride]);
        }
    }

    /// <summary>
    /// (G f)ᵢ for i = 0 … 5 of three vectors f: f0/4, −(f0 + f1 + f2)/6, −(f0 − f1 + f2)/6, f0/24 + f1/12 + f2/6,
    /// f0/24 − f1/12 + f2/6, f2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterRow4(Vector512<float> f0, Vector512<float> f1, Vector512<float> f2,
        out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3, out Vector512<float> o4, out Vector512<float> o5)
    {
        var sixth = Vector512.Create(1f / 6);
        var even = f0 + f2;
        var outer = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 24), f0, f2 * sixth);
        var middle = f1 * Vector512.Create(1f / 12);
        o0 = f0 * Vector512.Create(0.25f);
        o1 = -(even + f1) * sixth;
        o2 = (f1 - even) * sixth;
        o3 = outer + middle;
        o4 = outer - middle;
        o5 = f2;
    }

    /// <summary>
    /// The offsets (in floats, from the returned base) of the (KernelH × KernelW) filters of pairs p … p + count − 1 of g into offsets:
    /// pair (oc, ic)'s filter is w[oc, ic], or when <paramref name="transposed"/> w[ic, oc] (to be read rotated by 180°,
    /// g being the transposed convolution). Lanes past count repeat offset 0.
    /// </summary>
    internal static float* FilterTapOffsets(in ConvGeometry g, float* w, bool transposed, long p, int count, int* offsets)
    {
        int taps = g.KernelH * g.KernelW;
        if (!transposed)
        {
            for (int l = 0; l < 16; l++) offsets[l] = l < count ? taps * l : 0;
            return w + p * taps;
        }
        long oc = p / g.InC, ic = p % g.InC;
        for (int l = 0; l < 16; l++)
        {
            offsets[l] = l < count ? (int)((ic * g.OutC + oc) * taps) : 0;
            if (++ic == g.InC) { ic = 0; oc++; }
        }
        return w;
    }

    private sealed partial class WinogradForwardWork
    {
        /// <summary>
        /// One item of F(4×4, 3×3): the item's tiles gathered and transformed into 36 packed V[ξ], the 36 GEMMs, and the
        /// products transformed back into y.
        /// </summary>
        private void ExecuteF4(int index, int worker)
        {
            var g = _g;
            var s = owner.Scratch(worker);
            _plan.Item(index, out int img0, out int imgCount, out int t0, out int tCount);
            int cols = imgCount * tCount, nr = owner.NR, padded = Gemm.RoundUp(cols, nr);
            // Each ξ's panels and products one cache line further than a whole multiple of their size: sizes that are
            // multiples of 4 KiB would put all 36 of a column's positions in one cache set.
            long panelFloats = Gemm.PackedSize(g.InC, cols, nr) + 16, xiStride = (long)g.OutC * cols + 16;
            float* v = s.Pack.Ensure(36 * panelFloats);
            float* m = s.Tmp.Ensure(36 * xiStride);
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            int* plan = (int*)s.Col.Ensure(Gather4PlanInts(cols, nr));
            PlanGather4(g, _tilesW, _yStride, tCount, t0, cols, nr, plan);
            TransformInput4(g, _x + (long)img0 * g.InSize, padded, plan, v, nr, (long)g.InC * nr, nr, panelFloats);
            for (int xi = 0; xi < 36; xi++)
            {
                Gemm.Multiply(owner.Simd, g.OutC, cols, g.InC, _u + xi * FilterPlane(g), g.InC, v + xi * panelFloats, m + xi * xiStride, cols, false, gemm);
            }
            TransformOutput4(g, img0, cols, padded, m, xiStride, plan);
        }

        /// <summary>
        /// y tile = Aᵀ M A + bias (then ReLU) sixteen columns at a time (M[ξ] xiStride apart): the products load as vectors, and each column's
        /// 4×4 outputs (those inside the map) are then written to their place.
        /// </summary>
        private void TransformOutput4(in ConvGeometry g, int img0, int cols, int padded, float* m, long xiStride, int* plan)
        {
            int* output = plan + padded;
            int outHw = g.OutH * g.OutW, ow = g.OutW;
            var ys = stackalloc Vector512<float>[16];
            var rows = stackalloc Vector512<float>[24];
            float* lanes = (float*)ys;
            float* y0 = _y + img0 * _yStride;
            for (int oc = 0; oc < g.OutC; oc++)
            {
                var bias = Vector512.Create(_b == null ? 0f : _b[oc]);
                float* src = m + (long)oc * cols;
                float* yc = y0 + (long)oc * outHw;
                for (int j = 0; j < cols; j += 16, src += 16)
                {
                    int count = Math.Min(16, cols - j);
                    var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
                    OutputBlock4(src, xiStride, live, bias, _relu, rows, ys);
                    int* place = output + j;
                    for (int l = 0; l < count; l++)
                    {
                        int code = place[l];
                        float* o = yc + (code & ((1 << F4OffsetBits) - 1));
                        int vw = (code >> F4OffsetBits & 3) + 1, vh = (code >> (F4OffsetBits + 2) & 3) + 1;
                        float* e = lanes + l;
                        for (int r = 0; r < vh; r++, o += ow, e += 64)
                        {
                            if (_accumulate)
                            {
                                for (int c = 0; c < vw; c++) o[c] += e[16 * c];
                            }
                            else
                            {
                                for (int c = 0; c < vw; c++) o[c] = e[16 * c];
                            }
                        }
                    }
                }
            }
        }
    }
}
