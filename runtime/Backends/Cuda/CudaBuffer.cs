namespace FaceNetGen.Backends.Cuda;

/// <summary>
/// Device memory of the CUDA backend: <see cref="DeviceBuffer.Length"/> floats, zeroed at allocation, freed by
/// <see cref="DeviceBuffer.Dispose"/> (cudaFree) and never by a finalizer.
/// </summary>
public sealed class CudaBuffer : DeviceBuffer
{
    private IntPtr _pointer;

    internal CudaBuffer(CudaBackend owner, long length, IntPtr pointer)
        : base(owner, length)
    {
        _pointer = pointer;
    }

    /// <summary>The device address of the first float.</summary>
    public IntPtr DevicePointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _pointer;
        }
    }

    protected override void Free()
    {
        if (_pointer == IntPtr.Zero) return;
        // cudaFree waits for the device; a failure here (a context already torn down) leaves nothing to do.
        _ = CudaRuntimeApi.cudaFree(_pointer);
        _pointer = IntPtr.Zero;
    }

    /// <summary>
    /// The device address of <paramref name="length"/> floats at <paramref name="view"/>, after checking that the view
    /// belongs to <paramref name="backend"/> and lies inside its buffer.
    /// </summary>
    internal static IntPtr Address(CudaBackend backend, BufferView view, long length)
    {
        if (view.Buffer is not CudaBuffer buffer)
        {
            throw new ArgumentException(view.Buffer is null
                ? "A kernel was given an empty buffer view."
                : $"A CUDA kernel was given a {view.Buffer.GetType().Name}; buffers belong to the backend that allocated them.");
        }
        if (!ReferenceEquals(buffer.Owner, backend)) throw new ArgumentException("A CUDA kernel was given a buffer of another CUDA backend.");
        if (view.Offset < 0 || length < 0 || view.Offset + length > buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(view), $"[{view.Offset}, {view.Offset + length}) lies outside a buffer of {buffer.Length} floats.");
        }
        return buffer.DevicePointer + (nint)(view.Offset * sizeof(float));
    }
}

/// <summary>Raw device memory in bytes, for what is not a float tensor (workspaces, labels, selections). Freed on Dispose.</summary>
internal sealed class CudaMemory : IDisposable
{
    private IntPtr _pointer;

    public CudaMemory(long bytes)
    {
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes));
        Bytes = bytes;
        if (bytes > 0) CudaCheck.Runtime(CudaRuntimeApi.cudaMalloc(out _pointer, (nuint)bytes));
    }

    public long Bytes { get; }

    public IntPtr Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == IntPtr.Zero && Bytes > 0, this);
            return _pointer;
        }
    }

    public void Dispose()
    {
        if (_pointer != IntPtr.Zero) _ = CudaRuntimeApi.cudaFree(_pointer);
        _pointer = IntPtr.Zero;
    }
}
