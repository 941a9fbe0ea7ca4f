using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Tests.Kernels;

/// <summary>The elementwise kernels at every length 0..256 (every SIMD tail), at every level, against the reference.</summary>
public class ElementwiseTailTests
{
    public static IEnumerable<object[]> Levels() =>
        new[] { SimdLevel.Vector512, SimdLevel.Vector256, SimdLevel.Vector128, SimdLevel.Scalar }.Where(l => l <= Gemm.Best).Select(l => new object[] { l });

    [Theory]
    [MemberData(nameof(Levels))]
    public void Every_tail_length_agrees_with_the_reference(SimdLevel level)
    {
        using var cpu = new CpuBackend(1, level);
        for (int length = 0; length <= 256; length++)
        {
            var p = KernelHarness.Random(length, 1 + length);
            var g = KernelHarness.Random(length, 2 + length);
            var s = KernelHarness.Random(length, 3 + length).Select(Math.Abs).ToArray();
            var m = KernelHarness.Random(length, 4 + length);
            KernelHarness.Agree(cpu, new[] { p, g }, (b, v) => b.ReluBackward(v[1], v[0], length), 0, $"relu mask {length}");
            KernelHarness.Agree(cpu, new[] { p, g, s }, (b, v) => b.AdaGradStep(v[0], v[1], v[2], length, 0.05f, 1e-8f), 1e-5, $"adagrad {length}");
            KernelHarness.Agree(cpu, new[] { p, g, m }, (b, v) => b.SgdStep(v[0], v[1], v[2], length, 0.1f, 0.9f, 1e-4f), 1e-6, $"sgd {length}");
            KernelHarness.Agree(cpu, new[] { p, g, m, s }, (b, v) => b.AdamStep(v[0], v[1], v[2], v[3], length, 1e-3f, 0.9f, 0.999f, 1e-8f, 3), 1e-5, $"adam {length}");
        }
    }

    [Fact]
    public void Large_arrays_are_split_across_workers_without_changing_results()
    {
        int length = 300_001;
        var p = KernelHarness.Random(length, 9);
        var g = KernelHarness.Random(length, 10);
        var s = KernelHarness.Random(length, 11).Select(Math.Abs).ToArray();
        using var one = new CpuBackend(1);
        using var three = new CpuBackend(3);
        var a = KernelHarness.Run(one, new[] { p, g, s }, (b, v) => b.AdaGradStep(v[0], v[1], v[2], length, 0.05f, 1e-8f));
        var c = KernelHarness.Run(three, new[] { p, g, s }, (b, v) => b.AdaGradStep(v[0], v[1], v[2], length, 0.05f, 1e-8f));
        Assert.Equal(a[0], c[0]);
        Assert.Equal(a[2], c[2]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_large_fill_covers_its_range_and_nothing_else(int threads)
    {
        // Past the parallel threshold, not a whole number of chunks, and starting inside the buffer.
        long length = CpuBackend.ParallelFillFloats * 3 + 12_345, offset = 77, total = length + 2 * offset;
        var before = KernelHarness.Random((int)total, 12);
        using var cpu = new CpuBackend(threads);
        var filled = KernelHarness.Run(cpu, new[] { before }, (b, v) => b.Fill(v[0].Slice(offset), length, 2.5f))[0];
        for (long i = 0; i < total; i++)
        {
            float expected = i >= offset && i < offset + length ? 2.5f : before[i];
            if (filled[i] != expected) Assert.Fail($"float {i}: {filled[i]}, expected {expected}");
        }
    }
}
