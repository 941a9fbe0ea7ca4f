using System.Globalization;
using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cuda;

/// <summary>The GPU the CUDA backend runs on.</summary>
public sealed record CudaDeviceInfo(int Ordinal, string Name, int ComputeMajor, int ComputeMinor, int Multiprocessors, long TotalMemoryBytes)
{
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "{0} (sm_{1}{2}, {3} SMs, {4:0.0} GiB)", Name, ComputeMajor, ComputeMinor, Multiprocessors, TotalMemoryBytes / (1024.0 * 1024 * 1024));
}

/// <summary>
/// Whether CUDA can be used here, and if not, why, in words: "CUDA not available: libcudart.so.13/12 not found in
/// …", "CUDA not available: no CUDA device", or the driver's error.
/// </summary>
public sealed record CudaProbeResult(
    bool IsAvailable,
    string Reason,
    CudaDeviceInfo? Device,
    int DriverVersion,
    int RuntimeVersion,
    int CudnnVersion,
    string NvrtcVersion,
    IReadOnlyDictionary<CudaNativeLibrary, string> LibraryPaths)
{
    internal static CudaProbeResult Unavailable(string reason, IReadOnlyDictionary<CudaNativeLibrary, string>? paths = null) =>
        new(false, reason.StartsWith(CudaProbe.NotAvailablePrefix, StringComparison.Ordinal) ? reason : CudaProbe.NotAvailablePrefix + reason,
            null, 0, 0, 0, "", paths ?? new Dictionary<CudaNativeLibrary, string>());

    /// <summary>"13.0" from 13000.</summary>
    public static string FormatCudaVersion(int version) =>
        version <= 0 ? "?" : string.Format(CultureInfo.InvariantCulture, "{0}.{1}", version / 1000, version % 1000 / 10);

    /// <summary>"9.13.0" from 91300 (cuDNN 9 numbering).</summary>
    public static string FormatCudnnVersion(int version) =>
        version <= 0 ? "?" : string.Format(CultureInfo.InvariantCulture, "{0}.{1}.{2}", version / 10000, version % 10000 / 100, version % 100);

    public override string ToString() => IsAvailable
        ? $"CUDA available: {Device}, driver {FormatCudaVersion(DriverVersion)}, runtime {FormatCudaVersion(RuntimeVersion)}, cuDNN {FormatCudnnVersion(CudnnVersion)}, NVRTC {NvrtcVersion}"
        : Reason;
}

/// <summary>
/// Finds and loads the CUDA libraries (see <see cref="CudaLibraryResolver"/> for where it looks) and asks the driver for
/// a device. Runs once per process; the answer is cached, since loaded libraries stay loaded.
/// </summary>
public static class CudaProbe
{
    public const string NotAvailablePrefix = "CUDA not available: ";

    private static readonly Lazy<CudaProbeResult> Cached = new(Run, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The probe's answer for this process (the first call loads the libraries).</summary>
    public static CudaProbeResult Probe() => Cached.Value;

    private static CudaProbeResult Run()
    {
        var paths = new Dictionary<CudaNativeLibrary, string>();
        try
        {
            string? resolverError = CudaLibraries.InstallResolver();
            if (resolverError is not null) return CudaProbeResult.Unavailable(resolverError);
            var resolver = CudaLibraryResolver.ForThisMachine();
            var loader = CudaLibraryLoader.ForThisMachine(resolver);
            return Run(resolver, loader, paths);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or CudaException or BadImageFormatException)
        {
            return CudaProbeResult.Unavailable(ex.Message, paths);
        }
    }

    private static unsafe CudaProbeResult Run(CudaLibraryResolver resolver, CudaLibraryLoader loader, Dictionary<CudaNativeLibrary, string> paths)
    {
        // The driver first, silently: its version bounds which CUDA major the runtime libraries may have.
        var driver = loader.Load(CudaNativeLibrary.Driver);
        int maxMajor = int.MaxValue, driverVersion = 0;
        string? driverError = null;
        if (driver is { } d)
        {
            paths[CudaNativeLibrary.Driver] = d.Path;
            CudaLibraries.Bind(CudaNativeLibrary.Driver, d.Handle);
            int status = CudaDriverApi.cuInit(0);
            if (status != 0) driverError = $"cuInit failed with {CudaStatusNames.Name(CudaLibrary.Driver, status)} ({status})";
            else if (CudaDriverApi.cuDriverGetVersion(out driverVersion) == 0 && driverVersion > 0) maxMajor = driverVersion / 1000;
        }

        var runtime = loader.Load(CudaNativeLibrary.Runtime, maxMajor);
        if (runtime is null) return CudaProbeResult.Unavailable(MissingReason(resolver, CudaNativeLibrary.Runtime, maxMajor), paths);
        paths[CudaNativeLibrary.Runtime] = runtime.Value.Path;
        CudaLibraries.Bind(CudaNativeLibrary.Runtime, runtime.Value.Handle);
        int runtimeMajor = MajorOf(runtime.Value.Path) ?? maxMajor;

        if (driver is null) return CudaProbeResult.Unavailable(MissingReason(resolver, CudaNativeLibrary.Driver, maxMajor) + " (is the NVIDIA driver installed?)", paths);
        if (driverError is not null)
        {
            return CudaProbeResult.Unavailable(driverError.Contains("CUDA_ERROR_NO_DEVICE", StringComparison.Ordinal)
                ? $"no CUDA device ({driverError})" : "the CUDA driver could not start: " + driverError, paths);
        }

        int countStatus = CudaRuntimeApi.cudaGetDeviceCount(out int count);
        if (countStatus != 0) return CudaProbeResult.Unavailable($"cudaGetDeviceCount failed with {CudaStatusNames.Name(CudaLibrary.Runtime, countStatus)} ({countStatus})", paths);
        if (count == 0) return CudaProbeResult.Unavailable("no CUDA device", paths);

        foreach (var library in new[] { CudaNativeLibrary.Nvrtc, CudaNativeLibrary.CublasLt, CudaNativeLibrary.Cublas, CudaNativeLibrary.Cudnn })
        {
            var loaded = loader.Load(library, library == CudaNativeLibrary.Cudnn ? int.MaxValue : runtimeMajor);
            if (loaded is null) return CudaProbeResult.Unavailable(MissingReason(resolver, library, runtimeMajor), paths);
            paths[library] = loaded.Value.Path;
            CudaLibraries.Bind(library, loaded.Value.Handle);
        }

        int cudnnVersion = (int)CudnnApi.cudnnGetVersion();
        if (cudnnVersion < 90000) return CudaProbeResult.Unavailable($"cuDNN 9 is required, found {CudaProbeResult.FormatCudnnVersion(cudnnVersion)} at {paths[CudaNativeLibrary.Cudnn]}", paths);
        CudaCheck.Nvrtc(NvrtcApi.nvrtcVersion(out int nvrtcMajor, out int nvrtcMinor));
        CudaCheck.Runtime(CudaRuntimeApi.cudaRuntimeGetVersion(out int runtimeVersion));

        const int ordinal = 0;
        CudaCheck.Runtime(CudaRuntimeApi.cudaSetDevice(ordinal));
        CudaCheck.Runtime(CudaRuntimeApi.cudaDeviceGetAttribute(out int ccMajor, CudaRuntimeApi.AttrComputeCapabilityMajor, ordinal));
        CudaCheck.Runtime(CudaRuntimeApi.cudaDeviceGetAttribute(out int ccMinor, CudaRuntimeApi.AttrComputeCapabilityMinor, ordinal));
        CudaCheck.Runtime(CudaRuntimeApi.cudaDeviceGetAttribute(out int sms, CudaRuntimeApi.AttrMultiProcessorCount, ordinal));
        CudaCheck.Runtime(CudaRuntimeApi.cudaMemGetInfo(out _, out nuint total));
        CudaCheck.Driver(CudaDriverApi.cuDeviceGet(out int device, ordinal));
        byte* name = stackalloc byte[256];
        CudaCheck.Driver(CudaDriverApi.cuDeviceGetName(name, 256, device));
        string deviceName = Marshal.PtrToStringUTF8((IntPtr)name) ?? "CUDA device";

        var info = new CudaDeviceInfo(ordinal, deviceName, ccMajor, ccMinor, sms, (long)total);
        string nvrtc = string.Format(CultureInfo.InvariantCulture, "{0}.{1}", nvrtcMajor, nvrtcMinor);
        return new CudaProbeResult(true, "", info, driverVersion, runtimeVersion, cudnnVersion, nvrtc, paths);
    }

    private static int? MajorOf(string soname)
    {
        int at = soname.LastIndexOf(".so.", StringComparison.Ordinal);
        return at >= 0 && int.TryParse(soname[(at + 4)..], NumberStyles.None, CultureInfo.InvariantCulture, out int major) ? major : null;
    }

    /// <summary>"CUDA not available: libcudart.so.13/12 not found in …" naming the folders searched that exist.</summary>
    internal static string MissingReason(CudaLibraryResolver resolver, CudaNativeLibrary library, int maxCudaMajor)
    {
        var searched = resolver.SearchDirectories(library);
        var existing = searched.Where(resolver.DirectoryExists).ToList();
        string where = existing.Count == 0
            ? $"any of the {searched.Count} folders searched (none exists)"
            : string.Join(", ", existing.Take(6)) + (existing.Count > 6 ? $" and {existing.Count - 6} more" : "") +
              $" (the {existing.Count} existing of {searched.Count} folders searched)";
        string reason = $"{NotAvailablePrefix}{CudaLibraryResolver.SonamePhrase(library, maxCudaMajor)} not found in {where}, nor by the system loader";
        if (library != CudaNativeLibrary.Driver && library != CudaNativeLibrary.Cudnn && maxCudaMajor < CudaLibraryResolver.CudaMajors[0])
            reason += $" (the driver supports CUDA up to {maxCudaMajor})";
        return reason;
    }
}
