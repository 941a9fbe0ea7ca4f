using System.Globalization;

namespace FaceNetGen.Imaging;

/// <summary>
/// An 8-bit image held in memory: <see cref="Width"/> × <see cref="Height"/> pixels of 1 (grey) or 3 (RGB)
/// channels, stored row-major and interleaved (HWC): the value of channel c of pixel (x, y) is
/// <c>Pixels[(y * Width + x) * Channels + c]</c>.
/// </summary>
public sealed class Image
{
    /// <summary>A black image of the given size.</summary>
    /// <exception cref="FaceNetException">The size is zero or negative, or the channel count is not 1 or 3.</exception>
    public Image(int width, int height, int channels)
    {
        CheckSize(width, height, channels);
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = new byte[checked(width * height * channels)];
    }

    /// <summary>An image over existing pixels (not copied), laid out as described on <see cref="Image"/>.</summary>
    /// <exception cref="FaceNetException">The size is invalid or <paramref name="pixels"/> has the wrong length.</exception>
    public Image(int width, int height, int channels, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        CheckSize(width, height, channels);
        long expected = (long)width * height * channels;
        if (pixels.Length != expected)
        {
            throw new FaceNetException(string.Create(
                CultureInfo.InvariantCulture,
                $"a {width}x{height} image of {channels} channel(s) needs {expected:N0} bytes of pixels, not {pixels.Length:N0}"));
        }

        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>Width in pixels (at least 1).</summary>
    public int Width { get; }

    /// <summary>Height in pixels (at least 1).</summary>
    public int Height { get; }

    /// <summary>1 for grey, 3 for RGB.</summary>
    public int Channels { get; }

    /// <summary>The pixels, row-major, channels interleaved (HWC).</summary>
    public byte[] Pixels { get; }

    /// <summary>The size as "WxH", as error messages print it.</summary>
    public string SizeText => string.Create(CultureInfo.InvariantCulture, $"{Width}x{Height}");

    /// <summary>The value of channel <paramref name="channel"/> at pixel (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public byte this[int x, int y, int channel = 0]
    {
        get => Pixels[Index(x, y, channel)];
        set => Pixels[Index(x, y, channel)] = value;
    }

    /// <summary>One row of pixels (Width × Channels bytes).</summary>
    public Span<byte> Row(int y)
    {
        if ((uint)y >= (uint)Height) throw new ArgumentOutOfRangeException(nameof(y), y, $"row {y} is outside a {SizeText} image");
        int stride = Width * Channels;
        return Pixels.AsSpan(y * stride, stride);
    }

    /// <summary>This image with 3 channels: grey is repeated into R, G and B; an RGB image returns itself.</summary>
    public Image ToRgb()
    {
        if (Channels == 3) return this;
        var rgb = new Image(Width, Height, 3);
        var src = Pixels;
        var dst = rgb.Pixels;
        for (int i = 0, j = 0; i < src.Length; i++, j += 3)
        {
            dst[j] = dst[j + 1] = dst[j + 2] = src[i];
        }

        return rgb;
    }

    /// <summary>A copy whose columns are in reverse order (a mirror image).</summary>
    public Image FlipHorizontal()
    {
        var flipped = new Image(Width, Height, Channels);
        int c = Channels;
        for (int y = 0; y < Height; y++)
        {
            var src = Row(y);
            var dst = flipped.Row(y);
            for (int x = 0; x < Width; x++)
            {
                src.Slice(x * c, c).CopyTo(dst.Slice((Width - 1 - x) * c, c));
            }
        }

        return flipped;
    }

    private int Index(int x, int y, int channel)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height || (uint)channel >= (uint)Channels)
        {
            throw new ArgumentOutOfRangeException(
                nameof(x),
                string.Create(CultureInfo.InvariantCulture, $"pixel ({x}, {y}) channel {channel} is outside a {SizeText} image of {Channels} channel(s)"));
        }

        return ((y * Width) + x) * Channels + channel;
    }

    private static void CheckSize(int width, int height, int channels)
    {
        if (width <= 0 || height <= 0)
        {
            throw new FaceNetException(string.Create(CultureInfo.InvariantCulture, $"an image must be at least 1x1 pixel, not {width}x{height}"));
        }

        if (channels is not (1 or 3))
        {
            throw new FaceNetException(string.Create(CultureInfo.InvariantCulture, $"a {width}x{height} image must have 1 (grey) or 3 (RGB) channels, not {channels}"));
        }

        if ((long)width * height * channels > Array.MaxLength)
        {
            throw new FaceNetException(string.Create(CultureInfo.InvariantCulture, $"a {width}x{height} image of {channels} channel(s) is too large to hold in memory"));
        }
    }
}
