namespace FaceNetGen.Backends.Cuda;

/// <summary>
/// Everything cuDNN needs for one convolution geometry at one batch size: the descriptors, and for each direction the
/// algorithm chosen the first time that direction runs (timed by cudnnFind…, or cuDNN's heuristic order) with the
/// workspace it needs. Built once per (geometry, n) and cached by the backend.
/// </summary>
internal sealed unsafe class CudaConvolutionPlan : IDisposable
{
    private const int MaxAlgorithms = 16;

    private int _forward = -1, _backwardData = -1, _backwardFilter = -1;

    public CudaConvolutionPlan(in ConvGeometry g, int n)
    {
        Geometry = g;
        N = n;
        try
        {
            X = CudnnDescriptors.Tensor(n, g.InC, g.InH, g.InW);
            Y = CudnnDescriptors.Tensor(n, g.OutC, g.OutH, g.OutW);
            W = CudnnDescriptors.Filter(g.OutC, g.InC, g.KernelH, g.KernelW);
            Bias = CudnnDescriptors.Tensor(1, g.OutC, 1, 1);
            Convolution = CudnnDescriptors.Convolution(g);
            CudaCheck.Cudnn(CudnnApi.cudnnGetConvolution2dForwardOutputDim(Convolution, X, W, out int on, out int oc, out int oh, out int ow));
            if (on != n || oc != g.OutC || oh != g.OutH || ow != g.OutW)
            {
                throw new FaceNetException($"cuDNN computes a {oc}x{oh}x{ow} output for the convolution {g}, not {g.OutC}x{g.OutH}x{g.OutW}.");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ConvGeometry Geometry { get; }

    public int N { get; }

    public CudnnTensorDescriptor X { get; } = null!;

    public CudnnTensorDescriptor Y { get; } = null!;

    public CudnnFilterDescriptor W { get; } = null!;

    public CudnnTensorDescriptor Bias { get; } = null!;

    public CudnnConvolutionDescriptor Convolution { get; } = null!;

    public nuint ForwardWorkspace { get; private set; }

    public nuint BackwardDataWorkspace { get; private set; }

    public nuint BackwardFilterWorkspace { get; private set; }

    private delegate int Query(int requested, out int returned, CudnnApi.AlgoPerf* results);

    public int ForwardAlgorithm(CudnnHandle handle, CudaBackendOptions options)
    {
        if (_forward >= 0) return _forward;
        _forward = Select(options, "forward",
            (int k, out int c, CudnnApi.AlgoPerf* r) => CudnnApi.cudnnFindConvolutionForwardAlgorithm(handle, X, W, Convolution, Y, k, out c, r),
            (int k, out int c, CudnnApi.AlgoPerf* r) => CudnnApi.cudnnGetConvolutionForwardAlgorithm_v7(handle, X, W, Convolution, Y, k, out c, r));
        CudaCheck.Cudnn(CudnnApi.cudnnGetConvolutionForwardWorkspaceSize(handle, X, W, Convolution, Y, _forward, out var bytes));
        ForwardWorkspace = bytes;
        return _forward;
    }

    public int BackwardDataAlgorithm(CudnnHandle handle, CudaBackendOptions options)
    {
        if (_backwardData >= 0) return _backwardData;
        _backwardData = Select(options, "backward-data",
            (int k, out int c, CudnnApi.AlgoPerf* r) => CudnnApi.cudnnFindConvolutionBackwardDataAlgorithm(handle, W, Y, Convolution, X, k, out c, r),
            (int k, out int c, CudnnApi.AlgoPerf* r) => CudnnApi.cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, W, Y, Convolution, X, k, out c, r));
        CudaCheck.Cudnn(CudnnApi.cudnnGetConvolutionBackwardDataWorkspaceSize(handle, W, Y, Convolution, X, _backwardData, out var bytes));
        BackwardDataWorkspace = bytes;
        return _backwardData;
    }

    public int BackwardFilterAlgorithm(CudnnHandle handle, CudaBackendOptions options)
    {
        if (_backwardFilter >= 0) return _backwardFilter;
        _backwardFilter = Select(options, "backward-filter",
            (int k, out int c, CudnnApi.AlgoPerf* r) => CudnnApi.cudnnFindConvolutionBackwardFilterAlgorithm(handle, X, Y, Convolution, W, k, out c, r),
            (int k, out int c, CudnnApi.AlgoPerf* r) => CudnnApi.cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, X, Y, Convolution, W, k, out c, r));
        CudaCheck.Cudnn(CudnnApi.cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, X, Y, Convolution, W, _backwardFilter, out var bytes));
        BackwardFilterWorkspace = bytes;
        return _backwardFilter;
    }

    /// <summary>
    /// Timed search first (when the options ask for it), then cuDNN's heuristic order; a failed or fruitless search
    /// falls back to the heuristics.
    /// </summary>
    private static int Select(CudaBackendOptions options, string direction, Query find, Query heuristic)
    {
        var results = new CudnnApi.AlgoPerf[MaxAlgorithms];
        int count = 0;
        if (options.BenchmarkConvolutionAlgorithms)
        {
            int status;
            fixed (CudnnApi.AlgoPerf* r = results) status = find(MaxAlgorithms, out count, r);
            if (status == 0 && Usable(results, count, options) is int found) return found;
        }
        fixed (CudnnApi.AlgoPerf* r = results) CudaCheck.Cudnn(heuristic(MaxAlgorithms, out count, r), "cudnnGetConvolution" + direction + "Algorithm_v7");
        return Usable(results, count, options)
            ?? throw new FaceNetException($"cuDNN offers no usable {direction} convolution algorithm ({count} candidates; fp32 FMA math and at most {options.WorkspaceLimitBytes} bytes of workspace required).");
    }

    /// <summary>
    /// The first usable candidate in cuDNN's order (fastest first): it succeeded, fits the workspace limit, and uses
    /// plain fp32 math (math type DEFAULT or FMA, never a tensor-op TF32 one); null when none is.
    /// </summary>
    internal static int? Usable(ReadOnlySpan<CudnnApi.AlgoPerf> results, int count, CudaBackendOptions options)
    {
        const int defaultMath = 0, fmaMath = 3;
        for (int i = 0; i < Math.Min(count, results.Length); i++)
        {
            var r = results[i];
            if (r.Status == 0 && (long)r.Memory <= options.WorkspaceLimitBytes && r.MathType is defaultMath or fmaMath) return r.Algo;
        }
        return null;
    }

    public void Dispose()
    {
        X?.Dispose();
        Y?.Dispose();
        W?.Dispose();
        Bias?.Dispose();
        Convolution?.Dispose();
    }
}
