using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// The fast CPU backend: packed, register-blocked SIMD GEMM (Vector512, then Vector256, then Vector128, then scalar)
/// under convolutions (im2col into packed panels one K block at a time; Winograd F(2×2, 3×3) or F(4×4, 3×3) for all
/// three passes of 3×3 stride-1 layers on maps of 4×4 and more, the shapes where it measures faster; one GEMM per tap,
/// over only the positions it reaches, for those on smaller maps; a direct kernel for the first
/// layers, whose few input channels make im2col a poor fit; and 1×1 layers of up to 64 outputs computed from the input
/// in place), fully connected layers, and vectorised pooling, normalisation and optimiser kernels, spread over a fixed
/// pool of worker threads.
/// Scratch memory is grown on first use and then reused, so a warmed-up training step allocates nothing.
/// </summary>
/// <remarks>
/// Results are bit-identical from run to run for a given worker count (work is partitioned statically and partial
/// sums are reduced in a fixed order); they differ from <see cref="ReferenceBackend"/> only by float rounding.
/// One backend serves one caller at a time: kernels of a backend must not be called concurrently.
/// </remarks>
public sealed unsafe partial class CpuBackend : HostBackend
{
    /// <summary>Columns of a convolution handled by one work item (one GEMM call).</summary>
    internal const int TargetColumns = 512;

    private readonly WorkerPool _pool;
    private readonly WorkerScratch[] _scratch;
    private readonly NativeScratch _shared = new();

    private readonly Winograd5Work _winograd5;

    /// <summary>The lane planes of F(4×4, 3×3) with images as lanes (see CpuWinograd4Lanes.cs).</summary>
    private readonly NativeScratch _lanes = new();

    /// <summary>The lane planes of the output gradient for the F(4×4, 3×3) filter gradient.</summary>
    private readonly NativeScratch _lanesGradient = new();
    private readonly TransposeWork _transpose;
    private readonly NativeScratch[] _partials;
    private bool _disposed;

    /// <param name="threads">Worker threads, the caller's included (default: all processors).</param>
    /// <param name="simd">The widest SIMD level to use (default: the widest this machine accelerates).</param>
    /// <param name="winograd">Whether 3×3 stride-1 convolutions may use Winograd's F(2×2, 3×3) and F(4×4, 3×3).</param>
    /// <param name="direct">
    /// Whether convolutions with few input taps (the first layers) and narrow 1×1 layers may use their direct kernels
    /// rather than im2col + GEMM.
    /// </param>
    public CpuBackend(int threads = 0, SimdLevel? simd = null, bool winograd = true, bool direct = true)
    {
        Winograd = winograd;
        Direct = direct;
        Threads = threads > 0 ? threads : Environment.ProcessorCount;
        Simd = simd ?? Gemm.Best;
        if (Simd > Gemm.Best) throw new PlatformNotSupportedException($"This machine does not accelerate {Simd}.");
        (MR, NR) = Gemm.Tile(Simd);
        _pool = new WorkerPool(Threads);
        _scratch = new WorkerScratch[Threads];
        _partials = new NativeScratch[Threads];
        for (int i = 0; i < Threads; i++)
        {
            _scratch[i] = new WorkerScratch();
            _partials[i] = new NativeScratch();
        }
        _convForward = new ConvForwardWork(this);
        _concat = new ConcatWork(this);
        _convData = new ConvBackwardDataWork(this);
        _transpose = new TransposeWork(this);
        _convFilter = new ConvBackwardFilterWork(this);
        _winograd = new WinogradForwardWork(this);
        _winograd5 = new Winograd5Work(this);
        _direct = new DirectConvWork(this);
        _taps = new TapConvWork(this);
        _tapFilter = new TapFilterWork(this);
        _tapStridedData = new TapStridedDataWork(this);
        _convPool = new ConvPoolWork(this);
        _pointwise = new PointwiseWork(this);
        _linearForward = new LinearForwardWork(this);
        _linearData = new LinearBackwardDataWork(this);
        _linearFilter = new LinearBackwardFilterWork(this);
        _pooling = new PoolWork(this);
        _lrn = new LrnWork(this);
        _elementwise = new ElementwiseWork(this);
    }

    public int Threads { get; }

    /// <summary>Whether 3×3 stride-1 convolutions with enough channels use Winograd (see CpuWinograd.cs, CpuWinograd4.cs).</summary>
    public bool Winograd { get; }

    public SimdLevel Simd { get; }

    internal int MR { get; }

    internal int NR { get; }

    public override string Name => "cpu";

    public override string Description =>
        $"CPU, {Threads} thread{(Threads == 1 ? "" : "s")}, {Simd} (GEMM tile {MR}x{NR}){(Vector512.IsHardwareAccelerated ? ", AVX-512" : "")}";

    internal WorkerScratch Scratch(int worker) => _scratch[worker];

    /// <summary>Throws if a kernel wrote past a guarded scratch request (see <see cref="NativeScratch.Guarded"/>).</summary>
    internal void VerifyScratch()
    {
        for (int i = 0; i < Threads; i++)
        {
            _scratch[i].Verify(i);
            _partials[i].Verify($"partial {i}");
        }
        _shared.Verify("shared");
        _lanes.Verify("lanes");
        _lanesGradient.Verify("lanes gradient");
    }

    internal NativeScratch Partial(int index) => _partials[index];

    internal NativeScratch Shared => _shared;

    internal WorkerPool Pool => _pool;

    /// <summary>Bytes allocated by this backend's worker threads so far (for allocation tests and diagnostics).</summary>
    public long WorkerAllocatedBytes => _pool.WorkerAllocatedBytes;

    internal static float* P(BufferView view, long length) => CpuBuffer.Ptr(view, length);

    public override void ReluBackward(BufferView y, BufferView dy, long length) =>
        _elementwise.Run(new Elementwise.ReluMask(), P(dy, length), P(dy, length), P(y, length), null, length);

    public override void ConcatForward(int n, int spatial, BufferView part, int partChannels, BufferView whole, int wholeChannels, int channelOffset)
    {
        long block = (long)partChannels * spatial;
        _concat.Run(n, block, P(part, n * block), block, P(whole, (long)n * wholeChannels * spatial) + (long)channelOffset * spatial, (long)wholeChannels * spatial, false);
    }

    public override void ConcatBackward(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView dPart, int partChannels, bool accumulate)
    {
        long block = (long)partChannels * spatial;
        _concat.Run(n, block, P(dWhole, (long)n * wholeChannels * spatial) + (long)channelOffset * spatial, (long)wholeChannels * spatial, P(dPart, n * block), block, accumulate);
    }

    /// <summary>
    /// One pass instead of a copy and a masking pass over dPart: 33 of NN4's 53 ReLU backward calls, and 0.65% of its
    /// training step at batch 16 (in-process A/B against the two passes, 0.9935, thirds 0.9935, 0.9940, 0.9934).
    /// </summary>
    public override void ConcatBackwardRelu(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView part, BufferView dPart, int partChannels)
    {
        long block = (long)partChannels * spatial;
        _concat.Run(n, block, P(dWhole, (long)n * wholeChannels * spatial) + (long)channelOffset * spatial, (long)wholeChannels * spatial, P(dPart, n * block), block, accumulate: false, mask: P(part, n * block));
    }

    private readonly ConcatWork _concat;

    /// <summary>
    /// Copies (or adds) a block of floats per image from src to dst, the images srcStride and dstStride floats
    /// apart: a branch into its slice of a concatenation, or the slice's gradient back; with a mask (compact, like
    /// dst), zero where the mask is not positive. An image per item.
    /// </summary>
    private sealed class ConcatWork(CpuBackend owner) : IParallelWork
    {
        private float* _src, _dst, _mask;
        private long _srcStride, _dstStride, _block;
        private bool _accumulate;

        public void Run(int n, long block, float* src, long srcStride, float* dst, long dstStride, bool accumulate, float* mask = null)
        {
            _src = src;
            _dst = dst;
            _mask = mask;
            _srcStride = srcStride;
            _dstStride = dstStride;
            _block = block;
            _accumulate = accumulate;
            owner._pool.Run(this, n, (accumulate ? 3.0 : 2.0) * n * _block * NanosecondsPerFloat);
        }

        public void Execute(int index, int worker)
        {
            if (_mask != null)
            {
                float* m = _mask + index * _block;
                Elementwise.Run(new Elementwise.ReluMask(), owner.Simd, _dst + index * _dstStride, _src + index * _srcStride, m, m, _block);
                return;
            }
            var s = new ReadOnlySpan<float>(_src + index * _srcStride, (int)_block);
            var d = new Span<float>(_dst + index * _dstStride, (int)_block);
            if (_accumulate) TensorPrimitives.Add(d, s, d);
            else s.CopyTo(d);
        }
    }

    public override void MaxoutForward(int n, int units, int pool, BufferView x, BufferView y)
    {
        float* px = P(x, (long)n * units * pool);
        float* py = P(y, (long)n * units);
        long total = (long)n * units;
        for (long i = 0; i < total; i++)
        {
            float* g = px + i * pool;
            float m = g[0];
            for (int k = 1; k < pool; k++) m = MathF.Max(m, g[k]);
            py[i] = m;
        }
    }

    public override void MaxoutBackward(int n, int units, int pool, BufferView x, BufferView dy, BufferView dx, bool accumulate)
    {
        float* px = P(x, (long)n * units * pool);
        float* pdy = P(dy, (long)n * units);
        float* pdx = P(dx, (long)n * units * pool);
        long total = (long)n * units;
        for (long i = 0; i < total; i++)
        {
            float* g = px + i * pool;
            float* d = pdx + i * pool;
            int best = 0;
            for (int k = 1; k < pool; k++)
            {
                if (g[k] > g[best]) best = k;
            }
            for (int k = 0; k < pool; k++)
            {
                float v = k == best ? pdy[i] : 0f;
                d[k] = accumulate ? d[k] + v : v;
            }
        }
    }

    public override void L2NormalizeForward(int n, int dim, BufferView x, BufferView y)
    {
        float* px = P(x, (long)n * dim);
        float* py = P(y, (long)n * dim);
        for (int i = 0; i < n; i++)
        {
            var row = new ReadOnlySpan<float>(px + (long)i * dim, dim);
            float norm = MathF.Max(TensorPrimitives.Norm(row), (float)ReferenceKernels.NormEpsilon);
            TensorPrimitives.Divide(row, norm, new Span<float>(py + (long)i * dim, dim));
        }
    }

    public override void L2NormalizeBackward(int n, int dim, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate)
    {
        float* px = P(x, (long)n * dim);
        float* py = P(y, (long)n * dim);
        float* pdy = P(dy, (long)n * dim);
        float* pdx = P(dx, (long)n * dim);
        for (int i = 0; i < n; i++)
        {
            long o = (long)i * dim;
            var rx = new ReadOnlySpan<float>(px + o, dim);
            var ry = new ReadOnlySpan<float>(py + o, dim);
            var rdy = new ReadOnlySpan<float>(pdy + o, dim);
            var rdx = new Span<float>(pdx + o, dim);
            float norm = TensorPrimitives.Norm(rx);
            bool small = !(norm > ReferenceKernels.NormEpsilon);
            float dot = TensorPrimitives.Dot(ry, rdy);
            float scale = small ? (float)(1 / ReferenceKernels.NormEpsilon) : 1f / norm;
            for (int k = 0; k < dim; k++)
            {
                float v = small ? rdy[k] * scale : (rdy[k] - ry[k] * dot) * scale;
                rdx[k] = accumulate ? rdx[k] + v : v;
            }
        }
    }

    public override void AdaGradStep(BufferView param, BufferView grad, BufferView sumSquares, long length, float learningRate, float epsilon) =>
        _elementwise.Run(new Elementwise.AdaGrad(learningRate, epsilon), P(param, length), P(grad, length), P(sumSquares, length), null, length);

    /// <summary>
    /// Fills across the workers from <see cref="ParallelFillFloats"/> on (zeroing a model's parameter gradients before
    /// each backward pass: NN4's 7.5 M floats took 1.55 ms on one core).
    /// </summary>
    public override void Fill(BufferView destination, long length, float value)
    {
        if (length < ParallelFillFloats)
        {
            base.Fill(destination, length, value);
            return;
        }
        _elementwise.Run(value, P(destination, length), length);
    }

    /// <summary>Fewest floats for <see cref="Fill"/> to split across the workers.</summary>
    internal const long ParallelFillFloats = 1 << 18;

    public override void SgdStep(BufferView param, BufferView grad, BufferView velocity, long length, float learningRate, float momentum, float weightDecay) =>
        _elementwise.Run(new Elementwise.Sgd(learningRate, momentum, weightDecay), P(param, length), P(grad, length), P(velocity, length), null, length);

    public override void AdamStep(BufferView param, BufferView grad, BufferView m, BufferView v, long length, float learningRate, float beta1, float beta2, float epsilon, int step) =>
        _elementwise.Run(
            new Elementwise.Adam(learningRate, beta1, beta2, epsilon, 1 - MathF.Pow(beta1, step), 1 - MathF.Pow(beta2, step)),
            P(param, length), P(grad, length), P(m, length), P(v, length), length);

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _pool.Dispose();
        foreach (var s in _scratch) s.Dispose();
        foreach (var s in _partials) s.Dispose();
        _shared.Dispose();
        _lanes.Dispose();
        _lanesGradient.Dispose();
        base.Dispose();
    }

    // Rough single-core costs, to decide whether a kernel call is worth spreading over the workers.

    /// <summary>
    /// Deliberately high (a core does about 0.01 ns a flop on a large GEMM): with the workers spinning between
    /// kernels, splitting pays off for calls far shorter than <see cref="WorkerPool.MinParallelNanoseconds"/>, so
    /// that every multiplying kernel of more than about 67 K multiply-adds spreads. In-process A/Bs of the forward
    /// pass at batch 1 against 0.01: NNS2 0.944 (0.03), 0.931 (0.05), then 0.972 and 0.979 more for 0.1 and 0.3;
    /// NN4 0.955 (0.05) and 0.993 more for 0.2; NN2 level (0.997); training at batch 16 level (NN4 0.997, NNS2 0.990).
    /// </summary>
    internal const double NanosecondsPerFlop = 0.3;

    /// <summary>
    /// The single-core cost of a flop that the kernels estimate their calls with, against
    /// <see cref="WorkerPool.MinParallelNanoseconds"/>, to decide whether to wake the workers.
    /// </summary>
    internal double FlopNanoseconds { get; init; } = NanosecondsPerFlop;
    internal const double NanosecondsPerFloat = 0.25;

    /// <summary>Splits [0, count) into <paramref name="parts"/> near-equal static ranges.</summary>
    internal static (int Start, int Count) Range(int count, int parts, int index)
    {
        int start = (int)((long)count * index / parts);
        int end = (int)((long)count * (index + 1) / parts);
        return (start, end - start);
    }

    private readonly ElementwiseWork _elementwise;

    /// <summary>Elementwise ops over large arrays (parameter arenas), split into static chunks across workers.</summary>
    private sealed class ElementwiseWork(CpuBackend owner) : IParallelWork
    {
        /// <summary>Floats per item: 64 KiB a stream, so that activation-sized arrays (a few 10⁵ floats) split too.</summary>
        private const long ChunkFloats = 1 << 14;
        private float* _a, _b, _c, _d;
        private long _length;
        private int _op;
        private Elementwise.AdaGrad _adaGrad;
        private Elementwise.Sgd _sgd;
        private Elementwise.Adam _adam;
        private float _value;

        public void Run(Elementwise.ReluMask op, float* a, float* b, float* c, float* d, long length) => Start(0, a, b, c, d, length);

        public void Run(Elementwise.AdaGrad op, float* a, float* b, float* c, float* d, long length)
        {
            _adaGrad = op;
            Start(1, a, b, c, d, length);
        }

        public void Run(Elementwise.Sgd op, float* a, float* b, float* c, float* d, long length)
        {
            _sgd = op;
            Start(2, a, b, c, d, length);
        }

        public void Run(Elementwise.Adam op, float* a, float* b, float* c, float* d, long length)
        {
            _adam = op;
            Start(3, a, b, c, d, length);
        }

        /// <summary>a[i] = value.</summary>
        public void Run(float value, float* a, long length)
        {
            _value = value;
            Start(4, a, null, null, null, length);
        }

        private void Start(int op, float* a, float* b, float* c, float* d, long length)
        {
            _op = op;
            _a = a;
            _b = b == null ? a : b;
            _c = c == null ? a : c;
            _d = d == null ? a : d;
            _length = length;
            int chunks = (int)Math.Max(1, (length + ChunkFloats - 1) / ChunkFloats);
            // Two or more streams read and one written (NN4's ReLU masks took 43 µs a call on one core for 73 728 floats).
            owner._pool.Run(this, chunks, 3.0 * length * NanosecondsPerFloat);
        }

        public void Execute(int index, int worker)
        {
            long start = index * ChunkFloats;
            long count = Math.Min(ChunkFloats, _length - start);
            if (count <= 0) return;
            var level = owner.Simd;
            switch (_op)
            {
                case 0: Elementwise.Run(new Elementwise.ReluMask(), level, _a + start, _b + start, _c + start, _d + start, count); break;
                case 1: Elementwise.Run(_adaGrad, level, _a + start, _b + start, _c + start, _d + start, count); break;
                case 2: Elementwise.Run(_sgd, level, _a + start, _b + start, _c + start, _d + start, count); break;
                case 3: Elementwise.Run(_adam, level, _a + start, _b + start, _c + start, _d + start, count); break;
                default: new Span<float>(_a + start, (int)count).Fill(_value); break;
            }
        }
    }
}
