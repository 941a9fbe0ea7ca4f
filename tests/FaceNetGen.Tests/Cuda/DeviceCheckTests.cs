using System.Text.Json;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Backends.Cuda;
using FaceNetGen.Models;

namespace FaceNetGen.Tests.Cuda;

/// <summary>The device check's machinery, exercised on the CPU: the reference against itself, and against broken kernels.</summary>
public class DeviceCheckTests
{
    [Fact]
    public void KernelAgreement_ReferenceAgainstItself_IsExactForEveryKernel()
    {
        var rows = KernelAgreement.Compare(new ReferenceBackend(), new ReferenceBackend(), seed: 7);
        Assert.Equal(KernelAgreement.KernelNames().Count, rows.Count);
        Assert.All(rows, r => Assert.Equal(0, r.MaxRelativeError));
        // Every kernel of the interface is covered.
        var kernels = rows.Select(r => r.Kernel).ToHashSet();
        foreach (var k in new[]
                 {
                     "conv forward", "conv backward data", "conv backward filter", "relu backward", "pool forward", "pool backward", "lrn forward", "lrn backward",
                     "concat forward", "concat backward", "linear forward", "linear backward data", "linear backward filter", "maxout forward", "maxout backward",
                     "l2 normalize forward", "l2 normalize backward", "adagrad step", "sgd step", "adam step", "fill", "copy",
                 })
        {
            Assert.Contains(k, kernels);
        }
    }

    [Fact]
    public void KernelAgreement_CatchesAKernelThatIgnoresAccumulate()
    {
        var rows = KernelAgreement.Compare(new DelegatingBackend { IgnoreConcatAccumulate = true }, new ReferenceBackend(), seed: 7, k => k.StartsWith("concat", StringComparison.Ordinal));
        // Forward, backward (assigning and accumulating), and backward with the ReLU folded in, which always assigns.
        Assert.Equal(4, rows.Count);
        Assert.Single(rows, r => !r.Passed);
        Assert.Contains("dx +=", rows.Single(r => !r.Passed).Shape);
    }

    [Fact]
    public void KernelAgreement_CatchesWrongResults()
    {
        var rows = KernelAgreement.Compare(new DelegatingBackend { SkipReluBackward = true, L2PoolWithoutRoot = true }, new ReferenceBackend(), seed: 7,
            k => k is "relu backward" or "concat+relu backward" or "pool forward");
        Assert.False(rows.Single(r => r.Kernel == "relu backward").Passed);
        // The folded ReLU backward falls back on the ReLU backward kernel unless a backend fuses the two.
        Assert.False(rows.Single(r => r.Kernel == "concat+relu backward").Passed);
        Assert.All(rows.Where(r => r.Shape.Contains("(L2", StringComparison.Ordinal)), r => Assert.False(r.Passed));
        Assert.All(rows.Where(r => r.Kernel == "pool forward" && !r.Shape.Contains("(L2", StringComparison.Ordinal)), r => Assert.True(r.Passed));
    }

    [Theory]
    [InlineData(new float[] { 1, 2, 3 }, new float[] { 1, 2, 3 }, 0)]
    [InlineData(new float[] { 1, 2, 3.5f }, new float[] { 1, 2, 4 }, 0.125)]
    [InlineData(new float[] { 0, 0 }, new float[] { 0, 0 }, 0)]
    [InlineData(new float[] { 0, 1e-9f }, new float[] { 0, 0 }, double.PositiveInfinity)]
    [InlineData(new float[] { float.NaN, 1 }, new float[] { 1, 1 }, double.PositiveInfinity)]
    [InlineData(new float[] { 1 }, new float[] { 1, 1 }, double.PositiveInfinity)]
    public void RelativeError_IsTheLargestDifferenceOverTheReferenceScale(float[] actual, float[] expected, double error) =>
        Assert.Equal(error, KernelAgreement.RelativeError(actual, expected), 12);

    [Fact]
    public void ModelAgreement_ReferenceAgainstItself_AgreesOnASmallModel()
    {
        var result = ModelAgreement.Compare(ModelCatalog.Get("NNS2"), new ReferenceBackend(), batch: 2, seed: 3);
        Assert.Equal("NNS2", result.Model);
        Assert.Equal(ModelCatalog.Get("NNS2").Info.Parameters.Count, result.Gradients.Count);
        Assert.True(result.Passed);
        // The candidate sums the two images in one call; the reference sums two batch-1 runs: equal to float rounding.
        Assert.True(result.EmbeddingError == 0, $"embeddings differ by {result.EmbeddingError}");
        Assert.True(result.MaxGradientError < 1e-5, $"gradients differ by {result.MaxGradientError}");
        Assert.Contains(result.Gradients, g => g.MaxRelativeError == 0);
    }

    [Fact]
    public void Report_WithoutCuda_ExitsWith3AndSaysWhy()
    {
        var report = new DeviceCheckReport { Probe = CudaProbeResult.Unavailable("libcudart.so.13/12 not found in /x") };
        Assert.Equal(DeviceCheck.ExitUnavailable, report.ExitCode);
        Assert.False(report.Passed);
        using var doc = JsonDocument.Parse(report.ToJson());
        Assert.False(doc.RootElement.GetProperty("available").GetBoolean());
        Assert.Equal("CUDA not available: libcudart.so.13/12 not found in /x", doc.RootElement.GetProperty("reason").GetString());
        Assert.Equal(3, doc.RootElement.GetProperty("exitCode").GetInt32());
    }

    private static CudaProbeResult AvailableProbe() => new(true, "", new CudaDeviceInfo(0, "Test GPU", 9, 0, 132, 80L << 30), 13000, 13000, 91300, "13.0",
        new Dictionary<CudaNativeLibrary, string> { [CudaNativeLibrary.Runtime] = "/lib/libcudart.so.13" });

    [Fact]
    public void Report_WithAFailedKernel_ExitsWith1AndNamesIt()
    {
        var report = new DeviceCheckReport { Probe = AvailableProbe() };
        report.Kernels.Add(new AgreementRow("conv forward", "n=2", 1e-6, 1e-4));
        Assert.Equal(DeviceCheck.ExitPassed, report.ExitCode);
        report.Kernels.Add(new AgreementRow("lrn backward", "n=3", double.NaN, 1e-5));
        Assert.Equal(DeviceCheck.ExitFailed, report.ExitCode);
        Assert.Contains("lrn backward [n=3] error NaN", report.FailureSummary());
        using var doc = JsonDocument.Parse(report.ToJson());
        var kernels = doc.RootElement.GetProperty("kernels");
        Assert.Equal("NaN", kernels[1].GetProperty("maxRelativeError").GetString());
        Assert.False(kernels[1].GetProperty("passed").GetBoolean());
        Assert.Equal("Test GPU", doc.RootElement.GetProperty("device").GetString());
    }

    [Fact]
    public void Report_WithAnError_Fails()
    {
        var report = new DeviceCheckReport { Probe = AvailableProbe() };
        report.Errors.Add("model agreement failed: CudaException: …");
        Assert.Equal(DeviceCheck.ExitFailed, report.ExitCode);
    }

    [Fact]
    public void Report_JsonCarriesThroughput()
    {
        var report = new DeviceCheckReport { Probe = AvailableProbe(), Train = new ThroughputResult("NN2", "train step", 64, 20, 80) };
        using var doc = JsonDocument.Parse(report.ToJson());
        var train = doc.RootElement.GetProperty("throughput").GetProperty("train");
        Assert.Equal(64, train.GetProperty("batch").GetInt32());
        Assert.Equal(800, train.GetProperty("imagesPerSecond").GetDouble());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("throughput").GetProperty("embed").ValueKind);
    }

    [Fact]
    public void WriteJson_IsAtomicAndLeavesNoTemporaryFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "facenet-devicecheck-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "report.json");
            var report = new DeviceCheckReport { Probe = AvailableProbe() };
            report.WriteJson(path);
            report.Kernels.Add(new AgreementRow("fill", "3", 0, 1e-5));
            report.WriteJson(path);
            Assert.Equal(new[] { "report.json" }, Directory.GetFiles(dir).Select(Path.GetFileName));
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            Assert.Equal(1, doc.RootElement.GetProperty("kernels").GetArrayLength());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Throughput_RunsOnAnyBackend()
    {
        var t = Throughput.TrainingStep(ModelCatalog.Get("NNS2"), new ReferenceBackend(), batch: 1, warmup: 0, steps: 1, seed: 1);
        Assert.Equal(1, t.Batch);
        Assert.True(t.MillisecondsPerStep > 0);
        Assert.Equal(1000.0 / t.MillisecondsPerStep, t.ImagesPerSecond, 9);
    }
}
