using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cpu;

/// <summary>A growable, 64-byte aligned float buffer. It only grows, so after the first step of a model nothing is allocated.</summary>
internal sealed unsafe class NativeScratch : IDisposable
{
    /// <summary>
    /// Floats past each request that a guarded scratch fills with <see cref="Canary"/> and <see cref="Verify"/> checks:
    /// a kernel that writes past what it asked for is caught in tests, where the buffer would otherwise often be
    /// larger from an earlier, bigger request.
    /// </summary>
    internal const int GuardFloats = 64;

    /// <summary>The bit pattern of a guard float (a NaN no arithmetic produces).</summary>
    internal const uint Canary = 0x7FC0_DEADu;

    /// <summary>Whether new scratch buffers are guarded (set by the tests before they create backends).</summary>
    internal static bool Guarded { get; set; }

    private readonly bool _guarded = Guarded;
    private long _requested;

    public float* Pointer { get; private set; }

    public long Capacity { get; private set; }

    public float* Ensure(long floats)
    {
        long need = _guarded ? floats + GuardFloats : floats;
        if (need > Capacity)
        {
            if (Pointer != null) HostMemory.Free(Pointer);
            long rounded = (need + 15) / 16 * 16;
            Pointer = (float*)HostMemory.Allocate((nuint)rounded * sizeof(float));
            Capacity = rounded;
        }
        if (_guarded)
        {
            _requested = floats;
            new Span<uint>(Pointer + floats, GuardFloats).Fill(Canary);
        }
        return Pointer;
    }

    /// <summary>Throws if a guarded buffer was written past its last request.</summary>
    public void Verify(string name)
    {
        if (!_guarded || Pointer == null) return;
        var guard = new ReadOnlySpan<uint>(Pointer + _requested, GuardFloats);
        int at = guard.IndexOfAnyExcept(Canary);
        if (at >= 0) throw new InvalidOperationException($"Scratch buffer {name} was written past its requested {_requested} floats (at float {_requested + at}).");
    }

    public void Dispose()
    {
        if (Pointer != null) HostMemory.Free(Pointer);
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

    /// <summary>Throws if a guarded buffer was written past its last request (see <see cref="NativeScratch.Verify"/>).</summary>
    public void Verify(int worker)
    {
        Pack.Verify($"Pack of worker {worker}");
        Col.Verify($"Col of worker {worker}");
        Tmp.Verify($"Tmp of worker {worker}");
        Gemm.Verify($"Gemm of worker {worker}");
        Im2Col.Verify($"Im2Col of worker {worker}");
    }

    public void Dispose()
    {
        Im2Col.Dispose();
        Pack.Dispose();
        Col.Dispose();
        Tmp.Dispose();
        Gemm.Dispose();
    }
}
