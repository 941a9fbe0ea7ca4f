using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Tests.Kernels;

public unsafe class NativeScratchTests
{
    [Fact]
    public void A_guarded_scratch_catches_a_write_past_its_request()
    {
        Assert.True(NativeScratch.Guarded, "the test assembly's module initializer guards scratch buffers");
        using var scratch = new NativeScratch();
        float* p = scratch.Ensure(100);
        for (int i = 0; i < 100; i++) p[i] = i;
        scratch.Verify("test");
        // A smaller request on the grown buffer moves the guard down to it.
        p = scratch.Ensure(40);
        p[40] = 1f;
        var error = Assert.Throws<InvalidOperationException>(() => scratch.Verify("test"));
        Assert.Contains("past its requested 40 floats (at float 40)", error.Message);
        p = scratch.Ensure(40);
        p[40 + NativeScratch.GuardFloats - 1] = 0f;
        Assert.Throws<InvalidOperationException>(() => scratch.Verify("test"));
    }
}

public unsafe class HostMemoryTests
{
    [Theory]
    [InlineData(100)]
    [InlineData(2 << 20)]
    [InlineData((5 << 20) + 12)]
    public void Allocations_are_aligned_and_whole(int bytes)
    {
        // Small buffers are aligned to a cache line; those of 2 MiB and more to a huge page (and advised as such).
        byte* p = (byte*)HostMemory.Allocate((nuint)bytes);
        try
        {
            Assert.Equal(0, (long)p % (bytes >= 2 << 20 ? 2 << 20 : 64));
            new Span<byte>(p, bytes).Fill(0xA5);
            Assert.Equal(bytes - 1, new ReadOnlySpan<byte>(p, bytes).LastIndexOf((byte)0xA5));
        }
        finally
        {
            HostMemory.Free(p);
        }
    }
}
