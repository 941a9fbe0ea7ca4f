using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Max pooling's backward pass over small planes with sixteen planes as the vector lanes. The row-wise vector paths
/// of <see cref="PoolWork"/> fill a vector with one row's outputs, so a 6×6 → 3×3 plane keeps 3 of 16 lanes busy;
/// here sixteen planes (consecutive channels, contiguous in memory) are transposed into position-major blocks, the
/// windows are walked once for all sixteen with every lane busy, and the gradient is transposed back.
/// </summary>
public sealed unsafe partial class CpuBackend
{
    /// <summary>
    /// Largest input plane (floats) whose max backward takes the lanes. `bench pool`, backward ms, lanes vs the row
    /// paths, warm / cold caches: 6×6×640→3×3 0.17–0.18 vs 0.42 / 0.28–0.34 vs 0.46–0.52, 3×3×896 0.11–0.15 vs
    /// 0.21 / 0.15–0.19 vs 0.25–0.27. Planes of 12×12 gain warm (stride 1: 0.43–0.50 vs 0.71; 12×12×320→6×6: 0.30–0.37
    /// vs 0.44–0.54) but lose cold (1.3–2.4 vs 0.77–0.87; 0.69–0.86 vs 0.48–0.53), and inside NN4's training step they
    /// cancel the small planes' gain: in-process A/B of the step, planes up to 64 floats 0.9973, up to 144 1.0001.
    /// </summary>
    internal const int PoolLanesMaxPlane = 64;

    /// <summary>Floats of scratch <see cref="MaxBackwardLanes"/> needs for planes of g.</summary>
    internal static long PoolLanesFloats(in PoolGeometry g) => 2L * LaneImages * (Gemm.RoundUp(g.InH * g.InW, LaneImages) + Gemm.RoundUp(g.OutH * g.OutW, LaneImages));

    /// <summary>
    /// dx (=|+=) the max-pooling gradient of <paramref name="planes"/> consecutive planes: each output's gradient goes
    /// to the first input of its window (row by row) equal to the output, as in the reference. Sixteen planes at a time:
    /// x, y and dy are transposed into [position][plane] blocks, every output's window is walked with one vector per
    /// tap (hits taken in window order under an "open" mask), the gradients are added into a [position][plane] block
    /// of dx, and that block is transposed back into the planes.
    /// </summary>
    internal static void MaxBackwardLanes(in PoolGeometry g, float* x, float* y, float* dy, float* dx, int planes, bool accumulate, float* scratch)
    {
        int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
        float* xt = scratch, dxt = xt + (long)Gemm.RoundUp(inPlane, LaneImages) * LaneImages;
        float* yt = dxt + (long)Gemm.RoundUp(inPlane, LaneImages) * LaneImages, dyt = yt + (long)Gemm.RoundUp(outPlane, LaneImages) * LaneImages;
        var r = stackalloc Vector512<float>[LaneImages];
        for (int p0 = 0; p0 < planes; p0 += LaneImages)
        {
            int lanes = Math.Min(LaneImages, planes - p0);
            if (p0 + LaneImages < planes)
            {
                // The next group's planes, contiguous, into cache while this one computes: the transposes read sixteen
                // planes a line at a time, a pattern the hardware prefetcher does not follow from cold caches.
                int next = Math.Min(LaneImages, planes - p0 - LaneImages);
                PrefetchRange(x + (long)(p0 + LaneImages) * inPlane, (long)next * inPlane);
                PrefetchRange(dx + (long)(p0 + LaneImages) * inPlane, (long)next * inPlane);
                PrefetchRange(y + (long)(p0 + LaneImages) * outPlane, (long)next * outPlane);
                PrefetchRange(dy + (long)(p0 + LaneImages) * outPlane, (long)next * outPlane);
            }
            ToLanes(x + (long)p0 * inPlane, inPlane, lanes, xt, r);
            ToLanes(y + (long)p0 * outPlane, outPlane, lanes, yt, r);
            ToLanes(dy + (long)p0 * outPlane, outPlane, lanes, dyt, r);
            new Span<float>(dxt, inPlane * LaneImages).Clear();
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int hs = Math.Max(h0, 0), he = Math.Min(h0 + g.KernelH, g.InH);
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    int w0 = ow * g.StrideW - g.PadW;
                    int ws = Math.Max(w0, 0), we = Math.Min(w0 + g.KernelW, g.InW);
                    int o = oh * g.OutW + ow;
                    var target = Vector512.Load(yt + o * LaneImages);
                    var grad = Vector512.Load(dyt + o * LaneImages);
                    var open = Vector512<float>.AllBitsSet;
                    for (int h = hs; h < he; h++)
                    {
                        float* xr = xt + (long)h * g.InW * LaneImages, dr = dxt + (long)h * g.InW * LaneImages;
                        for (int w = ws; w < we; w++)
                        {
                            // Branch-free: which tap hits first is data-dependent.
                            var hit = Vector512.Equals(Vector512.Load(xr + w * LaneImages), target) & open;
                            open = Vector512.AndNot(open, hit);
                            float* d = dr + w * LaneImages;
                            (Vector512.Load(d) + (grad & hit)).Store(d);
                        }
                    }
                }
            }
            FromLanes(dxt, inPlane, lanes, dx + (long)p0 * inPlane, accumulate, r);
        }
    }

    private static void PrefetchRange(float* p, long floats)
    {
        for (long i = 0; i < floats; i += 16) Sse.Prefetch0(p + i);
    }

    /// <summary>t[p·16 + l] = src[l·length + p] for <paramref name="lanes"/> planes (the other lanes zero), 16×16 blocks transposed in registers.</summary>
    private static void ToLanes(float* src, int length, int lanes, float* t, Vector512<float>* r)
    {
        for (int q0 = 0; q0 < length; q0 += LaneImages)
        {
            int count = Math.Min(LaneImages, length - q0);
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
            for (int l = 0; l < LaneImages; l++) r[l] = l < lanes ? Avx512F.MaskLoad(src + (long)l * length + q0, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            Transpose16x16(r);
            for (int q = 0; q < count; q++) r[q].Store(t + (long)(q0 + q) * LaneImages);
        }
    }

    /// <summary>dst[l·length + p] (=|+=) t[p·16 + l] for the first <paramref name="lanes"/> planes.</summary>
    private static void FromLanes(float* t, int length, int lanes, float* dst, bool accumulate, Vector512<float>* r)
    {
        for (int q0 = 0; q0 < length; q0 += LaneImages)
        {
            int count = Math.Min(LaneImages, length - q0);
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
            for (int q = 0; q < LaneImages; q++) r[q] = q < count ? Vector512.Load(t + (long)(q0 + q) * LaneImages) : Vector512<float>.Zero;
            Transpose16x16(r);
            for (int l = 0; l < lanes; l++)
            {
                float* d = dst + (long)l * length + q0;
                var v = r[l];
                if (accumulate) v += Avx512F.MaskLoad(d, mask, Vector512<float>.Zero);
                Avx512F.MaskStore(d, mask, v);
            }
        }
    }
}
