using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cuda;

/// <summary>NVRTC (libnvrtc.so.13 or .12): compiles the backend's own kernels once, at backend start.</summary>
internal static unsafe partial class NvrtcApi
{
    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcVersion(out int major, out int minor);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcGetNumSupportedArchs(out int count);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcGetSupportedArchs(int* architectures);

    [LibraryImport(CudaLibraries.NvrtcName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvrtcCreateProgram(out NvrtcProgramHandle program, string source, string name, int headerCount, IntPtr headers, IntPtr includeNames);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcDestroyProgram(ref IntPtr program);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcCompileProgram(NvrtcProgramHandle program, int optionCount, IntPtr* options);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcGetProgramLogSize(NvrtcProgramHandle program, out nuint size);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcGetProgramLog(NvrtcProgramHandle program, byte* log);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcGetCUBINSize(NvrtcProgramHandle program, out nuint size);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcGetCUBIN(NvrtcProgramHandle program, byte* cubin);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcGetPTXSize(NvrtcProgramHandle program, out nuint size);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial int nvrtcGetPTX(NvrtcProgramHandle program, byte* ptx);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial IntPtr nvrtcGetErrorString(int result);
}
