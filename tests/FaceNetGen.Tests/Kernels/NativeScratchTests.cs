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
