using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Winograd's F(2×2, 5×5) for 5×5, stride-1, "same" convolutions (the inception modules' 5×5 branches) with the
/// batch's images as vector lanes: every 2×2 block of outputs comes from a 6×6 input patch as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A,
/// so 25·4 = 100 multiply-adds per channel pair become 36. The interpolation points (0, ±1, ±2, ∞) are those of
/// F(4×4, 3×3), so Bᵀ is the same and the input transform is shared; G holds the scaled powers up to the fourth,
/// G = [¼ 0 0 0 0; −⅙ −⅙ −⅙ −⅙ −⅙; −⅙ ⅙ −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙ ⅓ ⅔; 1⁄24 −1⁄12 ⅙ −⅓ ⅔; 0 0 0 0 1], and
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1]. Forward and backward data passes (the latter the transposed convolution); the
/// filter gradient takes the adjoint transforms (<c>ConvBackwardFilterWork.WinogradFilterLanes</c>).
/// </summary>
public sealed unsafe partial class CpuBackend
{
    /// <summary>
    /// Whether a convolution takes F(2×2, 5×5): 5×5, stride 1, padding 2, enough channels for the transforms to be
    /// small beside the GEMMs, the wide SIMD level, a batch that fills most of its lane groups, and at least one work
    /// item per thread.
    /// </summary>
    internal bool TakesWinograd5(in ConvGeometry g, int n) =>
        Winograd && Winograd4 && Im2Col.Wide(Simd) && Avx2.IsSupported &&
        g.KernelH == 5 && g.KernelW == 5 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 2 && g.PadW == 2 &&
        g.OutH == g.InH && g.OutW == g.InW && g.InC >= WinogradMinInChannels && g.OutC >= WinogradMinOutChannels &&
        TakesLanes(n) && _winograd5.Items(g, n) >= Threads;

    /// <summary>
    /// (G f)ᵢ for i = 0 … 5 of five vectors f: f0/4, −(f0 + f1 + f2 + f3 + f4)/6, −(f0 − f1 + f2 − f3 + f4)/6,
    /// (f0 + 2f1 + 4f2 + 8f3 + 16f4)/24, (f0 − 2f1 + 4f2 − 8f3 + 16f4)/24, f4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterRow5(Vector512<float> f0, Vector512<float> f1, Vector512<float> f2, Vector512<float> f3, Vector512<float> f4,
        out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3, out Vector512<float> o4, out Vector512<float> o5)
    {
        var sixth = Vector512.Create(1f / 6);
        var even = f0 + f2 + f4;
        var odd = f1 + f3;
        var even2 = Vector512.FusedMultiplyAdd(Vector512.Create(16f), f4, Vector512.FusedMultiplyAdd(Vector512.Create(4f), f2, f0));
        var odd2 = Vector512.FusedMultiplyAdd(Vector512.Create(8f), f3, f1 + f1);
        var c24 = Vector512.Create(1f / 24);
        o0 = f0 * Vector512.Create(0.25f);
        o1 = -(even + odd) * sixth;
        o2 = (odd - even) * sixth;
        o3 = (even2 + odd2) * c24;
        o4 = (even2 - odd2) * c24;
        o5 = f4;
    }

    /// <summary>U[ξ][oc, ic] = (G g Gᵀ)[ξ] for the 5×5 filters of pairs [p0, p1), sixteen pairs at a time (the last under a mask).</summary>
    [SkipLocalsInit]
    internal static void TransformFilters5(in ConvGeometry g, float* w, float* u, bool transposed, long p0, long p1)
    {
        long pairs = (long)g.OutC * g.InC;
        int* offsets = stackalloc int[16];
        var gg = stackalloc Vector512<float>[30];
        for (long p = p0; p < p1; p += 16)
        {
            int count = (int)Math.Min(16, p1 - p);
            var live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count));
            float* baseTap = FilterTapOffsets(g, w, transposed, p, count, offsets);
            var index = Vector512.Load(offsets);
            Vector512<float> F(int t) => Gather(baseTap + (transposed ? 24 - t : t), index, live);
            // G g: 6 × 5, kernel column by kernel column.
            for (int c = 0; c < 5; c++)
            {
                FilterRow5(F(c), F(5 + c), F(10 + c), F(15 + c), F(20 + c), out gg[c], out gg[5 + c], out gg[10 + c], out gg[15 + c], out gg[20 + c], out gg[25 + c]);
            }
            // (G g) Gᵀ: 6 × 6, row i from row i of G g.
            float* o = u + p;
            var mask = live.AsSingle();
            for (int i = 0; i < 6; i++)
            {
                FilterRow5(gg[5 * i], gg[5 * i + 1], gg[5 * i + 2], gg[5 * i + 3], gg[5 * i + 4], out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
                Avx512F.MaskStore(o + (6 * i) * pairs, mask, u0);
                Avx512F.MaskStore(o + (6 * i + 1) * pairs, mask, u1);
                Avx512F.MaskStore(o + (6 * i + 2) * pairs, mask, u2);
                Avx512F.MaskStore(o + (6 * i + 3) * pairs, mask, u3);
                Avx512F.MaskStore(o + (6 * i + 4) * pairs, mask, u4);
                Avx512F.MaskStore(o + (6 * i + 5) * pairs, mask, u5);
            }
        }
    }

    /// <summary>(Aᵀ m)ᵢ for i = 0, 1 of six vectors m: m0 + m1 + m2 + m3 + m4, m1 − m2 + 2(m3 − m4) + m5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputRow2(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4, Vector512<float> m5,
        out Vector512<float> y0, out Vector512<float> y1)
    {
        y0 = m0 + m1 + m2 + m3 + m4;
        y1 = Vector512.FusedMultiplyAdd(Vector512.Create(2f), m3 - m4, m1 - m2) + m5;
    }

    /// <summary>F(2×2, 5×5): the filter transform, then <see cref="WinogradLanesWork"/> (which takes its tile size from the kernel).</summary>
    private sealed class Winograd5Work(CpuBackend owner)
    {
        private readonly WinogradLanesWork _lanes = new(owner);
        private readonly Filters5Work _filters = new(owner);

        public int Items(in ConvGeometry g, int n) => _lanes.Items(g, n);

        /// <summary>
        /// y = conv(x, w) + b (then ReLU, or added into y), y's images yStride floats apart; with transposed, w holds the
        /// filters of the convolution whose backward data pass this is.
        /// </summary>
        public void Run(in ConvGeometry g, int n, float* x, float* w, float* b, float* y, bool relu, bool transposed, bool accumulate, long yStride)
        {
            float* u = owner._shared.Ensure(36L * g.OutC * g.InC);
            _filters.Run(g, w, u, transposed);
            _lanes.Run(g, n, x, u, b, y, relu, accumulate, yStride);
        }
    }

    /// <summary>The filter transform of <see cref="Winograd5Work"/>, its filter pairs split across workers.</summary>
    private sealed class Filters5Work(CpuBackend owner) : IParallelWork
    {
        private ConvGeometry _g;
        private float* _w, _u;
        private bool _transposed;
        private int _items;

        public void Run(in ConvGeometry g, float* w, float* u, bool transposed)
        {
            _g = g;
            _w = w;
            _u = u;
            _transposed = transposed;
            int pairs = g.OutC * g.InC;
            _items = Math.Min(owner.Threads, Math.Max(1, pairs / 512));
            owner._pool.Run(this, _items, pairs * 60 * NanosecondsPerFloat);
        }

        public void Execute(int index, int worker)
        {
            var (p0, count) = Range(_g.OutC * _g.InC, _items, index);
            TransformFilters5(_g, _w, _u, _transposed, p0, p0 + count);
        }
    }
}
