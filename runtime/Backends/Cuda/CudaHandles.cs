using Microsoft.Win32.SafeHandles;

namespace FaceNetGen.Backends.Cuda;

// Native handles of the CUDA libraries as SafeHandles: the owner disposes each explicitly; the destroy call's status
// is not checked on release, since there is nothing left to do about a failed destroy.

/// <summary>A cudaStream_t.</summary>
internal sealed class CudaStreamHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudaStreamHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CudaRuntimeApi.cudaStreamDestroy(handle) == 0;
}

/// <summary>A cudaEvent_t.</summary>
internal sealed class CudaEventHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudaEventHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CudaRuntimeApi.cudaEventDestroy(handle) == 0;
}

/// <summary>A CUmodule loaded from NVRTC's output.</summary>
internal sealed class CudaModuleHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudaModuleHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CudaDriverApi.cuModuleUnload(handle) == 0;
}

/// <summary>A cublasHandle_t.</summary>
internal sealed class CublasHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CublasHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CublasApi.cublasDestroy_v2(handle) == 0;
}

/// <summary>A cudnnHandle_t.</summary>
internal sealed class CudnnHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudnnHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CudnnApi.cudnnDestroy(handle) == 0;
}

/// <summary>A cudnnTensorDescriptor_t.</summary>
internal sealed class CudnnTensorDescriptor : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudnnTensorDescriptor()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CudnnApi.cudnnDestroyTensorDescriptor(handle) == 0;
}

/// <summary>A cudnnFilterDescriptor_t.</summary>
internal sealed class CudnnFilterDescriptor : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudnnFilterDescriptor()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CudnnApi.cudnnDestroyFilterDescriptor(handle) == 0;
}

/// <summary>A cudnnConvolutionDescriptor_t.</summary>
internal sealed class CudnnConvolutionDescriptor : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudnnConvolutionDescriptor()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CudnnApi.cudnnDestroyConvolutionDescriptor(handle) == 0;
}

/// <summary>A cudnnPoolingDescriptor_t.</summary>
internal sealed class CudnnPoolingDescriptor : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudnnPoolingDescriptor()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CudnnApi.cudnnDestroyPoolingDescriptor(handle) == 0;
}

/// <summary>A cudnnLRNDescriptor_t.</summary>
internal sealed class CudnnLrnDescriptor : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudnnLrnDescriptor()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => CudnnApi.cudnnDestroyLRNDescriptor(handle) == 0;
}

/// <summary>An nvrtcProgram.</summary>
internal sealed class NvrtcProgramHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public NvrtcProgramHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        IntPtr p = handle;
        return NvrtcApi.nvrtcDestroyProgram(ref p) == 0;
    }
}
