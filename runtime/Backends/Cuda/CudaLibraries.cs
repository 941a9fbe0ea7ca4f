using System.Reflection;
using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cuda;

/// <summary>
/// The process-wide set of loaded CUDA libraries, and the <see cref="NativeLibrary.SetDllImportResolver"/> hook that
/// binds the bindings' logical library names (<see cref="RuntimeName"/>, …) to them. Nothing is loaded until
/// <see cref="CudaProbe.Probe"/> runs; until then every binding fails with <see cref="DllNotFoundException"/>.
/// </summary>
internal static class CudaLibraries
{
    public const string DriverName = "FaceNetGen.Cuda.Driver";
    public const string RuntimeName = "FaceNetGen.Cuda.Runtime";
    public const string CublasName = "FaceNetGen.Cuda.Cublas";
    public const string CublasLtName = "FaceNetGen.Cuda.CublasLt";
    public const string CudnnName = "FaceNetGen.Cuda.Cudnn";
    public const string NvrtcName = "FaceNetGen.Cuda.Nvrtc";

    private static readonly object Gate = new();
    private static readonly Dictionary<string, IntPtr> Handles = new(StringComparer.Ordinal);
    private static bool _resolverInstalled;

    /// <summary>The logical name the bindings use for <paramref name="library"/>.</summary>
    public static string LogicalName(CudaNativeLibrary library) => library switch
    {
        CudaNativeLibrary.Driver => DriverName,
        CudaNativeLibrary.Runtime => RuntimeName,
        CudaNativeLibrary.CublasLt => CublasLtName,
        CudaNativeLibrary.Cublas => CublasName,
        CudaNativeLibrary.Cudnn => CudnnName,
        _ => NvrtcName,
    };

    /// <summary>Installs the resolver for this assembly (once); an error message when another resolver was already set.</summary>
    public static string? InstallResolver()
    {
        lock (Gate)
        {
            if (_resolverInstalled) return null;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
                _resolverInstalled = true;
                return null;
            }
            catch (InvalidOperationException ex)
            {
                return "another native library resolver is already set for the FaceNetGen assembly: " + ex.Message;
            }
        }
    }

    /// <summary>Makes <paramref name="handle"/> what the bindings of <paramref name="library"/> call into.</summary>
    public static void Bind(CudaNativeLibrary library, IntPtr handle)
    {
        lock (Gate) Handles[LogicalName(library)] = handle;
    }

    public static bool IsBound(CudaNativeLibrary library)
    {
        lock (Gate) return Handles.ContainsKey(LogicalName(library));
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        lock (Gate) return Handles.TryGetValue(libraryName, out var handle) ? handle : IntPtr.Zero;
    }

    /// <summary>The library's own name for a status, when the library is loaded and can say; null otherwise.</summary>
    public static string? NativeStatusName(CudaLibrary library, int status)
    {
        switch (library)
        {
            case CudaLibrary.Runtime when IsBound(CudaNativeLibrary.Runtime):
                return Marshal.PtrToStringUTF8(CudaRuntimeApi.cudaGetErrorName(status));
            case CudaLibrary.Driver when IsBound(CudaNativeLibrary.Driver):
                return CudaDriverApi.cuGetErrorName(status, out var name) == 0 ? Marshal.PtrToStringUTF8(name) : null;
            case CudaLibrary.Cudnn when IsBound(CudaNativeLibrary.Cudnn):
                return Marshal.PtrToStringUTF8(CudnnApi.cudnnGetErrorString(status));
            case CudaLibrary.Nvrtc when IsBound(CudaNativeLibrary.Nvrtc):
                return Marshal.PtrToStringUTF8(NvrtcApi.nvrtcGetErrorString(status));
            default:
                return null;
        }
    }
}

/// <summary>A library that was loaded: the path or soname it was loaded from, and its handle.</summary>
internal readonly record struct LoadedLibrary(string Path, IntPtr Handle);

/// <summary>
/// Loads the CUDA libraries from the candidates of a <see cref="CudaLibraryResolver"/>, with an injectable loader so
/// that the search can be exercised without any library present.
/// </summary>
internal sealed class CudaLibraryLoader
{
    /// <summary>cuDNN 9's sub-libraries, in dependency order; loaded from the folder of libcudnn.so.9 before it, so that
    /// its shim finds the matching set and never mixes in a copy from elsewhere.</summary>
    public static readonly string[] CudnnSubLibraries =
    {
        "libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
        "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9",
    };

    private readonly CudaLibraryResolver _resolver;
    private readonly Func<string, IntPtr> _tryLoad;
    private readonly Func<string, IEnumerable<string>> _files;

    /// <param name="resolver">Where to look.</param>
    /// <param name="tryLoad">Loads a path or bare soname; <see cref="IntPtr.Zero"/> on failure.</param>
    /// <param name="files">The file names in a folder (empty when it does not exist).</param>
    public CudaLibraryLoader(CudaLibraryResolver resolver, Func<string, IntPtr> tryLoad, Func<string, IEnumerable<string>> files)
    {
        _resolver = resolver;
        _tryLoad = tryLoad;
        _files = files;
    }

    public static CudaLibraryLoader ForThisMachine(CudaLibraryResolver resolver) => new(
        resolver,
        path => NativeLibrary.TryLoad(path, out var handle) ? handle : IntPtr.Zero,
        dir =>
        {
            try
            {
                return Directory.Exists(dir) ? Directory.GetFiles(dir).Select(p => System.IO.Path.GetFileName(p)!) : Array.Empty<string>();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Array.Empty<string>();
            }
        });

    /// <summary>The first candidate that loads, after loading the siblings it needs from its own folder.</summary>
    public LoadedLibrary? Load(CudaNativeLibrary library, int maxCudaMajor = int.MaxValue)
    {
        foreach (var candidate in _resolver.ExistingCandidates(library, maxCudaMajor))
        {
            string? dir = candidate.Contains('/') ? System.IO.Path.GetDirectoryName(candidate) : null;
            if (dir is not null) PreloadSiblings(library, dir, candidate);
            IntPtr handle = _tryLoad(candidate);
            if (handle != IntPtr.Zero) return new LoadedLibrary(candidate, handle);
        }
        return null;
    }

    /// <summary>The sibling files loaded before <paramref name="candidate"/>, in order (best effort: failures are ignored).</summary>
    public IReadOnlyList<string> Siblings(CudaNativeLibrary library, string dir, string candidate)
    {
        switch (library)
        {
            case CudaNativeLibrary.Cudnn:
                return CudnnSubLibraries.Select(n => System.IO.Path.Combine(dir, n)).Where(_resolver.FileExists).ToList();
            case CudaNativeLibrary.Nvrtc:
                // NVRTC opens libnvrtc-builtins.so.<major>.<minor> by name when it compiles.
                string major = candidate[(candidate.LastIndexOf(".so.", StringComparison.Ordinal) + 4)..];
                return _files(dir)
                    .Where(n => n.StartsWith("libnvrtc-builtins.so." + major + ".", StringComparison.Ordinal))
                    .OrderBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal)
                    .Take(1)
                    .Select(n => System.IO.Path.Combine(dir, n))
                    .ToList();
            default:
                return Array.Empty<string>();
        }
    }

    private void PreloadSiblings(CudaNativeLibrary library, string dir, string candidate)
    {
        foreach (var sibling in Siblings(library, dir, candidate)) _tryLoad(sibling);
    }
}
