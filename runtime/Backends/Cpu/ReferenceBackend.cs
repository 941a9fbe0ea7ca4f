namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// <see cref="ReferenceKernels"/> behind the backend interface: a whole generated model run naively, in double
/// accumulation, single-threaded. It is the oracle for the optimised CPU backend and the CUDA backend, and for the
/// end-to-end gradient checks. Far too slow for real work.
/// </summary>
public sealed class ReferenceBackend : HostBackend
{
    public override string Name => "reference";

    public override string Description => "naive reference kernels (double accumulation, one thread)";

    public override void ConvForward(in ConvGeometry g, int n, BufferView x, BufferView w, BufferView b, BufferView y, bool relu, long yStride = 0)
    {
        var compact = new float[(long)n * g.OutSize];
        ReferenceKernels.ConvForward(g, n, S(x, (long)n * g.InSize), S(w, g.WeightSize), S(b, g.OutC), compact, relu);
        Place(compact, y, n, g.OutSize, yStride);
    }

    /// <summary>Copies n compact images of <paramref name="size"/> floats to <paramref name="y"/>, image i at i × stride.</summary>
    private static void Place(float[] compact, BufferView y, int n, long size, long yStride)
    {
        long stride = ImageStride.Resolve(yStride, size);
        var dst = S(y, ImageStride.Span(n, stride, size));
        for (int i = 0; i < n; i++) compact.AsSpan((int)(i * size), (int)size).CopyTo(dst.Slice((int)(i * stride)));
    }

    public override void ConvBackwardData(in ConvGeometry g, int n, BufferView dy, BufferView w, BufferView dx, bool accumulate) =>
        ReferenceKernels.ConvBackwardData(g, n, S(dy, (long)n * g.OutSize), S(w, g.WeightSize), S(dx, (long)n * g.InSize), accumulate);

    public override void ConvBackwardFilter(in ConvGeometry g, int n, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate) =>
        ReferenceKernels.ConvBackwardFilter(g, n, S(x, (long)n * g.InSize), S(dy, (long)n * g.OutSize), S(dw, g.WeightSize), S(db, g.OutC), accumulate);

    public override void ReluBackward(BufferView y, BufferView dy, long length) => ReferenceKernels.ReluBackward(S(y, length), S(dy, length));

    public override void PoolForward(in PoolGeometry g, int n, BufferView x, BufferView y, long yStride = 0)
    {
        var compact = new float[(long)n * g.OutSize];
        ReferenceKernels.PoolForward(g, n, S(x, (long)n * g.InSize), compact);
        Place(compact, y, n, g.OutSize, yStride);
    }

    public override void PoolBackward(in PoolGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) =>
        ReferenceKernels.PoolBackward(g, n, S(x, (long)n * g.InSize), S(y, (long)n * g.OutSize), S(dy, (long)n * g.OutSize), S(dx, (long)n * g.InSize), accumulate);

    public override void LrnForward(in LrnGeometry g, int n, BufferView x, BufferView y) =>
        ReferenceKernels.LrnForward(g, n, S(x, (long)n * g.Length), S(y, (long)n * g.Length));

    public override void LrnBackward(in LrnGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) =>
        ReferenceKernels.LrnBackward(g, n, S(x, (long)n * g.Length), S(y, (long)n * g.Length), S(dy, (long)n * g.Length), S(dx, (long)n * g.Length), accumulate);

    public override void ConcatForward(int n, int spatial, BufferView part, int partChannels, BufferView whole, int wholeChannels, int channelOffset) =>
        ReferenceKernels.ConcatForward(n, spatial, S(part, (long)n * partChannels * spatial), partChannels, S(whole, (long)n * wholeChannels * spatial), wholeChannels, channelOffset);

    public override void ConcatBackward(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView dPart, int partChannels, bool accumulate) =>
        ReferenceKernels.ConcatBackward(n, spatial, S(dWhole, (long)n * wholeChannels * spatial), wholeChannels, channelOffset, S(dPart, (long)n * partChannels * spatial), partChannels, accumulate);

    public override void LinearForward(int n, int inFeatures, int outFeatures, BufferView x, BufferView w, BufferView b, BufferView y, bool relu) =>
        ReferenceKernels.LinearForward(n, inFeatures, outFeatures, S(x, (long)n * inFeatures), S(w, (long)outFeatures * inFeatures), S(b, outFeatures), S(y, (long)n * outFeatures), relu);

    public override void LinearBackwardData(int n, int inFeatures, int outFeatures, BufferView dy, BufferView w, BufferView dx, bool accumulate) =>
        ReferenceKernels.LinearBackwardData(n, inFeatures, outFeatures, S(dy, (long)n * outFeatures), S(w, (long)outFeatures * inFeatures), S(dx, (long)n * inFeatures), accumulate);

    public override void LinearBackwardFilter(int n, int inFeatures, int outFeatures, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate) =>
        ReferenceKernels.LinearBackwardFilter(n, inFeatures, outFeatures, S(x, (long)n * inFeatures), S(dy, (long)n * outFeatures), S(dw, (long)outFeatures * inFeatures), S(db, outFeatures), accumulate);

    public override void MaxoutForward(int n, int units, int pool, BufferView x, BufferView y) =>
        ReferenceKernels.MaxoutForward(n, units, pool, S(x, (long)n * units * pool), S(y, (long)n * units));

    public override void MaxoutBackward(int n, int units, int pool, BufferView x, BufferView dy, BufferView dx, bool accumulate) =>
        ReferenceKernels.MaxoutBackward(n, units, pool, S(x, (long)n * units * pool), S(dy, (long)n * units), S(dx, (long)n * units * pool), accumulate);

    public override void L2NormalizeForward(int n, int dim, BufferView x, BufferView y) =>
        ReferenceKernels.L2NormalizeForward(n, dim, S(x, (long)n * dim), S(y, (long)n * dim));

    public override void L2NormalizeBackward(int n, int dim, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) =>
        ReferenceKernels.L2NormalizeBackward(n, dim, S(x, (long)n * dim), S(y, (long)n * dim), S(dy, (long)n * dim), S(dx, (long)n * dim), accumulate);

    public override void AdaGradStep(BufferView param, BufferView grad, BufferView sumSquares, long length, float learningRate, float epsilon) =>
        ReferenceKernels.AdaGradStep(S(param, length), S(grad, length), S(sumSquares, length), learningRate, epsilon);

    public override void SgdStep(BufferView param, BufferView grad, BufferView velocity, long length, float learningRate, float momentum, float weightDecay) =>
        ReferenceKernels.SgdStep(S(param, length), S(grad, length), S(velocity, length), learningRate, momentum, weightDecay);

    public override void AdamStep(BufferView param, BufferView grad, BufferView m, BufferView v, long length, float learningRate, float beta1, float beta2, float epsilon, int step) =>
        ReferenceKernels.AdamStep(S(param, length), S(grad, length), S(m, length), S(v, length), learningRate, beta1, beta2, epsilon, step);
}
