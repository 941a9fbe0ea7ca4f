namespace FaceNetGen.Backends.Cuda;

/// <summary>Creating cuDNN descriptors, disposing them again if setting them fails.</summary>
internal static class CudnnDescriptors
{
    public static CudnnTensorDescriptor Tensor(int n, int c, int h, int w)
    {
        CudaCheck.Cudnn(CudnnApi.cudnnCreateTensorDescriptor(out var d));
        try
        {
            CudaCheck.Cudnn(CudnnApi.cudnnSetTensor4dDescriptor(d, CudnnApi.TensorNchw, CudnnApi.DataFloat, n, c, h, w));
            return d;
        }
        catch
        {
            d.Dispose();
            throw;
        }
    }

    public static CudnnFilterDescriptor Filter(int k, int c, int h, int w)
    {
        CudaCheck.Cudnn(CudnnApi.cudnnCreateFilterDescriptor(out var d));
        try
        {
            CudaCheck.Cudnn(CudnnApi.cudnnSetFilter4dDescriptor(d, CudnnApi.DataFloat, CudnnApi.TensorNchw, k, c, h, w));
            return d;
        }
        catch
        {
            d.Dispose();
            throw;
        }
    }

    /// <summary>A cross-correlation (no kernel flip, as the reference) in fp32 with FMA math only (no TF32 tensor cores).</summary>
    public static CudnnConvolutionDescriptor Convolution(in ConvGeometry g)
    {
        CudaCheck.Cudnn(CudnnApi.cudnnCreateConvolutionDescriptor(out var d));
        try
        {
            CudaCheck.Cudnn(CudnnApi.cudnnSetConvolution2dDescriptor(d, g.PadH, g.PadW, g.StrideH, g.StrideW, 1, 1, CudnnApi.CrossCorrelation, CudnnApi.DataFloat));
            CudaCheck.Cudnn(CudnnApi.cudnnSetConvolutionMathType(d, CudnnApi.FmaMath));
            return d;
        }
        catch
        {
            d.Dispose();
            throw;
        }
    }

    public static CudnnPoolingDescriptor Pooling(int mode, in PoolGeometry g)
    {
        CudaCheck.Cudnn(CudnnApi.cudnnCreatePoolingDescriptor(out var d));
        try
        {
            CudaCheck.Cudnn(CudnnApi.cudnnSetPooling2dDescriptor(d, mode, CudnnApi.NotPropagateNan, g.KernelH, g.KernelW, g.PadH, g.PadW, g.StrideH, g.StrideW));
            return d;
        }
        catch
        {
            d.Dispose();
            throw;
        }
    }

    /// <summary>
    /// cuDNN computes y = x / (k + lrnAlpha/n · Σ x²)^β over the window [c − ⌊(n−1)/2⌋, c + n − 1 − ⌊(n−1)/2⌋]: it divides
    /// the alpha it is given by the window width itself, exactly as <see cref="Cpu.ReferenceKernels.LrnForward"/> divides
    /// by Size, so our Alpha is passed unchanged (frameworks whose formula has no /n, such as TensorFlow's, pass α·n).
    /// </summary>
    public static CudnnLrnDescriptor Lrn(in LrnGeometry g)
    {
        CudaCheck.Cudnn(CudnnApi.cudnnCreateLRNDescriptor(out var d));
        try
        {
            CudaCheck.Cudnn(CudnnApi.cudnnSetLRNDescriptor(d, (uint)g.Size, g.Alpha, g.Beta, g.K));
            return d;
        }
        catch
        {
            d.Dispose();
            throw;
        }
    }
}
