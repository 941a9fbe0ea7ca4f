using SkiaSharp;

namespace FaceNetGen.Imaging;

/// <summary>
/// Loads face images from files: PGM (P5 and P2, by our own reader) and JPEG, PNG, BMP and WebP (through
/// SkiaSharp). Grey files give 1-channel images, everything else RGB; an alpha channel is dropped by
/// compositing over black; EXIF orientation is ignored (pixels are taken as stored). Every failure is a
/// <see cref="FaceNetException"/> whose message starts with the path and says why.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The file extensions <see cref="Load"/> accepts (lower case, with the dot).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".pgm", ".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    /// <summary>True when <paramref name="path"/> has one of the <see cref="Extensions"/> (in any case).</summary>
    public static bool IsSupported(string path) =>
        Extensions.Contains(Path.GetExtension(path).ToLowerInvariant(), StringComparer.Ordinal);

    /// <summary>Reads and decodes the image at <paramref name="path"/>.</summary>
    /// <exception cref="FaceNetException">
    /// The extension is not supported, the file is missing or unreadable, or its content is not a decodable image.
    /// </exception>
    public static Image Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        CheckExtension(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new FaceNetException($"{path}: file not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new FaceNetException($"{path}: file not found (its folder does not exist)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"{path}: cannot read the file ({e.Message})", e);
        }

        return Decode(bytes, path);
    }

    /// <summary>
    /// Decodes an image held in memory. <paramref name="name"/> is a file name or path: its extension picks the
    /// decoder (PGM or SkiaSharp), and it starts every error message.
    /// </summary>
    /// <exception cref="FaceNetException">The extension is not supported or the bytes are not a decodable image.</exception>
    public static Image Decode(ReadOnlySpan<byte> data, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string ext = CheckExtension(name);
        if (ext == ".pgm")
        {
            return PgmDecoder.Decode(data, name);
        }

        if (data.Length == 0)
        {
            throw new FaceNetException($"{name}: not a decodable image (the file is empty)");
        }

        return DecodeWithSkia(data, name);
    }

    private static string CheckExtension(string name)
    {
        string ext = Path.GetExtension(name).ToLowerInvariant();
        if (!Extensions.Contains(ext, StringComparer.Ordinal))
        {
            string shown = ext.Length == 0 ? "no extension" : $"the extension '{Path.GetExtension(name)}'";
            throw new FaceNetException($"{name}: unsupported image type ({shown}); supported: {string.Join(", ", Extensions)}");
        }

        return ext;
    }

    private static unsafe Image DecodeWithSkia(ReadOnlySpan<byte> data, string name)
    {
        fixed (byte* p = data)
        {
            using var skData = SKData.Create((IntPtr)p, data.Length);
            using var codec = SKCodec.Create(skData);
            if (codec is null)
            {
                throw new FaceNetException($"{name}: not a decodable image (SkiaSharp recognises no image format in its {data.Length:N0} bytes)");
            }

            var info = codec.Info;
            if (info.Width <= 0 || info.Height <= 0)
            {
                throw new FaceNetException($"{name}: not a decodable image (it declares the empty size {info.Width}x{info.Height})");
            }

            bool grey = info.ColorType == SKColorType.Gray8;
            var target = new SKImageInfo(info.Width, info.Height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, grey ? SKAlphaType.Opaque : SKAlphaType.Premul);
            byte[] raw = new byte[target.BytesSize];
            SKCodecResult result;
            fixed (byte* dst = raw)
            {
                result = codec.GetPixels(target, (IntPtr)dst);
            }

            if (result != SKCodecResult.Success)
            {
                throw new FaceNetException($"{name}: not a decodable image ({Explain(result)})");
            }

            if (grey)
            {
                return new Image(info.Width, info.Height, 1, raw);
            }

            var image = new Image(info.Width, info.Height, 3);
            var rgb = image.Pixels;
            for (int i = 0, j = 0; i < raw.Length; i += 4, j += 3)
            {
                rgb[j] = raw[i];
                rgb[j + 1] = raw[i + 1];
                rgb[j + 2] = raw[i + 2];
            }

            return image;
        }
    }

    private static string Explain(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the file is truncated",
        SKCodecResult.ErrorInInput => "the file is corrupt",
        SKCodecResult.InvalidInput => "the data is invalid",
        SKCodecResult.InvalidConversion => "its pixel format cannot be converted to 8-bit RGB",
        SKCodecResult.InvalidScale => "invalid scale",
        SKCodecResult.InvalidParameters => "invalid parameters",
        SKCodecResult.CouldNotRewind => "the data could not be rewound",
        SKCodecResult.InternalError => "internal decoder error",
        SKCodecResult.Unimplemented => "a feature of the file is not supported",
        _ => result.ToString(),
    } + $"; SkiaSharp status {result}";
}
