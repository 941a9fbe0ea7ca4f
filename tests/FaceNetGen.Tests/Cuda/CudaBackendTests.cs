using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Backends.Cuda;
using FaceNetGen.Models;

namespace FaceNetGen.Tests.Cuda;

/// <summary>The CUDA backend against the reference, on the GPU. Skipped, with the probe's reason, where there is none.</summary>
[Collection("cuda")]
public class CudaBackendTests
{
    private static string Failures(IEnumerable<AgreementRow> rows) =>
        string.Join("\n", rows.Where(r => !r.Passed).Select(r => $"{r.Kernel} [{r.Shape}]: {r.MaxRelativeError} > {r.Tolerance}"));

    [CudaFact]
    public void EveryKernel_AgreesWithTheReference()
    {
        using var backend = new CudaBackend();
        var rows = KernelAgreement.Compare(backend, new ReferenceBackend(), seed: 11);
        Assert.Equal(KernelAgreement.KernelNames().Count, rows.Count);
        Assert.True(rows.All(r => r.Passed), Failures(rows));
    }

    [CudaFact]
    public void OwnPoolingAndLrnKernels_AgreeWithTheReference()
    {
        using var backend = new CudaBackend(new CudaBackendOptions { UseCudnnPooling = false, UseCudnnLrn = false, BenchmarkConvolutionAlgorithms = false });
        var rows = KernelAgreement.Compare(backend, new ReferenceBackend(), seed: 12, k => k.StartsWith("pool", StringComparison.Ordinal) || k.StartsWith("lrn", StringComparison.Ordinal));
        Assert.NotEmpty(rows);
        Assert.True(rows.All(r => r.Passed), Failures(rows));
    }

    [CudaFact]
    public void HeuristicConvolutionAlgorithms_AgreeWithTheReference()
    {
        using var backend = new CudaBackend(new CudaBackendOptions { BenchmarkConvolutionAlgorithms = false });
        var rows = KernelAgreement.Compare(backend, new ReferenceBackend(), seed: 13, k => k.StartsWith("conv", StringComparison.Ordinal));
        Assert.True(rows.All(r => r.Passed), Failures(rows));
    }

    [CudaFact]
    public void MiningHelpers_AgreeWithTheHostReference()
    {
        using var backend = new CudaBackend();
        var rows = MiningAgreement.Compare(backend, seed: 5, _ => { });
        Assert.Equal(2, rows.Count);
        Assert.True(rows.All(r => r.Passed), Failures(rows));
    }

    [CudaFact]
    public void Buffers_StartZeroed_RoundTrip_AndBelongToTheirBackend()
    {
        using var backend = new CudaBackend();
        using var buffer = backend.Allocate(1001);
        var host = new float[1001];
        Array.Fill(host, 9f);
        backend.Download(buffer.At(0), host);
        Assert.All(host, v => Assert.Equal(0f, v));
        var values = Enumerable.Range(0, 1001).Select(i => i * 0.5f).ToArray();
        backend.Upload(values, buffer.At(0));
        var back = new float[1000];
        backend.Download(buffer.At(1), back);
        Assert.Equal(values.Skip(1), back);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Download(buffer.At(2), new float[1000]));
        using var cpu = new ReferenceBackend();
        using var cpuBuffer = cpu.Allocate(4);
        Assert.Throws<ArgumentException>(() => backend.Fill(cpuBuffer.At(0), 4, 1f));
    }

    [CudaFact]
    public void SmallModel_ForwardAndBackward_AgreeWithTheReference()
    {
        using var backend = new CudaBackend();
        var result = ModelAgreement.Compare(ModelCatalog.Get("NNS2"), backend, batch: 3, seed: 21);
        Assert.True(result.Passed, $"embeddings {result.EmbeddingError}, worst gradient {result.Gradients.MaxBy(g => g.MaxRelativeError)}");
    }

    [CudaFact]
    public void NN2_ForwardAndBackward_AgreeWithTheReference()
    {
        using var backend = new CudaBackend();
        var result = ModelAgreement.Compare(ModelCatalog.Get("NN2"), backend, batch: 2, seed: 22);
        Assert.True(result.Passed, $"embeddings {result.EmbeddingError}, worst gradient {result.Gradients.MaxBy(g => g.MaxRelativeError)}");
    }

    [CudaFact]
    public void Description_NamesTheDeviceAndLibraries()
    {
        using var backend = new CudaBackend();
        Assert.Equal("cuda", backend.Name);
        Assert.Contains(backend.Device.Name, backend.Description);
        Assert.Contains("cuDNN 9.", backend.Description);
    }
}
