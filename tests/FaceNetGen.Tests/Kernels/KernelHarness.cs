using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Tests.Kernels;

/// <summary>Runs one kernel on two backends over the same host data and compares what they wrote.</summary>
internal static class KernelHarness
{
    public static float[] Random(int length, int seed, float scale = 1f)
    {
        var r = new DeterministicRandom((ulong)seed);
        var a = new float[length];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>Every SIMD level this machine runs, and the backends to test at it.</summary>
    public static IEnumerable<object[]> Backends()
    {
        foreach (var level in new[] { SimdLevel.Vector512, SimdLevel.Vector256, SimdLevel.Vector128, SimdLevel.Scalar })
        {
            if (level > Gemm.Best) continue;
            yield return new object[] { level, 1 };
            yield return new object[] { level, 2 };
        }
        // More workers than this machine has cores: exercises uneven static partitions.
        yield return new object[] { Gemm.Best, 5 };
    }

    /// <summary>Uploads each array, runs <paramref name="kernel"/>, downloads every array again.</summary>
    public static float[][] Run(IBackend backend, float[][] inputs, Action<IBackend, BufferView[]> kernel)
    {
        var buffers = inputs.Select(a => backend.Allocate(a.Length)).ToArray();
        try
        {
            for (int i = 0; i < inputs.Length; i++) backend.Upload(inputs[i], buffers[i].At(0));
            kernel(backend, buffers.Select(b => b.At(0)).ToArray());
            backend.Synchronize();
            (backend as CpuBackend)?.VerifyScratch();
            return buffers.Select(b =>
            {
                var host = new float[b.Length];
                backend.Download(b.At(0), host);
                return host;
            }).ToArray();
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
        }
    }

    /// <summary>Runs the kernel on the reference and on <paramref name="backend"/> and asserts all arrays agree.</summary>
    public static void Agree(IBackend backend, float[][] inputs, Action<IBackend, BufferView[]> kernel, double tolerance = 1e-4, string what = "")
    {
        using var reference = new ReferenceBackend();
        var expected = Run(reference, inputs, kernel);
        var actual = Run(backend, inputs, kernel);
        for (int i = 0; i < expected.Length; i++) AssertClose(expected[i], actual[i], tolerance, $"{what} array {i}");
    }

    /// <summary>max |a − e| ≤ tolerance · max(1, max |e|).</summary>
    public static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max());
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - (double)actual[i]);
            if (double.IsNaN(actual[i]) || d > worst)
            {
                worst = double.IsNaN(actual[i]) ? double.PositiveInfinity : d;
                at = i;
            }
        }
        Assert.True(worst <= tolerance * scale, $"{what}: max error {worst:G3} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}), allowed {tolerance * scale:G3}");
    }
}
