using System.Runtime.CompilerServices;

namespace FaceNetGen.Backends.Cuda;

/// <summary>
/// The one status check per library. Every native call's status goes through one of these; a failure becomes a
/// <see cref="CudaException"/> carrying the library's own name for the status and the caller's file, line and member.
/// </summary>
/// <remarks>
/// Names come from the library itself where it can say (<c>cudaGetErrorName</c>, <c>cuGetErrorName</c>,
/// <c>cudnnGetErrorString</c>, <c>nvrtcGetErrorString</c>) once it is loaded; cuBLAS has no such call for the
/// enumerator name, and before a library is loaded the tables below answer. An unknown code reads
/// "&lt;library&gt; status N".
/// </remarks>
internal static class CudaCheck
{
    public static void Runtime(int status, [CallerArgumentExpression(nameof(status))] string call = "",
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        if (status != 0) Throw(CudaLibrary.Runtime, status, call, file, line, member);
    }

    public static void Driver(int status, [CallerArgumentExpression(nameof(status))] string call = "",
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        if (status != 0) Throw(CudaLibrary.Driver, status, call, file, line, member);
    }

    public static void Cublas(int status, [CallerArgumentExpression(nameof(status))] string call = "",
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        if (status != 0) Throw(CudaLibrary.Cublas, status, call, file, line, member);
    }

    public static void Cudnn(int status, [CallerArgumentExpression(nameof(status))] string call = "",
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        if (status != 0) Throw(CudaLibrary.Cudnn, status, call, file, line, member);
    }

    public static void Nvrtc(int status, [CallerArgumentExpression(nameof(status))] string call = "",
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        if (status != 0) Throw(CudaLibrary.Nvrtc, status, call, file, line, member);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(CudaLibrary library, int status, string call, string file, int line, string member) =>
        throw new CudaException(library, status, CudaStatusNames.Name(library, status), call, file, line, member);
}

/// <summary>Status names by library: the library's own answer when it is loaded, else the enumerator tables.</summary>
internal static class CudaStatusNames
{
    public static string Name(CudaLibrary library, int status)
    {
        string? native = null;
        try
        {
            native = CudaLibraries.NativeStatusName(library, status);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // The library's own lookup is unavailable; the table answers.
        }
        return string.IsNullOrEmpty(native) ? FromTable(library, status) : native;
    }

    /// <summary>The enumerator name from our tables, or "&lt;library&gt; status N" for a code they lack.</summary>
    public static string FromTable(CudaLibrary library, int status)
    {
        var table = library switch
        {
            CudaLibrary.Runtime => RuntimeNames,
            CudaLibrary.Driver => DriverNames,
            CudaLibrary.Cublas => CublasNames,
            CudaLibrary.Cudnn => CudnnNames,
            _ => NvrtcNames,
        };
        return table.TryGetValue(status, out var name) ? name : $"{CudaException.LibraryName(library)} status {status}";
    }

    /// <summary>cudaError_t (driver_types.h), the codes this backend can meet.</summary>
    internal static readonly IReadOnlyDictionary<int, string> RuntimeNames = new Dictionary<int, string>
    {
        [0] = "cudaSuccess",
        [1] = "cudaErrorInvalidValue",
        [2] = "cudaErrorMemoryAllocation",
        [3] = "cudaErrorInitializationError",
        [4] = "cudaErrorCudartUnloading",
        [9] = "cudaErrorInvalidConfiguration",
        [17] = "cudaErrorInvalidDevicePointer",
        [21] = "cudaErrorInvalidMemcpyDirection",
        [34] = "cudaErrorStubLibrary",
        [35] = "cudaErrorInsufficientDriver",
        [36] = "cudaErrorCallRequiresNewerDriver",
        [46] = "cudaErrorDevicesUnavailable",
        [98] = "cudaErrorInvalidDeviceFunction",
        [100] = "cudaErrorNoDevice",
        [101] = "cudaErrorInvalidDevice",
        [200] = "cudaErrorInvalidKernelImage",
        [201] = "cudaErrorDeviceUninitialized",
        [209] = "cudaErrorNoKernelImageForDevice",
        [222] = "cudaErrorUnsupportedPtxVersion",
        [400] = "cudaErrorInvalidResourceHandle",
        [500] = "cudaErrorSymbolNotFound",
        [600] = "cudaErrorNotReady",
        [700] = "cudaErrorIllegalAddress",
        [701] = "cudaErrorLaunchOutOfResources",
        [702] = "cudaErrorLaunchTimeout",
        [719] = "cudaErrorLaunchFailure",
        [801] = "cudaErrorNotSupported",
        [803] = "cudaErrorSystemDriverMismatch",
        [804] = "cudaErrorCompatNotSupportedOnDevice",
        [999] = "cudaErrorUnknown",
    };

    /// <summary>CUresult (cuda.h).</summary>
    internal static readonly IReadOnlyDictionary<int, string> DriverNames = new Dictionary<int, string>
    {
        [0] = "CUDA_SUCCESS",
        [1] = "CUDA_ERROR_INVALID_VALUE",
        [2] = "CUDA_ERROR_OUT_OF_MEMORY",
        [3] = "CUDA_ERROR_NOT_INITIALIZED",
        [4] = "CUDA_ERROR_DEINITIALIZED",
        [34] = "CUDA_ERROR_STUB_LIBRARY",
        [46] = "CUDA_ERROR_DEVICE_UNAVAILABLE",
        [100] = "CUDA_ERROR_NO_DEVICE",
        [101] = "CUDA_ERROR_INVALID_DEVICE",
        [200] = "CUDA_ERROR_INVALID_IMAGE",
        [201] = "CUDA_ERROR_INVALID_CONTEXT",
        [209] = "CUDA_ERROR_NO_BINARY_FOR_GPU",
        [218] = "CUDA_ERROR_INVALID_PTX",
        [221] = "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
        [222] = "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
        [300] = "CUDA_ERROR_INVALID_SOURCE",
        [400] = "CUDA_ERROR_INVALID_HANDLE",
        [500] = "CUDA_ERROR_NOT_FOUND",
        [600] = "CUDA_ERROR_NOT_READY",
        [700] = "CUDA_ERROR_ILLEGAL_ADDRESS",
        [701] = "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        [702] = "CUDA_ERROR_LAUNCH_TIMEOUT",
        [719] = "CUDA_ERROR_LAUNCH_FAILED",
        [801] = "CUDA_ERROR_NOT_SUPPORTED",
        [803] = "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        [804] = "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
        [999] = "CUDA_ERROR_UNKNOWN",
    };

    /// <summary>cublasStatus_t (cublas_api.h).</summary>
    internal static readonly IReadOnlyDictionary<int, string> CublasNames = new Dictionary<int, string>
    {
        [0] = "CUBLAS_STATUS_SUCCESS",
        [1] = "CUBLAS_STATUS_NOT_INITIALIZED",
        [3] = "CUBLAS_STATUS_ALLOC_FAILED",
        [7] = "CUBLAS_STATUS_INVALID_VALUE",
        [8] = "CUBLAS_STATUS_ARCH_MISMATCH",
        [11] = "CUBLAS_STATUS_MAPPING_ERROR",
        [13] = "CUBLAS_STATUS_EXECUTION_FAILED",
        [14] = "CUBLAS_STATUS_INTERNAL_ERROR",
        [15] = "CUBLAS_STATUS_NOT_SUPPORTED",
        [16] = "CUBLAS_STATUS_LICENSE_ERROR",
    };

    /// <summary>cudnnStatus_t as cuDNN 9 numbers it (cudnn_graph.h): categories in thousands, details below them.</summary>
    internal static readonly IReadOnlyDictionary<int, string> CudnnNames = new Dictionary<int, string>
    {
        [0] = "CUDNN_STATUS_SUCCESS",
        [1001] = "CUDNN_STATUS_NOT_INITIALIZED",
        [1002] = "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH",
        [1003] = "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH",
        [1004] = "CUDNN_STATUS_DEPRECATED",
        [1005] = "CUDNN_STATUS_LICENSE_ERROR",
        [1006] = "CUDNN_STATUS_RUNTIME_IN_PROGRESS",
        [1007] = "CUDNN_STATUS_RUNTIME_FP_OVERFLOW",
        [1008] = "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED",
        [2000] = "CUDNN_STATUS_BAD_PARAM",
        [2001] = "CUDNN_STATUS_INVALID_VALUE",
        [2002] = "CUDNN_STATUS_BAD_PARAM_NULL_POINTER",
        [2003] = "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER",
        [2004] = "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED",
        [2005] = "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND",
        [2006] = "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT",
        [2007] = "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH",
        [2008] = "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH",
        [2009] = "CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES",
        [2010] = "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE",
        [3000] = "CUDNN_STATUS_NOT_SUPPORTED",
        [3001] = "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN",
        [3002] = "CUDNN_STATUS_NOT_SUPPORTED_SHAPE",
        [3003] = "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE",
        [3004] = "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT",
        [3005] = "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER",
        [3006] = "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART",
        [3007] = "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH",
        [3008] = "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING",
        [3009] = "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE",
        [3010] = "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT",
        [3011] = "CUDNN_STATUS_NOT_SUPPORTED_PADDING",
        [3012] = "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM",
        [4000] = "CUDNN_STATUS_INTERNAL_ERROR",
        [4001] = "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED",
        [4002] = "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE",
        [4003] = "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED",
        [4004] = "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED",
        [4005] = "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM",
        [4006] = "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED",
        [5000] = "CUDNN_STATUS_EXECUTION_FAILED",
        [5001] = "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER",
        [5002] = "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS",
        [5003] = "CUDNN_STATUS_EXECUTION_FAILED_CUDART",
        [5004] = "CUDNN_STATUS_EXECUTION_FAILED_CURAND",
    };

    /// <summary>nvrtcResult (nvrtc.h).</summary>
    internal static readonly IReadOnlyDictionary<int, string> NvrtcNames = new Dictionary<int, string>
    {
        [0] = "NVRTC_SUCCESS",
        [1] = "NVRTC_ERROR_OUT_OF_MEMORY",
        [2] = "NVRTC_ERROR_PROGRAM_CREATION_FAILURE",
        [3] = "NVRTC_ERROR_INVALID_INPUT",
        [4] = "NVRTC_ERROR_INVALID_PROGRAM",
        [5] = "NVRTC_ERROR_INVALID_OPTION",
        [6] = "NVRTC_ERROR_COMPILATION",
        [7] = "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE",
        [8] = "NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION",
        [9] = "NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION",
        [10] = "NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID",
        [11] = "NVRTC_ERROR_INTERNAL_ERROR",
        [12] = "NVRTC_ERROR_TIME_FILE_WRITE_FAILED",
    };
}
