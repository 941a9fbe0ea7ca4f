using FaceNetGen.Training;

namespace FaceNetGen.Backends.Cuda;

/// <summary>
/// The trainer's GPU helpers for triplet selection, on a <see cref="CudaBackend"/>'s stream: the matrix of pairwise
/// squared distances of a batch of embeddings (cuBLAS), and the semi-hard negative of every anchor-positive pair.
/// </summary>
public sealed unsafe class CudaTripletMining : IDisposable
{
    private readonly CudaBackend _backend;
    private CudaMemory? _gram;
    private CudaMemory? _labels;
    private CudaMemory? _selection;

    public CudaTripletMining(CudaBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        _backend = backend;
    }

    /// <summary>
    /// distances[a·n + b] = ‖e_a − e_b‖² for the n embeddings of <paramref name="embeddings"/> ((n, dim), row-major),
    /// computed as ‖e_a‖² + ‖e_b‖² − 2 e_a·e_b from the Gram matrix (cuBLAS SGEMM), clamped at 0, exactly symmetric, 0 on
    /// the diagonal.
    /// </summary>
    public void PairwiseSquaredDistances(int n, int dim, BufferView embeddings, BufferView distances)
    {
        if (n < 1 || dim < 1) throw new ArgumentOutOfRangeException(nameof(n), "n and dim must be positive.");
        _backend.EnsureContext();
        IntPtr e = _backend.Ptr(embeddings, (long)n * dim), d = _backend.Ptr(distances, (long)n * n);
        IntPtr gram = Grow(ref _gram, (long)n * n * sizeof(float));
        float one = 1, zero = 0;
        // Row-major E (n, dim) is column-major Eᵀ (dim × n, ld dim); G = E·Eᵀ = (Eᵀ)ᵀ·Eᵀ: gemm(T, N, m = n, n = n, k = dim).
        CudaCheck.Cublas(CublasApi.cublasSgemm_v2(_backend.Cublas, CublasApi.OpT, CublasApi.OpN, n, n, dim, &one, e, dim, e, dim, &zero, gram, n));
        CudaCheck.Driver(_backend.Kernels.Launch("sqdist_from_gram", (long)n * n, _backend.Stream, gram, d, n));
    }

    /// <summary>
    /// The semi-hard negative of every (anchor, positive) pair, by exactly the rule of <see cref="SemiHardNegatives"/>:
    /// for a ≠ p with the same label, the negative k (another label) with d(a,p) &lt; d(a,k) &lt; d(a,p) + α and the
    /// smallest d(a,k), ties to the smallest k; <see cref="SemiHardNegatives.Dropped"/> (−1) when there is none;
    /// <see cref="SemiHardNegatives.NotAPair"/> (−2) where (a, p) is not a pair. <paramref name="result"/> is n × n,
    /// indexed a·n + p; this call waits for the result.
    /// </summary>
    public void SelectSemiHardNegatives(int n, BufferView distances, ReadOnlySpan<int> labels, float alpha, Span<int> result)
    {
        SemiHardNegatives.Check(n, n * n, labels.Length, result.Length);
        _backend.EnsureContext();
        IntPtr d = _backend.Ptr(distances, (long)n * n);
        IntPtr l = Grow(ref _labels, (long)n * sizeof(int));
        IntPtr s = Grow(ref _selection, (long)n * n * sizeof(int));
        fixed (int* host = labels)
        {
            CudaCheck.Runtime(CudaRuntimeApi.cudaMemcpyAsync(l, (IntPtr)host, (nuint)n * sizeof(int), CudaRuntimeApi.MemcpyHostToDevice, _backend.Stream));
            CudaCheck.Runtime(CudaRuntimeApi.cudaStreamSynchronize(_backend.Stream));
        }
        CudaCheck.Driver(_backend.Kernels.Launch("semihard_select", (long)n * n, _backend.Stream, d, l, n, alpha, s));
        fixed (int* host = result)
        {
            CudaCheck.Runtime(CudaRuntimeApi.cudaMemcpyAsync((IntPtr)host, s, (nuint)((long)n * n * sizeof(int)), CudaRuntimeApi.MemcpyDeviceToHost, _backend.Stream));
            CudaCheck.Runtime(CudaRuntimeApi.cudaStreamSynchronize(_backend.Stream));
        }
    }

    private IntPtr Grow(ref CudaMemory? memory, long bytes)
    {
        if (memory is null || memory.Bytes < bytes)
        {
            if (memory is not null)
            {
                _backend.Synchronize();
                memory.Dispose();
            }
            memory = null;
            memory = new CudaMemory(Math.Max(bytes, 4));
        }
        return memory.Pointer;
    }

    public void Dispose()
    {
        _gram?.Dispose();
        _labels?.Dispose();
        _selection?.Dispose();
    }
}
