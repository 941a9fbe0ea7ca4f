using System.Diagnostics;
using System.Globalization;
using FaceNetGen.Backends;

namespace FaceNetGen.Bench;

/// <summary>A backend decorator that times every kernel call, keyed by kernel and geometry: a per-layer profile.</summary>
public sealed class TimingBackend(IBackend inner) : IBackend
{
    private sealed class Entry
    {
        public double Current;
        public readonly List<double> Passes = new();
        public int Calls;
        public double Flops;
    }

    private readonly Dictionary<string, Entry> _entries = new();
    private int _passes;

    public string Name => inner.Name + "+timing";

    public string Description => inner.Description;

    public void Reset()
    {
        _entries.Clear();
        _passes = 0;
    }

    /// <summary>
    /// Closes one pass (a forward, or a training step): each kernel's time in it is kept, and the report gives the
    /// median over passes, so that a pause of the whole process (a collection, the machine's neighbours) in one pass
    /// does not land on whichever kernel it happened to interrupt.
    /// </summary>
    public void EndPass()
    {
        _passes++;
        foreach (var e in _entries.Values)
        {
            e.Passes.Add(e.Current);
            e.Current = 0;
        }
    }

    private void Time(string key, double flops, Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        inner.Synchronize();
        if (!_entries.TryGetValue(key, out var e)) _entries[key] = e = new Entry();
        e.Current += sw.Elapsed.TotalSeconds;
        e.Calls++;
        e.Flops += flops;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        int m = sorted.Count / 2;
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    /// <summary>Per pass: each kernel's median time over the passes, its calls, and its GFLOP/s at that time.</summary>
    public string Report(int top)
    {
        int passes = Math.Max(1, _passes);
        var rows = _entries.Select(kv => (Key: kv.Key, Seconds: Median(kv.Value.Passes), Calls: (double)kv.Value.Calls / passes, Flops: kv.Value.Flops / passes)).ToList();
        double total = rows.Sum(r => r.Seconds);
        var lines = new List<string> { string.Format(CultureInfo.InvariantCulture, "{0,-70} {1,5} {2,9} {3,6} {4,8}", "kernel", "calls", "ms", "share", "GFLOP/s") };
        foreach (var r in rows.OrderByDescending(r => r.Seconds).Take(top))
        {
            lines.Add(string.Format(CultureInfo.InvariantCulture, "{0,-70} {1,5} {2,9:F2} {3,5:F1}% {4,8}", r.Key.Length > 70 ? r.Key[..70] : r.Key, r.Calls, r.Seconds * 1000, r.Seconds / total * 100,
                r.Flops > 0 ? (r.Flops / r.Seconds / 1e9).ToString("F1", CultureInfo.InvariantCulture) : ""));
        }
        var byKind = rows.GroupBy(r => r.Key.Split(' ')[0]).Select(g => (g.Key, Seconds: g.Sum(r => r.Seconds))).OrderByDescending(x => x.Seconds);
        lines.Add(string.Format(CultureInfo.InvariantCulture, "total {0:F1} ms (sum of medians); by kernel: {1}", total * 1000, string.Join(", ", byKind.Select(k => $"{k.Key} {k.Seconds / total * 100:F0}%"))));
        return string.Join("\n", lines);
    }

    public DeviceBuffer Allocate(long length) => inner.Allocate(length);

    public void Upload(ReadOnlySpan<float> source, BufferView destination) => inner.Upload(source, destination);

    public void Download(BufferView source, Span<float> destination) => inner.Download(source, destination);

    public void Fill(BufferView destination, long length, float value) => Time("fill", 0, () => inner.Fill(destination, length, value));

    public void Copy(BufferView source, BufferView destination, long length) => inner.Copy(source, destination, length);

    public void Synchronize() => inner.Synchronize();

    public void ConvForward(in ConvGeometry g, int n, BufferView x, BufferView w, BufferView b, BufferView y, bool relu, long yStride = 0)
    {
        var gg = g;
        Time("conv-fwd " + g, 2.0 * g.MultiplyAdds * n, () => inner.ConvForward(gg, n, x, w, b, y, relu, yStride));
    }

    public void ConvPoolForward(in ConvGeometry conv, in PoolGeometry pool, int n, BufferView x, BufferView w, BufferView b, BufferView y, BufferView z, bool relu, bool keepConv, long zStride = 0)
    {
        var (cg, pg) = (conv, pool);
        Time($"conv+pool-fwd {conv}, {pool.Kind} {pool.KernelH}x{pool.KernelW}/{pool.StrideH}", 2.0 * conv.MultiplyAdds * n, () => inner.ConvPoolForward(cg, pg, n, x, w, b, y, z, relu, keepConv, zStride));
    }

    public void ConvBackwardData(in ConvGeometry g, int n, BufferView dy, BufferView w, BufferView dx, bool accumulate)
    {
        var gg = g;
        Time("conv-data " + g, 2.0 * g.MultiplyAdds * n, () => inner.ConvBackwardData(gg, n, dy, w, dx, accumulate));
    }

    public void ConvForwardSiblings(ReadOnlySpan<ConvGeometry> g, int n, BufferView x, ReadOnlySpan<BufferView> w, ReadOnlySpan<BufferView> b, ReadOnlySpan<BufferView> y, bool relu, ReadOnlySpan<long> yStride)
    {
        var (ga, wa, ba, ya, sa) = (g.ToArray(), w.ToArray(), b.ToArray(), y.ToArray(), yStride.ToArray());
        Time("conv-fwd siblings " + Siblings(ga), 2.0 * ga.Sum(gi => gi.MultiplyAdds) * n, () => inner.ConvForwardSiblings(ga, n, x, wa, ba, ya, relu, sa));
    }

    public void ConvBackwardDataSiblings(ReadOnlySpan<ConvGeometry> g, int n, ReadOnlySpan<BufferView> dy, ReadOnlySpan<BufferView> w, BufferView dx, bool accumulate)
    {
        var (ga, dya, wa) = (g.ToArray(), dy.ToArray(), w.ToArray());
        Time("conv-data siblings " + Siblings(ga), 2.0 * ga.Sum(gi => gi.MultiplyAdds) * n, () => inner.ConvBackwardDataSiblings(ga, n, dya, wa, dx, accumulate));
    }

    public void ConvBackwardFilterSiblings(ReadOnlySpan<ConvGeometry> g, int n, BufferView x, ReadOnlySpan<BufferView> dy, ReadOnlySpan<BufferView> dw, ReadOnlySpan<BufferView> db, bool accumulate)
    {
        var (ga, dya, dwa, dba) = (g.ToArray(), dy.ToArray(), dw.ToArray(), db.ToArray());
        Time("conv-filter siblings " + Siblings(ga), 2.0 * ga.Sum(gi => gi.MultiplyAdds) * n, () => inner.ConvBackwardFilterSiblings(ga, n, x, dya, dwa, dba, accumulate));
    }

    private static string Siblings(ConvGeometry[] g) => $"{g[0].InH}x{g[0].InW}x{g[0].InC} -> {string.Join("+", g.Select(gi => gi.OutC))}, 1x1";

    public void ConvBackwardFilter(in ConvGeometry g, int n, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate)
    {
        var gg = g;
        Time("conv-filter " + g, 2.0 * g.MultiplyAdds * n, () => inner.ConvBackwardFilter(gg, n, x, dy, dw, db, accumulate));
    }

    public void ReluBackward(BufferView y, BufferView dy, long length) => Time("relu-bwd", 0, () => inner.ReluBackward(y, dy, length));

    public void PoolForward(in PoolGeometry g, int n, BufferView x, BufferView y, long yStride = 0)
    {
        var gg = g;
        Time("pool-fwd " + g, 0, () => inner.PoolForward(gg, n, x, y, yStride));
    }

    public void PoolBackward(in PoolGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate)
    {
        var gg = g;
        Time("pool-bwd " + g, 0, () => inner.PoolBackward(gg, n, x, y, dy, dx, accumulate));
    }

    public void LrnForward(in LrnGeometry g, int n, BufferView x, BufferView y)
    {
        var gg = g;
        Time("lrn-fwd " + g, 0, () => inner.LrnForward(gg, n, x, y));
    }

    public void LrnBackward(in LrnGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate)
    {
        var gg = g;
        Time("lrn-bwd " + g, 0, () => inner.LrnBackward(gg, n, x, y, dy, dx, accumulate));
    }

    public void ConcatForward(int n, int spatial, BufferView part, int partChannels, BufferView whole, int wholeChannels, int channelOffset) =>
        Time("concat-fwd", 0, () => inner.ConcatForward(n, spatial, part, partChannels, whole, wholeChannels, channelOffset));

    public void ConcatBackward(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView dPart, int partChannels, bool accumulate) =>
        Time("concat-bwd", 0, () => inner.ConcatBackward(n, spatial, dWhole, wholeChannels, channelOffset, dPart, partChannels, accumulate));

    public void ConcatBackwardRelu(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView part, BufferView dPart, int partChannels) =>
        Time("concat+relu-bwd", 0, () => inner.ConcatBackwardRelu(n, spatial, dWhole, wholeChannels, channelOffset, part, dPart, partChannels));

    public void LinearForward(int n, int inFeatures, int outFeatures, BufferView x, BufferView w, BufferView b, BufferView y, bool relu) =>
        Time($"linear-fwd {inFeatures}->{outFeatures}", 2.0 * inFeatures * outFeatures * n, () => inner.LinearForward(n, inFeatures, outFeatures, x, w, b, y, relu));

    public void LinearBackwardData(int n, int inFeatures, int outFeatures, BufferView dy, BufferView w, BufferView dx, bool accumulate) =>
        Time($"linear-data {inFeatures}->{outFeatures}", 2.0 * inFeatures * outFeatures * n, () => inner.LinearBackwardData(n, inFeatures, outFeatures, dy, w, dx, accumulate));

    public void LinearBackwardFilter(int n, int inFeatures, int outFeatures, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate) =>
        Time($"linear-filter {inFeatures}->{outFeatures}", 2.0 * inFeatures * outFeatures * n, () => inner.LinearBackwardFilter(n, inFeatures, outFeatures, x, dy, dw, db, accumulate));

    public void MaxoutForward(int n, int units, int pool, BufferView x, BufferView y) => Time("maxout-fwd", 0, () => inner.MaxoutForward(n, units, pool, x, y));

    public void MaxoutBackward(int n, int units, int pool, BufferView x, BufferView dy, BufferView dx, bool accumulate) =>
        Time("maxout-bwd", 0, () => inner.MaxoutBackward(n, units, pool, x, dy, dx, accumulate));

    public void L2NormalizeForward(int n, int dim, BufferView x, BufferView y) => Time("l2norm-fwd", 0, () => inner.L2NormalizeForward(n, dim, x, y));

    public void L2NormalizeBackward(int n, int dim, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) =>
        Time("l2norm-bwd", 0, () => inner.L2NormalizeBackward(n, dim, x, y, dy, dx, accumulate));

    public void AdaGradStep(BufferView param, BufferView grad, BufferView sumSquares, long length, float learningRate, float epsilon) =>
        Time("adagrad", 0, () => inner.AdaGradStep(param, grad, sumSquares, length, learningRate, epsilon));

    public void SgdStep(BufferView param, BufferView grad, BufferView velocity, long length, float learningRate, float momentum, float weightDecay) =>
        Time("sgd", 0, () => inner.SgdStep(param, grad, velocity, length, learningRate, momentum, weightDecay));

    public void AdamStep(BufferView param, BufferView grad, BufferView m, BufferView v, long length, float learningRate, float beta1, float beta2, float epsilon, int step) =>
        Time("adam", 0, () => inner.AdamStep(param, grad, m, v, length, learningRate, beta1, beta2, epsilon, step));

    public void Dispose()
    {
    }
}
