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
        private readonly WinogradFilterWork _filters = new(owner);

        public int Items(in ConvGeometry g, int n) => _lanes.Items(g, n);

        /// <summary>
        /// y = conv(x, w) + b (then ReLU, or added into y), y's images yStride floats apart; with transposed, w holds the
        /// filters of the convolution whose backward data pass this is.
        /// </summary>
        public void Run(in ConvGeometry g, int n, float* x, float* w, float* b, float* y, bool relu, bool transposed, bool accumulate, long yStride)
        {
            float* u = owner._shared.Ensure(36L * FilterPlane(g));
            _filters.Run(g, w, u, transposed, sixBySix: true);
            _lanes.Run(g, n, x, u, b, y, relu, accumulate, yStride);
        }
    }
}
