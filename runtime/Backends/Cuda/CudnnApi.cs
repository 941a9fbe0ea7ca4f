using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cuda;

/// <summary>
/// cuDNN 9 (libcudnn.so.9 and its sub-libraries): descriptors, convolutions with algorithm search and workspace,
/// the bias gradient, pooling and cross-channel LRN. Scaling factors (alpha, beta) are host floats: the result is
/// alpha·op + beta·previous, so beta = 1 accumulates and beta = 0 overwrites without reading the destination.
/// </summary>
internal static unsafe partial class CudnnApi
{
    public const int TensorNchw = 0;
    public const int DataFloat = 0;
    public const int CrossCorrelation = 1;
    public const int FmaMath = 3;
    public const int PoolingMax = 0;
    public const int PoolingAverageExcludePadding = 2;
    public const int NotPropagateNan = 0;
    public const int LrnCrossChannel = 0;
    public const int LrnMinN = 1;
    public const int LrnMaxN = 16;
    public const double LrnMinK = 1e-5;
    public const double LrnMinBeta = 0.01;

    /// <summary>cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t: the three share this layout.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct AlgoPerf
    {
        public int Algo;
        public int Status;
        public float Time;
        public nuint Memory;
        public int Determinism;
        public int MathType;
        public int Reserved0;
        public int Reserved1;
        public int Reserved2;
    }

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial nuint cudnnGetVersion();

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial IntPtr cudnnGetErrorString(int status);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnCreate(out CudnnHandle handle);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnDestroy(IntPtr handle);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnSetStream(CudnnHandle handle, IntPtr stream);

    // ---- descriptors -------------------------------------------------------------------------------------

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnCreateTensorDescriptor(out CudnnTensorDescriptor descriptor);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnSetTensor4dDescriptor(CudnnTensorDescriptor descriptor, int format, int dataType, int n, int c, int h, int w);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnDestroyTensorDescriptor(IntPtr descriptor);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnCreateFilterDescriptor(out CudnnFilterDescriptor descriptor);

    /// <summary>Note the order: data type before format (the tensor call has format first).</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnSetFilter4dDescriptor(CudnnFilterDescriptor descriptor, int dataType, int format, int k, int c, int h, int w);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnDestroyFilterDescriptor(IntPtr descriptor);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnCreateConvolutionDescriptor(out CudnnConvolutionDescriptor descriptor);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnSetConvolution2dDescriptor(CudnnConvolutionDescriptor descriptor, int padH, int padW, int strideH, int strideW, int dilationH, int dilationW, int mode, int computeType);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnSetConvolutionMathType(CudnnConvolutionDescriptor descriptor, int mathType);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnDestroyConvolutionDescriptor(IntPtr descriptor);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnGetConvolution2dForwardOutputDim(CudnnConvolutionDescriptor convolution, CudnnTensorDescriptor x, CudnnFilterDescriptor w, out int n, out int c, out int h, out int wOut);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnCreatePoolingDescriptor(out CudnnPoolingDescriptor descriptor);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnSetPooling2dDescriptor(CudnnPoolingDescriptor descriptor, int mode, int nanPropagation, int windowH, int windowW, int padH, int padW, int strideH, int strideW);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnDestroyPoolingDescriptor(IntPtr descriptor);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnCreateLRNDescriptor(out CudnnLrnDescriptor descriptor);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnSetLRNDescriptor(CudnnLrnDescriptor descriptor, uint n, double alpha, double beta, double k);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnDestroyLRNDescriptor(IntPtr descriptor);

    // ---- convolution forward -----------------------------------------------------------------------------

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnFindConvolutionForwardAlgorithm(CudnnHandle handle, CudnnTensorDescriptor x, CudnnFilterDescriptor w, CudnnConvolutionDescriptor convolution, CudnnTensorDescriptor y, int requested, out int returned, AlgoPerf* results);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnGetConvolutionForwardAlgorithm_v7(CudnnHandle handle, CudnnTensorDescriptor x, CudnnFilterDescriptor w, CudnnConvolutionDescriptor convolution, CudnnTensorDescriptor y, int requested, out int returned, AlgoPerf* results);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnGetConvolutionForwardWorkspaceSize(CudnnHandle handle, CudnnTensorDescriptor x, CudnnFilterDescriptor w, CudnnConvolutionDescriptor convolution, CudnnTensorDescriptor y, int algo, out nuint bytes);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnConvolutionForward(CudnnHandle handle, float* alpha, CudnnTensorDescriptor xDesc, IntPtr x, CudnnFilterDescriptor wDesc, IntPtr w, CudnnConvolutionDescriptor convolution, int algo, IntPtr workspace, nuint workspaceBytes, float* beta, CudnnTensorDescriptor yDesc, IntPtr y);

    // ---- convolution backward data -----------------------------------------------------------------------

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnFindConvolutionBackwardDataAlgorithm(CudnnHandle handle, CudnnFilterDescriptor w, CudnnTensorDescriptor dy, CudnnConvolutionDescriptor convolution, CudnnTensorDescriptor dx, int requested, out int returned, AlgoPerf* results);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnGetConvolutionBackwardDataAlgorithm_v7(CudnnHandle handle, CudnnFilterDescriptor w, CudnnTensorDescriptor dy, CudnnConvolutionDescriptor convolution, CudnnTensorDescriptor dx, int requested, out int returned, AlgoPerf* results);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnGetConvolutionBackwardDataWorkspaceSize(CudnnHandle handle, CudnnFilterDescriptor w, CudnnTensorDescriptor dy, CudnnConvolutionDescriptor convolution, CudnnTensorDescriptor dx, int algo, out nuint bytes);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnConvolutionBackwardData(CudnnHandle handle, float* alpha, CudnnFilterDescriptor wDesc, IntPtr w, CudnnTensorDescriptor dyDesc, IntPtr dy, CudnnConvolutionDescriptor convolution, int algo, IntPtr workspace, nuint workspaceBytes, float* beta, CudnnTensorDescriptor dxDesc, IntPtr dx);

    // ---- convolution backward filter and bias ------------------------------------------------------------

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnFindConvolutionBackwardFilterAlgorithm(CudnnHandle handle, CudnnTensorDescriptor x, CudnnTensorDescriptor dy, CudnnConvolutionDescriptor convolution, CudnnFilterDescriptor dw, int requested, out int returned, AlgoPerf* results);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnGetConvolutionBackwardFilterAlgorithm_v7(CudnnHandle handle, CudnnTensorDescriptor x, CudnnTensorDescriptor dy, CudnnConvolutionDescriptor convolution, CudnnFilterDescriptor dw, int requested, out int returned, AlgoPerf* results);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnGetConvolutionBackwardFilterWorkspaceSize(CudnnHandle handle, CudnnTensorDescriptor x, CudnnTensorDescriptor dy, CudnnConvolutionDescriptor convolution, CudnnFilterDescriptor dw, int algo, out nuint bytes);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnConvolutionBackwardFilter(CudnnHandle handle, float* alpha, CudnnTensorDescriptor xDesc, IntPtr x, CudnnTensorDescriptor dyDesc, IntPtr dy, CudnnConvolutionDescriptor convolution, int algo, IntPtr workspace, nuint workspaceBytes, float* beta, CudnnFilterDescriptor dwDesc, IntPtr dw);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnConvolutionBackwardBias(CudnnHandle handle, float* alpha, CudnnTensorDescriptor dyDesc, IntPtr dy, float* beta, CudnnTensorDescriptor dbDesc, IntPtr db);

    // ---- pooling and LRN ---------------------------------------------------------------------------------

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnPoolingForward(CudnnHandle handle, CudnnPoolingDescriptor pooling, float* alpha, CudnnTensorDescriptor xDesc, IntPtr x, float* beta, CudnnTensorDescriptor yDesc, IntPtr y);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnPoolingBackward(CudnnHandle handle, CudnnPoolingDescriptor pooling, float* alpha, CudnnTensorDescriptor yDesc, IntPtr y, CudnnTensorDescriptor dyDesc, IntPtr dy, CudnnTensorDescriptor xDesc, IntPtr x, float* beta, CudnnTensorDescriptor dxDesc, IntPtr dx);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnLRNCrossChannelForward(CudnnHandle handle, CudnnLrnDescriptor lrn, int mode, float* alpha, CudnnTensorDescriptor xDesc, IntPtr x, float* beta, CudnnTensorDescriptor yDesc, IntPtr y);

    [LibraryImport(CudaLibraries.CudnnName)]
    public static partial int cudnnLRNCrossChannelBackward(CudnnHandle handle, CudnnLrnDescriptor lrn, int mode, float* alpha, CudnnTensorDescriptor yDesc, IntPtr y, CudnnTensorDescriptor dyDesc, IntPtr dy, CudnnTensorDescriptor xDesc, IntPtr x, float* beta, CudnnTensorDescriptor dxDesc, IntPtr dx);
}
