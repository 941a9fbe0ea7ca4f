using FaceNetGen.Backends.Cuda;

namespace FaceNetGen.Tests.Cuda;

public class CudaLibraryResolverTests
{
    /// <summary>A file system and environment in memory.</summary>
    private sealed class FakeMachine
    {
        public Dictionary<string, string> Environment { get; } = new();
        public HashSet<string> Files { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string[]> Folders { get; } = new(StringComparer.Ordinal);
        public string? Home { get; set; } = "/home/u";

        public CudaLibraryResolver Resolver() => new(
            v => Environment.TryGetValue(v, out var s) ? s : null,
            Files.Contains,
            d => Folders.ContainsKey(d),
            d => Folders.TryGetValue(d, out var subs) ? subs : Array.Empty<string>(),
            Home);
    }

    private static FakeMachine Typical()
    {
        var m = new FakeMachine();
        m.Environment["LD_LIBRARY_PATH"] = "/opt/a:/opt/b/";
        m.Environment["CUDA_HOME"] = "/opt/cuda";
        m.Folders["/usr/local"] = new[] { "bin", "cuda-12.4", "cuda-13.0", "cuda-12.10", "lib" };
        m.Folders["/usr/lib"] = new[] { "python3.10", "x86_64-linux-gnu", "python3.12" };
        m.Folders["/home/u/.local/lib"] = new[] { "python3.11" };
        return m;
    }

    [Fact]
    public void Sonames_PreferTheNewestCudaMajorTheDriverAllows()
    {
        Assert.Equal(new[] { "libcudart.so.13", "libcudart.so.12" }, CudaLibraryResolver.Sonames(CudaNativeLibrary.Runtime));
        Assert.Equal(new[] { "libcudart.so.12" }, CudaLibraryResolver.Sonames(CudaNativeLibrary.Runtime, maxCudaMajor: 12));
        Assert.Empty(CudaLibraryResolver.Sonames(CudaNativeLibrary.Runtime, maxCudaMajor: 11));
        Assert.Equal(new[] { "libcublas.so.13", "libcublas.so.12" }, CudaLibraryResolver.Sonames(CudaNativeLibrary.Cublas));
        Assert.Equal(new[] { "libcublasLt.so.13", "libcublasLt.so.12" }, CudaLibraryResolver.Sonames(CudaNativeLibrary.CublasLt));
        Assert.Equal(new[] { "libnvrtc.so.13", "libnvrtc.so.12" }, CudaLibraryResolver.Sonames(CudaNativeLibrary.Nvrtc));
        Assert.Equal(new[] { "libcudnn.so.9" }, CudaLibraryResolver.Sonames(CudaNativeLibrary.Cudnn, maxCudaMajor: 12));
        Assert.Equal(new[] { "libcuda.so.1" }, CudaLibraryResolver.Sonames(CudaNativeLibrary.Driver));
        Assert.Equal("libcudart.so.13/12", CudaLibraryResolver.SonamePhrase(CudaNativeLibrary.Runtime));
        Assert.Equal("libcudnn.so.9", CudaLibraryResolver.SonamePhrase(CudaNativeLibrary.Cudnn));
    }

    [Fact]
    public void SearchDirectories_FollowTheDocumentedOrder()
    {
        var dirs = Typical().Resolver().SearchDirectories(CudaNativeLibrary.Runtime);
        string Py(string root, string py, string packages, string sub) => $"{root}/{py}/{packages}/{sub}";
        var expected = new List<string>
        {
            "/opt/a", "/opt/b",
            "/opt/cuda/lib64", "/opt/cuda/lib", "/opt/cuda/targets/x86_64-linux/lib",
            "/usr/local/cuda/lib64", "/usr/local/cuda-13.0/lib64", "/usr/local/cuda-12.10/lib64", "/usr/local/cuda-12.4/lib64",
        };
        foreach (var (root, pythons) in new[] { ("/home/u/.local/lib", new[] { "python3.11" }), ("/usr/lib", new[] { "python3.12", "python3.10" }) })
        foreach (var py in pythons)
        foreach (var packages in new[] { "site-packages", "dist-packages" })
        foreach (var sub in new[] { "nvidia/cu13/lib", "nvidia/cuda_runtime/lib", "torch/lib" })
        {
            expected.Add(Py(root, py, packages, sub));
        }
        expected.AddRange(new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib/x86_64-linux-gnu" });
        Assert.Equal(expected, dirs);
    }

    [Fact]
    public void WheelDirectories_NameEachLibrarysPackage()
    {
        var m = new FakeMachine { Home = null };
        m.Environment["VIRTUAL_ENV"] = "/venv";
        m.Folders["/venv/lib"] = new[] { "python3.12" };
        m.Folders["/usr/local/lib"] = new[] { "python3.9" };
        var r = m.Resolver();
        Assert.Equal(new[]
        {
            "/venv/lib/python3.12/site-packages/nvidia/cudnn/lib", "/venv/lib/python3.12/site-packages/nvidia/cu13/lib", "/venv/lib/python3.12/site-packages/torch/lib",
            "/venv/lib/python3.12/dist-packages/nvidia/cudnn/lib", "/venv/lib/python3.12/dist-packages/nvidia/cu13/lib", "/venv/lib/python3.12/dist-packages/torch/lib",
            "/usr/local/lib/python3.9/site-packages/nvidia/cudnn/lib", "/usr/local/lib/python3.9/site-packages/nvidia/cu13/lib", "/usr/local/lib/python3.9/site-packages/torch/lib",
            "/usr/local/lib/python3.9/dist-packages/nvidia/cudnn/lib", "/usr/local/lib/python3.9/dist-packages/nvidia/cu13/lib", "/usr/local/lib/python3.9/dist-packages/torch/lib",
        }, r.WheelDirectories(CudaNativeLibrary.Cudnn));
        Assert.Contains("/venv/lib/python3.12/site-packages/nvidia/cublas/lib", r.WheelDirectories(CudaNativeLibrary.Cublas));
        Assert.Contains("/venv/lib/python3.12/site-packages/nvidia/cublas/lib", r.WheelDirectories(CudaNativeLibrary.CublasLt));
        Assert.Contains("/venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib", r.WheelDirectories(CudaNativeLibrary.Nvrtc));
        Assert.Empty(r.WheelDirectories(CudaNativeLibrary.Driver));
    }

    [Fact]
    public void Candidates_TryEveryFolderForTheNewerSonameBeforeTheOlder_AndTheSystemLoaderLast()
    {
        var r = Typical().Resolver();
        var candidates = r.Candidates(CudaNativeLibrary.Runtime);
        int dirs = r.SearchDirectories(CudaNativeLibrary.Runtime).Count;
        Assert.Equal(2 * (dirs + 1), candidates.Count);
        Assert.Equal("/opt/a/libcudart.so.13", candidates[0]);
        Assert.Equal("/opt/b/libcudart.so.13", candidates[1]);
        Assert.Equal("libcudart.so.13", candidates[dirs]);
        Assert.Equal("/opt/a/libcudart.so.12", candidates[dirs + 1]);
        Assert.Equal("libcudart.so.12", candidates[^1]);
        Assert.Equal("/home/u/.local/lib/python3.11/site-packages/nvidia/cu13/lib/libcudart.so.13", candidates[9]);
    }

    [Fact]
    public void Driver_IsLookedForInTheLoaderPathAndSystemFoldersOnly()
    {
        var dirs = Typical().Resolver().SearchDirectories(CudaNativeLibrary.Driver);
        Assert.Equal(new[] { "/opt/a", "/opt/b", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/wsl/lib" }, dirs);
    }

    [Fact]
    public void ExistingCandidates_KeepFilesOnDiskAndBareSonames()
    {
        var m = Typical();
        m.Files.Add("/usr/lib/python3.12/dist-packages/nvidia/cuda_runtime/lib/libcudart.so.12");
        var existing = m.Resolver().ExistingCandidates(CudaNativeLibrary.Runtime).ToList();
        Assert.Equal(new[] { "libcudart.so.13", "/usr/lib/python3.12/dist-packages/nvidia/cuda_runtime/lib/libcudart.so.12", "libcudart.so.12" }, existing);
    }

    [Fact]
    public void Loader_TakesTheFirstCandidateThatLoads()
    {
        var m = Typical();
        string wheel = "/usr/lib/python3.12/site-packages/nvidia/cu13/lib/libcudart.so.13";
        m.Files.Add(wheel);
        m.Files.Add("/usr/local/cuda-12.4/lib64/libcudart.so.12");
        var tried = new List<string>();
        var loader = new CudaLibraryLoader(m.Resolver(), p =>
        {
            tried.Add(p);
            return p == wheel ? (IntPtr)42 : IntPtr.Zero;
        }, _ => Array.Empty<string>());
        var loaded = loader.Load(CudaNativeLibrary.Runtime);
        Assert.Equal(new LoadedLibrary(wheel, 42), loaded);
        Assert.Equal(new[] { wheel }, tried);

        tried.Clear();
        var older = loader.Load(CudaNativeLibrary.Runtime, maxCudaMajor: 12);
        Assert.Null(older);
        Assert.Equal(new[] { "/usr/local/cuda-12.4/lib64/libcudart.so.12", "libcudart.so.12" }, tried);
    }

    [Fact]
    public void Loader_LoadsCudnnSubLibrariesFromTheSameFolderFirst()
    {
        var m = Typical();
        const string dir = "/usr/lib/python3.12/site-packages/nvidia/cudnn/lib";
        m.Files.Add(dir + "/libcudnn.so.9");
        m.Files.Add(dir + "/libcudnn_ops.so.9");
        m.Files.Add(dir + "/libcudnn_graph.so.9");
        m.Files.Add(dir + "/libcudnn_cnn.so.9");
        var tried = new List<string>();
        var loader = new CudaLibraryLoader(m.Resolver(), p =>
        {
            tried.Add(p);
            return p.EndsWith("/libcudnn.so.9", StringComparison.Ordinal) ? (IntPtr)7 : IntPtr.Zero;
        }, _ => Array.Empty<string>());
        Assert.Equal(dir + "/libcudnn.so.9", loader.Load(CudaNativeLibrary.Cudnn)!.Value.Path);
        Assert.Equal(new[] { dir + "/libcudnn_graph.so.9", dir + "/libcudnn_ops.so.9", dir + "/libcudnn_cnn.so.9", dir + "/libcudnn.so.9" }, tried);
    }

    [Fact]
    public void Loader_LoadsTheMatchingNvrtcBuiltinsFirst()
    {
        var m = Typical();
        const string dir = "/opt/a";
        m.Files.Add(dir + "/libnvrtc.so.13");
        var tried = new List<string>();
        var loader = new CudaLibraryLoader(m.Resolver(), p =>
        {
            tried.Add(p);
            return p == dir + "/libnvrtc.so.13" ? (IntPtr)9 : IntPtr.Zero;
        }, d => d == dir ? new[] { "libnvrtc-builtins.so.12.8", "libnvrtc-builtins.so.13.0.88", "libnvrtc-builtins.so.13.0", "libnvrtc.so.13" } : Array.Empty<string>());
        Assert.NotNull(loader.Load(CudaNativeLibrary.Nvrtc));
        Assert.Equal(new[] { dir + "/libnvrtc-builtins.so.13.0", dir + "/libnvrtc.so.13" }, tried);
    }
}
