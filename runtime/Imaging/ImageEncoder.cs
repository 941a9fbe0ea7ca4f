using SkiaSharp;

namespace FaceNetGen.Imaging;

/// <summary>Writes images to files, for contact sheets and debugging.</summary>
public static class ImageEncoder
{
    /// <summary>The PNG encoding of <paramref name="image"/> (grey stays grey, RGB stays RGB).</summary>
    public static byte[] EncodePng(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var pixels = image.Pixels;
        SKColorType colorType = SKColorType.Gray8;
        if (image.Channels == 3)
        {
            // Skia has no packed 24-bit type: widen to RGBA with opaque alpha.
            var rgba = new byte[image.Width * image.Height * 4];
            for (int i = 0, j = 0; i < pixels.Length; i += 3, j += 4)
            {
                rgba[j] = pixels[i];
                rgba[j + 1] = pixels[i + 1];
                rgba[j + 2] = pixels[i + 2];
                rgba[j + 3] = 255;
            }

            pixels = rgba;
            colorType = SKColorType.Rgba8888;
        }

        var info = new SKImageInfo(image.Width, image.Height, colorType, SKAlphaType.Opaque);
        unsafe
        {
            fixed (byte* p = pixels)
            {
                using var pixmap = new SKPixmap(info, (IntPtr)p, info.RowBytes);
                using var data = pixmap.Encode(SKEncodedImageFormat.Png, 100)
                    ?? throw new FaceNetException($"cannot encode a {image.SizeText} image of {image.Channels} channel(s) as PNG");
                return data.ToArray();
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="image"/> as a PNG file, atomically: the bytes go to a temporary file in the same folder,
    /// which then replaces <paramref name="path"/>; a failure leaves no partial file behind.
    /// </summary>
    /// <exception cref="FaceNetException">The file cannot be written (the message names the path).</exception>
    public static void SavePng(Image image, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = EncodePng(image);
        try
        {
            AtomicFile.Write(path, stream => stream.Write(bytes));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"{path}: cannot write the PNG ({e.Message})", e);
        }
    }
}
