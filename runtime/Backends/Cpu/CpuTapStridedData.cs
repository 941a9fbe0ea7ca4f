using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// The backward data pass of stride-2 convolutions onto small maps (those whose forward pass takes the tap GEMMs) as
/// one GEMM per tap, instead of im2col's column matrix folded back into dx. Tap (ky, kx) sends dy's position (oy, ox)
/// to dx's position (2·oy − pad + ky, 2·ox − pad + kx): every other row and column. Kept as four parity classes of
/// dx's positions, (iy mod 2, ix mod 2), each a grid of ⌈InH / 2⌉ × ⌈InW / 2⌉ positions, the tap lands on one class,
/// shifted by (⌊(ky − pad) / 2⌋, ⌊(kx − pad) / 2⌋) from dy's grid, so that its positions are runs of whole rows, or
/// one run a row, contiguous in dy and in the class, as for the stride-1 taps. The classes are interleaved back into
/// dx's rows sixteen columns at a time. `bench conv`, 2 threads, data-pass GFLOP/s against im2col: 12×12×128→6×6×256
/// 162 → 216, 6×6×160→3×3×256 110 → 223, 12×12×32→6×6×64 5×5/2 120 → 227 (level with their forward passes); NN4's
/// training step, in-process A/B 0.9926.
/// </summary>
public sealed unsafe partial class CpuBackend
{
    private readonly TapStridedDataWork _tapStridedData;

    /// <summary>
    /// Whether the backward data pass of <paramref name="g"/> over <paramref name="n"/> images takes
    /// <see cref="TapStridedDataWork"/>: a stride-2 convolution whose forward pass takes the tap GEMMs, a batch of whole
    /// sixteens on the wide SIMD level, and input channels for at least one part.
    /// </summary>
    internal bool TakesTapStridedData(in ConvGeometry g, int n) =>
        g.StrideH == 2 && TakesTaps(g, n) && Im2Col.Wide(Simd) && n % LaneImages == 0 && NR == 2 * LaneImages && g.InC >= TapPartRows;

    private sealed class TapStridedDataWork(CpuBackend owner) : IParallelWork
    {
        private ConvGeometry _g;
        private int _n, _parts;
        private float* _dy, _w, _dx;
        private bool _accumulate;

        public void Run(in ConvGeometry g, int n, float* dy, float* w, float* dx, bool accumulate)
        {
            _g = g;
            _n = n;
            _dy = dy;
            _w = w;
            _dx = dx;
            _accumulate = accumulate;
            _parts = owner.TapParts(g.InC);
            owner._pool.Run(this, _parts, 2.0 * g.MultiplyAdds * n * owner.FlopNanoseconds);
        }

        public void Execute(int index, int worker)
        {
            var g = _g;
            int n = _n, nr = owner.NR, k = g.OutC, size = g.KernelH, taps = size * size, pad = g.PadH;
            var (c0, rows) = TapRows(g.InC, _parts, index);
            var s = owner.Scratch(worker);
            int outHw = g.OutH * g.OutW, hc = (g.InH + 1) / 2, wc = (g.InW + 1) / 2;
            long classFloats = (long)hc * wc * n, ld = 4 * classFloats;
            int groups = outHw * n / LaneImages;
            long panel = (long)nr * k;
            float* even = s.Col.Ensure((groups + 1) / 2 * panel), odd = s.Pack.Ensure(Math.Max(1, groups / 2) * panel);
            float* wt = s.Tmp.Ensure((long)taps * rows * k + rows * ld);
            float* acc = wt + (long)taps * rows * k;
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            ToPackedPositions(_dy, n, k, outHw, g.OutSize, even, odd);
            // wt[taps − 1 − t][r][o] = w[o, c0 + r, t].
            ReorderTaps(_w, c0, rows, k, g.InC, taps, transposed: true, wt);
            for (int r = 0; r < rows; r++) new Span<float>(acc + r * ld, (int)ld).Clear();
            for (int t = 0; t < taps; t++)
            {
                int dyy = t / size - pad, dxx = t % size - pad;
                int py = dyy & 1, px = dxx & 1, sy = dyy >> 1, sx = dxx >> 1;
                // Outputs (oy, ox) whose input position 2·o + d lies in the map.
                int oy0 = Math.Max(0, -(dyy >> 1)), oy1 = Math.Min(g.OutH, ((g.InH - 1 - dyy) >> 1) + 1);
                int ox0 = Math.Max(0, -(dxx >> 1)), ox1 = Math.Min(g.OutW, ((g.InW - 1 - dxx) >> 1) + 1);
                if (oy1 <= oy0 || ox1 <= ox0) continue;
                float* a = wt + (long)(taps - 1 - t) * rows * k;
                float* c = acc + (py * 2 + px) * classFloats;
                // Whole rows that are also whole class rows make one run; otherwise one run a row.
                bool whole = ox0 == 0 && ox1 == g.OutW && wc == g.OutW && sx == 0;
                for (int oy = oy0; oy < oy1; oy += whole ? oy1 - oy0 : 1)
                {
                    int count = whole ? (oy1 - oy0) * g.OutW : ox1 - ox0;
                    int group = (oy * g.OutW + ox0) * n / LaneImages;
                    float* b = PackedFrom(even, odd, group, panel);
                    long at = ((long)(oy + sy) * wc + ox0 + sx) * n;
                    Gemm.Multiply(owner.Simd, rows, count * n, k, a, k, b, c + at, (int)ld, true, gemm);
                }
            }
            FromClasses(acc, rows, ld, classFloats, n, g.InH, g.InW, wc, _dx + (long)c0 * g.InH * g.InW, g.InSize, _accumulate);
        }
    }

    /// <summary>
    /// dx[i, r, iy, ix] (=|+=) acc[r][class (iy mod 2, ix mod 2)][iy / 2][ix / 2][i] for rows r of a class-major block:
    /// per dx row and sixteen columns, the sixteen positions' image vectors (alternating between the row's two classes)
    /// are transposed into sixteen images' contiguous columns.
    /// </summary>
    private static void FromClasses(float* acc, int rows, long ld, long classFloats, int n, int h, int w, int wc, float* dx, long imageStride, bool accumulate)
    {
        var v = stackalloc Vector512<float>[LaneImages];
        int plane = h * w;
        for (int r = 0; r < rows; r++)
        {
            for (int iy = 0; iy < h; iy++)
            {
                float* rowBase = acc + r * ld + (iy & 1) * 2 * classFloats + (long)(iy >> 1) * wc * n;
                for (int ix0 = 0; ix0 < w; ix0 += LaneImages)
                {
                    int count = Math.Min(LaneImages, w - ix0);
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
                    for (int i0 = 0; i0 < n; i0 += LaneImages)
                    {
                        for (int q = 0; q < LaneImages; q++)
                        {
                            int ix = ix0 + q;
                            v[q] = q < count ? Vector512.Load(rowBase + (ix & 1) * classFloats + (long)(ix >> 1) * n + i0) : Vector512<float>.Zero;
                        }
                        Transpose16x16(v);
                        for (int l = 0; l < LaneImages; l++)
                        {
                            float* d = dx + (i0 + l) * imageStride + (long)r * plane + (long)iy * w + ix0;
                            var value = v[l];
                            if (accumulate) value += Avx512F.MaskLoad(d, mask, Vector512<float>.Zero);
                            Avx512F.MaskStore(d, mask, value);
                        }
                    }
                }
            }
        }
    }
}
