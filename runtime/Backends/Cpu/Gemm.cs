using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>The widest SIMD path a CPU kernel uses; every narrower path stays available for tests.</summary>
public enum SimdLevel
{
    Scalar,
    Vector128,
    Vector256,
    Vector512,
}

/// <summary>
/// Single-precision matrix multiply C (=|+=) A·B with a packed B and register-blocked SIMD micro-kernels:
/// 8×32 on Vector512, 6×16 on Vector256, 4×8 on Vector128 and 4×4 scalar. A is row-major (any leading dimension);
/// B comes packed in panels of NR columns, each panel K×NR floats k-major and zero-padded to NR, so that the kernel
/// streams it contiguously; callers pack B the way their layout needs (plain, transposed, or straight from an image
/// by im2col). K is blocked by <see cref="KC"/> so that a B panel stays in L1 and a block of A in L2. Single-threaded:
/// the convolution and linear kernels split work across threads above this level.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>Depth of one K block.</summary>
    public const int KC = 256;

    public static SimdLevel Best =>
        Vector512.IsHardwareAccelerated ? SimdLevel.Vector512 :
        Vector256.IsHardwareAccelerated ? SimdLevel.Vector256 :
        Vector128.IsHardwareAccelerated ? SimdLevel.Vector128 : SimdLevel.Scalar;

    /// <summary>Rows (MR) and columns (NR) of the register tile of a SIMD level.</summary>
    public static (int MR, int NR) Tile(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => (8, 32),
        SimdLevel.Vector256 => (6, 16),
        SimdLevel.Vector128 => (4, 8),
        _ => (4, 4),
    };

    /// <summary>
    /// The depth of K blocks for a product of depth <paramref name="k"/>: at most <see cref="KC"/>, and as even as the
    /// block count allows (576 = 3 × 192 rather than 256 + 256 + 64), so that no block is too short to pay for loading
    /// and storing its C tiles.
    /// </summary>
    public static int BlockDepth(int k)
    {
        int blocks = Math.Max(1, (k + KC - 1) / KC);
        return Math.Max(1, (k + blocks - 1) / blocks);
    }

    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Floats needed for B (K×N) packed in panels of <paramref name="nr"/> columns.</summary>
    public static long PackedSize(int k, int n, int nr) => (long)k * RoundUp(n, nr);

    /// <summary>Floats of scratch <c>Multiply</c> needs for edge tiles.</summary>
    public const int ScratchFloats = 8 * KC + 8 * 32;

    /// <summary>
    /// Packs row-major B (K×N, leading dimension ldb). With <paramref name="totalRows"/> and <paramref name="rowOffset"/>,
    /// writes these K rows as rows [rowOffset, rowOffset + K) of a packed B of totalRows rows.
    /// </summary>
    public static void PackB(int k, int n, float* b, int ldb, float* packed, int nr, int totalRows = -1, int rowOffset = 0)
    {
        if (totalRows < 0) totalRows = k;
        for (int j0 = 0; j0 < n; j0 += nr)
        {
            int w = Math.Min(nr, n - j0);
            float* dst = packed + (long)j0 * totalRows + (long)rowOffset * nr;
            for (int kk = 0; kk < k; kk++)
            {
                float* src = b + (long)kk * ldb + j0;
                float* d = dst + (long)kk * nr;
                if (w == nr) Unsafe.CopyBlockUnaligned(d, src, (uint)(nr * sizeof(float)));
                else
                {
                    for (int j = 0; j < w; j++) d[j] = src[j];
                    for (int j = w; j < nr; j++) d[j] = 0;
                }
            }
        }
    }

    /// <summary>
    /// Packs B = Btᵀ where Bt is N×K row-major (leading dimension ldbt): B[k, n] = Bt[n, k]. With
    /// <paramref name="totalRows"/> and <paramref name="rowOffset"/>, writes these K rows as rows
    /// [rowOffset, rowOffset + K) of a packed B of totalRows rows (so several sources can fill one B).
    /// </summary>
    public static void PackBTransposed(int k, int n, float* bt, int ldbt, float* packed, int nr, int totalRows = -1, int rowOffset = 0)
    {
        if (totalRows < 0) totalRows = k;
        for (int j0 = 0; j0 < n; j0 += nr)
        {
            int w = Math.Min(nr, n - j0);
            float* dst = packed + (long)j0 * totalRows + (long)rowOffset * nr;
            // The panel's w rows of Bt transposed in 8×8 blocks into its K rows of nr floats, then the padding columns.
            // One float at a time instead (each store nr floats from the last) took 1.7% of NN4's training step at
            // batch 16 (in-process A/B 0.9825): the filter gradients pack their transformed tiles and dyᵀ through here.
            CpuBackend.Transpose(bt + (long)j0 * ldbt, w, k, ldbt, dst, nr, add: false);
            if (w < nr)
            {
                for (int kk = 0; kk < k; kk++) new Span<float>(dst + (long)kk * nr + w, nr - w).Clear();
            }
        }
    }

    /// <summary>
    /// C[M×N] = (accumulate ? C : 0) + A[M×K]·B, with B packed by one of the Pack methods for this level's NR.
    /// <paramref name="scratch"/> must hold <see cref="ScratchFloats"/> floats.
    /// </summary>
    public static void Multiply(SimdLevel level, int m, int n, int k, float* a, int lda, float* bPacked, float* c, int ldc, bool accumulate, float* scratch) =>
        Multiply(level, m, n, k, a, lda, bPacked, k * (long)Tile(level).NR, c, ldc, accumulate, scratch);

    /// <summary>
    /// As above, with B's panels <paramref name="panelStride"/> floats apart: rows [r, r + k) of a B packed with more
    /// rows are (that B + r·NR, its rows·NR).
    /// </summary>
    public static void Multiply(SimdLevel level, int m, int n, int k, float* a, int lda, float* bPacked, long panelStride, float* c, int ldc, bool accumulate, float* scratch)
    {
        var (mr, nr) = Tile(level);
        if (k == 0)
        {
            if (!accumulate)
            {
                for (int i = 0; i < m; i++) new Span<float>(c + (long)i * ldc, n).Clear();
            }
            return;
        }
        float* aEdge = scratch;
        float* cEdge = scratch + 8 * KC;
        int depth = BlockDepth(k);
        for (int k0 = 0; k0 < k; k0 += depth)
        {
            int kc = Math.Min(depth, k - k0);
            bool acc = accumulate || k0 > 0;
            for (int j0 = 0; j0 < n; j0 += nr)
            {
                int w = Math.Min(nr, n - j0);
                float* bp = bPacked + j0 / nr * panelStride + (long)k0 * nr;
                for (int i0 = 0; i0 < m; i0 += mr)
                {
                    int h = Math.Min(mr, m - i0);
                    float* ap = a + (long)i0 * lda + k0;
                    int ldaUsed = lda;
                    if (h < mr)
                    {
                        // Too few rows left: copy them into a zero-padded MR×kc block.
                        for (int i = 0; i < mr; i++)
                        {
                            for (int kk = 0; kk < kc; kk++) aEdge[i * kc + kk] = i < h ? ap[(long)i * lda + kk] : 0f;
                        }
                        ap = aEdge;
                        ldaUsed = kc;
                    }
                    float* cp = c + (long)i0 * ldc + j0;
                    if (h == mr && w == nr)
                    {
                        Kernel(level, kc, ap, ldaUsed, bp, cp, ldc, acc);
                        continue;
                    }
                    if (level == SimdLevel.Vector512 && w <= 16)
                    {
                        // A panel at most half full (a ragged last panel, or a batch of one 3×3 map): only its first
                        // sixteen columns are multiplied, with masked loads and stores of C.
                        Kernel8x16(kc, ap, ldaUsed, bp, cp, ldc, acc, h, w);
                        continue;
                    }
                    // An edge tile: compute the full tile in scratch, then copy the valid part.
                    for (int i = 0; i < mr; i++)
                    {
                        for (int j = 0; j < nr; j++) cEdge[i * nr + j] = acc && i < h && j < w ? cp[(long)i * ldc + j] : 0f;
                    }
                    Kernel(level, kc, ap, ldaUsed, bp, cEdge, nr, acc);
                    for (int i = 0; i < h; i++)
                    {
                        for (int j = 0; j < w; j++) cp[(long)i * ldc + j] = cEdge[i * nr + j];
                    }
                }
            }
        }
    }

    private static void Kernel(SimdLevel level, int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        switch (level)
        {
            case SimdLevel.Vector512: Kernel8x32(kc, a, lda, b, c, ldc, accumulate); break;
            case SimdLevel.Vector256: Kernel6x16(kc, a, lda, b, c, ldc, accumulate); break;
            case SimdLevel.Vector128: Kernel4x8(kc, a, lda, b, c, ldc, accumulate); break;
            default: Kernel4x4(kc, a, lda, b, c, ldc, accumulate); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            b += 32;
            var x = Vector512.Create(a0[k]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[k]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[k]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[k]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[k]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[k]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[k]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[k]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        Store512(c, c00, c01, accumulate);
        Store512(c + ldc, c10, c11, accumulate);
        Store512(c + 2 * ldc, c20, c21, accumulate);
        Store512(c + 3 * ldc, c30, c31, accumulate);
        Store512(c + 4 * ldc, c40, c41, accumulate);
        Store512(c + 5 * ldc, c50, c51, accumulate);
        Store512(c + 6 * ldc, c60, c61, accumulate);
        Store512(c + 7 * ldc, c70, c71, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }
        v0.Store(c);
        v1.Store(c + 16);
    }

    /// <summary>
    /// The first sixteen columns of an 8×32 tile (B still packed 32 wide); C rows below <paramref name="rows"/> and
    /// columns from <paramref name="cols"/> on are left alone.
    /// </summary>
    private static void Kernel8x16(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate, int rows, int cols)
    {
        var sums = stackalloc Vector512<float>[8];
        Rows8x16(kc, a, lda, 8, b, 32, sums);
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols)).AsSingle();
        for (int r = 0; r < rows; r++) StoreMasked(c + (long)r * ldc, sums[r], mask, accumulate);
    }

    /// <summary>
    /// sums[r] = Σₖ a[r, k]·b[k, 0 … 15] for r &lt; rows (rows ≤ 8; a row-major with leading dimension lda, b's rows
    /// ldb apart, kc ≥ 1): each a[r, k] broadcast against one vector of b, two k steps at a time into 16 accumulators.
    /// The half-empty GEMM panel and the small-batch fully connected layer (images in lanes) both reduce to this.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Rows8x16(int kc, float* a, long lda, int rows, float* b, int ldb, Vector512<float>* sums)
    {
        // Rows past the last repeat it; their sums are not used.
        float* a0 = a, a1 = a + (rows > 1 ? lda : 0), a2 = a + (rows > 2 ? 2 * lda : 0), a3 = a + (rows > 3 ? 3 * lda : 0);
        float* a4 = a + (rows > 4 ? 4 * lda : 0), a5 = a + (rows > 5 ? 5 * lda : 0), a6 = a + (rows > 6 ? 6 * lda : 0), a7 = a + (rows > 7 ? 7 * lda : 0);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default;
        int k = 0;
        for (; k + 2 <= kc; k += 2, b += 2 * ldb)
        {
            var u = Vector512.Load(b);
            var v = Vector512.Load(b + ldb);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[k]), u, c0); d0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[k + 1]), v, d0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[k]), u, c1); d1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[k + 1]), v, d1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[k]), u, c2); d2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[k + 1]), v, d2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[k]), u, c3); d3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[k + 1]), v, d3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[k]), u, c4); d4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[k + 1]), v, d4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[k]), u, c5); d5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[k + 1]), v, d5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[k]), u, c6); d6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[k + 1]), v, d6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[k]), u, c7); d7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[k + 1]), v, d7);
        }
        if (k < kc)
        {
            var u = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[k]), u, c0); c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[k]), u, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[k]), u, c2); c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[k]), u, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[k]), u, c4); c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[k]), u, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[k]), u, c6); c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[k]), u, c7);
        }
        sums[0] = c0 + d0; sums[1] = c1 + d1; sums[2] = c2 + d2; sums[3] = c3 + d3;
        sums[4] = c4 + d4; sums[5] = c5 + d5; sums[6] = c6 + d6; sums[7] = c7 + d7;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreMasked(float* c, Vector512<float> v, Vector512<float> mask, bool accumulate)
    {
        if (accumulate) v += Avx512F.MaskLoad(c, mask, Vector512<float>.Zero);
        Avx512F.MaskStore(c, mask, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            b += 16;
            var x = Vector256.Create(a0[k]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[k]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[k]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[k]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[k]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[k]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        Store256(c, c00, c01, accumulate);
        Store256(c + ldc, c10, c11, accumulate);
        Store256(c + 2 * ldc, c20, c21, accumulate);
        Store256(c + 3 * ldc, c30, c31, accumulate);
        Store256(c + 4 * ldc, c40, c41, accumulate);
        Store256(c + 5 * ldc, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }
        v0.Store(c);
        v1.Store(c + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x8(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            b += 8;
            var x = Vector128.Create(a0[k]);
            c00 = Vector128.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector128.FusedMultiplyAdd(x, b1, c01);
            x = Vector128.Create(a1[k]);
            c10 = Vector128.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector128.FusedMultiplyAdd(x, b1, c11);
            x = Vector128.Create(a2[k]);
            c20 = Vector128.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector128.FusedMultiplyAdd(x, b1, c21);
            x = Vector128.Create(a3[k]);
            c30 = Vector128.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector128.FusedMultiplyAdd(x, b1, c31);
        }
        Store128(c, c00, c01, accumulate);
        Store128(c + ldc, c10, c11, accumulate);
        Store128(c + 2 * ldc, c20, c21, accumulate);
        Store128(c + 3 * ldc, c30, c31, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* c, Vector128<float> v0, Vector128<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector128.Load(c);
            v1 += Vector128.Load(c + 4);
        }
        v0.Store(c);
        v1.Store(c + 4);
    }

    private static void Kernel4x4(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        float* acc = stackalloc float[16];
        for (int i = 0; i < 16; i++) acc[i] = 0;
        for (int k = 0; k < kc; k++)
        {
            for (int i = 0; i < 4; i++)
            {
                float x = a[(long)i * lda + k];
                for (int j = 0; j < 4; j++) acc[i * 4 + j] = MathF.FusedMultiplyAdd(x, b[j], acc[i * 4 + j]);
            }
            b += 4;
        }
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++) c[(long)i * ldc + j] = accumulate ? c[(long)i * ldc + j] + acc[i * 4 + j] : acc[i * 4 + j];
        }
    }
}
