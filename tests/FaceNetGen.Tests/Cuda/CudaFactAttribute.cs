using FaceNetGen.Backends.Cuda;

namespace FaceNetGen.Tests.Cuda;

/// <summary>
/// A fact that needs a CUDA GPU. Where the probe finds none it is skipped with the probe's reason
/// ("CUDA not available: …"), never passed silently; with FACENET_REQUIRE_CUDA=1 it runs anyway, and fails.
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (CudaTestEnvironment.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>A fact about the machine without CUDA: skipped where CUDA is available, since that path cannot be reached there.</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    public NoCudaFactAttribute()
    {
        if (CudaProbe.Probe().IsAvailable) Skip = "CUDA is available here: the CUDA-unavailable path cannot be reached";
    }
}

/// <summary>Whether this test run has CUDA, asked once.</summary>
public static class CudaTestEnvironment
{
    public static bool IsRequired => Environment.GetEnvironmentVariable("FACENET_REQUIRE_CUDA") == "1";

    /// <summary>Null when CUDA tests should run; otherwise the probe's reason.</summary>
    public static string? SkipReason
    {
        get
        {
            if (IsRequired) return null;
            var probe = CudaProbe.Probe();
            return probe.IsAvailable ? null : probe.Reason;
        }
    }
}

/// <summary>The GPU tests share the device: one at a time.</summary>
[CollectionDefinition("cuda", DisableParallelization = true)]
public sealed class CudaCollection
{
}
