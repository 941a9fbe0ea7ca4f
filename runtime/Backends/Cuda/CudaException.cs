namespace FaceNetGen.Backends.Cuda;

/// <summary>The native library a <see cref="CudaException"/> came from.</summary>
public enum CudaLibrary
{
    /// <summary>The CUDA runtime (libcudart).</summary>
    Runtime,

    /// <summary>The CUDA driver API (libcuda).</summary>
    Driver,

    /// <summary>cuBLAS (libcublas).</summary>
    Cublas,

    /// <summary>cuDNN (libcudnn).</summary>
    Cudnn,

    /// <summary>The runtime compiler NVRTC (libnvrtc).</summary>
    Nvrtc,
}

/// <summary>
/// A failed call into a CUDA library: carries the library, the numeric status, the library's own name for it
/// (<c>cudaErrorMemoryAllocation</c>, <c>CUBLAS_STATUS_INVALID_VALUE</c>, <c>CUDNN_STATUS_BAD_PARAM</c>, …) and where
/// in our code the call was made. The CLI prints the message and exits with 1.
/// </summary>
public sealed class CudaException : FaceNetException
{
    public CudaException(CudaLibrary library, int status, string statusName, string call, string file, int line, string member)
        : base(Format(library, status, statusName, call, file, line, member))
    {
        Library = library;
        Status = status;
        StatusName = statusName;
        Call = call;
        CallerFile = file;
        CallerLine = line;
        CallerMember = member;
    }

    public CudaLibrary Library { get; }

    /// <summary>The numeric status the library returned.</summary>
    public int Status { get; }

    /// <summary>The library's name for <see cref="Status"/>.</summary>
    public string StatusName { get; }

    /// <summary>The native call that failed (as written at the call site).</summary>
    public string Call { get; }

    public string CallerFile { get; }

    public int CallerLine { get; }

    public string CallerMember { get; }

    private static string Format(CudaLibrary library, int status, string name, string call, string file, int line, string member) =>
        $"{LibraryName(library)}: {call} failed with {name} ({status}) at {Path.GetFileName(file)}:{line} in {member}";

    internal static string LibraryName(CudaLibrary library) => library switch
    {
        CudaLibrary.Runtime => "CUDA runtime",
        CudaLibrary.Driver => "CUDA driver",
        CudaLibrary.Cublas => "cuBLAS",
        CudaLibrary.Cudnn => "cuDNN",
        _ => "NVRTC",
    };
}
