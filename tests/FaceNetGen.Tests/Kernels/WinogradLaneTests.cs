using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Tests.Kernels;

/// <summary>The pieces of F(4×4, 3×3) with images as lanes that the convolution agreement tests do not isolate.</summary>
public unsafe class WinogradLaneTests
{
    [Fact]
    public void Transpose16x16_swaps_rows_and_columns()
    {
        if (!Avx512F.IsSupported)
        {
            // Without AVX-512 no convolution takes F(4×4, 3×3), so the transpose never runs.
            using var cpu = new CpuBackend(2);
            Assert.False(cpu.TakesF4(new ConvGeometry(64, 24, 24, 192, 24, 24, 3, 3, 1, 1, 1, 1)));
            return;
        }
        var r = stackalloc Vector512<float>[16];
        float* f = (float*)r;
        for (int i = 0; i < 256; i++) f[i] = i;
        CpuBackend.Transpose16x16(r);
        for (int row = 0; row < 16; row++)
        {
            for (int col = 0; col < 16; col++) Assert.Equal(16 * col + row, f[16 * row + col]);
        }
    }

    [Theory]
    [InlineData(16, true)]
    [InlineData(32, true)]
    [InlineData(26, true)]
    [InlineData(20, false)]
    [InlineData(8, false)]
    [InlineData(1, false)]
    public void Batches_that_fill_most_lanes_take_the_lane_layout(int n, bool lanes)
    {
        // 16 images fill a lane group; 26 fill 32 lanes to within a quarter; 20 would leave 12 of 32 empty.
        Assert.Equal(lanes, CpuBackend.TakesLanes(n));
    }
}
