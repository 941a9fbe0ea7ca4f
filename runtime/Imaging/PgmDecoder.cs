using System.Globalization;

namespace FaceNetGen.Imaging;

/// <summary>
/// Reads grey Netpbm maps: P5 (binary) and P2 (ASCII). Header fields may be separated by any whitespace and
/// comments (<c>#</c> to the end of the line); maxval may be 1 to 65,535. Samples are scaled to 8 bits by
/// round(v × 255 / maxval), so maxval 255 keeps values as they are; a P5 file with maxval above 255 has two
/// big-endian bytes per sample, as the format defines. Only the first image of a multi-image file is read.
/// </summary>
internal static class PgmDecoder
{
    /// <summary>Decodes a PGM held in <paramref name="data"/>; <paramref name="name"/> is the path used in messages.</summary>
    public static Image Decode(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length < 2 || data[0] != (byte)'P')
        {
            throw Error(name, $"not a PGM file: it does not start with P5 or P2");
        }

        bool binary = data[1] switch
        {
            (byte)'5' => true,
            (byte)'2' => false,
            (byte)'1' or (byte)'3' or (byte)'4' or (byte)'6' or (byte)'7' =>
                throw Error(name, $"unsupported Netpbm type P{(char)data[1]}: only grey maps (P5 binary and P2 ASCII) are read"),
            _ => throw Error(name, $"not a PGM file: it does not start with P5 or P2"),
        };

        int pos = 2;
        if (pos < data.Length && !IsWhitespace(data[pos]) && data[pos] != (byte)'#')
        {
            throw Error(name, $"not a PGM file: the magic number P5 or P2 must be followed by whitespace");
        }

        int width = ReadHeaderNumber(data, ref pos, name, "width");
        int height = ReadHeaderNumber(data, ref pos, name, "height");
        int maxval = ReadHeaderNumber(data, ref pos, name, "maxval");

        if (width == 0 || height == 0)
        {
            throw Error(name, $"the PGM size {width}x{height} is empty");
        }

        if (maxval is < 1 or > 65535)
        {
            throw Error(name, $"PGM maxval must be 1 to 65,535, not {maxval:N0}");
        }

        int bytesPerSample = binary && maxval > 255 ? 2 : 1;
        long pixelCount = (long)width * height;
        if (pixelCount * 3 > Array.MaxLength)
        {
            throw Error(name, $"the PGM size {width}x{height} is too large");
        }

        // Exactly one whitespace byte separates maxval from the raster.
        if (pos >= data.Length)
        {
            throw Truncated(name, binary, pixelCount * bytesPerSample, 0, width, height);
        }

        pos++;
        var image = new Image(width, height, 1);
        if (binary)
        {
            ReadBinary(data[pos..], image, maxval, bytesPerSample, name);
        }
        else
        {
            ReadAscii(data, pos, image, maxval, name);
        }

        return image;
    }

    private static void ReadBinary(ReadOnlySpan<byte> raster, Image image, int maxval, int bytesPerSample, string name)
    {
        long expected = (long)image.Width * image.Height * bytesPerSample;
        if (raster.Length < expected)
        {
            throw Truncated(name, binary: true, expected, raster.Length, image.Width, image.Height);
        }

        var pixels = image.Pixels;
        if (maxval == 255)
        {
            raster[..pixels.Length].CopyTo(pixels);
            return;
        }

        for (int i = 0; i < pixels.Length; i++)
        {
            int v = bytesPerSample == 1 ? raster[i] : (raster[2 * i] << 8) | raster[(2 * i) + 1];
            pixels[i] = Scale(v, maxval, i, image, name);
        }
    }

    private static void ReadAscii(ReadOnlySpan<byte> data, int pos, Image image, int maxval, string name)
    {
        var pixels = image.Pixels;
        for (int i = 0; i < pixels.Length; i++)
        {
            SkipWhitespaceAndComments(data, ref pos);
            if (pos >= data.Length)
            {
                throw Truncated(name, binary: false, pixels.Length, i, image.Width, image.Height);
            }

            if (!IsDigit(data[pos]))
            {
                throw Error(name, $"line {LineOf(data, pos)}: expected a pixel value, found {Describe(data[pos])}");
            }

            long v = 0;
            while (pos < data.Length && IsDigit(data[pos]))
            {
                v = Math.Min((v * 10) + (data[pos] - '0'), int.MaxValue);
                pos++;
            }

            if (pos < data.Length && !IsWhitespace(data[pos]) && data[pos] != (byte)'#')
            {
                throw Error(name, $"line {LineOf(data, pos)}: expected whitespace after a pixel value, found {Describe(data[pos])}");
            }

            pixels[i] = Scale((int)v, maxval, i, image, name);
        }
    }

    private static byte Scale(int v, int maxval, int index, Image image, string name)
    {
        if (v > maxval)
        {
            int x = index % image.Width, y = index / image.Width;
            throw Error(name, $"pixel ({x}, {y}) has the value {v:N0}, above the maxval {maxval:N0}");
        }

        return maxval == 255 ? (byte)v : (byte)(((v * 255L) + (maxval / 2)) / maxval);
    }

    private static int ReadHeaderNumber(ReadOnlySpan<byte> data, ref int pos, string name, string field)
    {
        SkipWhitespaceAndComments(data, ref pos);
        if (pos >= data.Length)
        {
            throw Error(name, $"truncated PGM header: the file ends before the {field}");
        }

        if (!IsDigit(data[pos]))
        {
            throw Error(name, $"bad PGM header: expected the {field} (a number), found {Describe(data[pos])}");
        }

        long value = 0;
        while (pos < data.Length && IsDigit(data[pos]))
        {
            value = (value * 10) + (data[pos] - '0');
            if (value > int.MaxValue)
            {
                throw Error(name, $"bad PGM header: the {field} is too large");
            }

            pos++;
        }

        if (pos < data.Length && !IsWhitespace(data[pos]) && data[pos] != (byte)'#')
        {
            throw Error(name, $"bad PGM header: expected whitespace after the {field}, found {Describe(data[pos])}");
        }

        return (int)value;
    }

    private static void SkipWhitespaceAndComments(ReadOnlySpan<byte> data, ref int pos)
    {
        while (pos < data.Length)
        {
            byte b = data[pos];
            if (IsWhitespace(b))
            {
                pos++;
            }
            else if (b == (byte)'#')
            {
                while (pos < data.Length && data[pos] != (byte)'\n' && data[pos] != (byte)'\r') pos++;
            }
            else
            {
                return;
            }
        }
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static int LineOf(ReadOnlySpan<byte> data, int pos) => data[..pos].Count((byte)'\n') + 1;

    private static string Describe(byte b) => b is >= 0x21 and < 0x7F ? $"'{(char)b}'" : $"byte 0x{b:X2}";

    private static FaceNetException Truncated(string name, bool binary, long expected, long found, int width, int height) =>
        binary
            ? Error(name, $"truncated PGM: expected {expected:N0} bytes of pixels ({width}x{height}), found {found:N0}")
            : Error(name, $"truncated PGM: expected {expected:N0} pixel values ({width}x{height}), found {found:N0}");

    private static FaceNetException Error(string name, FormattableString reason) =>
        new($"{name}: {reason.ToString(CultureInfo.InvariantCulture)}");
}
