using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cuda;

/// <summary>
/// The CUDA driver API (libcuda.so.1, installed with the NVIDIA driver): the driver's version and devices, and what the
/// runtime API lacks for NVRTC output: loading a module image and launching its kernels.
/// </summary>
internal static unsafe partial class CudaDriverApi
{
    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuInit(uint flags);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuDriverGetVersion(out int version);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuDeviceGetCount(out int count);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuDeviceGet(out int device, int ordinal);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuGetErrorName(int error, out IntPtr name);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuCtxGetCurrent(out IntPtr context);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuCtxSetCurrent(IntPtr context);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuDevicePrimaryCtxRetain(out IntPtr context, int device);

    [LibraryImport(CudaLibraries.DriverName, EntryPoint = "cuDevicePrimaryCtxRelease_v2")]
    public static partial int cuDevicePrimaryCtxRelease(int device);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuModuleLoadData(out CudaModuleHandle module, byte* image);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuModuleUnload(IntPtr module);

    [LibraryImport(CudaLibraries.DriverName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int cuModuleGetFunction(out IntPtr function, CudaModuleHandle module, string name);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial int cuLaunchKernel(
        IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemoryBytes, IntPtr stream, void** parameters, void** extra);
}
