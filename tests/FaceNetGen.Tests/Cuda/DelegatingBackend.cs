using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Tests.Cuda;

/// <summary>The reference backend behind the interface, with hooks to break one kernel on purpose.</summary>
internal sealed class DelegatingBackend : IBackend
{
    private readonly ReferenceBackend _inner = new();

    /// <summary>When true, ConcatBackward ignores accumulate (always overwrites).</summary>
    public bool IgnoreConcatAccumulate { get; init; }

    /// <summary>When true, ReluBackward does nothing.</summary>
    public bool SkipReluBackward { get; init; }

    /// <summary>When true, the L2 pooling forward pass omits the square root.</summary>
    public bool L2PoolWithoutRoot { get; init; }

    public string Name => "delegating";

    public string Description => "reference kernels, some broken on purpose";

    public DeviceBuffer Allocate(long length) => _inner.Allocate(length);

    public void Upload(ReadOnlySpan<float> source, BufferView destination) => _inner.Upload(source, destination);

    public void Download(BufferView source, Span<float> destination) => _inner.Download(source, destination);

    public void Fill(BufferView destination, long length, float value) => _inner.Fill(destination, length, value);

    public void Copy(BufferView source, BufferView destination, long length) => _inner.Copy(source, destination, length);

    public void Synchronize() => _inner.Synchronize();

    public void ConvForward(in ConvGeometry g, int n, BufferView x, BufferView w, BufferView b, BufferView y, bool relu, long yStride = 0) => _inner.ConvForward(g, n, x, w, b, y, relu, yStride);

    public void ConvPoolForward(in ConvGeometry conv, in PoolGeometry pool, int n, BufferView x, BufferView w, BufferView b, BufferView y, BufferView z, bool relu, bool keepConv, long zStride = 0)
    {
        // Through this wrapper's own calls, so that its injected faults apply to fused calls too.
        ConvForward(conv, n, x, w, b, y, relu);
        PoolForward(pool, n, y, z, zStride);
    }

    public void ConvBackwardData(in ConvGeometry g, int n, BufferView dy, BufferView w, BufferView dx, bool accumulate) => _inner.ConvBackwardData(g, n, dy, w, dx, accumulate);

    public void ConvBackwardFilter(in ConvGeometry g, int n, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate) => _inner.ConvBackwardFilter(g, n, x, dy, dw, db, accumulate);

    public void ReluBackward(BufferView y, BufferView dy, long length)
    {
        if (!SkipReluBackward) _inner.ReluBackward(y, dy, length);
    }

    public void PoolForward(in PoolGeometry g, int n, BufferView x, BufferView y, long yStride = 0)
    {
        _inner.PoolForward(g, n, x, y, yStride);
        if (L2PoolWithoutRoot && g.Kind.ToString() == "L2") // PoolKind by name: the test project sees the type in two assemblies
        {
            long stride = yStride == 0 ? g.OutSize : yStride;
            var host = new float[g.OutSize];
            for (int image = 0; image < n; image++)
            {
                var at = new BufferView(y.Buffer, y.Offset + image * stride);
                _inner.Download(at, host);
                for (int i = 0; i < host.Length; i++) host[i] *= host[i];
                _inner.Upload(host, at);
            }
        }
    }

    public void PoolBackward(in PoolGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) => _inner.PoolBackward(g, n, x, y, dy, dx, accumulate);

    public void LrnForward(in LrnGeometry g, int n, BufferView x, BufferView y) => _inner.LrnForward(g, n, x, y);

    public void LrnBackward(in LrnGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) => _inner.LrnBackward(g, n, x, y, dy, dx, accumulate);

    public void ConcatForward(int n, int spatial, BufferView part, int partChannels, BufferView whole, int wholeChannels, int channelOffset) =>
        _inner.ConcatForward(n, spatial, part, partChannels, whole, wholeChannels, channelOffset);

    public void ConcatBackward(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView dPart, int partChannels, bool accumulate) =>
        _inner.ConcatBackward(n, spatial, dWhole, wholeChannels, channelOffset, dPart, partChannels, accumulate && !IgnoreConcatAccumulate);

    public void LinearForward(int n, int inFeatures, int outFeatures, BufferView x, BufferView w, BufferView b, BufferView y, bool relu) => _inner.LinearForward(n, inFeatures, outFeatures, x, w, b, y, relu);

    public void LinearBackwardData(int n, int inFeatures, int outFeatures, BufferView dy, BufferView w, BufferView dx, bool accumulate) => _inner.LinearBackwardData(n, inFeatures, outFeatures, dy, w, dx, accumulate);

    public void LinearBackwardFilter(int n, int inFeatures, int outFeatures, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate) => _inner.LinearBackwardFilter(n, inFeatures, outFeatures, x, dy, dw, db, accumulate);

    public void MaxoutForward(int n, int units, int pool, BufferView x, BufferView y) => _inner.MaxoutForward(n, units, pool, x, y);

    public void MaxoutBackward(int n, int units, int pool, BufferView x, BufferView dy, BufferView dx, bool accumulate) => _inner.MaxoutBackward(n, units, pool, x, dy, dx, accumulate);

    public void L2NormalizeForward(int n, int dim, BufferView x, BufferView y) => _inner.L2NormalizeForward(n, dim, x, y);

    public void L2NormalizeBackward(int n, int dim, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) => _inner.L2NormalizeBackward(n, dim, x, y, dy, dx, accumulate);

    public void AdaGradStep(BufferView param, BufferView grad, BufferView sumSquares, long length, float learningRate, float epsilon) => _inner.AdaGradStep(param, grad, sumSquares, length, learningRate, epsilon);

    public void SgdStep(BufferView param, BufferView grad, BufferView velocity, long length, float learningRate, float momentum, float weightDecay) => _inner.SgdStep(param, grad, velocity, length, learningRate, momentum, weightDecay);

    public void AdamStep(BufferView param, BufferView grad, BufferView m, BufferView v, long length, float learningRate, float beta1, float beta2, float epsilon, int step) => _inner.AdamStep(param, grad, m, v, length, learningRate, beta1, beta2, epsilon, step);

    public void Dispose() => _inner.Dispose();
}
