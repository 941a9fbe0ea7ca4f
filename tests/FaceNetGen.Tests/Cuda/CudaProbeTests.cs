using FaceNetGen.Backends.Cuda;

namespace FaceNetGen.Tests.Cuda;

public class CudaProbeTests
{
    private static CudaLibraryResolver Resolver(ISet<string> folders) => new(
        _ => null, _ => false, folders.Contains, _ => Array.Empty<string>(), home: null);

    [Fact]
    public void MissingRuntime_IsReportedWithTheSonamesAndTheFoldersThatExist()
    {
        var resolver = Resolver(new HashSet<string> { "/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu" });
        string reason = CudaProbe.MissingReason(resolver, CudaNativeLibrary.Runtime, int.MaxValue);
        int searched = resolver.SearchDirectories(CudaNativeLibrary.Runtime).Count;
        Assert.Equal($"CUDA not available: libcudart.so.13/12 not found in /usr/local/cuda/lib64, /usr/lib/x86_64-linux-gnu (the 2 existing of {searched} folders searched), nor by the system loader", reason);
    }

    [Fact]
    public void MissingLibrary_WithNoFolders_SaysSo()
    {
        var resolver = Resolver(new HashSet<string>());
        string reason = CudaProbe.MissingReason(resolver, CudaNativeLibrary.Cudnn, int.MaxValue);
        Assert.StartsWith("CUDA not available: libcudnn.so.9 not found in any of the ", reason);
        Assert.EndsWith(" folders searched (none exists), nor by the system loader", reason);
    }

    [Fact]
    public void MissingRuntime_UnderAnOlderDriver_NamesTheDriversLimit()
    {
        string reason = CudaProbe.MissingReason(Resolver(new HashSet<string>()), CudaNativeLibrary.Runtime, 12);
        Assert.StartsWith("CUDA not available: libcudart.so.12 not found", reason);
        Assert.EndsWith("(the driver supports CUDA up to 12)", reason);
    }

    [Fact]
    public void Loader_WithNothingInstalled_FindsNothing()
    {
        var tried = new List<string>();
        var loader = new CudaLibraryLoader(Resolver(new HashSet<string>()), p =>
        {
            tried.Add(p);
            return IntPtr.Zero;
        }, _ => Array.Empty<string>());
        foreach (var library in Enum.GetValues<CudaNativeLibrary>()) Assert.Null(loader.Load(library));
        // Only the bare sonames were tried (for the system loader): no file existed.
        Assert.All(tried, p => Assert.DoesNotContain('/', p));
        Assert.Contains("libcudart.so.13", tried);
        Assert.Contains("libcuda.so.1", tried);
    }

    [Fact]
    public void Probe_AnswersWithAReasonOrADevice()
    {
        var probe = CudaProbe.Probe();
        if (probe.IsAvailable)
        {
            Assert.NotNull(probe.Device);
            Assert.Equal("", probe.Reason);
            Assert.True(probe.CudnnVersion >= 90000);
        }
        else
        {
            Assert.StartsWith(CudaProbe.NotAvailablePrefix, probe.Reason);
            Assert.Null(probe.Device);
            Assert.Equal(probe.Reason, probe.ToString());
        }
    }

    [Theory]
    [InlineData(13000, "13.0")]
    [InlineData(12080, "12.8")]
    [InlineData(0, "?")]
    public void CudaVersions_AreFormattedAsMajorDotMinor(int version, string text) =>
        Assert.Equal(text, CudaProbeResult.FormatCudaVersion(version));

    [Fact]
    public void CudnnVersions_UseCudnn9Numbering() => Assert.Equal("9.13.1", CudaProbeResult.FormatCudnnVersion(91301));
}
