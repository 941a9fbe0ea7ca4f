using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Tests.Kernels;

/// <summary>
/// The packed GEMM against a naive triple loop, every SIMD level, edge tiles and K blocks included; panels with at
/// most sixteen live columns (n mod 32 in 1..16) take the half-width kernel.
/// </summary>
public unsafe class GemmTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (var level in new[] { SimdLevel.Vector512, SimdLevel.Vector256, SimdLevel.Vector128, SimdLevel.Scalar })
        {
            if (level > Gemm.Best) continue;
            foreach (var (m, n, k) in new[] { (1, 1, 1), (8, 32, 5), (7, 33, 17), (13, 70, 300), (3, 5, 513), (40, 64, 256), (9, 31, 1), (16, 100, 0), (7, 9, 33), (13, 48, 300), (15, 41, 7), (24, 144, 520) })
            {
                yield return new object[] { level, m, n, k, false };
                yield return new object[] { level, m, n, k, true };
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Multiply_matches_the_naive_product(SimdLevel level, int m, int n, int k, bool accumulate)
    {
        var (_, nr) = Gemm.Tile(level);
        int lda = k + 3, ldc = n + 5;
        var a = KernelHarness.Random(m * lda, 1);
        var b = KernelHarness.Random(k * n, 2);
        // Eight rows past C's last: an edge tile must not write beyond its rows.
        var c = KernelHarness.Random((m + 8) * ldc, 3);
        var expected = (float[])c.Clone();
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = accumulate ? c[i * ldc + j] : 0;
            for (int kk = 0; kk < k; kk++) sum += (double)a[i * lda + kk] * b[kk * n + j];
            expected[i * ldc + j] = (float)sum;
        }
        var packed = new float[Math.Max(1, Gemm.PackedSize(k, n, nr))];
        var scratch = new float[Gemm.ScratchFloats];
        fixed (float* pa = a, pb = b, pc = c, pp = packed, ps = scratch)
        {
            Gemm.PackB(k, n, pb, n, pp, nr);
            Gemm.Multiply(level, m, n, k, pa, lda, pp, pc, ldc, accumulate, ps);
        }
        KernelHarness.AssertClose(expected, c, 1e-5 * Math.Max(1, k), $"{level} {m}x{n}x{k}");
    }

    [Theory]
    [InlineData(SimdLevel.Scalar, 7, 9)]
    [InlineData(SimdLevel.Vector128, 20, 3)]
    [InlineData(SimdLevel.Vector256, 33, 40)]
    [InlineData(SimdLevel.Vector512, 45, 70)]
    [InlineData(SimdLevel.Vector512, 128, 64)]
    public void PackBTransposed_equals_packing_the_transpose(SimdLevel level, int k, int n)
    {
        if (level > Gemm.Best) return;
        var (_, nr) = Gemm.Tile(level);
        // Bt's rows 3 floats longer than K (a leading dimension), and B packed both whole and as rows [2, 2 + K) of a
        // taller packed matrix (as the filter gradients fill one B from several sources).
        int ldbt = k + 3, total = k + 5;
        var bt = KernelHarness.Random(n * ldbt, 4);
        var b = new float[k * n];
        for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) b[j * n + i] = bt[i * ldbt + j];
        var viaPlain = new float[Gemm.PackedSize(total, n, nr)];
        var viaTransposed = new float[Gemm.PackedSize(total, n, nr)];
        var wholePlain = new float[Gemm.PackedSize(k, n, nr)];
        var wholeTransposed = new float[Gemm.PackedSize(k, n, nr)];
        // Stale values everywhere first: the panels' padding columns must come out zero either way.
        foreach (var packed in new[] { viaPlain, viaTransposed, wholePlain, wholeTransposed }) Array.Fill(packed, 7f);
        fixed (float* pb = b, pbt = bt, p1 = viaPlain, p2 = viaTransposed, w1 = wholePlain, w2 = wholeTransposed)
        {
            Gemm.PackB(k, n, pb, n, w1, nr);
            Gemm.PackBTransposed(k, n, pbt, ldbt, w2, nr);
            Gemm.PackB(k, n, pb, n, p1, nr, total, 2);
            Gemm.PackBTransposed(k, n, pbt, ldbt, p2, nr, total, 2);
        }
        Assert.Equal(wholePlain, wholeTransposed);
        Assert.Equal(viaPlain, viaTransposed);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(8, 8)]
    [InlineData(17, 9)]
    [InlineData(40, 33)]
    [InlineData(5, 64)]
    public void Blocked_transposes_match_the_definition(int rows, int cols)
    {
        var src = KernelHarness.Random(rows * cols, 7);
        var dst = KernelHarness.Random(rows * cols, 8);
        var assigned = new float[rows * cols];
        var added = (float[])dst.Clone();
        fixed (float* ps = src, pa = assigned, pd = added)
        {
            CpuBackend.Transpose(ps, rows, cols, pa);
            CpuBackend.TransposeAdd(ps, rows, cols, pd);
        }
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
        {
            Assert.Equal(src[r * cols + c], assigned[c * rows + r]);
            Assert.Equal(dst[c * rows + r] + src[r * cols + c], added[c * rows + r]);
        }
    }
}
