using FaceNetGen.Models;
using FaceNetGen.Tests.Infrastructure;
using SkiaSharp;

namespace FaceNetGen.Tests.Onnx;

/// <summary>
/// TEST-ONLY stand-in for the runtime's image loader, which is being written separately: reads a P5 PGM (att_faces) or
/// decodes a JPEG (lfw) through SkiaSharp, resizes bilinearly to the model's input and normalises as
/// <see cref="InputFormat"/> says (RGB, NCHW, (v − 127.5) / 128, grey repeated into the three channels). Once the
/// runtime loader lands, <see cref="Load"/> should call it instead; nothing outside these tests uses this class.
/// </summary>
internal static class TestFaceImages
{
    /// <summary>Real faces from the shared data: two att_faces people and one lfw photo.</summary>
    public static IReadOnlyList<string> Paths =>
    [
        TestPaths.Data(Path.Combine("att_faces", "s1", "1.pgm")),
        TestPaths.Data(Path.Combine("lfw_devsubset", "images", "Adrien_Brody", "Adrien_Brody_0001.jpg")),
        TestPaths.Data(Path.Combine("att_faces", "s2", "1.pgm")),
    ];

    /// <summary>The first <paramref name="count"/> of <see cref="Paths"/> as one NCHW input batch for <paramref name="model"/>.</summary>
    public static float[] Batch(ModelDescription model, int count)
    {
        var batch = new float[count * model.InputSize];
        for (int i = 0; i < count; i++) Load(Paths[i], model).CopyTo(batch, i * model.InputSize);
        return batch;
    }

    /// <summary>One image as (C, H, W) input values for <paramref name="model"/>.</summary>
    public static float[] Load(string path, ModelDescription model)
    {
        var (rgb, width, height) = path.EndsWith(".pgm", StringComparison.OrdinalIgnoreCase) ? ReadPgmAsRgb(path) : DecodeRgb(path);
        int outH = model.InputHeight, outW = model.InputWidth, plane = outH * outW;
        var x = new float[model.InputChannels * plane];
        for (int c = 0; c < model.InputChannels; c++)
        for (int oy = 0; oy < outH; oy++)
        for (int ox = 0; ox < outW; ox++)
        {
            // Half-pixel centres; the neighbours are clamped at the border.
            double sy = Math.Clamp((oy + 0.5) * height / outH - 0.5, 0, height - 1);
            double sx = Math.Clamp((ox + 0.5) * width / outW - 0.5, 0, width - 1);
            int y0 = (int)sy, x0 = (int)sx, y1 = Math.Min(y0 + 1, height - 1), x1 = Math.Min(x0 + 1, width - 1);
            double fy = sy - y0, fx = sx - x0;
            double v = (1 - fy) * ((1 - fx) * At(y0, x0) + fx * At(y0, x1)) + fy * ((1 - fx) * At(y1, x0) + fx * At(y1, x1));
            x[c * plane + oy * outW + ox] = InputFormat.Normalize((byte)Math.Clamp(Math.Round(v), 0, 255));

            double At(int y, int xx) => rgb[(y * width + xx) * 3 + c % 3];
        }
        return x;
    }

    /// <summary>A binary (P5) 8-bit PGM, its grey values repeated into R, G and B.</summary>
    private static (byte[] Rgb, int Width, int Height) ReadPgmAsRgb(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        int at = 0;
        string magic = Token(), w = Token(), h = Token(), max = Token();
        if (magic != "P5" || max != "255") throw new InvalidDataException($"{path}: not an 8-bit binary PGM ({magic}, max {max}).");
        at++; // the single whitespace byte after the header
        int width = int.Parse(w, System.Globalization.CultureInfo.InvariantCulture);
        int height = int.Parse(h, System.Globalization.CultureInfo.InvariantCulture);
        if (file.Length - at < width * height) throw new InvalidDataException($"{path}: {width}x{height} needs {width * height} pixel bytes, the file has {file.Length - at}.");
        var rgb = new byte[width * height * 3];
        for (int i = 0; i < width * height; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = file[at + i];
        return (rgb, width, height);

        string Token()
        {
            while (at < file.Length && (char.IsWhiteSpace((char)file[at]) || file[at] == '#'))
            {
                if (file[at] == '#') while (at < file.Length && file[at] != '\n') at++;
                else at++;
            }
            int start = at;
            while (at < file.Length && !char.IsWhiteSpace((char)file[at])) at++;
            return System.Text.Encoding.ASCII.GetString(file, start, at - start);
        }
    }

    private static (byte[] Rgb, int Width, int Height) DecodeRgb(string path)
    {
        using var bitmap = SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path}: not a decodable image.");
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        for (int y = 0; y < bitmap.Height; y++)
        for (int x = 0; x < bitmap.Width; x++)
        {
            var c = bitmap.GetPixel(x, y);
            int i = (y * bitmap.Width + x) * 3;
            (rgb[i], rgb[i + 1], rgb[i + 2]) = (c.Red, c.Green, c.Blue);
        }
        return (rgb, bitmap.Width, bitmap.Height);
    }
}
