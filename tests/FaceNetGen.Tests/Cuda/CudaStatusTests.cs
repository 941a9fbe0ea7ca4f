using System.Runtime.CompilerServices;
using FaceNetGen.Backends.Cuda;

namespace FaceNetGen.Tests.Cuda;

public class CudaStatusTests
{
    private static int Here([CallerLineNumber] int line = 0) => line;

    [Fact]
    public void Success_DoesNotThrow()
    {
        CudaCheck.Runtime(0);
        CudaCheck.Driver(0);
        CudaCheck.Cublas(0);
        CudaCheck.Cudnn(0);
        CudaCheck.Nvrtc(0);
    }

    [Fact]
    public void Runtime_NamesTheStatusAndTheCaller()
    {
        var ex = Assert.Throws<CudaException>(() => CudaCheck.Runtime(2)); int line = Here();
        Assert.Equal(CudaLibrary.Runtime, ex.Library);
        Assert.Equal(2, ex.Status);
        Assert.Equal("cudaErrorMemoryAllocation", ex.StatusName);
        Assert.Equal(line, ex.CallerLine);
        Assert.EndsWith("CudaStatusTests.cs", ex.CallerFile);
        Assert.Equal(nameof(Runtime_NamesTheStatusAndTheCaller), ex.CallerMember);
        Assert.Equal("2", ex.Call);
        Assert.Equal($"CUDA runtime: 2 failed with cudaErrorMemoryAllocation (2) at CudaStatusTests.cs:{line} in {nameof(Runtime_NamesTheStatusAndTheCaller)}", ex.Message);
        Assert.IsAssignableFrom<FaceNetException>(ex);
    }

    [Fact]
    public void Driver_NamesTheStatusAndTheCaller()
    {
        int status = 100;
        var ex = Assert.Throws<CudaException>(() => CudaCheck.Driver(status)); int line = Here();
        Assert.Equal(CudaLibrary.Driver, ex.Library);
        Assert.Equal("CUDA_ERROR_NO_DEVICE", ex.StatusName);
        Assert.Equal("status", ex.Call);
        Assert.Equal(line, ex.CallerLine);
        Assert.StartsWith("CUDA driver: status failed with CUDA_ERROR_NO_DEVICE (100) at CudaStatusTests.cs:", ex.Message);
    }

    [Fact]
    public void Cublas_NamesTheEnumerator()
    {
        var ex = Assert.Throws<CudaException>(() => CudaCheck.Cublas(7)); int line = Here();
        Assert.Equal(CudaLibrary.Cublas, ex.Library);
        Assert.Equal("CUBLAS_STATUS_INVALID_VALUE", ex.StatusName);
        Assert.Equal(line, ex.CallerLine);
        Assert.Equal(nameof(Cublas_NamesTheEnumerator), ex.CallerMember);
    }

    [Fact]
    public void Cudnn_UsesCudnn9Numbering()
    {
        var ex = Assert.Throws<CudaException>(() => CudaCheck.Cudnn(2000)); int line = Here();
        Assert.Equal(CudaLibrary.Cudnn, ex.Library);
        Assert.Equal("CUDNN_STATUS_BAD_PARAM", ex.StatusName);
        Assert.Equal(line, ex.CallerLine);
        Assert.Equal("CUDNN_STATUS_NOT_SUPPORTED", CudaStatusNames.FromTable(CudaLibrary.Cudnn, 3000));
        Assert.Equal("CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH", CudaStatusNames.FromTable(CudaLibrary.Cudnn, 1002));
        Assert.Equal("CUDNN_STATUS_EXECUTION_FAILED", CudaStatusNames.FromTable(CudaLibrary.Cudnn, 5000));
    }

    [Fact]
    public void Nvrtc_NamesTheResult()
    {
        var ex = Assert.Throws<CudaException>(() => CudaCheck.Nvrtc(6)); int line = Here();
        Assert.Equal(CudaLibrary.Nvrtc, ex.Library);
        Assert.Equal("NVRTC_ERROR_COMPILATION", ex.StatusName);
        Assert.Equal(line, ex.CallerLine);
        Assert.StartsWith("NVRTC: 6 failed with NVRTC_ERROR_COMPILATION (6)", ex.Message);
    }

    [Theory]
    [InlineData(CudaLibrary.Runtime, 35, "cudaErrorInsufficientDriver")]
    [InlineData(CudaLibrary.Runtime, 100, "cudaErrorNoDevice")]
    [InlineData(CudaLibrary.Runtime, 700, "cudaErrorIllegalAddress")]
    [InlineData(CudaLibrary.Driver, 201, "CUDA_ERROR_INVALID_CONTEXT")]
    [InlineData(CudaLibrary.Driver, 209, "CUDA_ERROR_NO_BINARY_FOR_GPU")]
    [InlineData(CudaLibrary.Cublas, 13, "CUBLAS_STATUS_EXECUTION_FAILED")]
    [InlineData(CudaLibrary.Cublas, 15, "CUBLAS_STATUS_NOT_SUPPORTED")]
    [InlineData(CudaLibrary.Nvrtc, 5, "NVRTC_ERROR_INVALID_OPTION")]
    public void Tables_NameTheCommonCodes(CudaLibrary library, int status, string name) =>
        Assert.Equal(name, CudaStatusNames.FromTable(library, status));

    [Fact]
    public void UnknownCodes_SayWhichLibraryAndNumber()
    {
        Assert.Equal("cuBLAS status 12345", CudaStatusNames.FromTable(CudaLibrary.Cublas, 12345));
        Assert.Equal("CUDA runtime status 4242", CudaStatusNames.FromTable(CudaLibrary.Runtime, 4242));
        var ex = Assert.Throws<CudaException>(() => CudaCheck.Cublas(12345));
        Assert.Equal("cuBLAS status 12345", ex.StatusName);
    }

    [Fact]
    public void EveryTable_StartsWithSuccessAtZero()
    {
        foreach (var table in new[] { CudaStatusNames.RuntimeNames, CudaStatusNames.DriverNames, CudaStatusNames.CublasNames, CudaStatusNames.CudnnNames, CudaStatusNames.NvrtcNames })
        {
            Assert.Contains("SUCCESS", table[0], StringComparison.OrdinalIgnoreCase);
            Assert.Equal(table.Count, table.Values.Distinct().Count());
        }
    }
}
