using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cpu;

/// <summary>Host memory for the CPU backends: 64-byte aligned (one AVX-512 vector), zeroed, freed on Dispose.</summary>
public sealed unsafe class CpuBuffer : DeviceBuffer
{
    private float* _data;

    internal CpuBuffer(IBackend owner, long length)
        : base(owner, length)
    {
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        _data = (float*)HostMemory.Allocate(bytes);
        NativeMemory.Clear(_data, bytes);
    }

    public float* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _data;
        }
    }

    protected override void Free()
    {
        HostMemory.Free(_data);
        _data = null;
    }

    /// <summary>A span over <paramref name="length"/> floats at <paramref name="view"/>, bounds-checked against the buffer.</summary>
    public static Span<float> Span(BufferView view, long length)
    {
        if (view.Buffer is not CpuBuffer buffer)
        {
            throw new ArgumentException(view.Buffer is null
                ? "A kernel was given an empty buffer view."
                : $"A CPU kernel was given a {view.Buffer.GetType().Name}; buffers belong to the backend that allocated them.");
        }
        if (view.Offset < 0 || length < 0 || view.Offset + length > buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(view), $"[{view.Offset}, {view.Offset + length}) lies outside a buffer of {buffer.Length} floats.");
        }
        if (length > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(length), "A single kernel operand is limited to 2^31 floats.");
        return new Span<float>(buffer.Pointer + view.Offset, (int)length);
    }

    /// <summary>The raw pointer at <paramref name="view"/> after the same checks as <see cref="Span"/>.</summary>
    public static float* Ptr(BufferView view, long length)
    {
        var span = Span(view, length);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
    }
}
