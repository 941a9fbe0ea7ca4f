namespace FaceNetGen.Backends;

/// <summary>
/// The kernels a generated model calls. The generated code is a flat list of these calls over statically planned
/// arenas and does not know which implementation runs them (the CPU backends or the CUDA backend).
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> Every activation is NCHW: image n, channel c, row h, column w of a (N, C, H, W) tensor lives at
/// ((n·C + c)·H + h)·W + w. Convolution weights are OIHW (out channel, in channel, row, column); fully connected weights
/// are [out, in]; biases are [out]. This is PyTorch's and ONNX's layout, so weights move between them unchanged.</para>
/// <para><b>Gradients.</b> Parameter-gradient kernels (…BackwardFilter) accumulate into dw and db (+=), so gradients of a
/// batch can be summed over several calls; the trainer zeroes them before a step. Activation-gradient kernels assign dx,
/// unless <c>accumulate</c> is true: the generated backward passes true where a tensor fans out to several consumers
/// (the input of an inception module) and the gradients of the branches must add up.</para>
/// <para><b>Batches.</b> <c>n</c> is the number of images in the call; each tensor's images are contiguous.</para>
/// </remarks>
public interface IBackend : IDisposable
{
    /// <summary>Short name: "cpu" or "cuda".</summary>
    string Name { get; }

    /// <summary>What it runs on, for logs and benchmarks (processor, threads, SIMD width; or GPU and library versions).</summary>
    string Description { get; }

    /// <summary>Allocates <paramref name="length"/> floats, zeroed.</summary>
    DeviceBuffer Allocate(long length);

    void Upload(ReadOnlySpan<float> source, BufferView destination);

    void Download(BufferView source, Span<float> destination);

    void Fill(BufferView destination, long length, float value);

    void Copy(BufferView source, BufferView destination, long length);

    /// <summary>Waits until every queued kernel has finished (a no-op on the CPU).</summary>
    void Synchronize();

    // ---- convolution -------------------------------------------------------------------------------------
    // x: (n, InC, InH, InW), w: (OutC, InC, KH, KW), b: (OutC), y: (n, OutC, OutH, OutW)
    // The forward calls take yStride, the floats from one image's output to the next: 0 (compact) or at least the
    // output's size per image, so that an op can write its images straight into a channel range of a wider tensor
    // (a concatenation) and leave the floats between them alone.

    /// <summary>y = conv(x, w) + b, then max(0, ·) when <paramref name="relu"/>; image i of y at i × yStride (0: compact).</summary>
    void ConvForward(in ConvGeometry g, int n, BufferView x, BufferView w, BufferView b, BufferView y, bool relu, long yStride = 0);

    /// <summary>
    /// z = pool(y) where y = conv(x, w) + b (then ReLU): a convolution and the pooling that alone reads its output, in
    /// one call, so that a backend may pool each image while its convolution output is still in cache. y is room for
    /// the convolution's output (n × conv.OutSize floats); it holds that output afterwards only when
    /// <paramref name="keepConv"/> (training, whose backward reads it). Image i of z at i × zStride (0: compact).
    /// </summary>
    void ConvPoolForward(in ConvGeometry conv, in PoolGeometry pool, int n, BufferView x, BufferView w, BufferView b, BufferView y, BufferView z, bool relu, bool keepConv, long zStride = 0)
    {
        ConvForward(conv, n, x, w, b, y, relu);
        PoolForward(pool, n, y, z, zStride);
    }

    /// <summary>dx (=|+=) convᵀ(dy, w).</summary>
    void ConvBackwardData(in ConvGeometry g, int n, BufferView dy, BufferView w, BufferView dx, bool accumulate);

    /// <summary>dw (=|+=) Σₙ dy ⋆ x; db (=|+=) Σₙ,ₕ,ᵥ dy.</summary>
    void ConvBackwardFilter(in ConvGeometry g, int n, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate);

    /// <summary>
    /// yᵢ = convᵢ(x, wᵢ) + bᵢ (then ReLU) for 1×1 stride-1 convolutions <paramref name="g"/> that all read x (the
    /// 1×1 branch and the reductions of an inception module), in one call, so that a backend may read x once for all
    /// of them; image j of yᵢ at j × yStrideᵢ (0: compact). By default one <see cref="ConvForward"/> each.
    /// </summary>
    void ConvForwardSiblings(ReadOnlySpan<ConvGeometry> g, int n, BufferView x, ReadOnlySpan<BufferView> w, ReadOnlySpan<BufferView> b, ReadOnlySpan<BufferView> y, bool relu, ReadOnlySpan<long> yStride)
    {
        for (int i = 0; i < g.Length; i++) ConvForward(g[i], n, x, w[i], b[i], y[i], relu, yStride[i]);
    }

    /// <summary>
    /// dx (=|+=) Σᵢ convᵢᵀ(dyᵢ, wᵢ) for the 1×1 stride-1 convolutions of <see cref="ConvForwardSiblings"/>, in one
    /// call, so that a backend may write dx once for all of them. By default one <see cref="ConvBackwardData"/> each.
    /// </summary>
    void ConvBackwardDataSiblings(ReadOnlySpan<ConvGeometry> g, int n, ReadOnlySpan<BufferView> dy, ReadOnlySpan<BufferView> w, BufferView dx, bool accumulate)
    {
        for (int i = 0; i < g.Length; i++) ConvBackwardData(g[i], n, dy[i], w[i], dx, accumulate || i > 0);
    }

    /// <summary>
    /// dwᵢ, dbᵢ (=|+=) the filter gradients of the 1×1 stride-1 convolutions of <see cref="ConvForwardSiblings"/>, in
    /// one call, so that a backend may read x once for all of them. By default one <see cref="ConvBackwardFilter"/> each.
    /// </summary>
    void ConvBackwardFilterSiblings(ReadOnlySpan<ConvGeometry> g, int n, BufferView x, ReadOnlySpan<BufferView> dy, ReadOnlySpan<BufferView> dw, ReadOnlySpan<BufferView> db, bool accumulate)
    {
        for (int i = 0; i < g.Length; i++) ConvBackwardFilter(g[i], n, x, dy[i], dw[i], db[i], accumulate);
    }

    /// <summary>dy *= (y &gt; 0), in place: the ReLU fused into a forward kernel, undone on its gradient.</summary>
    void ReluBackward(BufferView y, BufferView dy, long length);

    // ---- pooling and normalisation -----------------------------------------------------------------------

    /// <summary>Max, average (over unpadded inputs) or L2 (√Σx²) pooling of each channel.</summary>
    /// <remarks>Image i of y at i × <paramref name="yStride"/> (0: compact).</remarks>
    void PoolForward(in PoolGeometry g, int n, BufferView x, BufferView y, long yStride = 0);

    /// <summary>dx (=|+=) the pooling gradient; max pooling routes to the first maximum of each window.</summary>
    void PoolBackward(in PoolGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate);

    void LrnForward(in LrnGeometry g, int n, BufferView x, BufferView y);

    void LrnBackward(in LrnGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate);

    // ---- concatenation -----------------------------------------------------------------------------------
    // part: (n, partC, spatial); whole: (n, wholeC, spatial); the part occupies channels [offset, offset + partC).

    void ConcatForward(int n, int spatial, BufferView part, int partChannels, BufferView whole, int wholeChannels, int channelOffset);

    /// <summary>dPart (=|+=) the part's channels of dWhole.</summary>
    void ConcatBackward(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView dPart, int partChannels, bool accumulate);

    /// <summary>
    /// dPart = the part's channels of dWhole, zero where part ≤ 0: the concatenation's backward for a part that a
    /// ReLU-fused convolution wrote and nothing else reads, with that ReLU's backward (<see cref="ReluBackward"/>) in
    /// the same pass. By default the two calls one after the other.
    /// </summary>
    void ConcatBackwardRelu(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView part, BufferView dPart, int partChannels)
    {
        ConcatBackward(n, spatial, dWhole, wholeChannels, channelOffset, dPart, partChannels, accumulate: false);
        ReluBackward(part, dPart, (long)n * partChannels * spatial);
    }

    // ---- fully connected ---------------------------------------------------------------------------------
    // x: (n, in), w: (out, in), b: (out), y: (n, out)

    /// <summary>y = x·wᵀ + b, then max(0, ·) when <paramref name="relu"/>.</summary>
    void LinearForward(int n, int inFeatures, int outFeatures, BufferView x, BufferView w, BufferView b, BufferView y, bool relu);

    /// <summary>dx (=|+=) dy·w.</summary>
    void LinearBackwardData(int n, int inFeatures, int outFeatures, BufferView dy, BufferView w, BufferView dx, bool accumulate);

    /// <summary>dw (=|+=) dyᵀ·x; db (=|+=) Σₙ dy.</summary>
    void LinearBackwardFilter(int n, int inFeatures, int outFeatures, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate);

    /// <summary>y[i, j] = max over k &lt; pool of x[i, j·pool + k]; x: (n, units·pool), y: (n, units).</summary>
    void MaxoutForward(int n, int units, int pool, BufferView x, BufferView y);

    /// <summary>dx (=|+=) dy routed to the first maximum of each group.</summary>
    void MaxoutBackward(int n, int units, int pool, BufferView x, BufferView dy, BufferView dx, bool accumulate);

    /// <summary>y = x / ‖x‖₂ per row; x, y: (n, dim).</summary>
    void L2NormalizeForward(int n, int dim, BufferView x, BufferView y);

    /// <summary>dx (=|+=) (dy − y·(y·dy)) / ‖x‖₂ per row.</summary>
    void L2NormalizeBackward(int n, int dim, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate);

    // ---- optimisers (elementwise over a parameter arena) ---------------------------------------------------

    /// <summary>AdaGrad: s += g²; p −= lr·g / (√s + eps).</summary>
    void AdaGradStep(BufferView param, BufferView grad, BufferView sumSquares, long length, float learningRate, float epsilon);

    /// <summary>SGD with momentum and weight decay: v = μ·v + (g + λ·p); p −= lr·v.</summary>
    void SgdStep(BufferView param, BufferView grad, BufferView velocity, long length, float learningRate, float momentum, float weightDecay);

    /// <summary>Adam with bias correction at step t (1-based).</summary>
    void AdamStep(BufferView param, BufferView grad, BufferView m, BufferView v, long length, float learningRate, float beta1, float beta2, float epsilon, int step);
}
