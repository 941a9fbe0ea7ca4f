using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cpu;

/// <summary>A growable, 64-byte aligned float buffer. It only grows, so after the first step of a model nothing is allocated.</summary>
internal sealed unsafe class NativeScratch : IDisposable
{
    public float* Pointer { get; private set; }

    public long Capacity { get; private set; }

    public float* Ensure(long floats)
    {
        if (floats > Capacity)
        {
            if (Pointer != null) NativeMemory.AlignedFree(Pointer);
            long rounded = (floats + 15) / 16 * 16;
            Pointer = (float*)NativeMemory.AlignedAlloc((nuint)rounded * sizeof(float), 64);
            Capacity = rounded;
        }
        return Pointer;
    }

    public void Dispose()
    {
        if (Pointer != null) NativeMemory.AlignedFree(Pointer);
        Pointer = null;
        Capacity = 0;
    }
}

/// <summary>The scratch buffers of one worker thread.</summary>
internal sealed class WorkerScratch : IDisposable
{
    public NativeScratch Pack { get; } = new();

    public NativeScratch Col { get; } = new();

    public NativeScratch Tmp { get; } = new();

    public NativeScratch Gemm { get; } = new();

    /// <summary>The padded input rows and row buffer of <see cref="Im2Col.Pack"/>.</summary>
    public NativeScratch Im2Col { get; } = new();

    public void Dispose()
    {
        Im2Col.Dispose();
        Pack.Dispose();
        Col.Dispose();
        Tmp.Dispose();
        Gemm.Dispose();
    }
}
