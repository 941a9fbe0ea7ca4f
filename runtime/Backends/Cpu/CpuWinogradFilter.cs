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
        /// M[ξ] (OutC × InC) += P[ξ] (OutC × tiles) · V[ξ]ᵀ (tiles × InC), with P the transformed 2×2 output gradients
        /// and V the transformed 4×4 input patches; 16 products per tile and channel pair instead of 36. Images
        /// [first, first + count) go through in chunks of whole tile rows, about <see cref="WinogradFilterTiles"/> tiles;
        /// both transforms run sixteen tiles at a time.
        /// </summary>
        private void WinogradFilter(int worker, int first, int count, float* acc)
        {
            var g = _g;
            var s = owner.Scratch(worker);
            int hw = g.OutH * g.OutW, inC = g.InC, outC = g.OutC;
            int tilesW = (g.OutW + 1) / 2, tilesH = (g.OutH + 1) / 2;
            // Chunks of whole tile rows, so that a row's tiles are one run of columns.
            int rowsPerChunk = Math.Max(1, WinogradFilterTiles / tilesW), chunk = rowsPerChunk * tilesW;
            // A row's phases hold its tiles' columns plus one, and slack for the last vector's full loads.
            int length = Gemm.RoundUp(tilesW + 17, 16);
            float* v = s.Col.Ensure(16L * inC * chunk);
            float* p = s.Im2Col.Ensure(16L * outC * chunk);
            float* m = s.Tmp.Ensure(16L * outC * inC);
            float* packed = s.Pack.Ensure(Gemm.PackedSize(chunk, inC, owner.NR));
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            float* phases = stackalloc float[8 * length];
            long totalRows = (long)count * tilesH;
            bool assign = true;
            for (long r0 = 0; r0 < totalRows; r0 += rowsPerChunk)
            {
                int rc = (int)Math.Min(rowsPerChunk, totalRows - r0), tc = rc * tilesW;
                for (int ic = 0; ic < inC; ic++)
                {
                    for (int q = 0; q < rc; q++)
                    {
                        int img = first + (int)((r0 + q) / tilesH), ty = (int)((r0 + q) % tilesH);
                        TransformPatches(_x + (long)img * g.InSize + (long)ic * hw, g.OutH, g.OutW, ty, tilesW, phases, length, v + (long)ic * chunk + q * tilesW, (long)inC * chunk);
                    }
                }
                for (int oc = 0; oc < outC; oc++)
                {
                    for (int q = 0; q < rc; q++)
                    {
                        int img = first + (int)((r0 + q) / tilesH), ty = (int)((r0 + q) % tilesH);
                        TransformGradients(_dy + (long)img * g.OutSize + (long)oc * hw, g.OutH, g.OutW, ty, tilesW, phases, length, p + (long)oc * chunk + q * tilesW, (long)outC * chunk);
                    }
                }
                for (int xi = 0; xi < 16; xi++)
                {
                    Gemm.PackBTransposed(tc, inC, v + (long)xi * inC * chunk, chunk, packed, owner.NR);
                    Gemm.Multiply(owner.Simd, outC, inC, tc, p + (long)xi * outC * chunk, chunk, packed, m + (long)xi * outC * inC, inC, !assign, gemm);
                }
                assign = false;
            }
            if (assign) new Span<float>(m, 16 * outC * inC).Clear();
            // dW[oc, ic] = Gᵀ M G, into acc as [tap][OutC] with tap = ic·9 + ky·3 + kx.
            long plane = (long)outC * inC;
            float* q3 = stackalloc float[12];
            for (int oc = 0; oc < outC; oc++)
            {
                for (int ic = 0; ic < inC; ic++)
                {
                    long at = (long)oc * inC + ic;
                    for (int j = 0; j < 4; j++)
                    {
                        float m0 = m[(0 * 4 + j) * plane + at], m1 = m[(1 * 4 + j) * plane + at], m2 = m[(2 * 4 + j) * plane + at], m3 = m[(3 * 4 + j) * plane + at];
                        q3[0 * 4 + j] = m0 + 0.5f * (m1 + m2);
                        q3[1 * 4 + j] = 0.5f * (m1 - m2);
                        q3[2 * 4 + j] = 0.5f * (m1 + m2) + m3;
                    }
                    for (int ky = 0; ky < 3; ky++)
                    {
                        float a = q3[ky * 4], b = q3[ky * 4 + 1], c = q3[ky * 4 + 2], d = q3[ky * 4 + 3];
                        long tap = (long)ic * 9 + ky * 3;
                        acc[tap * outC + oc] = a + 0.5f * (b + c);
                        acc[(tap + 1) * outC + oc] = 0.5f * (b - c);
                        acc[(tap + 2) * outC + oc] = 0.5f * (b + c) + d;
                    }
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
