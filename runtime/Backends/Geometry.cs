using FaceNetGen.Specs;

namespace FaceNetGen.Backends;

/// <summary>One convolution: x (n, InC, InH, InW) → y (n, OutC, OutH, OutW) with w (OutC, InC, KernelH, KernelW) and b (OutC).</summary>
public readonly record struct ConvGeometry(
    int InC, int InH, int InW,
    int OutC, int OutH, int OutW,
    int KernelH, int KernelW,
    int StrideH, int StrideW,
    int PadH, int PadW)
{
    public int InSize => InC * InH * InW;

    public int OutSize => OutC * OutH * OutW;

    public int WeightSize => OutC * InC * KernelH * KernelW;

    /// <summary>Multiply-adds of one image.</summary>
    public long MultiplyAdds => (long)WeightSize * OutH * OutW;

    public bool IsPointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadH == 0 && PadW == 0;

    public override string ToString() =>
        $"{InH}x{InW}x{InC} -> {OutH}x{OutW}x{OutC}, {KernelH}x{KernelW}/{StrideH} pad {PadH}";
}

/// <summary>One pooling window sweep over each channel: x (n, C, InH, InW) → y (n, C, OutH, OutW).</summary>
public readonly record struct PoolGeometry(
    PoolKind Kind, int C, int InH, int InW, int OutH, int OutW,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
{
    public int InSize => C * InH * InW;

    public int OutSize => C * OutH * OutW;

    public override string ToString() =>
        $"{Kind} {InH}x{InW}x{C} -> {OutH}x{OutW}x{C}, {KernelH}x{KernelW}/{StrideH} pad {PadH}";
}

/// <summary>Cross-channel local response normalisation of x (n, C, H, W): y = x / (K + Alpha/Size · Σ x²)^Beta over Size channels centred on each.</summary>
public readonly record struct LrnGeometry(int C, int H, int W, int Size, float Alpha, float Beta, float K)
{
    public int Length => C * H * W;

    public override string ToString() => $"LRN {H}x{W}x{C}, size {Size}";
}

/// <summary>The image stride of a forward call's output (see <see cref="IBackend.ConvForward"/>).</summary>
public static class ImageStride
{
    /// <summary>The floats from one image's output to the next: <paramref name="size"/> for 0, else the stride, which must hold an image.</summary>
    public static long Resolve(long stride, long size)
    {
        if (stride == 0) return size;
        if (stride < size) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"An output image stride of {stride} floats is smaller than the {size} floats of one image.");
        return stride;
    }

    /// <summary>Floats from the first output float to just past the last: all n images at the stride.</summary>
    public static long Span(int n, long stride, long size) => n == 0 ? 0 : (n - 1) * Resolve(stride, size) + size;
}
