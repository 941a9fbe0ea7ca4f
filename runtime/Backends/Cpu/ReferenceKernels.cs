using FaceNetGen.Specs;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Naive reference kernels: the oracles the optimised CPU and CUDA kernels are tested against. Loops follow the
/// definitions literally and accumulate in double; nothing here is meant to be fast. Layouts as in <see cref="IBackend"/>.
/// </summary>
public static class ReferenceKernels
{
    // x: (n, InC, InH, InW), w: (OutC, InC, KH, KW), b: (OutC) -> y: (n, OutC, OutH, OutW)
    public static void ConvForward(in ConvGeometry g, int n, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, bool relu)
    {
        for (int i = 0; i < n; i++)
        for (int oc = 0; oc < g.OutC; oc++)
        for (int oh = 0; oh < g.OutH; oh++)
        for (int ow = 0; ow < g.OutW; ow++)
        {
            double sum = b[oc];
            for (int ic = 0; ic < g.InC; ic++)
            for (int kh = 0; kh < g.KernelH; kh++)
            {
                int ih = oh * g.StrideH - g.PadH + kh;
                if (ih < 0 || ih >= g.InH) continue;
                for (int kw = 0; kw < g.KernelW; kw++)
                {
                    int iw = ow * g.StrideW - g.PadW + kw;
                    if (iw < 0 || iw >= g.InW) continue;
                    sum += (double)x[((i * g.InC + ic) * g.InH + ih) * g.InW + iw] * w[((oc * g.InC + ic) * g.KernelH + kh) * g.KernelW + kw];
                }
            }
            if (relu && sum < 0) sum = 0;
            y[((i * g.OutC + oc) * g.OutH + oh) * g.OutW + ow] = (float)sum;
        }
    }

    // dy: (n, OutC, OutH, OutW), w -> dx: (n, InC, InH, InW)
    public static void ConvBackwardData(in ConvGeometry g, int n, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, bool accumulate)
    {
        var acc = new double[n * g.InSize];
        for (int i = 0; i < n; i++)
        for (int oc = 0; oc < g.OutC; oc++)
        for (int oh = 0; oh < g.OutH; oh++)
        for (int ow = 0; ow < g.OutW; ow++)
        {
            double d = dy[((i * g.OutC + oc) * g.OutH + oh) * g.OutW + ow];
            for (int ic = 0; ic < g.InC; ic++)
            for (int kh = 0; kh < g.KernelH; kh++)
            {
                int ih = oh * g.StrideH - g.PadH + kh;
                if (ih < 0 || ih >= g.InH) continue;
                for (int kw = 0; kw < g.KernelW; kw++)
                {
                    int iw = ow * g.StrideW - g.PadW + kw;
                    if (iw < 0 || iw >= g.InW) continue;
                    acc[((i * g.InC + ic) * g.InH + ih) * g.InW + iw] += d * w[((oc * g.InC + ic) * g.KernelH + kh) * g.KernelW + kw];
                }
            }
        }
        Store(acc, dx, accumulate);
    }

    // x, dy -> dw (=|+=) Σ dy·x, db (=|+=) Σ dy
    public static void ConvBackwardFilter(in ConvGeometry g, int n, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> db, bool accumulate)
    {
        var accW = new double[g.WeightSize];
        var accB = new double[g.OutC];
        for (int i = 0; i < n; i++)
        for (int oc = 0; oc < g.OutC; oc++)
        for (int oh = 0; oh < g.OutH; oh++)
        for (int ow = 0; ow < g.OutW; ow++)
        {
            double d = dy[((i * g.OutC + oc) * g.OutH + oh) * g.OutW + ow];
            accB[oc] += d;
            for (int ic = 0; ic < g.InC; ic++)
            for (int kh = 0; kh < g.KernelH; kh++)
            {
                int ih = oh * g.StrideH - g.PadH + kh;
                if (ih < 0 || ih >= g.InH) continue;
                for (int kw = 0; kw < g.KernelW; kw++)
                {
                    int iw = ow * g.StrideW - g.PadW + kw;
                    if (iw < 0 || iw >= g.InW) continue;
                    accW[((oc * g.InC + ic) * g.KernelH + kh) * g.KernelW + kw] += d * x[((i * g.InC + ic) * g.InH + ih) * g.InW + iw];
                }
            }
        }
        Store(accW, dw, accumulate);
        Store(accB, db, accumulate);
    }

    public static void ReluBackward(ReadOnlySpan<float> y, Span<float> dy)
    {
        for (int i = 0; i < dy.Length; i++)
        {
            if (!(y[i] > 0)) dy[i] = 0;
        }
    }

    /// <summary>The input positions of output (oh, ow)'s window that lie inside the input.</summary>
    private static (int H0, int H1, int W0, int W1) Window(in PoolGeometry g, int oh, int ow)
    {
        int h0 = oh * g.StrideH - g.PadH, w0 = ow * g.StrideW - g.PadW;
        return (Math.Max(h0, 0), Math.Min(h0 + g.KernelH, g.InH), Math.Max(w0, 0), Math.Min(w0 + g.KernelW, g.InW));
    }

    public static void PoolForward(in PoolGeometry g, int n, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int p = 0; p < n * g.C; p++)
        {
            var xs = x.Slice(p * g.InH * g.InW, g.InH * g.InW);
            for (int oh = 0; oh < g.OutH; oh++)
            for (int ow = 0; ow < g.OutW; ow++)
            {
                var (h0, h1, w0, w1) = Window(g, oh, ow);
                double r = g.Kind == PoolKind.Max ? double.NegativeInfinity : 0;
                int count = 0;
                for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++)
                {
                    double v = xs[h * g.InW + w];
                    count++;
                    r = g.Kind switch { PoolKind.Max => Math.Max(r, v), PoolKind.Average => r + v, _ => r + v * v };
                }
                if (g.Kind == PoolKind.Average) r /= Math.Max(count, 1);
                if (g.Kind == PoolKind.L2) r = Math.Sqrt(r);
                if (count == 0) r = 0;
                y[(p * g.OutH + oh) * g.OutW + ow] = (float)r;
            }
        }
    }

    public static void PoolBackward(in PoolGeometry g, int n, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate)
    {
        var acc = new double[n * g.InSize];
        for (int p = 0; p < n * g.C; p++)
        {
            int xBase = p * g.InH * g.InW;
            for (int oh = 0; oh < g.OutH; oh++)
            for (int ow = 0; ow < g.OutW; ow++)
            {
                int o = (p * g.OutH + oh) * g.OutW + ow;
                var (h0, h1, w0, w1) = Window(g, oh, ow);
                double d = dy[o];
                if (g.Kind == PoolKind.Max)
                {
                    int best = -1;
                    float bestV = float.NegativeInfinity;
                    for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                    {
                        float v = x[xBase + h * g.InW + w];
                        if (best < 0 || v > bestV)
                        {
                            best = h * g.InW + w;
                            bestV = v;
                        }
                    }
                    if (best >= 0) acc[xBase + best] += d;
                }
                else
                {
                    int count = (h1 - h0) * (w1 - w0);
                    for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                    {
                        int i = xBase + h * g.InW + w;
                        if (g.Kind == PoolKind.Average) acc[i] += d / count;
                        else if (y[o] > 0) acc[i] += d * x[i] / y[o];
                    }
                }
            }
        }
        Store(acc, dx, accumulate);
    }

    private static (int Lo, int Hi) LrnWindow(in LrnGeometry g, int c)
    {
        int half = (g.Size - 1) / 2;
        return (Math.Max(0, c - half), Math.Min(g.C - 1, c + g.Size / 2));
    }

    private static double LrnScale(in LrnGeometry g, ReadOnlySpan<float> x, int imageBase, int c, int s)
    {
        int hw = g.H * g.W;
        var (lo, hi) = LrnWindow(g, c);
        double sum = 0;
        for (int j = lo; j <= hi; j++)
        {
            double v = x[imageBase + j * hw + s];
            sum += v * v;
        }
        return g.K + g.Alpha / g.Size * sum;
    }

    public static void LrnForward(in LrnGeometry g, int n, ReadOnlySpan<float> x, Span<float> y)
    {
        int hw = g.H * g.W;
        for (int i = 0; i < n; i++)
        for (int c = 0; c < g.C; c++)
        for (int s = 0; s < hw; s++)
        {
            int at = i * g.Length + c * hw + s;
            y[at] = (float)(x[at] * Math.Pow(LrnScale(g, x, i * g.Length, c, s), -g.Beta));
        }
    }

    public static void LrnBackward(in LrnGeometry g, int n, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate)
    {
        // y_c = x_c · S_c^-β with S_c = k + α/size · Σ_{j∈win(c)} x_j²; the window is symmetric (odd size), so
        // dx_c = dy_c · S_c^-β − 2αβ/size · x_c · Σ_{j∈win(c)} dy_j · x_j · S_j^(-β-1).
        int hw = g.H * g.W;
        var acc = new double[n * g.Length];
        for (int i = 0; i < n; i++)
        for (int s = 0; s < hw; s++)
        {
            int b = i * g.Length;
            for (int c = 0; c < g.C; c++)
            {
                double sc = LrnScale(g, x, b, c, s);
                double sum = 0;
                var (lo, hi) = LrnWindow(g, c);
                for (int j = lo; j <= hi; j++)
                {
                    double sj = LrnScale(g, x, b, j, s);
                    sum += dy[b + j * hw + s] * x[b + j * hw + s] * Math.Pow(sj, -g.Beta - 1);
                }
                int at = b + c * hw + s;
                acc[at] = dy[at] * Math.Pow(sc, -g.Beta) - 2.0 * g.Alpha * g.Beta / g.Size * x[at] * sum;
            }
        }
        Store(acc, dx, accumulate);
    }

    public static void ConcatForward(int n, int spatial, ReadOnlySpan<float> part, int partChannels, Span<float> whole, int wholeChannels, int channelOffset)
    {
        for (int i = 0; i < n; i++)
        {
            part.Slice(i * partChannels * spatial, partChannels * spatial)
                .CopyTo(whole.Slice((i * wholeChannels + channelOffset) * spatial, partChannels * spatial));
        }
    }

    public static void ConcatBackward(int n, int spatial, ReadOnlySpan<float> dWhole, int wholeChannels, int channelOffset, Span<float> dPart, int partChannels, bool accumulate)
    {
        for (int i = 0; i < n; i++)
        {
            var src = dWhole.Slice((i * wholeChannels + channelOffset) * spatial, partChannels * spatial);
            var dst = dPart.Slice(i * partChannels * spatial, partChannels * spatial);
            for (int k = 0; k < src.Length; k++) dst[k] = accumulate ? dst[k] + src[k] : src[k];
        }
    }

    public static void LinearForward(int n, int inF, int outF, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, bool relu)
    {
        for (int i = 0; i < n; i++)
        for (int o = 0; o < outF; o++)
        {
            double sum = b[o];
            for (int k = 0; k < inF; k++) sum += (double)x[i * inF + k] * w[o * inF + k];
            y[i * outF + o] = (float)(relu && sum < 0 ? 0 : sum);
        }
    }

    public static void LinearBackwardData(int n, int inF, int outF, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, bool accumulate)
    {
        var acc = new double[n * inF];
        for (int i = 0; i < n; i++)
        for (int o = 0; o < outF; o++)
        {
            double d = dy[i * outF + o];
            for (int k = 0; k < inF; k++) acc[i * inF + k] += d * w[o * inF + k];
        }
        Store(acc, dx, accumulate);
    }

    public static void LinearBackwardFilter(int n, int inF, int outF, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> db, bool accumulate)
    {
        var accW = new double[outF * inF];
        var accB = new double[outF];
        for (int i = 0; i < n; i++)
        for (int o = 0; o < outF; o++)
        {
            double d = dy[i * outF + o];
            accB[o] += d;
            for (int k = 0; k < inF; k++) accW[o * inF + k] += d * x[i * inF + k];
        }
        Store(accW, dw, accumulate);
        Store(accB, db, accumulate);
    }

    public static void MaxoutForward(int n, int units, int pool, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < n * units; i++)
        {
            float m = x[i * pool];
            for (int k = 1; k < pool; k++) m = Math.Max(m, x[i * pool + k]);
            y[i] = m;
        }
    }

    public static void MaxoutBackward(int n, int units, int pool, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate)
    {
        var acc = new double[n * units * pool];
        for (int i = 0; i < n * units; i++)
        {
            int best = 0;
            for (int k = 1; k < pool; k++)
            {
                if (x[i * pool + k] > x[i * pool + best]) best = k;
            }
            acc[i * pool + best] = dy[i];
        }
        Store(acc, dx, accumulate);
    }

    /// <summary>The smallest norm divided by; below it a row is scaled by 1/1e-12 (as torch.nn.functional.normalize).</summary>
    public const double NormEpsilon = 1e-12;

    public static void L2NormalizeForward(int n, int dim, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < n; i++)
        {
            double ss = 0;
            for (int k = 0; k < dim; k++) ss += (double)x[i * dim + k] * x[i * dim + k];
            double norm = Math.Max(Math.Sqrt(ss), NormEpsilon);
            for (int k = 0; k < dim; k++) y[i * dim + k] = (float)(x[i * dim + k] / norm);
        }
    }

    public static void L2NormalizeBackward(int n, int dim, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate)
    {
        var acc = new double[n * dim];
        for (int i = 0; i < n; i++)
        {
            double ss = 0, dot = 0;
            for (int k = 0; k < dim; k++)
            {
                ss += (double)x[i * dim + k] * x[i * dim + k];
                dot += (double)y[i * dim + k] * dy[i * dim + k];
            }
            double norm = Math.Sqrt(ss);
            for (int k = 0; k < dim; k++)
            {
                acc[i * dim + k] = norm > NormEpsilon
                    ? (dy[i * dim + k] - y[i * dim + k] * dot) / norm
                    : dy[i * dim + k] / NormEpsilon;
            }
        }
        Store(acc, dx, accumulate);
    }

    public static void AdaGradStep(Span<float> p, ReadOnlySpan<float> g, Span<float> s, float lr, float eps)
    {
        for (int i = 0; i < p.Length; i++)
        {
            s[i] += g[i] * g[i];
            p[i] -= lr * g[i] / (MathF.Sqrt(s[i]) + eps);
        }
    }

    public static void SgdStep(Span<float> p, ReadOnlySpan<float> g, Span<float> v, float lr, float momentum, float weightDecay)
    {
        for (int i = 0; i < p.Length; i++)
        {
            v[i] = momentum * v[i] + (g[i] + weightDecay * p[i]);
            p[i] -= lr * v[i];
        }
    }

    public static void AdamStep(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float lr, float beta1, float beta2, float eps, int step)
    {
        float c1 = 1 - MathF.Pow(beta1, step), c2 = 1 - MathF.Pow(beta2, step);
        for (int i = 0; i < p.Length; i++)
        {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            p[i] -= lr * (m[i] / c1) / (MathF.Sqrt(v[i] / c2) + eps);
        }
    }

    private static void Store(double[] acc, Span<float> dst, bool accumulate)
    {
        for (int i = 0; i < acc.Length; i++) dst[i] = (float)(accumulate ? dst[i] + acc[i] : acc[i]);
    }
}
