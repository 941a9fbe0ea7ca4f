using FaceNetGen.Specs;

namespace FaceNetGen.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    private readonly PoolWork _pooling;

    public override void PoolForward(in PoolGeometry g, int n, BufferView x, BufferView y) =>
        _pooling.Run(g, n, P(x, (long)n * g.InSize), P(y, (long)n * g.OutSize), null, null, false, backward: false);

    public override void PoolBackward(in PoolGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) =>
        _pooling.Run(g, n, P(x, (long)n * g.InSize), P(y, (long)n * g.OutSize), P(dy, (long)n * g.OutSize), P(dx, (long)n * g.InSize), accumulate, backward: true);

    /// <summary>Max, average and L2 pooling, forward and backward, one channel plane at a time, planes split across workers.</summary>
    private sealed class PoolWork(CpuBackend owner) : IParallelWork
    {
        private const int PlanesPerItem = 16;
        private PoolGeometry _g;
        private float* _x, _y, _dy, _dx;
        private bool _accumulate, _backward;
        private int _planes;

        public void Run(in PoolGeometry g, int n, float* x, float* y, float* dy, float* dx, bool accumulate, bool backward)
        {
            _g = g;
            _x = x;
            _y = y;
            _dy = dy;
            _dx = dx;
            _accumulate = accumulate;
            _backward = backward;
            _planes = n * g.C;
            owner._pool.Run(this, (_planes + PlanesPerItem - 1) / PlanesPerItem);
        }

        public void Execute(int index, int worker)
        {
            int inPlane = _g.InH * _g.InW, outPlane = _g.OutH * _g.OutW;
            int end = Math.Min(_planes, (index + 1) * PlanesPerItem);
            for (int p = index * PlanesPerItem; p < end; p++)
            {
                float* x = _x + (long)p * inPlane;
                float* y = _y + (long)p * outPlane;
                if (!_backward)
                {
                    Forward(_g, x, y);
                }
                else
                {
                    float* dx = _dx + (long)p * inPlane;
                    if (!_accumulate) new Span<float>(dx, inPlane).Clear();
                    Backward(_g, x, y, _dy + (long)p * outPlane, dx);
                }
            }
        }

        private static void Forward(in PoolGeometry g, float* x, float* y)
        {
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int hs = Math.Max(h0, 0), he = Math.Min(h0 + g.KernelH, g.InH);
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    int w0 = ow * g.StrideW - g.PadW;
                    int ws = Math.Max(w0, 0), we = Math.Min(w0 + g.KernelW, g.InW);
                    float r;
                    switch (g.Kind)
                    {
                        case PoolKind.Max:
                            r = float.NegativeInfinity;
                            for (int h = hs; h < he; h++)
                            {
                                float* row = x + h * g.InW;
                                for (int w = ws; w < we; w++) r = MathF.Max(r, row[w]);
                            }
                            break;
                        case PoolKind.Average:
                            r = 0;
                            for (int h = hs; h < he; h++)
                            {
                                float* row = x + h * g.InW;
                                for (int w = ws; w < we; w++) r += row[w];
                            }
                            r /= Math.Max(1, (he - hs) * (we - ws));
                            break;
                        default:
                            r = 0;
                            for (int h = hs; h < he; h++)
                            {
                                float* row = x + h * g.InW;
                                for (int w = ws; w < we; w++) r = MathF.FusedMultiplyAdd(row[w], row[w], r);
                            }
                            r = MathF.Sqrt(r);
                            break;
                    }
                    y[oh * g.OutW + ow] = (he > hs && we > ws) ? r : 0f;
                }
            }
        }

        private static void Backward(in PoolGeometry g, float* x, float* y, float* dy, float* dx)
        {
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadH;
                int hs = Math.Max(h0, 0), he = Math.Min(h0 + g.KernelH, g.InH);
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    int w0 = ow * g.StrideW - g.PadW;
                    int ws = Math.Max(w0, 0), we = Math.Min(w0 + g.KernelW, g.InW);
                    if (he <= hs || we <= ws) continue;
                    int o = oh * g.OutW + ow;
                    float d = dy[o];
                    switch (g.Kind)
                    {
                        case PoolKind.Max:
                        {
                            int best = hs * g.InW + ws;
                            float bestV = x[best];
                            for (int h = hs; h < he; h++)
                            {
                                for (int w = ws; w < we; w++)
                                {
                                    float v = x[h * g.InW + w];
                                    if (v > bestV)
                                    {
                                        bestV = v;
                                        best = h * g.InW + w;
                                    }
                                }
                            }
                            dx[best] += d;
                            break;
                        }
                        case PoolKind.Average:
                        {
                            float share = d / ((he - hs) * (we - ws));
                            for (int h = hs; h < he; h++)
                            {
                                for (int w = ws; w < we; w++) dx[h * g.InW + w] += share;
                            }
                            break;
                        }
                        default:
                        {
                            float yo = y[o];
                            if (!(yo > 0)) break;
                            float scale = d / yo;
                            for (int h = hs; h < he; h++)
                            {
                                for (int w = ws; w < we; w++) dx[h * g.InW + w] += scale * x[h * g.InW + w];
                            }
                            break;
                        }
                    }
                }
            }
        }
    }
}
