using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cuda;

/// <summary>cuBLAS (libcublas.so.13 or .12, with libcublasLt beside it): a handle bound to our stream and SGEMM.</summary>
/// <remarks>cuBLAS is column-major; <see cref="CudaBackend"/> maps our row-major matrices onto it (see its linear kernels).</remarks>
internal static unsafe partial class CublasApi
{
    public const int OpN = 0;
    public const int OpT = 1;
    public const int DefaultMath = 0;

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial int cublasCreate_v2(out CublasHandle handle);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial int cublasDestroy_v2(IntPtr handle);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial int cublasSetStream_v2(CublasHandle handle, IntPtr stream);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial int cublasSetMathMode(CublasHandle handle, int mode);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial int cublasGetVersion_v2(CublasHandle handle, out int version);

    /// <summary>C = alpha·op(A)·op(B) + beta·C, column-major; alpha and beta in host memory.</summary>
    [LibraryImport(CudaLibraries.CublasName)]
    public static partial int cublasSgemm_v2(
        CublasHandle handle, int transA, int transB, int m, int n, int k,
        float* alpha, IntPtr a, int lda, IntPtr b, int ldb, float* beta, IntPtr c, int ldc);
}
