namespace FaceNetGen.Backends.Cuda;

/// <summary>Times work queued on a <see cref="CudaBackend"/>'s stream with two CUDA events (the GPU's own clock).</summary>
public sealed class CudaEventTimer : IDisposable
{
    private readonly CudaBackend _backend;
    private readonly CudaEventHandle _start;
    private readonly CudaEventHandle _stop;

    internal CudaEventTimer(CudaBackend backend)
    {
        _backend = backend;
        CudaCheck.Runtime(CudaRuntimeApi.cudaEventCreate(out _start));
        try
        {
            CudaCheck.Runtime(CudaRuntimeApi.cudaEventCreate(out _stop));
        }
        catch
        {
            _start.Dispose();
            throw;
        }
    }

    /// <summary>Records the start event on the stream.</summary>
    public void Start()
    {
        _backend.EnsureContext();
        CudaCheck.Runtime(CudaRuntimeApi.cudaEventRecord(_start, _backend.Stream));
    }

    /// <summary>Records the stop event, waits for it, and returns the milliseconds between the two events.</summary>
    public double Stop()
    {
        _backend.EnsureContext();
        CudaCheck.Runtime(CudaRuntimeApi.cudaEventRecord(_stop, _backend.Stream));
        CudaCheck.Runtime(CudaRuntimeApi.cudaEventSynchronize(_stop));
        CudaCheck.Runtime(CudaRuntimeApi.cudaEventElapsedTime(out float ms, _start, _stop));
        return ms;
    }

    public void Dispose()
    {
        _start.Dispose();
        _stop.Dispose();
    }
}
