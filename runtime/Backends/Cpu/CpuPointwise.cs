using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Forward 1×1 convolutions with up to 64 output channels on maps of 64 pixels or more: y[oc] = Σ_c w[oc, c]·x[c] + b
/// read straight from x's channel planes, four output channels by 64 pixels in registers, with no packed copy of the
/// input (which, with so few rows of W to share it, costs about as much as the multiply-adds).
/// </summary>
public sealed unsafe partial class CpuBackend
{
    private readonly PointwiseWork _pointwise;

    /// <summary>Most output channels of a 1×1 convolution that takes <see cref="PointwiseWork"/>.</summary>
    internal const int PointwiseMaxOutC = 64;

    /// <summary>Fewest output pixels per image of a 1×1 convolution that takes <see cref="PointwiseWork"/>.</summary>
    internal const int PointwiseMinPixels = 64;

    /// <summary>
    /// Whether a convolution's forward pass takes the narrow pointwise path: AVX-512, 1×1 stride 1, at most 64 output
    /// channels, maps of 64 pixels or more. Measured with `bench conv` (batch 16, 2 threads, against the packed GEMM):
    /// 35×29×16→16 212 vs 102 GFLOP/s, 18×15×32→4 139 vs 6, 9×8×128→16 276 vs 148, 14×14×640→32 268 vs 244,
    /// 28×28×256→64 312 vs 216, 56×56×64→64 282 vs 192; but 128 channels (14×14×640→128 245 vs 270) and small maps,
    /// whose rows of 49 or 36 pixels leave vectors partly empty (7×7×1024→48 139 vs 215), keep the GEMM.
    /// </summary>
    internal bool TakesPointwise(in ConvGeometry g) =>
        Direct && Im2Col.Wide(Simd) && g.IsPointwise && g.OutC <= PointwiseMaxOutC && g.OutH * g.OutW >= PointwiseMinPixels;

    private sealed class PointwiseWork(CpuBackend owner) : IParallelWork
    {
        /// <summary>Pixels of one work item.</summary>
        private const int Chunk = 256;

        private ConvGeometry _g;
        private float* _x, _w, _b, _y;
        private long _yStride;
        private bool _relu;
        private int _chunks;

        public void Run(in ConvGeometry g, int n, float* x, float* w, float* b, float* y, bool relu, long yStride)
        {
            _g = g;
            _x = x;
            _w = w;
            _b = b;
            _y = y;
            _yStride = yStride;
            _relu = relu;
            _chunks = (g.OutH * g.OutW + Chunk - 1) / Chunk;
            owner._pool.Run(this, n * _chunks, 2.0 * g.MultiplyAdds * n * owner.FlopNanoseconds);
        }

        public void Execute(int index, int worker)
        {
            var g = _g;
            int hw = g.OutH * g.OutW, inC = g.InC;
            int img = index / _chunks;
            int p0 = index % _chunks * Chunk, p1 = Math.Min(hw, p0 + Chunk);
            float* x = _x + (long)img * g.InSize;
            float* bias = stackalloc float[4];
            for (int oc = 0; oc < g.OutC; oc += 4)
            {
                int rows = Math.Min(4, g.OutC - oc);
                float* y = _y + img * _yStride + (long)oc * hw;
                // A short group repeats its last row of W (and discards those sums).
                float* w0 = _w + (long)oc * inC;
                for (int r = 0; r < 4; r++) bias[r] = _b[oc + Math.Min(r, rows - 1)];
                Block(x, hw, inC, w0, rows, p0, p1, y, bias, _relu);
            }
        }

        /// <summary>Rows [0, rows) of y (rows ≤ 4, consecutive output channels from w's row 0) for pixels [p0, p1).</summary>
        private static void Block(float* x, int hw, int inC, float* w, int rows, int p0, int p1, float* y, float* bias, bool relu)
        {
            // Rows past the group's end alias its last row.
            long w1 = rows > 1 ? inC : 0, w2 = rows > 2 ? 2L * inC : w1, w3 = rows > 3 ? 3L * inC : w2;
            int p = p0;
            for (; p + 64 <= p1; p += 64)
            {
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
                Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
                float* xc = x + p;
                for (int c = 0; c < inC; c++, xc += hw)
                {
                    var x0 = Vector512.Load(xc); var x1 = Vector512.Load(xc + 16); var x2 = Vector512.Load(xc + 32); var x3 = Vector512.Load(xc + 48);
                    var v = Vector512.Create(w[c]);
                    a00 = Vector512.FusedMultiplyAdd(x0, v, a00); a01 = Vector512.FusedMultiplyAdd(x1, v, a01); a02 = Vector512.FusedMultiplyAdd(x2, v, a02); a03 = Vector512.FusedMultiplyAdd(x3, v, a03);
                    v = Vector512.Create(w[w1 + c]);
                    a10 = Vector512.FusedMultiplyAdd(x0, v, a10); a11 = Vector512.FusedMultiplyAdd(x1, v, a11); a12 = Vector512.FusedMultiplyAdd(x2, v, a12); a13 = Vector512.FusedMultiplyAdd(x3, v, a13);
                    v = Vector512.Create(w[w2 + c]);
                    a20 = Vector512.FusedMultiplyAdd(x0, v, a20); a21 = Vector512.FusedMultiplyAdd(x1, v, a21); a22 = Vector512.FusedMultiplyAdd(x2, v, a22); a23 = Vector512.FusedMultiplyAdd(x3, v, a23);
                    v = Vector512.Create(w[w3 + c]);
                    a30 = Vector512.FusedMultiplyAdd(x0, v, a30); a31 = Vector512.FusedMultiplyAdd(x1, v, a31); a32 = Vector512.FusedMultiplyAdd(x2, v, a32); a33 = Vector512.FusedMultiplyAdd(x3, v, a33);
                }
                var all = Vector512<float>.AllBitsSet;
                Put(y + p, a00, bias[0], relu, all); Put(y + p + 16, a01, bias[0], relu, all); Put(y + p + 32, a02, bias[0], relu, all); Put(y + p + 48, a03, bias[0], relu, all);
                if (rows > 1) { Put(y + hw + p, a10, bias[1], relu, all); Put(y + hw + p + 16, a11, bias[1], relu, all); Put(y + hw + p + 32, a12, bias[1], relu, all); Put(y + hw + p + 48, a13, bias[1], relu, all); }
                if (rows > 2) { Put(y + 2L * hw + p, a20, bias[2], relu, all); Put(y + 2L * hw + p + 16, a21, bias[2], relu, all); Put(y + 2L * hw + p + 32, a22, bias[2], relu, all); Put(y + 2L * hw + p + 48, a23, bias[2], relu, all); }
                if (rows > 3) { Put(y + 3L * hw + p, a30, bias[3], relu, all); Put(y + 3L * hw + p + 16, a31, bias[3], relu, all); Put(y + 3L * hw + p + 32, a32, bias[3], relu, all); Put(y + 3L * hw + p + 48, a33, bias[3], relu, all); }
            }
            // The rest sixteen pixels at a time, the last under a mask.
            for (; p < p1; p += 16)
            {
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(p1 - p)).AsSingle();
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                float* xc = x + p;
                for (int c = 0; c < inC; c++, xc += hw)
                {
                    var x0 = Avx512F.MaskLoad(xc, mask, Vector512<float>.Zero);
                    a0 = Vector512.FusedMultiplyAdd(x0, Vector512.Create(w[c]), a0);
                    a1 = Vector512.FusedMultiplyAdd(x0, Vector512.Create(w[w1 + c]), a1);
                    a2 = Vector512.FusedMultiplyAdd(x0, Vector512.Create(w[w2 + c]), a2);
                    a3 = Vector512.FusedMultiplyAdd(x0, Vector512.Create(w[w3 + c]), a3);
                }
                Put(y + p, a0, bias[0], relu, mask);
                if (rows > 1) Put(y + hw + p, a1, bias[1], relu, mask);
                if (rows > 2) Put(y + 2L * hw + p, a2, bias[2], relu, mask);
                if (rows > 3) Put(y + 3L * hw + p, a3, bias[3], relu, mask);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(float* y, Vector512<float> acc, float bias, bool relu, Vector512<float> mask)
        {
            acc += Vector512.Create(bias);
            if (relu) acc = Vector512.Max(acc, Vector512<float>.Zero);
            Avx512F.MaskStore(y, mask, acc);
        }
    }
}
