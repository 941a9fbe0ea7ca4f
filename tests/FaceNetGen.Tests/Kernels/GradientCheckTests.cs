using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Specs;

namespace FaceNetGen.Tests.Kernels;

/// <summary>
/// Finite-difference checks of every kernel's backward against its own forward. The loss is L = Σ r·y for a fixed
/// random r, so dL/dy = r. Coordinates where the one-sided differences disagree sit on a kink (a ReLU at zero, a
/// change of max-pool or maxout winner) and are skipped; most coordinates must be checked.
/// </summary>
public class GradientCheckTests
{
    private const double H = 2e-3;

    /// <summary>
    /// Checks d(Σ r·forward(inputs))/d inputs[which] at sampled coordinates against <paramref name="analytic"/>.
    /// <paramref name="region"/>, when given, returns a signature of the piecewise-linear region the inputs are in
    /// (e.g. the signs of a convolution's pre-activations): a coordinate whose ±h moves change it is skipped exactly.
    /// </summary>
    private static void Check(float[][] inputs, int which, int outputIndex, Action<IBackend, BufferView[]> forward, float[] r, float[] analytic, string what, int samples = 40, Func<float[][], string>? region = null)
    {
        using var backend = new ReferenceBackend();
        double Loss(float[][] values)
        {
            var outs = KernelHarness.Run(backend, values, forward);
            double l = 0;
            for (int i = 0; i < r.Length; i++) l += (double)r[i] * outs[outputIndex][i];
            return l;
        }

        var rng = new DeterministicRandom(7);
        int length = inputs[which].Length;
        int checkedCount = 0, skipped = 0;
        double scale = Math.Max(1e-3, analytic.Max(v => Math.Abs((double)v)));
        for (int s = 0; s < Math.Min(samples, length); s++)
        {
            int i = samples >= length ? s : rng.Next(length);
            var values = inputs.Select(a => (float[])a.Clone()).ToArray();
            float original = values[which][i];
            double l0 = Loss(values);
            values[which][i] = (float)(original + H);
            double lp = Loss(values);
            values[which][i] = (float)(original - H);
            double lm = Loss(values);
            double forwardDiff = (lp - l0) / H, backwardDiff = (l0 - lm) / H;
            bool kink;
            if (region is not null)
            {
                values[which][i] = (float)(original + H);
                string up = region(values);
                values[which][i] = (float)(original - H);
                kink = up != region(values);
            }
            else
            {
                kink = Math.Abs(forwardDiff - backwardDiff) > 0.02 * scale + 1e-3;
            }
            if (kink)
            {
                skipped++;
                continue;
            }
            double numeric = (lp - lm) / (2 * H);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 0.01 * scale + 2e-3,
                $"{what}: d/d[{i}] numeric {numeric:G5}, analytic {analytic[i]:G5} (scale {scale:G3})");
            checkedCount++;
        }
        Assert.True(checkedCount >= Math.Min(samples, length) * 0.7, $"{what}: only {checkedCount} coordinates were away from kinks ({skipped} skipped)");
    }

    private static float[] Analytic(float[][] inputs, Action<IBackend, BufferView[]> backward, int gradientIndex)
    {
        using var backend = new ReferenceBackend();
        return KernelHarness.Run(backend, inputs, backward)[gradientIndex];
    }

    [Theory]
    [InlineData(3, 1, 1, true)]
    [InlineData(5, 2, 2, false)]
    [InlineData(1, 1, 0, true)]
    public void Convolution(int kernel, int stride, int pad, bool relu)
    {
        int n = 2, c = 3, h = 7, w = 6, k = 4;
        int oh = SpecAnalyzer.OutputSize(h, kernel, stride, pad, false), ow = SpecAnalyzer.OutputSize(w, kernel, stride, pad, false);
        var g = new ConvGeometry(c, h, w, k, oh, ow, kernel, kernel, stride, stride, pad, pad);
        var x = KernelHarness.Random(n * g.InSize, 1);
        var wt = KernelHarness.Random(g.WeightSize, 2, 0.5f);
        var b = KernelHarness.Random(k, 3, 0.2f);
        var r = KernelHarness.Random(n * g.OutSize, 4);
        var y = new float[n * g.OutSize];
        Action<IBackend, BufferView[]> forward = (be, v) => be.ConvForward(g, n, v[0], v[1], v[2], v[3], relu);
        using var reference = new ReferenceBackend();
        y = KernelHarness.Run(reference, new[] { x, wt, b, y }, forward)[3];
        // dy = r, masked by the ReLU as the generated backward does.
        var dy = (float[])r.Clone();
        if (relu)
        {
            for (int i = 0; i < dy.Length; i++) dy[i] = y[i] > 0 ? dy[i] : 0;
        }
        var dx = Analytic(new[] { dy, wt, new float[x.Length] }, (be, v) => be.ConvBackwardData(g, n, v[0], v[1], v[2], false), 2);
        var grads = KernelHarness.Run(reference, new[] { x, dy, new float[wt.Length], new float[k] }, (be, v) => be.ConvBackwardFilter(g, n, v[0], v[1], v[2], v[3], accumulate: false));
        // The ReLU's region: the signs of the pre-activations.
        string Signs(float[][] v)
        {
            using var be = new ReferenceBackend();
            var z = KernelHarness.Run(be, v, (b2, bv) => b2.ConvForward(g, n, bv[0], bv[1], bv[2], bv[3], false))[3];
            return new string(z.Select(q => q > 0 ? '+' : '-').ToArray());
        }
        Func<float[][], string>? region = relu ? Signs : null;
        Check(new[] { x, wt, b, y }, 0, 3, forward, r, dx, "conv dx", region: region);
        Check(new[] { x, wt, b, y }, 1, 3, forward, r, grads[2], "conv dw", region: region);
        // A bias moves every pre-activation of its channel at once: with a ReLU, most ±h moves cross a kink somewhere.
        Check(new[] { x, wt, b, y }, 2, 3, forward, r, grads[3], "conv db", region: relu ? null : region);
    }

    [Theory]
    [InlineData(PoolKind.Max, 3, 2, 1, false)]
    [InlineData(PoolKind.Max, 3, 2, 0, true)]
    [InlineData(PoolKind.Average, 3, 1, 1, false)]
    [InlineData(PoolKind.Average, 2, 2, 0, true)]
    [InlineData(PoolKind.L2, 3, 1, 1, false)]
    [InlineData(PoolKind.L2, 3, 2, 1, true)]
    public void Pooling(PoolKind kind, int k, int s, int p, bool ceil)
    {
        int n = 2, c = 2, h = 7, w = 6;
        var g = new PoolGeometry(kind, c, h, w, SpecAnalyzer.OutputSize(h, k, s, p, ceil), SpecAnalyzer.OutputSize(w, k, s, p, ceil), k, k, s, s, p, p);
        var x = KernelHarness.Random(n * g.InSize, 5);
        var r = KernelHarness.Random(n * g.OutSize, 6);
        var y = new float[n * g.OutSize];
        Action<IBackend, BufferView[]> forward = (be, v) => be.PoolForward(g, n, v[0], v[1]);
        using var reference = new ReferenceBackend();
        y = KernelHarness.Run(reference, new[] { x, y }, forward)[1];
        var dx = Analytic(new[] { x, y, r, new float[x.Length] }, (be, v) => be.PoolBackward(g, n, v[0], v[1], v[2], v[3], false), 3);
        Check(new[] { x, new float[y.Length] }, 0, 1, forward, r, dx, $"{kind} pool dx");
    }

    [Fact]
    public void Local_response_normalisation()
    {
        int n = 2;
        var g = new LrnGeometry(6, 3, 2, 5, 0.8f, 0.75f, 1.5f);
        var x = KernelHarness.Random(n * g.Length, 7, 2f);
        var r = KernelHarness.Random(n * g.Length, 8);
        var y = new float[n * g.Length];
        Action<IBackend, BufferView[]> forward = (be, v) => be.LrnForward(g, n, v[0], v[1]);
        using var reference = new ReferenceBackend();
        y = KernelHarness.Run(reference, new[] { x, y }, forward)[1];
        var dx = Analytic(new[] { x, y, r, new float[x.Length] }, (be, v) => be.LrnBackward(g, n, v[0], v[1], v[2], v[3], false), 3);
        Check(new[] { x, new float[y.Length] }, 0, 1, forward, r, dx, "lrn dx");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fully_connected(bool relu)
    {
        int n = 3, inF = 7, outF = 5;
        var x = KernelHarness.Random(n * inF, 9);
        var w = KernelHarness.Random(outF * inF, 10, 0.5f);
        var b = KernelHarness.Random(outF, 11, 0.2f);
        var r = KernelHarness.Random(n * outF, 12);
        var y = new float[n * outF];
        Action<IBackend, BufferView[]> forward = (be, v) => be.LinearForward(n, inF, outF, v[0], v[1], v[2], v[3], relu);
        using var reference = new ReferenceBackend();
        y = KernelHarness.Run(reference, new[] { x, w, b, y }, forward)[3];
        var dy = r.Select((v, i) => !relu || y[i] > 0 ? v : 0).ToArray();
        var dx = Analytic(new[] { dy, w, new float[x.Length] }, (be, v) => be.LinearBackwardData(n, inF, outF, v[0], v[1], v[2], false), 2);
        var grads = KernelHarness.Run(reference, new[] { x, dy, new float[w.Length], new float[outF] }, (be, v) => be.LinearBackwardFilter(n, inF, outF, v[0], v[1], v[2], v[3], accumulate: false));
        Check(new[] { x, w, b, y }, 0, 3, forward, r, dx, "linear dx");
        Check(new[] { x, w, b, y }, 1, 3, forward, r, grads[2], "linear dw");
        Check(new[] { x, w, b, y }, 2, 3, forward, r, grads[3], "linear db");
    }

    [Fact]
    public void Maxout_and_l2_normalisation()
    {
        int n = 2, units = 4, pool = 3;
        var x = KernelHarness.Random(n * units * pool, 13);
        var r = KernelHarness.Random(n * units, 14);
        Action<IBackend, BufferView[]> maxout = (be, v) => be.MaxoutForward(n, units, pool, v[0], v[1]);
        var dx = Analytic(new[] { x, r, new float[x.Length] }, (be, v) => be.MaxoutBackward(n, units, pool, v[0], v[1], v[2], false), 2);
        Check(new[] { x, new float[n * units] }, 0, 1, maxout, r, dx, "maxout dx");

        int dim = 9;
        var z = KernelHarness.Random(n * dim, 15);
        var rz = KernelHarness.Random(n * dim, 16);
        Action<IBackend, BufferView[]> l2 = (be, v) => be.L2NormalizeForward(n, dim, v[0], v[1]);
        using var reference = new ReferenceBackend();
        var y = KernelHarness.Run(reference, new[] { z, new float[z.Length] }, l2)[1];
        var dz = Analytic(new[] { z, y, rz, new float[z.Length] }, (be, v) => be.L2NormalizeBackward(n, dim, v[0], v[1], v[2], v[3], false), 3);
        Check(new[] { z, new float[z.Length] }, 0, 1, l2, rz, dz, "l2norm dx");
    }

    [Fact]
    public void Concatenation()
    {
        int n = 2, spatial = 5, partC = 3, wholeC = 7, offset = 2;
        var part = KernelHarness.Random(n * partC * spatial, 17);
        var whole = KernelHarness.Random(n * wholeC * spatial, 18);
        var r = KernelHarness.Random(n * wholeC * spatial, 19);
        Action<IBackend, BufferView[]> forward = (be, v) => be.ConcatForward(n, spatial, v[0], partC, v[1], wholeC, offset);
        var dPart = Analytic(new[] { r, new float[part.Length] }, (be, v) => be.ConcatBackward(n, spatial, v[0], wholeC, offset, v[1], partC, false), 1);
        Check(new[] { part, whole }, 0, 1, forward, r, dPart, "concat dpart");
    }
}
