namespace FaceNetGen.Backends.Cuda;

/// <summary>Choices of the CUDA backend. The defaults are what the device check validates and benchmarks.</summary>
public sealed record CudaBackendOptions
{
    public static CudaBackendOptions Default { get; } = new();

    /// <summary>
    /// Max-pooling forward and average pooling through cuDNN (CUDNN_POOLING_MAX, CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING)
    /// where the geometry is one cuDNN computes (floor-mode output size, padding smaller than the window); otherwise,
    /// and always for L2 pooling and for the max-pooling gradient (first maximum of each window), our own kernels.
    /// </summary>
    public bool UseCudnnPooling { get; init; } = true;

    /// <summary>Cross-channel LRN through cuDNN where it applies (odd size 1..16, k ≥ 1e-5, β ≥ 0.01); otherwise our own kernels.</summary>
    public bool UseCudnnLrn { get; init; } = true;

    /// <summary>Pick each convolution algorithm by timing cuDNN's candidates (cudnnFind…) rather than by its heuristics (cudnnGet…_v7).</summary>
    public bool BenchmarkConvolutionAlgorithms { get; init; } = true;

    /// <summary>The most workspace one convolution algorithm may use.</summary>
    public long WorkspaceLimitBytes { get; init; } = 1L << 30;
}
