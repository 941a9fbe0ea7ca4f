using FaceNetGen.Specs;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// A direct-kernel convolution and the 3×3 stride-2 max pooling after it (conv1 → pool1 in every model here, and NNS2's
/// inception2 → pool2), fused image by image: each work item runs the direct kernel over one image's bands, then
/// halves that image's planes while they are still in this core's cache. Unfused, the convolution's output (4.2 MB
/// for NNS2's stem at batch 16, 9.4 MB for NN4's) goes out to memory and comes back for the pooling. A model built
/// for inference does not keep the convolution's output: an image's output lives in the worker's scratch until it
/// is pooled (up to <see cref="ConvPoolScratchFloats"/> per image; NN2's 112×112×64 stem output still goes to y).
/// </summary>
public sealed unsafe partial class CpuBackend
{
    /// <summary>Most floats per image of a convolution output that a fused call keeps in a worker's scratch (1 MB, this machine's L2) instead of y.</summary>
    internal const int ConvPoolScratchFloats = 256 * 1024;

    private readonly ConvPoolWork _convPool;

    /// <summary>
    /// Whether a fused call takes the image-by-image path: a direct convolution, a halving max pooling of exactly its
    /// output, and at least two images per thread (fewer would leave threads idle, where the unfused calls split each
    /// image's bands and planes across them).
    /// </summary>
    internal bool TakesConvPool(in ConvGeometry conv, in PoolGeometry pool, int n) =>
        TakesDirect(conv) && PoolWork.TakesHalving(pool) && pool.Kind == PoolKind.Max && n >= 2 * Threads &&
        pool.C == conv.OutC && pool.InH == conv.OutH && pool.InW == conv.OutW;

    public override void ConvPoolForward(in ConvGeometry conv, in PoolGeometry pool, int n, BufferView x, BufferView w, BufferView b, BufferView y, BufferView z, bool relu, bool keepConv, long zStride = 0)
    {
        if (!TakesConvPool(conv, pool, n))
        {
            base.ConvPoolForward(conv, pool, n, x, w, b, y, z, relu, keepConv, zStride);
            return;
        }
        long stride = ImageStride.Resolve(zStride, pool.OutSize);
        _convPool.Run(conv, pool, n, P(x, (long)n * conv.InSize), P(w, conv.WeightSize), P(b, conv.OutC), P(y, (long)n * conv.OutSize),
            P(z, ImageStride.Span(n, stride, pool.OutSize)), relu, keepConv, stride);
    }

    private sealed class ConvPoolWork(CpuBackend owner) : IParallelWork
    {
        private ConvGeometry _conv;
        private PoolGeometry _pool;
        private float* _y, _z;
        private long _zStride;
        private bool _keep;

        public void Run(in ConvGeometry conv, in PoolGeometry pool, int n, float* x, float* w, float* b, float* y, float* z, bool relu, bool keep, long zStride)
        {
            _conv = conv;
            _pool = pool;
            _y = y;
            _z = z;
            _zStride = zStride;
            _keep = keep || conv.OutSize > ConvPoolScratchFloats;
            owner._direct.Prepare(conv, x, w, b, y, relu, conv.OutSize);
            owner._pool.Run(this, n, 2.0 * conv.MultiplyAdds * n * owner.FlopNanoseconds);
        }

        public void Execute(int index, int worker)
        {
            var s = owner.Scratch(worker);
            float* y = _keep ? _y + (long)index * _conv.OutSize : s.Pack.Ensure(_conv.OutSize);
            var direct = owner._direct;
            for (int band = 0; band < direct.Bands; band++) direct.Band(index, band, worker, y);
            var g = _pool;
            PoolWork.Halve(g, y, _z + index * _zStride, g.C, s.Tmp.Ensure((long)g.C * g.OutH * (g.InW + 1) + 64 + g.OutW));
        }
    }
}
