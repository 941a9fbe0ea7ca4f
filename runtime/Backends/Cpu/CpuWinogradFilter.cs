using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    private sealed partial class ConvBackwardFilterWork
    {
        /// <summary>Tiles per chunk of the Winograd filter gradient: the K of its sixteen GEMMs.</summary>
        private const int WinogradFilterTiles = 128;

        /// <summary>
        /// The filter gradient of a 3×3 stride-1 "same" convolution by the adjoint of Winograd's F(2×2, 3×3): the forward
        /// pass computes a tile as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, which is linear in g, so the gradient of g summed over tiles
        /// is Gᵀ[Σ (A dy Aᵀ) ⊙ (Bᵀ d B)]G. Per position ξ of the 4×4 transformed tile the sum over tiles is one GEMM,
        /// M[ξ] (InC × OutC) += V[ξ] (InC × tiles) · P[ξ]ᵀ (tiles × OutC), with V the transformed 4×4 input patches and
        /// P the transformed 2×2 output gradients; 16 products per tile and channel pair instead of 36. Images
        /// [first, first + count) go through in chunks of about <see cref="WinogradFilterTiles"/> tiles: whole tile
        /// rows, both transforms running sixteen tiles of a row at a time, or, on maps of few tiles a row, whole images,
        /// both transforms gathering sixteen tiles at a time across rows and images.
        /// </summary>
        private void WinogradFilter(int worker, int first, int count, float* acc)
        {
            var g = _g;
            var s = owner.Scratch(worker);
            int hw = g.OutH * g.OutW, inC = g.InC, outC = g.OutC, nr = owner.NR;
            int tilesW = (g.OutW + 1) / 2, tilesH = (g.OutH + 1) / 2, tiles = tilesW * tilesH;
            bool gathered = Gathered(tilesW, FilterGatherMaxTilesW, Math.Min(count, Math.Max(1, WinogradFilterTiles / tiles)), Math.Max(g.InSize, g.OutSize));
            // Chunks of whole tile rows, so that a row's tiles are one run of columns; or of whole images.
            int rowsPerChunk = Math.Max(1, WinogradFilterTiles / tilesW), imagesPerChunk = Math.Max(1, WinogradFilterTiles / tiles);
            int chunk = gathered ? Gemm.RoundUp(imagesPerChunk * tiles, nr) : rowsPerChunk * tilesW;
            // A row's phases hold its tiles' columns plus one, and slack for the last vector's full loads.
            int length = Gemm.RoundUp(tilesW + 17, 16);
            // Each ξ's planes one cache line past a multiple of their size (see FilterPlane).
            long vPlane = (long)inC * chunk + 16, pPlane = (long)outC * chunk + 16, mPlane = (long)inC * outC + 16;
            float* v = s.Col.Ensure(16 * vPlane + (gathered ? GatherPlanInts(chunk, nr) : 0));
            int* plan = (int*)(v + 16 * vPlane);
            float* p = s.Im2Col.Ensure(16 * pPlane);
            float* m = s.Tmp.Ensure(16 * mPlane);
            // Which side's transforms are the packed B: packing costs tiles × B's width in every chunk, while the output
            // transform reads M once per part, by gathers when B is the input side. So the output channels are B when
            // T (outC − inC) < ½ inC outC over the part's T tiles: small maps, where M is large beside the tiles
            // (`bench conv`, filter column, 2 threads, B = output vs input: 6×6×128→256 263 vs 196, 7×7×192→384 176 vs
            // 145, 6×6×144→288 268 vs 229; but 24×24×64→192 248 vs 301; 12×12×96→128 277 vs 249–276).
            bool byOut = (long)count * tiles * (outC - inC) < (long)inC * outC / 2;
            float* packed = s.Pack.Ensure(Gemm.PackedSize(chunk, byOut ? outC : inC, nr));
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            float* phases = stackalloc float[8 * length];
            long total = gathered ? count : (long)count * tilesH, step = gathered ? imagesPerChunk : rowsPerChunk;
            bool assign = true;
            for (long r0 = 0; r0 < total; r0 += step)
            {
                int rc = (int)Math.Min(step, total - r0), tc;
                if (gathered)
                {
                    int img0 = first + (int)r0;
                    tc = rc * tiles;
                    PlanGather(g, tilesW, g.OutSize, rc, tiles, 0, tc, nr, plan);
                    TransformInputGathered(g, _x + (long)img0 * g.InSize, Gemm.RoundUp(tc, nr), plan, v, int.MaxValue, 0, chunk, vPlane);
                    TransformGradientsGathered(g, _dy + (long)img0 * g.OutSize, tc, plan, Gemm.RoundUp(tc, nr), p, chunk, pPlane);
                }
                else
                {
                    tc = rc * tilesW;
                    for (int ic = 0; ic < inC; ic++)
                    {
                        for (int q = 0; q < rc; q++)
                        {
                            int img = first + (int)((r0 + q) / tilesH), ty = (int)((r0 + q) % tilesH);
                            TransformPatches(_x + (long)img * g.InSize + (long)ic * hw, g.OutH, g.OutW, ty, tilesW, phases, length, v + (long)ic * chunk + q * tilesW, vPlane);
                        }
                    }
                    for (int oc = 0; oc < outC; oc++)
                    {
                        for (int q = 0; q < rc; q++)
                        {
                            int img = first + (int)((r0 + q) / tilesH), ty = (int)((r0 + q) % tilesH);
                            TransformGradients(_dy + (long)img * g.OutSize + (long)oc * hw, g.OutH, g.OutW, ty, tilesW, phases, length, p + (long)oc * chunk + q * tilesW, pPlane);
                        }
                    }
                }
                for (int xi = 0; xi < 16; xi++)
                {
                    float* vx = v + xi * vPlane, px = p + xi * pPlane, mx = m + xi * mPlane;
                    if (byOut)
                    {
                        Gemm.PackBTransposed(tc, outC, px, chunk, packed, nr);
                        Gemm.Multiply(owner.Simd, inC, outC, tc, vx, chunk, packed, mx, outC, !assign, gemm);
                    }
                    else
                    {
                        Gemm.PackBTransposed(tc, inC, vx, chunk, packed, nr);
                        Gemm.Multiply(owner.Simd, outC, inC, tc, px, chunk, packed, mx, inC, !assign, gemm);
                    }
                }
                assign = false;
            }
            if (assign) new Span<float>(m, (int)(16 * mPlane)).Clear();
            FilterOutput(m, mPlane, inC, outC, byOut ? outC : 1, byOut ? 1 : inC, acc);
        }

        /// <summary>
        /// dW[oc, ic] = Gᵀ M[·] G, with pair (ic, oc) of M[ξ] at ξ·plane + ic·icStride + oc·ocStride, into acc as [tap][OutC] with
        /// tap = ic·9 + ky·3 + kx, sixteen output channels at a time (the last sixteen under a mask; gathered when they
        /// are not adjacent in M). Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1].
        /// </summary>
        private static void FilterOutput(float* m, long plane, int inC, int outC, int icStride, int ocStride, float* acc)
        {
            var half = Vector512.Create(0.5f);
            var lanes = Vector512<int>.Indices * Vector512.Create(ocStride);
            for (int ic = 0; ic < inC; ic++)
            {
                for (int oc = 0; oc < outC; oc += 16)
                {
                    var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(outC - oc));
                    var mask = live.AsSingle();
                    bool full = oc + 16 <= outC;
                    float* at = m + (long)ic * icStride + (long)oc * ocStride;
                    Vector512<float> M(int xi) =>
                        ocStride != 1 ? Gather(at + xi * plane, lanes, live) :
                        full ? Vector512.Load(at + xi * plane) : Avx512F.MaskLoad(at + xi * plane, mask, Vector512<float>.Zero);
                    // Gᵀ M: rows ky from the four rows of M, column by column j.
                    Vector512<float> q00 = default, q01 = default, q02 = default, q03 = default;
                    Vector512<float> q10 = default, q11 = default, q12 = default, q13 = default;
                    Vector512<float> q20 = default, q21 = default, q22 = default, q23 = default;
                    Column(M(0), M(4), M(8), M(12), half, ref q00, ref q10, ref q20);
                    Column(M(1), M(5), M(9), M(13), half, ref q01, ref q11, ref q21);
                    Column(M(2), M(6), M(10), M(14), half, ref q02, ref q12, ref q22);
                    Column(M(3), M(7), M(11), M(15), half, ref q03, ref q13, ref q23);
                    // (Gᵀ M) G: taps kx of row ky.
                    long tap = (long)ic * 9;
                    Taps(acc + tap * outC + oc, outC, q00, q01, q02, q03, half, mask, full);
                    Taps(acc + (tap + 3) * outC + oc, outC, q10, q11, q12, q13, half, mask, full);
                    Taps(acc + (tap + 6) * outC + oc, outC, q20, q21, q22, q23, half, mask, full);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Column(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> half, ref Vector512<float> q0, ref Vector512<float> q1, ref Vector512<float> q2)
        {
            q0 = m0 + half * (m1 + m2);
            q1 = half * (m1 - m2);
            q2 = half * (m1 + m2) + m3;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Taps(float* o, int outC, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, Vector512<float> half, Vector512<float> mask, bool full)
        {
            Put(o, a + half * (b + c), mask, full);
            Put(o + outC, half * (b - c), mask, full);
            Put(o + 2L * outC, half * (b + c) + d, mask, full);
        }

        /// <summary>
        /// P = A dy Aᵀ (see <see cref="TransformGradients"/>) sixteen columns at a time in column order, each column's
        /// 2×2 block of output gradients loaded by gathers at the plan's output offsets (the right column and lower row
        /// reading zero where the map has none, and columns from <paramref name="cols"/> on all zero). Position ξ of
        /// column j of channel oc goes to p[ξ·xiStride + oc·ocStride + j].
        /// </summary>
        private static void TransformGradientsGathered(in ConvGeometry g, float* dy, int cols, int* plan, int padded, float* p, long ocStride, long xiStride)
        {
            int hw = g.OutH * g.OutW, w = g.OutW;
            int* output = plan + padded;
            for (int j = 0; j < padded; j += 16)
            {
                var code = Vector512.Load(output + j);
                var index = code & Vector512.Create((1 << 29) - 1);
                var live = Vector512.LessThan(Vector512<int>.Indices + Vector512.Create(j), Vector512.Create(cols));
                var right = live & Vector512.Equals(code & Vector512.Create(1 << 30), Vector512.Create(1 << 30));
                var below = live & Vector512.Equals(code & Vector512.Create(1 << 29), Vector512.Create(1 << 29));
                var both = right & below;
                var i01 = index + Vector512.Create(1);
                var i10 = index + Vector512.Create(w);
                var i11 = index + Vector512.Create(w + 1);
                for (int oc = 0; oc < g.OutC; oc++)
                {
                    float* plane = dy + (long)oc * hw;
                    var y00 = Gather(plane, index, live);
                    var y01 = Gather(plane, i01, right);
                    var y10 = Gather(plane, i10, below);
                    var y11 = Gather(plane, i11, both);
                    float* o = p + oc * ocStride + j;
                    // Rows of A dy: y0, y0 + y1, y0 − y1, −y1; then each row (a, b) times Aᵀ: a, a + b, a − b, −b.
                    Pair(o, xiStride, 0, y00, y01, default, true);
                    Pair(o, xiStride, 1, y00 + y10, y01 + y11, default, true);
                    Pair(o, xiStride, 2, y00 - y10, y01 - y11, default, true);
                    Pair(o, xiStride, 3, -y10, -y11, default, true);
                }
            }
        }

        /// <summary>Stores the lanes of <paramref name="value"/> that <paramref name="mask"/> selects (all sixteen when full).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(float* at, Vector512<float> value, Vector512<float> mask, bool full)
        {
            if (full) value.Store(at);
            else Avx512F.MaskStore(at, mask, value);
        }

        /// <summary>
        /// V = Bᵀ d B for the tiles of tile row <paramref name="ty"/> of a plane (h × w, zero outside), sixteen tiles at a
        /// time: the 4×4 patch of tile tx starts at row 2ty − 1, column 2tx − 1, so with each input row split into even
        /// and odd padded columns its sixteen entries are four loads per row. Position ξ = 4i + j of tile tx goes to
        /// <paramref name="v"/>[ξ · step + tx]. Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void TransformPatches(float* plane, int h, int w, int ty, int tiles, float* phases, int length, float* v, long step)
        {
            for (int i = 0; i < 4; i++)
            {
                int r = 2 * ty - 1 + i;
                float* dst = phases + 2 * i * length;
                if ((uint)r >= (uint)h) new Span<float>(dst, 2 * length).Clear();
                else DirectConvWork.Phases(plane + (long)r * w, w, 1, 2, dst, length);
            }
            float* e0 = phases, e1 = phases + 2 * length, e2 = phases + 4 * length, e3 = phases + 6 * length;
            for (int tx = 0; tx < tiles; tx += 16)
            {
                bool full = tx + 16 <= tiles;
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(tiles - tx)).AsSingle();
                // Rows of Bᵀ d, column j: u0 = d0 − d2, u1 = d1 + d2, u2 = d2 − d1, u3 = d1 − d3.
                var d00 = Vector512.Load(e0 + tx); var d01 = Vector512.Load(e0 + length + tx); var d02 = Vector512.Load(e0 + tx + 1); var d03 = Vector512.Load(e0 + length + tx + 1);
                var d10 = Vector512.Load(e1 + tx); var d11 = Vector512.Load(e1 + length + tx); var d12 = Vector512.Load(e1 + tx + 1); var d13 = Vector512.Load(e1 + length + tx + 1);
                var d20 = Vector512.Load(e2 + tx); var d21 = Vector512.Load(e2 + length + tx); var d22 = Vector512.Load(e2 + tx + 1); var d23 = Vector512.Load(e2 + length + tx + 1);
                var d30 = Vector512.Load(e3 + tx); var d31 = Vector512.Load(e3 + length + tx); var d32 = Vector512.Load(e3 + tx + 1); var d33 = Vector512.Load(e3 + length + tx + 1);
                Columns(v + tx, step, 0, d00 - d20, d01 - d21, d02 - d22, d03 - d23, mask, full);
                Columns(v + tx, step, 1, d10 + d20, d11 + d21, d12 + d22, d13 + d23, mask, full);
                Columns(v + tx, step, 2, d20 - d10, d21 - d11, d22 - d12, d23 - d13, mask, full);
                Columns(v + tx, step, 3, d10 - d30, d11 - d31, d12 - d32, d13 - d33, mask, full);
            }
        }

        /// <summary>Row i of (Bᵀ d) B: [u0 − u2, u1 + u2, u2 − u1, u1 − u3] to positions 4i … 4i + 3.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Columns(float* v, long step, int i, Vector512<float> u0, Vector512<float> u1, Vector512<float> u2, Vector512<float> u3, Vector512<float> mask, bool full)
        {
            Put(v + (4 * i + 0) * step, u0 - u2, mask, full);
            Put(v + (4 * i + 1) * step, u1 + u2, mask, full);
            Put(v + (4 * i + 2) * step, u2 - u1, mask, full);
            Put(v + (4 * i + 3) * step, u1 - u3, mask, full);
        }

        /// <summary>
        /// P = A dy Aᵀ for the tiles of tile row <paramref name="ty"/> of an output-gradient plane (h × w, zero outside),
        /// sixteen tiles at a time, with A = [1 0; 1 1; 1 −1; 0 −1]: tile tx's 2×2 block starts at row 2ty, column 2tx.
        /// Position ξ of tile tx goes to <paramref name="p"/>[ξ · step + tx].
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void TransformGradients(float* plane, int h, int w, int ty, int tiles, float* phases, int length, float* p, long step)
        {
            for (int i = 0; i < 2; i++)
            {
                int r = 2 * ty + i;
                float* dst = phases + 2 * i * length;
                if (r >= h) new Span<float>(dst, 2 * length).Clear();
                else DirectConvWork.Phases(plane + (long)r * w, w, 0, 2, dst, length);
            }
            float* e0 = phases, e1 = phases + 2 * length;
            for (int tx = 0; tx < tiles; tx += 16)
            {
                bool full = tx + 16 <= tiles;
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(tiles - tx)).AsSingle();
                var y00 = Vector512.Load(e0 + tx); var y01 = Vector512.Load(e0 + length + tx);
                var y10 = Vector512.Load(e1 + tx); var y11 = Vector512.Load(e1 + length + tx);
                // Rows of A dy: y0, y0 + y1, y0 − y1, −y1; then each row (a, b) times Aᵀ: a, a + b, a − b, −b.
                Pair(p + tx, step, 0, y00, y01, mask, full);
                Pair(p + tx, step, 1, y00 + y10, y01 + y11, mask, full);
                Pair(p + tx, step, 2, y00 - y10, y01 - y11, mask, full);
                Pair(p + tx, step, 3, -y10, -y11, mask, full);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Pair(float* p, long step, int i, Vector512<float> a, Vector512<float> b, Vector512<float> mask, bool full)
        {
            Put(p + (4 * i + 0) * step, a, mask, full);
            Put(p + (4 * i + 1) * step, a + b, mask, full);
            Put(p + (4 * i + 2) * step, a - b, mask, full);
            Put(p + (4 * i + 3) * step, -b, mask, full);
        }
    }
}

public sealed unsafe partial class CpuBackend
{
    /// <summary>(A y)ᵢ for i = 0 … 5 of four vectors y (Aᵀ of F(4×4, 3×3) transposed): y0, y0 + y1 + y2 + y3, y0 − y1 + y2 − y3, y0 + 2y1 + 4y2 + 8y3, y0 − 2y1 + 4y2 − 8y3, y3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientRow4(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3,
        out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3, out Vector512<float> o4, out Vector512<float> o5)
    {
        var even = y0 + y2;
        var odd = y1 + y3;
        var even4 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), y2, y0);
        var odd8 = Vector512.FusedMultiplyAdd(Vector512.Create(8f), y3, y1 + y1);
        o0 = y0;
        o1 = even + odd;
        o2 = even - odd;
        o3 = even4 + odd8;
        o4 = even4 - odd8;
        o5 = y3;
    }

    /// <summary>
    /// P[ξ][c, 16q + l] = (A dy Aᵀ)[ξ] for the 4×4 output-gradient block of tile t0 + q of image lane l, from lane
    /// planes without padding (block row r of tile row ty is plane row 4ty + r, zero past the map). Column j of channel c
    /// goes to p + c·ocStride + j, position ξ ξ·xiStride further.
    /// </summary>
    [SkipLocalsInit]
    internal static void TransformLaneGradients(int channels, float* planes, long planeFloats, int wq, int tilesW, int t0, int tc, float* p, long ocStride, long xiStride)
    {
        var rows = stackalloc Vector512<float>[24];
        for (int c = 0; c < channels; c++)
        {
            float* plane = planes + c * planeFloats;
            for (int q = 0; q < tc; q++)
            {
                int t = t0 + q, ty = t / tilesW, tx = t % tilesW;
                float* b = plane + ((long)4 * ty * wq + 4 * tx) * LaneImages;
                for (int r = 0; r < 4; r++, b += wq * LaneImages)
                {
                    GradientRow4(Vector512.Load(b), Vector512.Load(b + 16), Vector512.Load(b + 32), Vector512.Load(b + 48),
                        out rows[6 * r], out rows[6 * r + 1], out rows[6 * r + 2], out rows[6 * r + 3], out rows[6 * r + 4], out rows[6 * r + 5]);
                }
                float* o = p + c * ocStride + q * LaneImages;
                for (int k = 0; k < 6; k++)
                {
                    GradientRow4(rows[k], rows[6 + k], rows[12 + k], rows[18 + k], out var p0, out var p1, out var p2, out var p3, out var p4, out var p5);
                    StoreColumn6(o + k * xiStride, xiStride, p0, p1, p2, p3, p4, p5);
                }
            }
        }
    }

    /// <summary>
    /// (Gᵀ m)ₖ for k = 0 … 2 of six vectors m (G of F(4×4, 3×3)): m0/4 − (m1 + m2)/6 + (m3 + m4)/24,
    /// (m2 − m1)/6 + (m3 − m4)/12, (m3 + m4 − m1 − m2)/6 + m5.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterColumn4(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4, Vector512<float> m5,
        out Vector512<float> a0, out Vector512<float> a1, out Vector512<float> a2)
    {
        var sixth = Vector512.Create(1f / 6);
        var sum12 = m1 + m2;
        var sum34 = m3 + m4;
        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(0.25f), m0, Vector512.FusedMultiplyAdd(Vector512.Create(1f / 24), sum34, -sum12 * sixth));
        a1 = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 12), m3 - m4, (m2 - m1) * sixth);
        a2 = Vector512.FusedMultiplyAdd(sum34 - sum12, sixth, m5);
    }

    /// <summary>
    /// P[ξ][c, 16q + l] = (A dy Aᵀ)[ξ] for F(2×2, 5×5) (A = [1 0; 1 1; 1 −1; 1 2; 1 −2; 0 1]) for the 2×2 output-gradient
    /// block of tile t0 + q of image lane l, from lane planes without padding; layout as <see cref="TransformLaneGradients"/>.
    /// </summary>
    [SkipLocalsInit]
    internal static void TransformLaneGradients2(int channels, float* planes, long planeFloats, int wq, int tilesW, int t0, int tc, float* p, long ocStride, long xiStride)
    {
        var rows = stackalloc Vector512<float>[12];
        var two = Vector512.Create(2f);
        for (int c = 0; c < channels; c++)
        {
            float* plane = planes + c * planeFloats;
            for (int q = 0; q < tc; q++)
            {
                int t = t0 + q, ty = t / tilesW, tx = t % tilesW;
                float* b = plane + ((long)2 * ty * wq + 2 * tx) * LaneImages;
                for (int r = 0; r < 2; r++, b += wq * LaneImages)
                {
                    var y0 = Vector512.Load(b);
                    var y1 = Vector512.Load(b + 16);
                    rows[6 * r] = y0;
                    rows[6 * r + 1] = y0 + y1;
                    rows[6 * r + 2] = y0 - y1;
                    rows[6 * r + 3] = Vector512.FusedMultiplyAdd(two, y1, y0);
                    rows[6 * r + 4] = Vector512.FusedMultiplyAdd(-two, y1, y0);
                    rows[6 * r + 5] = y1;
                }
                float* o = p + c * ocStride + q * LaneImages;
                for (int k = 0; k < 6; k++)
                {
                    var a = rows[k];
                    var d = rows[6 + k];
                    StoreColumn6(o + k * xiStride, xiStride, a, a + d, a - d, Vector512.FusedMultiplyAdd(two, d, a), Vector512.FusedMultiplyAdd(-two, d, a), d);
                }
            }
        }
    }

    /// <summary>
    /// (Gᵀ m)ⱼ for j = 0 … 4 of six vectors m, G of F(2×2, 5×5): m0/4 − (m1 + m2)/6 + (m3 + m4)/24,
    /// (m2 − m1)/6 + (m3 − m4)/12, (m3 + m4 − m1 − m2)/6, (m2 − m1)/6 + (m3 − m4)/3, −(m1 + m2)/6 + ⅔(m3 + m4) + m5; to
    /// o[0], o[stride], … o[4·stride].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterColumn5(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4, Vector512<float> m5, Vector512<float>* o, int stride)
    {
        var sixth = Vector512.Create(1f / 6);
        var sum12 = m1 + m2;
        var sum34 = m3 + m4;
        var odd12 = (m2 - m1) * sixth;
        var odd34 = m3 - m4;
        o[0] = Vector512.FusedMultiplyAdd(Vector512.Create(0.25f), m0, Vector512.FusedMultiplyAdd(Vector512.Create(1f / 24), sum34, -sum12 * sixth));
        o[stride] = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 12), odd34, odd12);
        o[2 * stride] = (sum34 - sum12) * sixth;
        o[3 * stride] = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 3), odd34, odd12);
        o[4 * stride] = Vector512.FusedMultiplyAdd(Vector512.Create(2f / 3), sum34, -sum12 * sixth) + m5;
    }

    /// <summary>(Gᵀ m)ⱼ, j &lt; k, into o[0 … k − 1]: G of F(4×4, 3×3) (k = 3, <see cref="FilterColumn4"/>) or F(2×2, 5×5) (k = 5).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterColumn(int k, Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4, Vector512<float> m5, Vector512<float>* o)
    {
        if (k == 3) FilterColumn4(m0, m1, m2, m3, m4, m5, out o[0], out o[1], out o[2]);
        else FilterColumn5(m0, m1, m2, m3, m4, m5, o, 1);
    }

    private sealed partial class ConvBackwardFilterWork
    {
        /// <summary>
        /// Tiles per chunk of the F(4×4, 3×3) filter gradient (times sixteen images: the K of its 36 GEMMs): short
        /// chunks keep the transformed tiles near the core (12×12×96→128, 2 threads: 1.26 ms against 1.31 with eight).
        /// </summary>
        private const int FilterLaneTiles = 2;

        /// <summary>
        /// Most tiles an image for the F(4×4, 3×3) filter gradient: larger maps keep F(2×2, 3×3), whose transforms read
        /// x and dy in place rather than through lane planes. In NN4's training profile (2 threads, ms): 12×12×96→128
        /// 4.09 → 3.24 (nine tiles); 24×24×64→192 (36) was slower at first (6.68 → 7.28), but since the lane kernels
        /// prefetch their output lines, NN4's training step takes it at 0.9945 of the time (in-process A/B, thirds
        /// 0.994–0.996; NNS2's 18×15 maps 0.996, NN2 level).
        /// </summary>
        internal const int FilterLaneMaxTiles = 36;

        /// <summary>
        /// Most tiles an image for which the F(2×2, 5×5) filter gradient keeps im2col: on 6×6 maps (nine tiles) it ran
        /// 6×6×32→64 at 115 GFLOP/s against im2col's 148–150 (`bench conv`, 2 threads, batch 16; NN4's step 0.3% faster),
        /// while 12×12×32→64 (36 tiles) was 177–180 against 174.
        /// </summary>
        internal const int Filter5MinTiles = 9;

        private readonly LanePlanesWork _planes = new(owner);
        private bool _lanes, _five;
        private int _wp, _wq, _step;
        private long _xPlane, _dyPlane;
        private float* _xt, _dyt;

        /// <summary>
        /// Whether the filter gradient takes Winograd with images as lanes, F(4×4, 3×3) or F(2×2, 5×5) (where the forward
        /// pass would, and for 3×3 on maps of at most <see cref="FilterLaneMaxTiles"/> tiles), and if so its lane planes
        /// of x (padded as the convolution) and dy.
        /// </summary>
        private bool PrepareLanes(in ConvGeometry g, int n)
        {
            _five = !_direct && owner.TakesWinograd5(g, n) && Tiles(g.OutW, 2) * Tiles(g.OutH, 2) > Filter5MinTiles;
            _step = _five ? 2 : 4;
            int tilesW = Tiles(g.OutW, _step), tilesH = Tiles(g.OutH, _step);
            bool three = _winograd && owner.TakesF4(g) && TakesLanes(n) && tilesW * tilesH <= FilterLaneMaxTiles;
            if (!(three || _five) || tilesW * tilesH < owner.Threads) return false;
            int groups = (n + LaneImages - 1) / LaneImages, halo = g.KernelH - 1;
            _wp = _step * tilesW + halo;
            _wq = _step * tilesW;
            _xPlane = (long)(_step * tilesH + halo) * _wp * LaneImages;
            _dyPlane = (long)_step * tilesH * _wq * LaneImages;
            _xt = owner._lanes.Ensure(groups * g.InC * _xPlane);
            _dyt = owner._lanesGradient.Ensure(groups * g.OutC * _dyPlane);
            _planes.Run(n, g.InC, g.InH, g.InW, g.InSize, _x, _xt, _step * tilesH + halo, _wp, g.PadH);
            _planes.Run(n, g.OutC, g.OutH, g.OutW, g.OutSize, _dy, _dyt, _step * tilesH, _wq, 0);
            return true;
        }

        /// <summary>
        /// Part <paramref name="part"/> of the Winograd filter gradient with images as lanes, the adjoint of the forward
        /// transforms: dW = Gᵀ[Σ (A dy Aᵀ) ⊙ (Bᵀ d B)]G over its range of tiles in every lane group, the sum over tiles
        /// being, per position ξ of the 6×6 transformed tile, the GEMM M[ξ] (InC × OutC) += V[ξ] · P[ξ]ᵀ over chunks of
        /// <see cref="FilterLaneTiles"/> tiles (sixteen images each); then Gᵀ M G into acc.
        /// </summary>
        private void WinogradFilterLanes(int worker, int part, float* acc)
        {
            var g = _g;
            var s = owner.Scratch(worker);
            int inC = g.InC, outC = g.OutC, nr = owner.NR;
            int tilesW = Tiles(g.OutW, _step), tiles = tilesW * Tiles(g.OutH, _step);
            var (first, count) = Range(tiles, _parts, part);
            int groups = (_n + LaneImages - 1) / LaneImages, most = FilterLaneTiles * LaneImages;
            long vXi = (long)inC * most + 16, pXi = (long)outC * most + 16;
            float* v = s.Col.Ensure(36 * vXi);
            float* p = s.Im2Col.Ensure(36 * pXi);
            long mPlane = (long)inC * outC + 16;
            float* m = s.Tmp.Ensure(36 * mPlane);
            float* packed = s.Pack.Ensure(Gemm.PackedSize(most, outC, nr));
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            bool assign = true;
            for (int group = 0; group < groups; group++)
            {
                for (int t0 = first; t0 < first + count; t0 += FilterLaneTiles)
                {
                    int tc = Math.Min(FilterLaneTiles, first + count - t0), cols = tc * LaneImages;
                    TransformLaneInput(inC, _xt + (long)group * inC * _xPlane, _xPlane, _wp, tilesW, t0, tc, v, int.MaxValue, 0, cols, vXi, _step);
                    float* dyPlanes = _dyt + (long)group * outC * _dyPlane;
                    if (_five) TransformLaneGradients2(outC, dyPlanes, _dyPlane, _wq, tilesW, t0, tc, p, cols, pXi);
                    else TransformLaneGradients(outC, dyPlanes, _dyPlane, _wq, tilesW, t0, tc, p, cols, pXi);
                    for (int xi = 0; xi < 36; xi++)
                    {
                        Gemm.PackBTransposed(cols, outC, p + xi * pXi, cols, packed, nr);
                        Gemm.Multiply(owner.Simd, inC, outC, cols, v + xi * vXi, cols, packed, m + xi * mPlane, outC, !assign, gemm);
                    }
                    assign = false;
                }
            }
            if (assign) new Span<float>(m, (int)(36 * mPlane)).Clear();
            FilterOutput6x6(m, mPlane, inC, outC, g.KernelH, acc);
        }

        /// <summary>
        /// dW[oc, ic] = Gᵀ M[·] G for k×k filters (k = 3: F(4×4, 3×3); k = 5: F(2×2, 5×5)), pair (ic, oc) of M[ξ] at
        /// ξ·plane + ic·OutC + oc, into acc as [tap][OutC] (tap = ic·k² + ky·k + kx), sixteen output channels at a
        /// time (the last sixteen under a mask).
        /// </summary>
        [SkipLocalsInit]
        private static void FilterOutput6x6(float* m, long plane, int inC, int outC, int k, float* acc)
        {
            var q = stackalloc Vector512<float>[30];
            var w = stackalloc Vector512<float>[5];
            for (int ic = 0; ic < inC; ic++)
            {
                for (int oc = 0; oc < outC; oc += 16)
                {
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(outC - oc)).AsSingle();
                    bool full = oc + 16 <= outC;
                    float* at = m + (long)ic * outC + oc;
                    Vector512<float> M(int xi) => full ? Vector512.Load(at + xi * plane) : Avx512F.MaskLoad(at + xi * plane, mask, Vector512<float>.Zero);
                    // Gᵀ along the rows i of M (ξ = 6i + j), column by column j: q[k·j + ky].
                    for (int j = 0; j < 6; j++) FilterColumn(k, M(j), M(6 + j), M(12 + j), M(18 + j), M(24 + j), M(30 + j), q + k * j);
                    // Then along j: taps kx of row ky.
                    for (int ky = 0; ky < k; ky++)
                    {
                        FilterColumn(k, q[ky], q[k + ky], q[2 * k + ky], q[3 * k + ky], q[4 * k + ky], q[5 * k + ky], w);
                        float* o = acc + ((long)ic * k * k + k * ky) * outC + oc;
                        for (int kx = 0; kx < k; kx++) Put(o + (long)kx * outC, w[kx], mask, full);
                    }
                }
            }
        }
    }
}
