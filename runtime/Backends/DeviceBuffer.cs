namespace FaceNetGen.Backends;

/// <summary>
/// A block of float memory owned by a backend (host memory for the CPU backend, device memory for CUDA).
/// It is freed by <see cref="Dispose"/>, never left to a finalizer.
/// </summary>
public abstract class DeviceBuffer : IDisposable
{
    protected DeviceBuffer(IBackend owner, long length)
    {
        Owner = owner;
        Length = length;
    }

    public IBackend Owner { get; }

    /// <summary>Length in floats.</summary>
    public long Length { get; }

    public bool IsDisposed { get; private set; }

    public BufferView At(long offset) => new(this, offset);

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Free();
        GC.SuppressFinalize(this);
    }

    protected abstract void Free();
}

/// <summary>A position in a <see cref="DeviceBuffer"/>: what kernels read and write. A struct, so passing it allocates nothing.</summary>
public readonly struct BufferView
{
    public BufferView(DeviceBuffer buffer, long offset)
    {
        Buffer = buffer;
        Offset = offset;
    }

    public DeviceBuffer Buffer { get; }

    public long Offset { get; }

    public bool IsEmpty => Buffer is null;

    public BufferView Slice(long offset) => new(Buffer, Offset + offset);

    public override string ToString() => Buffer is null ? "(none)" : $"{Buffer.GetType().Name}+{Offset}";
}
