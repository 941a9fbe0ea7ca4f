using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace FaceNetGen.Backends.Cuda;

/// <summary>One kernel argument in an 8-byte slot: ints and floats in the low 4 bytes (little-endian), longs and pointers in all 8.</summary>
internal readonly struct KernelArg
{
    private KernelArg(long bits) => Bits = bits;

    public long Bits { get; }

    public static implicit operator KernelArg(int value) => new(value);

    public static implicit operator KernelArg(long value) => new(value);

    public static implicit operator KernelArg(float value) => new((uint)BitConverter.SingleToInt32Bits(value));

    public static implicit operator KernelArg(IntPtr value) => new(value.ToInt64());
}

/// <summary>
/// The backend's own kernels (<see cref="CudaKernelSource"/>), compiled by NVRTC for the device once and loaded as a
/// module; launched on the backend's stream through the driver API.
/// </summary>
internal sealed unsafe class CudaKernels : IDisposable
{
    /// <summary>Threads per block of the elementwise kernels.</summary>
    public const int BlockThreads = 256;

    /// <summary>Threads per block of the row reductions; a power of two.</summary>
    public const int ReductionThreads = 256;

    private const long MaxBlocks = 1 << 20;

    private readonly CudaModuleHandle _module;
    private readonly Dictionary<string, IntPtr> _functions = new(StringComparer.Ordinal);

    private CudaKernels(CudaModuleHandle module, string target)
    {
        _module = module;
        Target = target;
        foreach (var name in CudaKernelSource.KernelNames)
        {
            CudaCheck.Driver(CudaDriverApi.cuModuleGetFunction(out var function, _module, name));
            _functions[name] = function;
        }
    }

    /// <summary>What the kernels were compiled to: "sm_90 CUBIN" or "compute_90 PTX".</summary>
    public string Target { get; }

    public IntPtr this[string name] => _functions[name];

    /// <summary>Compiles the kernels for a device of compute capability <paramref name="major"/>.<paramref name="minor"/>.</summary>
    public static CudaKernels Compile(int major, int minor)
    {
        int arch = major * 10 + minor;
        // A CUBIN for the device itself where NVRTC knows it; else PTX for the newest architecture it knows, which the
        // driver compiles for the device.
        var supported = SupportedArchitectures();
        bool cubin = supported is null || supported.Contains(arch);
        if (!cubin)
        {
            var older = supported!.Where(a => a <= arch).ToList();
            if (older.Count == 0) throw new FaceNetException($"NVRTC supports none of the architectures up to sm_{arch} (it knows {string.Join(", ", supported!)}).");
            arch = older.Max();
        }
        string archText = arch.ToString(CultureInfo.InvariantCulture);
        string[] options = { (cubin ? "--gpu-architecture=sm_" : "--gpu-architecture=compute_") + archText, "--fmad=false", "--std=c++17" };

        CudaCheck.Nvrtc(NvrtcApi.nvrtcCreateProgram(out var program, CudaKernelSource.Text, "facenetgen_kernels.cu", 0, IntPtr.Zero, IntPtr.Zero));
        using (program)
        {
            var optionPointers = new IntPtr[options.Length];
            try
            {
                for (int i = 0; i < options.Length; i++) optionPointers[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
                int status;
                fixed (IntPtr* p = optionPointers) status = NvrtcApi.nvrtcCompileProgram(program, options.Length, p);
                if (status != 0)
                {
                    throw new FaceNetException($"NVRTC could not compile the CUDA kernels ({CudaStatusNames.Name(CudaLibrary.Nvrtc, status)}) with {string.Join(" ", options)}:\n{Log(program)}");
                }
            }
            finally
            {
                foreach (var p in optionPointers) Marshal.FreeCoTaskMem(p);
            }

            byte[] image;
            if (cubin)
            {
                CudaCheck.Nvrtc(NvrtcApi.nvrtcGetCUBINSize(program, out nuint size));
                image = new byte[(int)size];
                fixed (byte* b = image) CudaCheck.Nvrtc(NvrtcApi.nvrtcGetCUBIN(program, b));
            }
            else
            {
                CudaCheck.Nvrtc(NvrtcApi.nvrtcGetPTXSize(program, out nuint size));
                image = new byte[(int)size + 1];
                fixed (byte* b = image) CudaCheck.Nvrtc(NvrtcApi.nvrtcGetPTX(program, b));
            }

            CudaModuleHandle module;
            fixed (byte* b = image) CudaCheck.Driver(CudaDriverApi.cuModuleLoadData(out module, b));
            return new CudaKernels(module, cubin ? $"sm_{archText} CUBIN" : $"compute_{archText} PTX");
        }
    }

    private static HashSet<int>? SupportedArchitectures()
    {
        try
        {
            if (NvrtcApi.nvrtcGetNumSupportedArchs(out int count) != 0 || count <= 0) return null;
            var archs = new int[count];
            fixed (int* a = archs)
            {
                if (NvrtcApi.nvrtcGetSupportedArchs(a) != 0) return null;
            }
            return archs.ToHashSet();
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static string Log(NvrtcProgramHandle program)
    {
        if (NvrtcApi.nvrtcGetProgramLogSize(program, out nuint size) != 0 || size <= 1) return "(no log)";
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes)
        {
            if (NvrtcApi.nvrtcGetProgramLog(program, b) != 0) return "(no log)";
        }
        return Encoding.UTF8.GetString(bytes, 0, bytes.Length - 1);
    }

    /// <summary>Launches one thread per element (grid-stride, capped grid); returns the driver's status. Nothing runs for no elements.</summary>
    public int Launch(string kernel, long elements, IntPtr stream, params ReadOnlySpan<KernelArg> args)
    {
        if (elements <= 0) return 0;
        long blocks = Math.Min((elements + BlockThreads - 1) / BlockThreads, MaxBlocks);
        return LaunchBlocks(kernel, (uint)blocks, BlockThreads, stream, args);
    }

    /// <summary>Launches <paramref name="blocks"/> blocks of <paramref name="threads"/> threads; returns the driver's status.</summary>
    public int LaunchBlocks(string kernel, uint blocks, uint threads, IntPtr stream, params ReadOnlySpan<KernelArg> args)
    {
        if (blocks == 0) return 0;
        long* values = stackalloc long[args.Length];
        void** pointers = stackalloc void*[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            values[i] = args[i].Bits;
            pointers[i] = values + i;
        }
        return CudaDriverApi.cuLaunchKernel(this[kernel], blocks, 1, 1, threads, 1, 1, 0, stream, pointers, null);
    }

    public void Dispose() => _module.Dispose();
}
