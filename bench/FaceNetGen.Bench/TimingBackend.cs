using System.Diagnostics;
using System.Globalization;
using FaceNetGen.Backends;

namespace FaceNetGen.Bench;

/// <summary>A backend decorator that times every kernel call, keyed by kernel and geometry: a per-layer profile.</summary>
public sealed class TimingBackend(IBackend inner) : IBackend
{
    private sealed class Entry
    {
        public double Seconds;
        public int Calls;
        public double Flops;
        public double? CallsScaled;
    }

    private readonly Dictionary<string, Entry> _entries = new();

    public string Name => inner.Name + "+timing";

    public string Description => inner.Description;

    public void Reset() => _entries.Clear();

    /// <summary>Scales every total (times, calls, FLOPs) by <paramref name="factor"/>: 1/iterations gives per-step figures.</summary>
    public void Scale(double factor)
    {
        foreach (var e in _entries.Values)
        {
            e.Seconds *= factor;
            e.Flops *= factor;
            e.CallsScaled = e.Calls * factor;
        }
    }

    private void Time(string key, double flops, Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        inner.Synchronize();
        if (!_entries.TryGetValue(key, out var e)) _entries[key] = e = new Entry();
        e.Seconds += sw.Elapsed.TotalSeconds;
        e.Calls++;
        e.Flops += flops;
    }

    public string Report(int top)
    {
        double total = _entries.Values.Sum(e => e.Seconds);
        var lines = new List<string> { string.Format(CultureInfo.InvariantCulture, "{0,-70} {1,5} {2,9} {3,6} {4,8}", "kernel", "calls", "ms", "share", "GFLOP/s") };
        foreach (var (key, e) in _entries.OrderByDescending(kv => kv.Value.Seconds).Take(top))
        {
            lines.Add(string.Format(CultureInfo.InvariantCulture, "{0,-70} {1,5} {2,9:F2} {3,5:F1}% {4,8}", key.Length > 70 ? key[..70] : key, e.CallsScaled ?? e.Calls, e.Seconds * 1000, e.Seconds / total * 100,
                e.Flops > 0 ? (e.Flops / e.Seconds / 1e9).ToString("F1", CultureInfo.InvariantCulture) : ""));
        }
        var byKind = _entries.GroupBy(kv => kv.Key.Split(' ')[0]).Select(g => (g.Key, Seconds: g.Sum(kv => kv.Value.Seconds))).OrderByDescending(x => x.Seconds);
        lines.Add(string.Format(CultureInfo.InvariantCulture, "total {0:F1} ms; by kernel: {1}", total * 1000, string.Join(", ", byKind.Select(k => $"{k.Key} {k.Seconds / total * 100:F0}%"))));
        return string.Join("\n", lines);
    }

    public DeviceBuffer Allocate(long length) => inner.Allocate(length);

    public void Upload(ReadOnlySpan<float> source, BufferView destination) => inner.Upload(source, destination);

    public void Download(BufferView source, Span<float> destination) => inner.Download(source, destination);

    public void Fill(BufferView destination, long length, float value) => Time("fill", 0, () => inner.Fill(destination, length, value));

    public void Copy(BufferView source, BufferView destination, long length) => inner.Copy(source, destination, length);

    public void Synchronize() => inner.Synchronize();

    public void ConvForward(in ConvGeometry g, int n, BufferView x, BufferView w, BufferView b, BufferView y, bool relu)
    {
        var gg = g;
        Time("conv-fwd " + g, 2.0 * g.MultiplyAdds * n, () => inner.ConvForward(gg, n, x, w, b, y, relu));
    }

    public void ConvBackwardData(in ConvGeometry g, int n, BufferView dy, BufferView w, BufferView dx, bool accumulate)
    {
        var gg = g;
        Time("conv-data " + g, 2.0 * g.MultiplyAdds * n, () => inner.ConvBackwardData(gg, n, dy, w, dx, accumulate));
    }

    public void ConvBackwardFilter(in ConvGeometry g, int n, BufferView x, BufferView dy, BufferView dw, BufferView db)
    {
        var gg = g;
        Time("conv-filter " + g, 2.0 * g.MultiplyAdds * n, () => inner.ConvBackwardFilter(gg, n, x, dy, dw, db));
    }

    public void ReluBackward(BufferView y, BufferView dy, long length) => Time("relu-bwd", 0, () => inner.ReluBackward(y, dy, length));

    public void PoolForward(in PoolGeometry g, int n, BufferView x, BufferView y)
    {
        var gg = g;
        Time("pool-fwd " + g, 0, () => inner.PoolForward(gg, n, x, y));
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

    public void LinearForward(int n, int inFeatures, int outFeatures, BufferView x, BufferView w, BufferView b, BufferView y, bool relu) =>
        Time($"linear-fwd {inFeatures}->{outFeatures}", 2.0 * inFeatures * outFeatures * n, () => inner.LinearForward(n, inFeatures, outFeatures, x, w, b, y, relu));

    public void LinearBackwardData(int n, int inFeatures, int outFeatures, BufferView dy, BufferView w, BufferView dx, bool accumulate) =>
        Time($"linear-data {inFeatures}->{outFeatures}", 2.0 * inFeatures * outFeatures * n, () => inner.LinearBackwardData(n, inFeatures, outFeatures, dy, w, dx, accumulate));

    public void LinearBackwardFilter(int n, int inFeatures, int outFeatures, BufferView x, BufferView dy, BufferView dw, BufferView db) =>
        Time($"linear-filter {inFeatures}->{outFeatures}", 2.0 * inFeatures * outFeatures * n, () => inner.LinearBackwardFilter(n, inFeatures, outFeatures, x, dy, dw, db));

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
