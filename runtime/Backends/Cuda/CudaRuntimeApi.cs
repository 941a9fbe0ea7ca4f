using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cuda;

/// <summary>The CUDA runtime (libcudart.so.13 or .12): memory, copies, streams, events, device queries, versions.</summary>
internal static partial class CudaRuntimeApi
{
    public const int MemcpyHostToDevice = 1;
    public const int MemcpyDeviceToHost = 2;
    public const int MemcpyDeviceToDevice = 3;
    public const uint StreamNonBlocking = 1;
    public const int AttrMultiProcessorCount = 16;
    public const int AttrComputeCapabilityMajor = 75;
    public const int AttrComputeCapabilityMinor = 76;

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaGetDeviceCount(out int count);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaSetDevice(int device);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaDeviceGetAttribute(out int value, int attribute, int device);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaMemGetInfo(out nuint free, out nuint total);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaDriverGetVersion(out int version);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaRuntimeGetVersion(out int version);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaMalloc(out IntPtr pointer, nuint bytes);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaFree(IntPtr pointer);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaMemcpyAsync(IntPtr destination, IntPtr source, nuint bytes, int kind, IntPtr stream);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaMemsetAsync(IntPtr pointer, int value, nuint bytes, IntPtr stream);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaStreamCreateWithFlags(out CudaStreamHandle stream, uint flags);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaStreamDestroy(IntPtr stream);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaStreamSynchronize(IntPtr stream);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaEventCreate(out CudaEventHandle evt);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaEventDestroy(IntPtr evt);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaEventRecord(CudaEventHandle evt, IntPtr stream);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaEventSynchronize(CudaEventHandle evt);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial int cudaEventElapsedTime(out float milliseconds, CudaEventHandle start, CudaEventHandle end);

    [LibraryImport(CudaLibraries.RuntimeName)]
    public static partial IntPtr cudaGetErrorName(int error);
}
