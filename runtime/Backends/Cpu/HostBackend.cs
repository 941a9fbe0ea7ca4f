namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// What every backend that computes in host memory shares: buffers, transfers and the elementwise optimiser steps.
/// The kernels themselves are the subclass's.
/// </summary>
public abstract class HostBackend : IBackend
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    public DeviceBuffer Allocate(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        return new CpuBuffer(this, length);
    }

    public void Upload(ReadOnlySpan<float> source, BufferView destination) => source.CopyTo(S(destination, source.Length));

    public void Download(BufferView source, Span<float> destination) => S(source, destination.Length).CopyTo(destination);

    public virtual void Fill(BufferView destination, long length, float value)
    {
        for (long done = 0; done < length; done += int.MaxValue)
        {
            S(destination.Slice(done), Math.Min(int.MaxValue, length - done)).Fill(value);
        }
    }

    public void Copy(BufferView source, BufferView destination, long length) => S(source, length).CopyTo(S(destination, length));

    public void Synchronize()
    {
    }

    protected static Span<float> S(BufferView view, long length) => CpuBuffer.Span(view, length);

    public abstract void ConvForward(in ConvGeometry g, int n, BufferView x, BufferView w, BufferView b, BufferView y, bool relu, long yStride = 0);

    public virtual void ConvPoolForward(in ConvGeometry conv, in PoolGeometry pool, int n, BufferView x, BufferView w, BufferView b, BufferView y, BufferView z, bool relu, bool keepConv, long zStride = 0)
    {
        ConvForward(conv, n, x, w, b, y, relu);
        PoolForward(pool, n, y, z, zStride);
    }

    public abstract void ConvBackwardData(in ConvGeometry g, int n, BufferView dy, BufferView w, BufferView dx, bool accumulate);

    public virtual void ConvForwardSiblings(ReadOnlySpan<ConvGeometry> g, int n, BufferView x, ReadOnlySpan<BufferView> w, ReadOnlySpan<BufferView> b, ReadOnlySpan<BufferView> y, bool relu, ReadOnlySpan<long> yStride)
    {
        for (int i = 0; i < g.Length; i++) ConvForward(g[i], n, x, w[i], b[i], y[i], relu, yStride[i]);
    }

    public virtual void ConvBackwardDataSiblings(ReadOnlySpan<ConvGeometry> g, int n, ReadOnlySpan<BufferView> dy, ReadOnlySpan<BufferView> w, BufferView dx, bool accumulate)
    {
        for (int i = 0; i < g.Length; i++) ConvBackwardData(g[i], n, dy[i], w[i], dx, accumulate || i > 0);
    }

    public virtual void ConvBackwardFilterSiblings(ReadOnlySpan<ConvGeometry> g, int n, BufferView x, ReadOnlySpan<BufferView> dy, ReadOnlySpan<BufferView> dw, ReadOnlySpan<BufferView> db, bool accumulate)
    {
        for (int i = 0; i < g.Length; i++) ConvBackwardFilter(g[i], n, x, dy[i], dw[i], db[i], accumulate);
    }

    public abstract void ConvBackwardFilter(in ConvGeometry g, int n, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate);

    public abstract void ReluBackward(BufferView y, BufferView dy, long length);

    public abstract void PoolForward(in PoolGeometry g, int n, BufferView x, BufferView y, long yStride = 0);

    public abstract void PoolBackward(in PoolGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate);

    public abstract void LrnForward(in LrnGeometry g, int n, BufferView x, BufferView y);

    public abstract void LrnBackward(in LrnGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate);

    public abstract void ConcatForward(int n, int spatial, BufferView part, int partChannels, BufferView whole, int wholeChannels, int channelOffset);

    public abstract void ConcatBackward(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView dPart, int partChannels, bool accumulate);

    public virtual void ConcatBackwardRelu(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView part, BufferView dPart, int partChannels)
    {
        ConcatBackward(n, spatial, dWhole, wholeChannels, channelOffset, dPart, partChannels, accumulate: false);
        ReluBackward(part, dPart, (long)n * partChannels * spatial);
    }

    public abstract void LinearForward(int n, int inFeatures, int outFeatures, BufferView x, BufferView w, BufferView b, BufferView y, bool relu);

    public abstract void LinearBackwardData(int n, int inFeatures, int outFeatures, BufferView dy, BufferView w, BufferView dx, bool accumulate);

    public abstract void LinearBackwardFilter(int n, int inFeatures, int outFeatures, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate);

    public abstract void MaxoutForward(int n, int units, int pool, BufferView x, BufferView y);

    public abstract void MaxoutBackward(int n, int units, int pool, BufferView x, BufferView dy, BufferView dx, bool accumulate);

    public abstract void L2NormalizeForward(int n, int dim, BufferView x, BufferView y);

    public abstract void L2NormalizeBackward(int n, int dim, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate);

    public abstract void AdaGradStep(BufferView param, BufferView grad, BufferView sumSquares, long length, float learningRate, float epsilon);

    public abstract void SgdStep(BufferView param, BufferView grad, BufferView velocity, long length, float learningRate, float momentum, float weightDecay);

    public abstract void AdamStep(BufferView param, BufferView grad, BufferView m, BufferView v, long length, float learningRate, float beta1, float beta2, float epsilon, int step);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
