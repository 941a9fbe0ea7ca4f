using System.Runtime.CompilerServices;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Moves between an image batch and the column matrix of a convolution, for a range of output columns.
/// Column j of the range is output position (image img0 + j / hwCount, pixel hw0 + j % hwCount); row k of the matrix
/// is (input channel, kernel row, kernel column). The matrix is laid out in panels of <c>panelWidth</c> columns, each
/// K × panelWidth floats row by row (panelWidth = NR gives the packed-B layout of <see cref="Gemm"/>; panelWidth = the
/// column count gives a plain row-major matrix). Runs of columns on one output row are copied as blocks, so stride-1
/// convolutions move contiguous memory; other strides go element by element.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>Writes the column matrix of x's images into dst (zero outside the image and in panel padding).</summary>
    public static void Pack(in ConvGeometry g, float* x, int img0, int imgCount, int hw0, int hwCount, float* dst, int panelWidth)
    {
        int cols = imgCount * hwCount;
        int k = g.InC * g.KernelH * g.KernelW;
        int inHw = g.InH * g.InW;
        bool pointwise = g.IsPointwise;
        for (int p0 = 0; p0 < cols; p0 += panelWidth)
        {
            int w = Math.Min(panelWidth, cols - p0);
            float* panel = dst + (long)p0 * k;
            // Walk the panel's columns as runs that stay on one output row of one image.
            int j = 0;
            while (j < w)
            {
                int col = p0 + j;
                int img = img0 + col / hwCount;
                int hw = hw0 + col % hwCount;
                int oh = hw / g.OutW;
                int ow = hw % g.OutW;
                // A pointwise convolution reads its input pixel for pixel, so a run may cross output rows.
                int run = Math.Min(w - j, hwCount - col % hwCount);
                if (!pointwise) run = Math.Min(run, g.OutW - ow);
                float* image = x + (long)img * g.InSize;
                if (pointwise)
                {
                    for (int ic = 0; ic < g.InC; ic++)
                    {
                        Unsafe.CopyBlockUnaligned(panel + (long)ic * panelWidth + j, image + (long)ic * inHw + hw, (uint)(run * sizeof(float)));
                    }
                    j += run;
                    continue;
                }
                int row = 0;
                for (int ic = 0; ic < g.InC; ic++)
                {
                    float* plane = image + (long)ic * inHw;
                    for (int kh = 0; kh < g.KernelH; kh++)
                    {
                        int ih = oh * g.StrideH - g.PadH + kh;
                        for (int kw = 0; kw < g.KernelW; kw++, row++)
                        {
                            float* d = panel + (long)row * panelWidth + j;
                            if ((uint)ih >= (uint)g.InH)
                            {
                                Clear(d, run);
                                continue;
                            }
                            CopyRow(plane + (long)ih * g.InW, g.InW, ow * g.StrideW - g.PadW + kw, g.StrideW, d, run);
                        }
                    }
                }
                j += run;
            }
            if (w < panelWidth)
            {
                for (int row = 0; row < k; row++) Clear(panel + (long)row * panelWidth + w, panelWidth - w);
            }
        }
    }

    /// <summary>dx (+)= the column matrix folded back onto the images (row-major, ld = column count).</summary>
    public static void Unpack(in ConvGeometry g, float* dCol, int img0, int imgCount, int hw0, int hwCount, float* dx)
    {
        int cols = imgCount * hwCount;
        int inHw = g.InH * g.InW;
        int j = 0;
        while (j < cols)
        {
            int img = img0 + j / hwCount;
            int hw = hw0 + j % hwCount;
            int oh = hw / g.OutW;
            int ow = hw % g.OutW;
            int run = Math.Min(g.OutW - ow, hwCount - j % hwCount);
            float* image = dx + (long)img * g.InSize;
            int row = 0;
            for (int ic = 0; ic < g.InC; ic++)
            {
                float* plane = image + (long)ic * inHw;
                for (int kh = 0; kh < g.KernelH; kh++)
                {
                    int ih = oh * g.StrideH - g.PadH + kh;
                    for (int kw = 0; kw < g.KernelW; kw++, row++)
                    {
                        if ((uint)ih >= (uint)g.InH) continue;
                        AddRow(dCol + (long)row * cols + j, run, plane + (long)ih * g.InW, g.InW, ow * g.StrideW - g.PadW + kw, g.StrideW);
                    }
                }
            }
            j += run;
        }
    }

    /// <summary>d[t] = row[start + t·stride] for t &lt; count, 0 where that falls outside [0, width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(float* row, int width, int start, int stride, float* d, int count)
    {
        if (stride == 1)
        {
            int left = Math.Clamp(-start, 0, count);
            int right = Math.Clamp(width - start, left, count);
            if (left > 0) Clear(d, left);
            if (right > left) Unsafe.CopyBlockUnaligned(d + left, row + start + left, (uint)((right - left) * sizeof(float)));
            if (count > right) Clear(d + right, count - right);
            return;
        }
        // Strided: the run of t whose column falls inside the row, then a loop without bounds checks.
        var (lo, hi) = Inside(start, stride, width, count);
        if (lo > 0) Clear(d, lo);
        float* s = row + start;
        for (int t = lo; t < hi; t++) d[t] = s[t * stride];
        if (count > hi) Clear(d + hi, count - hi);
    }

    /// <summary>The t in [lo, hi) for which start + t·stride lies in [0, width), within [0, count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Lo, int Hi) Inside(int start, int stride, int width, int count)
    {
        int lo = start >= 0 ? 0 : (-start + stride - 1) / stride;
        int hi = start >= width ? 0 : (width - 1 - start) / stride + 1;
        lo = Math.Min(lo, count);
        hi = Math.Clamp(hi, lo, count);
        return (lo, hi);
    }

    /// <summary>row[start + t·stride] += s[t] for t &lt; count where that falls inside [0, width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* s, int count, float* row, int width, int start, int stride)
    {
        if (stride == 1)
        {
            int left = Math.Clamp(-start, 0, count);
            int right = Math.Clamp(width - start, left, count);
            int length = right - left;
            if (length >= 16)
            {
                var dst = new Span<float>(row + start + left, length);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, new ReadOnlySpan<float>(s + left, length), dst);
            }
            else
            {
                // Short runs (the 7×7 and 3×3 maps of the last layers): a call costs more than the adds.
                float* d = row + start + left;
                float* v = s + left;
                for (int t = 0; t < length; t++) d[t] += v[t];
            }
            return;
        }
        var (lo, hi) = Inside(start, stride, width, count);
        float* r = row + start;
        for (int t = lo; t < hi; t++) r[t * stride] += s[t];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear(float* d, int count) => Unsafe.InitBlockUnaligned(d, 0, (uint)(count * sizeof(float)));
}
