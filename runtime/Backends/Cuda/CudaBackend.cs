using FaceNetGen.Specs;

namespace FaceNetGen.Backends.Cuda;

/// <summary>
/// The CUDA backend: every kernel of <see cref="IBackend"/> on one GPU, with the semantics of
/// <see cref="Cpu.ReferenceKernels"/> (layouts NCHW / OIHW, parameter gradients accumulate, activation gradients assign
/// unless <c>accumulate</c>). Convolutions, average pooling, max-pooling forward, LRN and the bias gradient run in cuDNN
/// (fp32, FMA math: no TF32), matrix products in cuBLAS, and the rest in our own kernels compiled by NVRTC when the
/// backend starts. Everything is queued on one stream; <see cref="Synchronize"/> waits for it, and transfers wait
/// for their own copy.
/// </summary>
/// <remarks>
/// The backend is meant for one thread at a time (as a model is); any thread may use it, and the first call on a new
/// thread makes the device's primary context current there.
/// </remarks>
public sealed unsafe class CudaBackend : IBackend
{
    [ThreadStatic]
    private static IntPtr t_context;

    private readonly CudaBackendOptions _options;
    private readonly int _device;
    private readonly int _driverDevice;
    private readonly IntPtr _context;
    private readonly CudaStreamHandle _stream;
    private readonly IntPtr _streamPtr;
    private readonly CublasHandle _cublas;
    private readonly CudnnHandle _cudnn;
    private readonly CudaKernels _kernels;
    private readonly Dictionary<(ConvGeometry, int), CudaConvolutionPlan> _convolutions = new();
    private readonly Dictionary<(PoolGeometry, int), (CudnnPoolingDescriptor Pool, CudnnTensorDescriptor X, CudnnTensorDescriptor Y)> _pools = new();
    private readonly Dictionary<(LrnGeometry, int), (CudnnLrnDescriptor Lrn, CudnnTensorDescriptor X)> _lrns = new();
    private readonly Dictionary<(int, int), (CudnnTensorDescriptor Dy, CudnnTensorDescriptor Db)> _linearBias = new();
    private CudaMemory? _workspace;
    private CudaMemory? _staging;
    private bool _disposed;

    /// <summary>Starts the backend on the first GPU, or throws a <see cref="FaceNetException"/> with the probe's reason.</summary>
    public CudaBackend(CudaBackendOptions? options = null)
    {
        _options = options ?? CudaBackendOptions.Default;
        Probe = CudaProbe.Probe();
        if (!Probe.IsAvailable) throw new FaceNetException(Probe.Reason);
        Device = Probe.Device!;
        _device = Device.Ordinal;

        CudaCheck.Driver(CudaDriverApi.cuDeviceGet(out _driverDevice, _device));
        CudaCheck.Driver(CudaDriverApi.cuDevicePrimaryCtxRetain(out _context, _driverDevice));
        try
        {
            EnsureContext();
            CudaCheck.Runtime(CudaRuntimeApi.cudaStreamCreateWithFlags(out _stream, CudaRuntimeApi.StreamNonBlocking));
            _streamPtr = _stream.DangerousGetHandle();
            CudaCheck.Cublas(CublasApi.cublasCreate_v2(out _cublas));
            CudaCheck.Cublas(CublasApi.cublasSetStream_v2(_cublas, _streamPtr));
            CudaCheck.Cublas(CublasApi.cublasSetMathMode(_cublas, CublasApi.DefaultMath));
            CudaCheck.Cublas(CublasApi.cublasGetVersion_v2(_cublas, out int cublasVersion));
            CudaCheck.Cudnn(CudnnApi.cudnnCreate(out _cudnn));
            CudaCheck.Cudnn(CudnnApi.cudnnSetStream(_cudnn, _streamPtr));
            _kernels = CudaKernels.Compile(Device.ComputeMajor, Device.ComputeMinor);
            CublasVersion = cublasVersion;
        }
        catch
        {
            ReleaseNative();
            throw;
        }
        Description = $"{Device}; CUDA driver {CudaProbeResult.FormatCudaVersion(Probe.DriverVersion)}, runtime {CudaProbeResult.FormatCudaVersion(Probe.RuntimeVersion)}, " +
                      $"cuBLAS {CublasVersion / 10000}.{CublasVersion / 100 % 100}.{CublasVersion % 100}, cuDNN {CudaProbeResult.FormatCudnnVersion(Probe.CudnnVersion)}, " +
                      $"NVRTC {Probe.NvrtcVersion} ({_kernels.Target})";
    }

    public string Name => "cuda";

    public string Description { get; }

    /// <summary>The probe result this backend started from (device, versions, library paths).</summary>
    public CudaProbeResult Probe { get; }

    public CudaDeviceInfo Device { get; }

    public CudaBackendOptions Options => _options;

    /// <summary>cuBLAS's version number (major·10000 + minor·100 + patch).</summary>
    public int CublasVersion { get; }

    internal IntPtr Stream => _streamPtr;

    internal CudaKernels Kernels => _kernels;

    internal CublasHandle Cublas => _cublas;

    /// <summary>Makes the device's primary context current on the calling thread (once per thread).</summary>
    internal void EnsureContext()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (t_context == _context) return;
        CudaCheck.Driver(CudaDriverApi.cuCtxSetCurrent(_context));
        CudaCheck.Runtime(CudaRuntimeApi.cudaSetDevice(_device));
        t_context = _context;
    }

    internal IntPtr Ptr(BufferView view, long length) => CudaBuffer.Address(this, view, length);

    // ---- memory ------------------------------------------------------------------------------------------

    public DeviceBuffer Allocate(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        EnsureContext();
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        CudaCheck.Runtime(CudaRuntimeApi.cudaMalloc(out var pointer, bytes));
        var buffer = new CudaBuffer(this, length, pointer);
        try
        {
            CudaCheck.Runtime(CudaRuntimeApi.cudaMemsetAsync(pointer, 0, bytes, _streamPtr));
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        return buffer;
    }

    public void Upload(ReadOnlySpan<float> source, BufferView destination)
    {
        EnsureContext();
        IntPtr dst = Ptr(destination, source.Length);
        if (source.IsEmpty) return;
        fixed (float* src = source)
        {
            CudaCheck.Runtime(CudaRuntimeApi.cudaMemcpyAsync(dst, (IntPtr)src, (nuint)source.Length * sizeof(float), CudaRuntimeApi.MemcpyHostToDevice, _streamPtr));
            CudaCheck.Runtime(CudaRuntimeApi.cudaStreamSynchronize(_streamPtr));
        }
    }

    public void Download(BufferView source, Span<float> destination)
    {
        EnsureContext();
        IntPtr src = Ptr(source, destination.Length);
        if (destination.IsEmpty) return;
        fixed (float* dst = destination)
        {
            CudaCheck.Runtime(CudaRuntimeApi.cudaMemcpyAsync((IntPtr)dst, src, (nuint)destination.Length * sizeof(float), CudaRuntimeApi.MemcpyDeviceToHost, _streamPtr));
            CudaCheck.Runtime(CudaRuntimeApi.cudaStreamSynchronize(_streamPtr));
        }
    }

    public void Fill(BufferView destination, long length, float value)
    {
        EnsureContext();
        IntPtr dst = Ptr(destination, length);
        if (BitConverter.SingleToInt32Bits(value) == 0)
        {
            if (length > 0) CudaCheck.Runtime(CudaRuntimeApi.cudaMemsetAsync(dst, 0, (nuint)length * sizeof(float), _streamPtr));
            return;
        }
        CudaCheck.Driver(_kernels.Launch("fill_f32", length, _streamPtr, dst, length, value));
    }

    public void Copy(BufferView source, BufferView destination, long length)
    {
        EnsureContext();
        IntPtr src = Ptr(source, length), dst = Ptr(destination, length);
        if (length > 0) CudaCheck.Runtime(CudaRuntimeApi.cudaMemcpyAsync(dst, src, (nuint)length * sizeof(float), CudaRuntimeApi.MemcpyDeviceToDevice, _streamPtr));
    }

    public void Synchronize()
    {
        EnsureContext();
        CudaCheck.Runtime(CudaRuntimeApi.cudaStreamSynchronize(_streamPtr));
    }

    /// <summary>The shared convolution workspace, grown (after the stream drains) to at least <paramref name="bytes"/>.</summary>
    private IntPtr Workspace(nuint bytes) => bytes == 0 ? IntPtr.Zero : Grown(ref _workspace, (long)bytes);

    /// <summary>A reused device buffer of at least <paramref name="bytes"/>, replaced by a larger one after the stream drains.</summary>
    private IntPtr Grown(ref CudaMemory? memory, long bytes)
    {
        if (memory is null || memory.Bytes < bytes)
        {
            if (memory is not null)
            {
                CudaCheck.Runtime(CudaRuntimeApi.cudaStreamSynchronize(_streamPtr));
                memory.Dispose();
                memory = null;
            }
            memory = new CudaMemory(bytes);
        }
        return memory.Pointer;
    }

    /// <summary>
    /// Where a forward call with an output image stride computes its compact result before <see cref="Place"/> copies
    /// it out: a buffer of at least <paramref name="floats"/>, grown after the stream drains.
    /// </summary>
    private IntPtr Staging(long floats) => Grown(ref _staging, floats * sizeof(float));

    /// <summary>Copies n compact images of <paramref name="size"/> floats to <paramref name="y"/>, image i at i × stride.</summary>
    private void Place(IntPtr compact, BufferView y, int n, long size, long stride)
    {
        IntPtr dst = Ptr(y, ImageStride.Span(n, stride, size));
        CudaCheck.Driver(_kernels.Launch("strided_copy", n * size, _streamPtr, compact, dst, (long)n, size, size, stride, 0));
    }

    // ---- convolution -------------------------------------------------------------------------------------

    private CudaConvolutionPlan Plan(in ConvGeometry g, int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "A batch holds at least one image.");
        if (!_convolutions.TryGetValue((g, n), out var plan))
        {
            plan = new CudaConvolutionPlan(g, n);
            _convolutions[(g, n)] = plan;
        }
        return plan;
    }

    public void ConvForward(in ConvGeometry g, int n, BufferView x, BufferView w, BufferView b, BufferView y, bool relu, long yStride = 0)
    {
        EnsureContext();
        long stride = ImageStride.Resolve(yStride, g.OutSize);
        IntPtr px = Ptr(x, (long)n * g.InSize), pw = Ptr(w, g.WeightSize), pb = Ptr(b, g.OutC);
        // A strided output (a slice of a concatenation) is computed compact, then placed.
        IntPtr py = stride == g.OutSize ? Ptr(y, (long)n * g.OutSize) : Staging((long)n * g.OutSize);
        var plan = Plan(g, n);
        int algo = plan.ForwardAlgorithm(_cudnn, _options);
        IntPtr ws = Workspace(plan.ForwardWorkspace);
        float one = 1, zero = 0;
        CudaCheck.Cudnn(CudnnApi.cudnnConvolutionForward(_cudnn, &one, plan.X, px, plan.W, pw, plan.Convolution, algo, ws, plan.ForwardWorkspace, &zero, plan.Y, py));
        CudaCheck.Driver(_kernels.Launch("bias_act", (long)n * g.OutSize, _streamPtr, py, pb, (long)n * g.OutSize, g.OutC, g.OutH * g.OutW, relu ? 1 : 0));
        if (stride != g.OutSize) Place(py, y, n, g.OutSize, stride);
    }

    public void ConvBackwardData(in ConvGeometry g, int n, BufferView dy, BufferView w, BufferView dx, bool accumulate)
    {
        EnsureContext();
        IntPtr pdy = Ptr(dy, (long)n * g.OutSize), pw = Ptr(w, g.WeightSize), pdx = Ptr(dx, (long)n * g.InSize);
        var plan = Plan(g, n);
        int algo = plan.BackwardDataAlgorithm(_cudnn, _options);
        IntPtr ws = Workspace(plan.BackwardDataWorkspace);
        float one = 1, beta = accumulate ? 1 : 0;
        CudaCheck.Cudnn(CudnnApi.cudnnConvolutionBackwardData(_cudnn, &one, plan.W, pw, plan.Y, pdy, plan.Convolution, algo, ws, plan.BackwardDataWorkspace, &beta, plan.X, pdx));
    }

    public void ConvBackwardFilter(in ConvGeometry g, int n, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate)
    {
        EnsureContext();
        IntPtr px = Ptr(x, (long)n * g.InSize), pdy = Ptr(dy, (long)n * g.OutSize), pdw = Ptr(dw, g.WeightSize), pdb = Ptr(db, g.OutC);
        var plan = Plan(g, n);
        int algo = plan.BackwardFilterAlgorithm(_cudnn, _options);
        IntPtr ws = Workspace(plan.BackwardFilterWorkspace);
        float one = 1, beta = accumulate ? 1 : 0;
        CudaCheck.Cudnn(CudnnApi.cudnnConvolutionBackwardFilter(_cudnn, &one, plan.X, px, plan.Y, pdy, plan.Convolution, algo, ws, plan.BackwardFilterWorkspace, &beta, plan.W, pdw));
        CudaCheck.Cudnn(CudnnApi.cudnnConvolutionBackwardBias(_cudnn, &one, plan.Y, pdy, &beta, plan.Bias, pdb));
    }

    public void ReluBackward(BufferView y, BufferView dy, long length)
    {
        EnsureContext();
        IntPtr py = Ptr(y, length), pdy = Ptr(dy, length);
        CudaCheck.Driver(_kernels.Launch("relu_backward", length, _streamPtr, py, pdy, length));
    }

    // ---- pooling -----------------------------------------------------------------------------------------

    /// <summary>Whether cuDNN computes this pooling: floor-mode output size and padding smaller than the window.</summary>
    internal static bool CudnnPoolingFits(in PoolGeometry g) =>
        g.PadH < g.KernelH && g.PadW < g.KernelW &&
        (g.InH + 2 * g.PadH - g.KernelH) / g.StrideH + 1 == g.OutH &&
        (g.InW + 2 * g.PadW - g.KernelW) / g.StrideW + 1 == g.OutW &&
        g.InH + 2 * g.PadH >= g.KernelH && g.InW + 2 * g.PadW >= g.KernelW;

    private bool UseCudnnPooling(in PoolGeometry g) => _options.UseCudnnPooling && g.Kind != PoolKind.L2 && CudnnPoolingFits(g);

    private (CudnnPoolingDescriptor Pool, CudnnTensorDescriptor X, CudnnTensorDescriptor Y) PoolPlan(in PoolGeometry g, int n)
    {
        if (!_pools.TryGetValue((g, n), out var plan))
        {
            var pool = CudnnDescriptors.Pooling(g.Kind == PoolKind.Max ? CudnnApi.PoolingMax : CudnnApi.PoolingAverageExcludePadding, g);
            var xd = CudnnDescriptors.Tensor(n, g.C, g.InH, g.InW);
            var yd = CudnnDescriptors.Tensor(n, g.C, g.OutH, g.OutW);
            plan = (pool, xd, yd);
            _pools[(g, n)] = plan;
        }
        return plan;
    }

    private static int KindCode(PoolKind kind) => kind switch { PoolKind.Max => 0, PoolKind.Average => 1, _ => 2 };

    public void PoolForward(in PoolGeometry g, int n, BufferView x, BufferView y, long yStride = 0)
    {
        EnsureContext();
        long stride = ImageStride.Resolve(yStride, g.OutSize);
        IntPtr px = Ptr(x, (long)n * g.InSize);
        IntPtr py = stride == g.OutSize ? Ptr(y, (long)n * g.OutSize) : Staging((long)n * g.OutSize);
        if (UseCudnnPooling(g))
        {
            var plan = PoolPlan(g, n);
            float one = 1, zero = 0;
            CudaCheck.Cudnn(CudnnApi.cudnnPoolingForward(_cudnn, plan.Pool, &one, plan.X, px, &zero, plan.Y, py));
        }
        else
        {
            CudaCheck.Driver(_kernels.Launch("pool_forward", (long)n * g.OutSize, _streamPtr, px, py, (long)n * g.C,
                g.InH, g.InW, g.OutH, g.OutW, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW, KindCode(g.Kind)));
        }
        if (stride != g.OutSize) Place(py, y, n, g.OutSize, stride);
    }

    public void PoolBackward(in PoolGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate)
    {
        EnsureContext();
        IntPtr px = Ptr(x, (long)n * g.InSize), py = Ptr(y, (long)n * g.OutSize), pdy = Ptr(dy, (long)n * g.OutSize), pdx = Ptr(dx, (long)n * g.InSize);
        // Max pooling's gradient is always ours: the reference routes it to the first maximum of each window, and
        // cuDNN does not say which of tied maxima it picks.
        if (g.Kind == PoolKind.Average && UseCudnnPooling(g))
        {
            var plan = PoolPlan(g, n);
            float one = 1, beta = accumulate ? 1 : 0;
            CudaCheck.Cudnn(CudnnApi.cudnnPoolingBackward(_cudnn, plan.Pool, &one, plan.Y, py, plan.Y, pdy, plan.X, px, &beta, plan.X, pdx));
            return;
        }
        CudaCheck.Driver(_kernels.Launch("pool_backward", (long)n * g.InSize, _streamPtr, px, py, pdy, pdx, (long)n * g.C,
            g.InH, g.InW, g.OutH, g.OutW, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW, KindCode(g.Kind), accumulate ? 1 : 0));
    }

    // ---- LRN ---------------------------------------------------------------------------------------------

    /// <summary>Whether cuDNN's LRN applies: its limits on n, k and β, and an odd size (where its window is the reference's, forward and backward).</summary>
    internal static bool CudnnLrnFits(in LrnGeometry g) =>
        g.Size % 2 == 1 && g.Size >= CudnnApi.LrnMinN && g.Size <= CudnnApi.LrnMaxN && g.K >= CudnnApi.LrnMinK && g.Beta >= CudnnApi.LrnMinBeta;

    private (CudnnLrnDescriptor Lrn, CudnnTensorDescriptor X) LrnPlan(in LrnGeometry g, int n)
    {
        if (!_lrns.TryGetValue((g, n), out var plan))
        {
            var lrn = CudnnDescriptors.Lrn(g);
            plan = (lrn, CudnnDescriptors.Tensor(n, g.C, g.H, g.W));
            _lrns[(g, n)] = plan;
        }
        return plan;
    }

    public void LrnForward(in LrnGeometry g, int n, BufferView x, BufferView y)
    {
        EnsureContext();
        long total = (long)n * g.Length;
        IntPtr px = Ptr(x, total), py = Ptr(y, total);
        if (_options.UseCudnnLrn && CudnnLrnFits(g))
        {
            var plan = LrnPlan(g, n);
            float one = 1, zero = 0;
            CudaCheck.Cudnn(CudnnApi.cudnnLRNCrossChannelForward(_cudnn, plan.Lrn, CudnnApi.LrnCrossChannel, &one, plan.X, px, &zero, plan.X, py));
            return;
        }
        CudaCheck.Driver(_kernels.Launch("lrn_forward", total, _streamPtr, px, py, total, g.C, g.H * g.W, g.Size, g.Alpha, g.Beta, g.K));
    }

    public void LrnBackward(in LrnGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate)
    {
        EnsureContext();
        long total = (long)n * g.Length;
        IntPtr px = Ptr(x, total), py = Ptr(y, total), pdy = Ptr(dy, total), pdx = Ptr(dx, total);
        if (_options.UseCudnnLrn && CudnnLrnFits(g))
        {
            var plan = LrnPlan(g, n);
            float one = 1, beta = accumulate ? 1 : 0;
            CudaCheck.Cudnn(CudnnApi.cudnnLRNCrossChannelBackward(_cudnn, plan.Lrn, CudnnApi.LrnCrossChannel, &one, plan.X, py, plan.X, pdy, plan.X, px, &beta, plan.X, pdx));
            return;
        }
        CudaCheck.Driver(_kernels.Launch("lrn_backward", total, _streamPtr, px, pdy, pdx, total, g.C, g.H * g.W, g.Size, g.Alpha, g.Beta, g.K, accumulate ? 1 : 0));
    }

    // ---- concatenation -----------------------------------------------------------------------------------

    public void ConcatForward(int n, int spatial, BufferView part, int partChannels, BufferView whole, int wholeChannels, int channelOffset)
    {
        EnsureContext();
        CheckChannels(partChannels, wholeChannels, channelOffset);
        long partRow = (long)partChannels * spatial, wholeRow = (long)wholeChannels * spatial;
        IntPtr src = Ptr(part, n * partRow), dst = Ptr(whole, n * wholeRow) + (nint)((long)channelOffset * spatial * sizeof(float));
        CudaCheck.Driver(_kernels.Launch("strided_copy", n * partRow, _streamPtr, src, dst, (long)n, partRow, partRow, wholeRow, 0));
    }

    public void ConcatBackward(int n, int spatial, BufferView dWhole, int wholeChannels, int channelOffset, BufferView dPart, int partChannels, bool accumulate)
    {
        EnsureContext();
        CheckChannels(partChannels, wholeChannels, channelOffset);
        long partRow = (long)partChannels * spatial, wholeRow = (long)wholeChannels * spatial;
        IntPtr src = Ptr(dWhole, n * wholeRow) + (nint)((long)channelOffset * spatial * sizeof(float)), dst = Ptr(dPart, n * partRow);
        CudaCheck.Driver(_kernels.Launch("strided_copy", n * partRow, _streamPtr, src, dst, (long)n, partRow, wholeRow, partRow, accumulate ? 1 : 0));
    }

    private static void CheckChannels(int partChannels, int wholeChannels, int channelOffset)
    {
        if (channelOffset < 0 || partChannels < 0 || channelOffset + partChannels > wholeChannels)
            throw new ArgumentOutOfRangeException(nameof(channelOffset), $"Channels [{channelOffset}, {channelOffset + partChannels}) do not fit in {wholeChannels}.");
    }

    // ---- fully connected ---------------------------------------------------------------------------------
    // Row-major x (n, in), w (out, in), y (n, out) are, read column-major, xᵀ (in × n, ld in), wᵀ (in × out, ld in)
    // and yᵀ (out × n, ld out). So y = x·wᵀ is yᵀ = w·xᵀ = (wᵀ)ᵀ·xᵀ: gemm(T, N, m = out, n = n, k = in).

    public void LinearForward(int n, int inFeatures, int outFeatures, BufferView x, BufferView w, BufferView b, BufferView y, bool relu)
    {
        EnsureContext();
        IntPtr px = Ptr(x, (long)n * inFeatures), pw = Ptr(w, (long)outFeatures * inFeatures), pb = Ptr(b, outFeatures), py = Ptr(y, (long)n * outFeatures);
        float one = 1, zero = 0;
        CudaCheck.Cublas(CublasApi.cublasSgemm_v2(_cublas, CublasApi.OpT, CublasApi.OpN, outFeatures, n, inFeatures, &one, pw, inFeatures, px, inFeatures, &zero, py, outFeatures));
        CudaCheck.Driver(_kernels.Launch("bias_act", (long)n * outFeatures, _streamPtr, py, pb, (long)n * outFeatures, outFeatures, 1, relu ? 1 : 0));
    }

    /// <summary>dx = dy·w is dxᵀ (in × n) = wᵀ (in × out) · dyᵀ (out × n): gemm(N, N, m = in, n = n, k = out).</summary>
    public void LinearBackwardData(int n, int inFeatures, int outFeatures, BufferView dy, BufferView w, BufferView dx, bool accumulate)
    {
        EnsureContext();
        IntPtr pdy = Ptr(dy, (long)n * outFeatures), pw = Ptr(w, (long)outFeatures * inFeatures), pdx = Ptr(dx, (long)n * inFeatures);
        float one = 1, beta = accumulate ? 1 : 0;
        CudaCheck.Cublas(CublasApi.cublasSgemm_v2(_cublas, CublasApi.OpN, CublasApi.OpN, inFeatures, n, outFeatures, &one, pw, inFeatures, pdy, outFeatures, &beta, pdx, inFeatures));
    }

    /// <summary>dw (=|+=) dyᵀ·x is dwᵀ (in × out) (=|+=) xᵀ (in × n) · dy (n × out, the transpose of dyᵀ): gemm(N, T, m = in, n = out, k = n); db (=|+=) Σₙ dy by cuDNN.</summary>
    public void LinearBackwardFilter(int n, int inFeatures, int outFeatures, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate)
    {
        EnsureContext();
        IntPtr px = Ptr(x, (long)n * inFeatures), pdy = Ptr(dy, (long)n * outFeatures), pdw = Ptr(dw, (long)outFeatures * inFeatures), pdb = Ptr(db, outFeatures);
        float one = 1, beta = accumulate ? 1 : 0;
        CudaCheck.Cublas(CublasApi.cublasSgemm_v2(_cublas, CublasApi.OpN, CublasApi.OpT, inFeatures, outFeatures, n, &one, px, inFeatures, pdy, outFeatures, &beta, pdw, inFeatures));
        if (!_linearBias.TryGetValue((n, outFeatures), out var bias))
        {
            bias = (CudnnDescriptors.Tensor(n, outFeatures, 1, 1), CudnnDescriptors.Tensor(1, outFeatures, 1, 1));
            _linearBias[(n, outFeatures)] = bias;
        }
        CudaCheck.Cudnn(CudnnApi.cudnnConvolutionBackwardBias(_cudnn, &one, bias.Dy, pdy, &beta, bias.Db, pdb));
    }

    public void MaxoutForward(int n, int units, int pool, BufferView x, BufferView y)
    {
        EnsureContext();
        long groups = (long)n * units;
        IntPtr px = Ptr(x, groups * pool), py = Ptr(y, groups);
        CudaCheck.Driver(_kernels.Launch("maxout_forward", groups, _streamPtr, px, py, groups, pool));
    }

    public void MaxoutBackward(int n, int units, int pool, BufferView x, BufferView dy, BufferView dx, bool accumulate)
    {
        EnsureContext();
        long groups = (long)n * units;
        IntPtr px = Ptr(x, groups * pool), pdy = Ptr(dy, groups), pdx = Ptr(dx, groups * pool);
        CudaCheck.Driver(_kernels.Launch("maxout_backward", groups, _streamPtr, px, pdy, pdx, groups, pool, accumulate ? 1 : 0));
    }

    public void L2NormalizeForward(int n, int dim, BufferView x, BufferView y)
    {
        EnsureContext();
        IntPtr px = Ptr(x, (long)n * dim), py = Ptr(y, (long)n * dim);
        CudaCheck.Driver(_kernels.LaunchBlocks("l2norm_forward", (uint)n, CudaKernels.ReductionThreads, _streamPtr, px, py, dim));
    }

    public void L2NormalizeBackward(int n, int dim, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate)
    {
        EnsureContext();
        long total = (long)n * dim;
        IntPtr px = Ptr(x, total), py = Ptr(y, total), pdy = Ptr(dy, total), pdx = Ptr(dx, total);
        CudaCheck.Driver(_kernels.LaunchBlocks("l2norm_backward", (uint)n, CudaKernels.ReductionThreads, _streamPtr, px, py, pdy, pdx, dim, accumulate ? 1 : 0));
    }

    // ---- optimisers --------------------------------------------------------------------------------------

    public void AdaGradStep(BufferView param, BufferView grad, BufferView sumSquares, long length, float learningRate, float epsilon)
    {
        EnsureContext();
        IntPtr p = Ptr(param, length), g = Ptr(grad, length), s = Ptr(sumSquares, length);
        CudaCheck.Driver(_kernels.Launch("adagrad_step", length, _streamPtr, p, g, s, length, learningRate, epsilon));
    }

    public void SgdStep(BufferView param, BufferView grad, BufferView velocity, long length, float learningRate, float momentum, float weightDecay)
    {
        EnsureContext();
        IntPtr p = Ptr(param, length), g = Ptr(grad, length), v = Ptr(velocity, length);
        CudaCheck.Driver(_kernels.Launch("sgd_step", length, _streamPtr, p, g, v, length, learningRate, momentum, weightDecay));
    }

    public void AdamStep(BufferView param, BufferView grad, BufferView m, BufferView v, long length, float learningRate, float beta1, float beta2, float epsilon, int step)
    {
        EnsureContext();
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "Adam steps count from 1.");
        IntPtr p = Ptr(param, length), g = Ptr(grad, length), pm = Ptr(m, length), pv = Ptr(v, length);
        float c1 = 1 - MathF.Pow(beta1, step), c2 = 1 - MathF.Pow(beta2, step);
        CudaCheck.Driver(_kernels.Launch("adam_step", length, _streamPtr, p, g, pm, pv, length, learningRate, beta1, beta2, epsilon, c1, c2));
    }

    // ---- timing ------------------------------------------------------------------------------------------

    /// <summary>A timer of work queued on this backend's stream, by CUDA events.</summary>
    public CudaEventTimer CreateTimer()
    {
        EnsureContext();
        return new CudaEventTimer(this);
    }

    // ---- disposal ----------------------------------------------------------------------------------------

    public void Dispose()
    {
        if (_disposed) return;
        try
        {
            EnsureContext();
            _ = CudaRuntimeApi.cudaStreamSynchronize(_streamPtr);
        }
        catch (CudaException)
        {
            // Tear down what we can regardless.
        }
        ReleaseNative();
        _disposed = true;
        GC.SuppressFinalize(this);
    }

    private void ReleaseNative()
    {
        foreach (var plan in _convolutions.Values) plan.Dispose();
        _convolutions.Clear();
        foreach (var (pool, x, y) in _pools.Values)
        {
            pool.Dispose();
            x.Dispose();
            y.Dispose();
        }
        _pools.Clear();
        foreach (var (lrn, x) in _lrns.Values)
        {
            lrn.Dispose();
            x.Dispose();
        }
        _lrns.Clear();
        foreach (var (dy, db) in _linearBias.Values)
        {
            dy.Dispose();
            db.Dispose();
        }
        _linearBias.Clear();
        _workspace?.Dispose();
        _workspace = null;
        _staging?.Dispose();
        _staging = null;
        _kernels?.Dispose();
        _cudnn?.Dispose();
        _cublas?.Dispose();
        _stream?.Dispose();
        if (_context != IntPtr.Zero) _ = CudaDriverApi.cuDevicePrimaryCtxRelease(_driverDevice);
        if (t_context == _context) t_context = IntPtr.Zero;
    }
}
