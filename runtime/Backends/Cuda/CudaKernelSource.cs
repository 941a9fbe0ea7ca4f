namespace FaceNetGen.Backends.Cuda;

/// <summary>
/// The CUDA C++ source of the backend's own kernels, compiled once by NVRTC when a <see cref="CudaBackend"/> starts.
/// Each kernel follows its oracle in <see cref="Cpu.ReferenceKernels"/> literally (same windows, same first-maximum
/// rule, same epsilon); the comments name the oracle. No headers: NVRTC supplies the device math built-ins.
/// </summary>
/// <remarks>
/// Launch convention: one thread per output element in a grid-stride loop over 64-bit indices, except the row
/// reductions (L2 normalisation), which take one block of <see cref="CudaKernels.ReductionThreads"/> threads per row.
/// Backward kernels gather (each thread sums what flows into its own element), so they need no atomics, are
/// deterministic, and honour <c>accumulate</c> (dx = dx + g, else dx = g).
/// </remarks>
internal static class CudaKernelSource
{
    public const string Text = """
typedef long long i64;

#define FOR_EACH(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int imax(int a, int b) { return a > b ? a : b; }
__device__ __forceinline__ void store(float* p, float v, int accumulate) { *p = accumulate ? *p + v : v; }

// ---- elementwise -------------------------------------------------------------------------------------------

extern "C" __global__ void fill_f32(float* p, i64 n, float value)
{
    FOR_EACH(i, n) p[i] = value;
}

// y[i] += b[channel(i)], then max(0, .) when relu: the bias and ReLU of ConvForward / LinearForward.
extern "C" __global__ void bias_act(float* y, const float* b, i64 total, int channels, int spatial, int relu)
{
    FOR_EACH(i, total)
    {
        float v = y[i] + b[(i / spatial) % channels];
        y[i] = (relu && v < 0.0f) ? 0.0f : v;
    }
}

// ReferenceKernels.ReluBackward: dy = 0 where !(y > 0).
extern "C" __global__ void relu_backward(const float* y, float* dy, i64 n)
{
    FOR_EACH(i, n) if (!(y[i] > 0.0f)) dy[i] = 0.0f;
}

// rows x rowLength floats from src (row stride srcStride) to dst (row stride dstStride): concat forward and backward.
extern "C" __global__ void strided_copy(const float* src, float* dst, i64 rows, i64 rowLength, i64 srcStride, i64 dstStride, int accumulate)
{
    FOR_EACH(i, rows * rowLength)
    {
        i64 r = i / rowLength, k = i - r * rowLength;
        store(dst + r * dstStride + k, src[r * srcStride + k], accumulate);
    }
}

// ---- pooling (ReferenceKernels.PoolForward / PoolBackward) --------------------------------------------------
// kind: 0 max, 1 average over the unpadded inputs, 2 L2 = sqrt(sum of squares). A window is clipped to the input;
// a window with no input gives 0.

extern "C" __global__ void pool_forward(const float* x, float* y, i64 planes, int inH, int inW, int outH, int outW,
    int kH, int kW, int sH, int sW, int pH, int pW, int kind)
{
    FOR_EACH(i, planes * outH * outW)
    {
        int ow = (int)(i % outW);
        i64 t = i / outW;
        int oh = (int)(t % outH);
        i64 plane = t / outH;
        const float* xs = x + plane * inH * inW;
        int h0 = oh * sH - pH, w0 = ow * sW - pW;
        int h1 = imin(h0 + kH, inH), w1 = imin(w0 + kW, inW);
        h0 = imax(h0, 0);
        w0 = imax(w0, 0);
        float r = 0.0f;
        int count = 0;
        if (kind == 0)
        {
            r = __int_as_float((int)0xff800000u);
            for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++) { float v = xs[h * inW + w]; r = v > r ? v : r; count++; }
        }
        else
        {
            for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++) { float v = xs[h * inW + w]; r += kind == 1 ? v : v * v; count++; }
            if (kind == 1 && count > 0) r /= (float)count;
            if (kind == 2) r = sqrtf(r);
        }
        y[i] = count == 0 ? 0.0f : r;
    }
}

// Each input element sums the gradient of every window that covers it. Max routes to the first maximum of a window
// (row-major order, strict >), as the reference does.
extern "C" __global__ void pool_backward(const float* x, const float* y, const float* dy, float* dx, i64 planes,
    int inH, int inW, int outH, int outW, int kH, int kW, int sH, int sW, int pH, int pW, int kind, int accumulate)
{
    FOR_EACH(i, planes * inH * inW)
    {
        int iw = (int)(i % inW);
        i64 t = i / inW;
        int ih = (int)(t % inH);
        i64 plane = t / inH;
        const float* xs = x + plane * inH * inW;
        int nh = ih + pH - kH + 1, nw = iw + pW - kW + 1;
        int ohLo = nh <= 0 ? 0 : (nh + sH - 1) / sH, owLo = nw <= 0 ? 0 : (nw + sW - 1) / sW;
        int ohHi = imin((ih + pH) / sH, outH - 1), owHi = imin((iw + pW) / sW, outW - 1);
        float g = 0.0f;
        for (int oh = ohLo; oh <= ohHi; oh++)
        {
            for (int ow = owLo; ow <= owHi; ow++)
            {
                i64 o = (plane * outH + oh) * outW + ow;
                int h0 = oh * sH - pH, w0 = ow * sW - pW;
                int h1 = imin(h0 + kH, inH), w1 = imin(w0 + kW, inW);
                h0 = imax(h0, 0);
                w0 = imax(w0, 0);
                if (kind == 0)
                {
                    int best = -1;
                    float bestV = 0.0f;
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++)
                        {
                            float v = xs[h * inW + w];
                            if (best < 0 || v > bestV) { best = h * inW + w; bestV = v; }
                        }
                    if (best == ih * inW + iw) g += dy[o];
                }
                else if (kind == 1)
                {
                    g += dy[o] / (float)((h1 - h0) * (w1 - w0));
                }
                else if (y[o] > 0.0f)
                {
                    g += dy[o] * x[i] / y[o];
                }
            }
        }
        store(dx + i, g, accumulate);
    }
}

// ---- LRN (ReferenceKernels.LrnForward / LrnBackward) --------------------------------------------------------
// S_c = k + alpha/size * sum over j in [c - (size-1)/2, c + size/2] of x_j^2; y_c = x_c * S_c^-beta;
// dx_c = dy_c * S_c^-beta - 2*alpha*beta/size * x_c * sum over the same window of dy_j * x_j * S_j^(-beta-1).

__device__ float lrn_scale(const float* xs, int c, int C, int HW, int size, float alphaOverSize, float k)
{
    int lo = imax(0, c - (size - 1) / 2), hi = imin(C - 1, c + size / 2);
    float sum = 0.0f;
    for (int j = lo; j <= hi; j++) { float v = xs[(i64)j * HW]; sum += v * v; }
    return k + alphaOverSize * sum;
}

extern "C" __global__ void lrn_forward(const float* x, float* y, i64 total, int C, int HW, int size, float alpha, float beta, float k)
{
    float alphaOverSize = alpha / (float)size;
    FOR_EACH(i, total)
    {
        int s = (int)(i % HW);
        i64 t = i / HW;
        int c = (int)(t % C);
        const float* xs = x + (t / C) * C * HW + s;
        y[i] = x[i] * powf(lrn_scale(xs, c, C, HW, size, alphaOverSize, k), -beta);
    }
}

extern "C" __global__ void lrn_backward(const float* x, const float* dy, float* dx, i64 total, int C, int HW, int size,
    float alpha, float beta, float k, int accumulate)
{
    float alphaOverSize = alpha / (float)size;
    FOR_EACH(i, total)
    {
        int s = (int)(i % HW);
        i64 t = i / HW;
        int c = (int)(t % C);
        i64 base = (t / C) * C * HW + s;
        const float* xs = x + base;
        const float* dys = dy + base;
        int lo = imax(0, c - (size - 1) / 2), hi = imin(C - 1, c + size / 2);
        float sum = 0.0f;
        for (int j = lo; j <= hi; j++)
        {
            float sj = lrn_scale(xs, j, C, HW, size, alphaOverSize, k);
            sum += dys[(i64)j * HW] * xs[(i64)j * HW] * powf(sj, -beta - 1.0f);
        }
        float sc = lrn_scale(xs, c, C, HW, size, alphaOverSize, k);
        float g = dy[i] * powf(sc, -beta) - 2.0f * alpha * beta / (float)size * x[i] * sum;
        store(dx + i, g, accumulate);
    }
}

// ---- maxout (ReferenceKernels.MaxoutForward / MaxoutBackward) -----------------------------------------------

extern "C" __global__ void maxout_forward(const float* x, float* y, i64 groups, int pool)
{
    FOR_EACH(i, groups)
    {
        const float* g = x + i * pool;
        float m = g[0];
        for (int k = 1; k < pool; k++) m = g[k] > m ? g[k] : m;
        y[i] = m;
    }
}

extern "C" __global__ void maxout_backward(const float* x, const float* dy, float* dx, i64 groups, int pool, int accumulate)
{
    FOR_EACH(i, groups)
    {
        const float* g = x + i * pool;
        int best = 0;
        for (int k = 1; k < pool; k++) if (g[k] > g[best]) best = k;
        for (int k = 0; k < pool; k++) store(dx + i * pool + k, k == best ? dy[i] : 0.0f, accumulate);
    }
}

// ---- L2 normalisation (ReferenceKernels.L2NormalizeForward / L2NormalizeBackward) ---------------------------
// One block per row; blockDim.x is a power of two, at most 1024.

__device__ float block_sum(float v, float* shared)
{
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half >>= 1)
    {
        if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
        __syncthreads();
    }
    float total = shared[0];
    __syncthreads();
    return total;
}

extern "C" __global__ void l2norm_forward(const float* x, float* y, int dim)
{
    __shared__ float shared[1024];
    const float* xr = x + (i64)blockIdx.x * dim;
    float* yr = y + (i64)blockIdx.x * dim;
    float ss = 0.0f;
    for (int k = threadIdx.x; k < dim; k += blockDim.x) ss += xr[k] * xr[k];
    ss = block_sum(ss, shared);
    float norm = fmaxf(sqrtf(ss), 1e-12f);
    for (int k = threadIdx.x; k < dim; k += blockDim.x) yr[k] = xr[k] / norm;
}

extern "C" __global__ void l2norm_backward(const float* x, const float* y, const float* dy, float* dx, int dim, int accumulate)
{
    __shared__ float shared[1024];
    i64 row = (i64)blockIdx.x * dim;
    float ss = 0.0f, dot = 0.0f;
    for (int k = threadIdx.x; k < dim; k += blockDim.x) { ss += x[row + k] * x[row + k]; dot += y[row + k] * dy[row + k]; }
    ss = block_sum(ss, shared);
    dot = block_sum(dot, shared);
    float norm = sqrtf(ss);
    for (int k = threadIdx.x; k < dim; k += blockDim.x)
    {
        float g = norm > 1e-12f ? (dy[row + k] - y[row + k] * dot) / norm : dy[row + k] / 1e-12f;
        store(dx + row + k, g, accumulate);
    }
}

// ---- optimisers (ReferenceKernels.AdaGradStep / SgdStep / AdamStep) -----------------------------------------

extern "C" __global__ void adagrad_step(float* p, const float* g, float* s, i64 n, float lr, float eps)
{
    FOR_EACH(i, n)
    {
        float gi = g[i];
        float si = s[i] + gi * gi;
        s[i] = si;
        p[i] -= lr * gi / (sqrtf(si) + eps);
    }
}

extern "C" __global__ void sgd_step(float* p, const float* g, float* v, i64 n, float lr, float momentum, float weightDecay)
{
    FOR_EACH(i, n)
    {
        float vi = momentum * v[i] + (g[i] + weightDecay * p[i]);
        v[i] = vi;
        p[i] -= lr * vi;
    }
}

// c1 = 1 - beta1^t and c2 = 1 - beta2^t come from the host, computed as the reference computes them.
extern "C" __global__ void adam_step(float* p, const float* g, float* m, float* v, i64 n, float lr, float beta1, float beta2, float eps, float c1, float c2)
{
    FOR_EACH(i, n)
    {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * (mi / c1) / (sqrtf(vi / c2) + eps);
    }
}

// ---- triplet mining -------------------------------------------------------------------------------------------

// d[a, b] = |e_a|^2 + |e_b|^2 - 2 e_a.e_b from the Gram matrix, read at (min, max) so that d is exactly symmetric;
// clamped at 0, and 0 on the diagonal.
extern "C" __global__ void sqdist_from_gram(const float* gram, float* d, int n)
{
    FOR_EACH(i, (i64)n * n)
    {
        int a = (int)(i / n), b = (int)(i % n);
        int lo = imin(a, b), hi = imax(a, b);
        float v = gram[(i64)lo * n + lo] + gram[(i64)hi * n + hi] - 2.0f * gram[(i64)lo * n + hi];
        d[i] = a == b ? 0.0f : fmaxf(v, 0.0f);
    }
}

// SemiHardNegatives.Select on the device: for (a, p) with a != p and the same label, the negative n (another label)
// with d(a,p) < d(a,n) < d(a,p) + alpha and the smallest d(a,n), ties to the smallest n; -1 if none; -2 if (a, p) is
// not an anchor-positive pair.
extern "C" __global__ void semihard_select(const float* d, const int* labels, int n, float alpha, int* out)
{
    FOR_EACH(i, (i64)n * n)
    {
        int a = (int)(i / n), p = (int)(i % n);
        int result = -2;
        if (a != p && labels[a] == labels[p])
        {
            float dap = d[i];
            float upper = dap + alpha;
            const float* da = d + (i64)a * n;
            int best = -1;
            float bestD = 0.0f;
            for (int k = 0; k < n; k++)
            {
                if (labels[k] == labels[a]) continue;
                float dan = da[k];
                if (dap < dan && dan < upper && (best < 0 || dan < bestD)) { best = k; bestD = dan; }
            }
            result = best;
        }
        out[i] = result;
    }
}
""";

    /// <summary>The kernels the backend looks up after compiling <see cref="Text"/>.</summary>
    public static readonly string[] KernelNames =
    {
        "fill_f32", "bias_act", "relu_backward", "strided_copy", "pool_forward", "pool_backward", "lrn_forward", "lrn_backward",
        "maxout_forward", "maxout_backward", "l2norm_forward", "l2norm_backward", "adagrad_step", "sgd_step", "adam_step",
        "sqdist_from_gram", "semihard_select",
    };
}
