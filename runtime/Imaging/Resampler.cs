namespace FaceNetGen.Imaging;

/// <summary>
/// Resamples a crop box of an 8-bit image to a float image of another size, one axis at a time. Along an axis that
/// shrinks (at least one source pixel per output pixel) each output pixel is the area average of the source pixels
/// under it, counting partly covered pixels by the part covered; along an axis that enlarges it is bilinear
/// interpolation between pixel centres, repeating the edge pixels. Output is planar (channel, row, column), one
/// plane per source channel, on the 0–255 scale. The weight tables and the intermediate rows are kept between
/// calls, so that resampling allocates nothing once they have grown; one instance per thread.
/// </summary>
internal sealed class Resampler
{
    private Axis _x = new();
    private Axis _y = new();
    private float[] _rows = [];

    /// <summary>
    /// Writes <paramref name="image"/>.Channels planes of <paramref name="outHeight"/> × <paramref name="outWidth"/>
    /// into <paramref name="planar"/>; with <paramref name="flip"/> the columns come out mirrored.
    /// </summary>
    public void Resample(Image image, CropBox box, int outWidth, int outHeight, bool flip, Span<float> planar)
    {
        box.Validate(image.Width, image.Height);
        int channels = image.Channels;
        int plane = outWidth * outHeight;
        if (planar.Length < plane * channels) throw new ArgumentException($"the output needs {plane * channels} floats, not {planar.Length}", nameof(planar));

        _x.Build(box.X, box.Width, outWidth, image.Width);
        _y.Build(box.Y, box.Height, outHeight, image.Height);

        int yFirst = _y.Start[0];
        int yEnd = _y.Start[outHeight - 1] + _y.Count[outHeight - 1];
        int rowLength = outWidth * channels;
        int needed = (yEnd - yFirst) * rowLength;
        if (_rows.Length < needed) _rows = new float[needed];
        var rows = _rows.AsSpan(0, needed);

        // Horizontal pass over the source rows the vertical pass will read: rows[y][x][c].
        var src = image.Pixels;
        int srcStride = image.Width * channels;
        for (int y = yFirst; y < yEnd; y++)
        {
            var dst = rows.Slice((y - yFirst) * rowLength, rowLength);
            int rowBase = y * srcStride;
            for (int j = 0; j < outWidth; j++)
            {
                int e = flip ? outWidth - 1 - j : j;
                int start = _x.Start[e], count = _x.Count[e];
                var w = _x.Weights.AsSpan(e * _x.Taps, count);
                for (int c = 0; c < channels; c++)
                {
                    float sum = 0;
                    int p = rowBase + (start * channels) + c;
                    for (int k = 0; k < count; k++, p += channels)
                    {
                        sum += w[k] * src[p];
                    }

                    dst[(j * channels) + c] = sum;
                }
            }
        }

        // Vertical pass into the planes.
        for (int i = 0; i < outHeight; i++)
        {
            int start = _y.Start[i], count = _y.Count[i];
            var w = _y.Weights.AsSpan(i * _y.Taps, count);
            for (int c = 0; c < channels; c++)
            {
                var outRow = planar.Slice((c * plane) + (i * outWidth), outWidth);
                for (int j = 0; j < outWidth; j++)
                {
                    float sum = 0;
                    int p = ((start - yFirst) * rowLength) + (j * channels) + c;
                    for (int k = 0; k < count; k++, p += rowLength)
                    {
                        sum += w[k] * rows[p];
                    }

                    outRow[j] = sum;
                }
            }
        }
    }

    /// <summary>The weights of one axis: output pixel j reads Count[j] source pixels from Start[j] on.</summary>
    private sealed class Axis
    {
        public int[] Start = [];
        public int[] Count = [];
        public float[] Weights = [];
        public int Taps;

        public void Build(double origin, double length, int outSize, int srcSize)
        {
            double scale = length / outSize;
            int taps = scale >= 1 ? (int)Math.Ceiling(scale) + 1 : 2;
            if (Start.Length < outSize)
            {
                Start = new int[outSize];
                Count = new int[outSize];
            }

            if (Weights.Length < outSize * taps) Weights = new float[outSize * taps];
            Taps = taps;

            for (int j = 0; j < outSize; j++)
            {
                var w = Weights.AsSpan(j * taps, taps);
                if (scale >= 1)
                {
                    double a = Math.Clamp(origin + (j * scale), 0, srcSize);
                    double b = Math.Clamp(origin + ((j + 1) * scale), 0, srcSize);
                    int first = Math.Min((int)Math.Floor(a), srcSize - 1);
                    int last = Math.Max(first, Math.Min((int)Math.Ceiling(b) - 1, srcSize - 1));
                    double total = 0;
                    int n = 0;
                    for (int i = first; i <= last && n < taps; i++)
                    {
                        double cover = Math.Min(b, i + 1) - Math.Max(a, i);
                        w[n++] = (float)Math.Max(cover, 0);
                        total += Math.Max(cover, 0);
                    }

                    if (total <= 0)
                    {
                        // A box squeezed to nothing at the image's edge: take the edge pixel.
                        w[0] = 1;
                        n = 1;
                        total = 1;
                    }

                    for (int k = 0; k < n; k++) w[k] = (float)(w[k] / total);
                    Start[j] = first;
                    Count[j] = n;
                }
                else
                {
                    double s = origin + ((j + 0.5) * scale) - 0.5;
                    int i0 = (int)Math.Floor(s);
                    double t = s - i0;
                    int a = Math.Clamp(i0, 0, srcSize - 1);
                    int b = Math.Clamp(i0 + 1, 0, srcSize - 1);
                    if (a == b)
                    {
                        Start[j] = a;
                        Count[j] = 1;
                        w[0] = 1;
                    }
                    else
                    {
                        Start[j] = a;
                        Count[j] = 2;
                        w[0] = (float)(1 - t);
                        w[1] = (float)t;
                    }
                }
            }
        }
    }
}
