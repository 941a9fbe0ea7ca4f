using System.Globalization;

namespace FaceNetGen.Backends.Cuda;

/// <summary>The native libraries the CUDA backend loads.</summary>
public enum CudaNativeLibrary
{
    /// <summary>The driver API, libcuda.so.1 (comes with the NVIDIA driver).</summary>
    Driver,

    /// <summary>The CUDA runtime, libcudart.</summary>
    Runtime,

    /// <summary>cuBLASLt, which cuBLAS needs beside it.</summary>
    CublasLt,

    /// <summary>cuBLAS.</summary>
    Cublas,

    /// <summary>cuDNN 9.</summary>
    Cudnn,

    /// <summary>The runtime compiler.</summary>
    Nvrtc,
}

/// <summary>
/// Where the CUDA libraries may be: the ordered list of files to try for each library. Pure: the environment, the
/// file system and the home folder are given, so that the order can be tested on any machine.
/// </summary>
/// <remarks>
/// <para>For each versioned soname, newest CUDA major first (13, then 12; never newer than the driver supports; cuDNN is
/// always libcudnn.so.9), the folders are tried in this order, and then the bare soname for the system loader
/// (ld.so.cache):</para>
/// <list type="number">
/// <item>LD_LIBRARY_PATH, in its order;</item>
/// <item>CUDA_HOME, then CUDA_PATH: lib64, lib, targets/x86_64-linux/lib;</item>
/// <item>/usr/local/cuda/lib64, then /usr/local/cuda-X.Y/lib64, newest version first;</item>
/// <item>Python wheels: for $VIRTUAL_ENV/lib, $CONDA_PREFIX/lib, ~/.local/lib, /usr/local/lib, /usr/lib and
/// /opt/conda/lib, each python3.* folder (newest first), site-packages then dist-packages, the library's wheel folders
/// (nvidia/cu13/lib, then nvidia/cuda_runtime/lib, nvidia/cublas/lib, nvidia/cudnn/lib or nvidia/cuda_nvrtc/lib), then
/// torch/lib;</item>
/// <item>/usr/lib/x86_64-linux-gnu, /usr/lib64, /lib/x86_64-linux-gnu.</item>
/// </list>
/// <para>The driver library is looked for only in LD_LIBRARY_PATH, the system folders and /usr/lib/wsl/lib.</para>
/// </remarks>
public sealed class CudaLibraryResolver
{
    /// <summary>CUDA majors the runtime libraries are looked for in, newest first.</summary>
    public static readonly IReadOnlyList<int> CudaMajors = new[] { 13, 12 };

    private static readonly string[] SystemDirectories = { "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib/x86_64-linux-gnu" };

    private readonly Func<string, string?> _environment;
    private readonly Func<string, bool> _fileExists;
    private readonly Func<string, bool> _directoryExists;
    private readonly Func<string, IEnumerable<string>> _subdirectories;
    private readonly string? _home;

    /// <param name="environment">Reads an environment variable (null when unset).</param>
    /// <param name="fileExists">Whether a file exists.</param>
    /// <param name="directoryExists">Whether a folder exists.</param>
    /// <param name="subdirectories">The names (not paths) of a folder's subfolders; empty when the folder does not exist.</param>
    /// <param name="home">The home folder, for ~/.local/lib.</param>
    public CudaLibraryResolver(Func<string, string?> environment, Func<string, bool> fileExists, Func<string, bool> directoryExists, Func<string, IEnumerable<string>> subdirectories, string? home)
    {
        _environment = environment;
        _fileExists = fileExists;
        _directoryExists = directoryExists;
        _subdirectories = subdirectories;
        _home = home;
    }

    /// <summary>The resolver for this machine's environment and file system.</summary>
    public static CudaLibraryResolver ForThisMachine() => new(
        Environment.GetEnvironmentVariable,
        File.Exists,
        Directory.Exists,
        dir =>
        {
            try
            {
                return Directory.Exists(dir) ? Directory.GetDirectories(dir).Select(p => Path.GetFileName(p)!) : Array.Empty<string>();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Array.Empty<string>();
            }
        },
        Environment.GetEnvironmentVariable("HOME"));

    /// <summary>The sonames of a library, in the order they are preferred; CUDA majors above <paramref name="maxCudaMajor"/> are left out.</summary>
    public static IReadOnlyList<string> Sonames(CudaNativeLibrary library, int maxCudaMajor = int.MaxValue) => library switch
    {
        CudaNativeLibrary.Driver => new[] { "libcuda.so.1" },
        CudaNativeLibrary.Cudnn => new[] { "libcudnn.so.9" },
        _ => CudaMajors.Where(m => m <= maxCudaMajor).Select(m => Stem(library) + ".so." + m.ToString(CultureInfo.InvariantCulture)).ToArray(),
    };

    /// <summary>"libcudart.so.13/12": the sonames of a library as one phrase, for messages.</summary>
    public static string SonamePhrase(CudaNativeLibrary library, int maxCudaMajor = int.MaxValue)
    {
        var names = Sonames(library, maxCudaMajor);
        if (names.Count <= 1) return names.Count == 1 ? names[0] : Stem(library) + ".so";
        string first = names[0];
        return first + string.Concat(names.Skip(1).Select(n => "/" + n[(n.LastIndexOf(".so.", StringComparison.Ordinal) + 4)..]));
    }

    private static string Stem(CudaNativeLibrary library) => library switch
    {
        CudaNativeLibrary.Driver => "libcuda",
        CudaNativeLibrary.Runtime => "libcudart",
        CudaNativeLibrary.CublasLt => "libcublasLt",
        CudaNativeLibrary.Cublas => "libcublas",
        CudaNativeLibrary.Cudnn => "libcudnn",
        _ => "libnvrtc",
    };

    /// <summary>The folders searched for <paramref name="library"/>, in order, without duplicates (existing or not).</summary>
    public IReadOnlyList<string> SearchDirectories(CudaNativeLibrary library)
    {
        var dirs = new List<string>();
        foreach (var d in (_environment("LD_LIBRARY_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)) dirs.Add(d);
        if (library == CudaNativeLibrary.Driver)
        {
            dirs.AddRange(SystemDirectories);
            dirs.Add("/usr/lib/wsl/lib");
            return Distinct(dirs);
        }
        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
        {
            string? root = _environment(variable);
            if (string.IsNullOrEmpty(root)) continue;
            dirs.Add(Path.Combine(root, "lib64"));
            dirs.Add(Path.Combine(root, "lib"));
            dirs.Add(Path.Combine(root, "targets", "x86_64-linux", "lib"));
        }
        dirs.Add("/usr/local/cuda/lib64");
        foreach (var name in _subdirectories("/usr/local")
                     .Where(n => n.StartsWith("cuda-", StringComparison.Ordinal))
                     .OrderByDescending(n => ParseVersion(n["cuda-".Length..])))
        {
            dirs.Add(Path.Combine("/usr/local", name, "lib64"));
        }
        dirs.AddRange(WheelDirectories(library));
        dirs.AddRange(SystemDirectories);
        return Distinct(dirs);
    }

    /// <summary>The Python-wheel folders of <paramref name="library"/>, in search order.</summary>
    public IReadOnlyList<string> WheelDirectories(CudaNativeLibrary library)
    {
        var bases = new List<string>();
        foreach (var variable in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
        {
            string? prefix = _environment(variable);
            if (!string.IsNullOrEmpty(prefix)) bases.Add(Path.Combine(prefix, "lib"));
        }
        if (!string.IsNullOrEmpty(_home)) bases.Add(Path.Combine(_home, ".local", "lib"));
        bases.AddRange(new[] { "/usr/local/lib", "/usr/lib", "/opt/conda/lib" });

        var result = new List<string>();
        foreach (var b in Distinct(bases))
        {
            var pythons = _subdirectories(b)
                .Where(n => n.StartsWith("python3.", StringComparison.Ordinal))
                .OrderByDescending(n => ParseVersion(n["python".Length..]));
            foreach (var py in pythons)
            foreach (var packages in new[] { "site-packages", "dist-packages" })
            foreach (var sub in WheelSubfolders(library))
            {
                result.Add(Path.Combine(b, py, packages, sub));
            }
        }
        return result;
    }

    private static string[] WheelSubfolders(CudaNativeLibrary library) => library switch
    {
        CudaNativeLibrary.Runtime => new[] { "nvidia/cu13/lib", "nvidia/cuda_runtime/lib", "torch/lib" },
        CudaNativeLibrary.Cublas or CudaNativeLibrary.CublasLt => new[] { "nvidia/cu13/lib", "nvidia/cublas/lib", "torch/lib" },
        CudaNativeLibrary.Cudnn => new[] { "nvidia/cudnn/lib", "nvidia/cu13/lib", "torch/lib" },
        CudaNativeLibrary.Nvrtc => new[] { "nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib", "torch/lib" },
        _ => Array.Empty<string>(),
    };

    /// <summary>
    /// Everything to try for <paramref name="library"/>, in order: for each soname, the file in every search folder,
    /// then the bare soname (no slash) for the system loader.
    /// </summary>
    public IReadOnlyList<string> Candidates(CudaNativeLibrary library, int maxCudaMajor = int.MaxValue)
    {
        var dirs = SearchDirectories(library);
        var result = new List<string>();
        foreach (var soname in Sonames(library, maxCudaMajor))
        {
            foreach (var d in dirs) result.Add(Path.Combine(d, soname));
            result.Add(soname);
        }
        return result;
    }

    /// <summary>Whether a candidate path names an existing file (bare sonames are left to the system loader and count as possible).</summary>
    public bool MayExist(string candidate) => !candidate.Contains('/') || _fileExists(candidate);

    /// <summary>The candidates of <see cref="Candidates"/> that are files on disk or bare sonames, in order.</summary>
    public IEnumerable<string> ExistingCandidates(CudaNativeLibrary library, int maxCudaMajor = int.MaxValue) =>
        Candidates(library, maxCudaMajor).Where(MayExist);

    /// <summary>Whether a file exists, as this resolver sees the file system.</summary>
    public bool FileExists(string path) => _fileExists(path);

    /// <summary>Whether a folder exists, as this resolver sees the file system.</summary>
    public bool DirectoryExists(string path) => _directoryExists(path);

    /// <summary>The subfolder names of a folder, as this resolver sees the file system.</summary>
    public IEnumerable<string> Subdirectories(string path) => _subdirectories(path);

    private static Version ParseVersion(string text)
    {
        var parts = text.Split('.');
        int major = parts.Length > 0 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int a) ? a : 0;
        int minor = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int b) ? b : 0;
        return new Version(major, minor);
    }

    private static List<string> Distinct(IEnumerable<string> dirs)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var d in dirs)
        {
            string normal = d.Length > 1 ? d.TrimEnd('/') : d;
            if (seen.Add(normal)) result.Add(normal);
        }
        return result;
    }
}
