using System.Text;
using FaceNetGen.Imaging;
using FaceNetGen.Tests.Infrastructure;
using SkiaSharp;

namespace FaceNetGen.Tests.Imaging;

public class ImageDecoderTests
{
    private static Image Gradient(int width, int height, int channels)
    {
        var image = new Image(width, height, channels);
        for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = (byte)((i * 37) % 256);
        return image;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Png_round_trips_exactly(int channels)
    {
        var image = Gradient(7, 5, channels);
        var back = ImageDecoder.Decode(ImageEncoder.EncodePng(image), "x.png");
        Assert.Equal((7, 5, channels), (back.Width, back.Height, back.Channels));
        Assert.Equal(image.Pixels, back.Pixels);
    }

    [Fact]
    public void Jpeg_and_bmp_decode_through_skia()
    {
        var info = new SKImageInfo(16, 8, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        bitmap.Erase(new SKColor(200, 100, 50));
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        var image = ImageDecoder.Decode(jpeg.ToArray(), "x.jpg");
        Assert.Equal((16, 8, 3), (image.Width, image.Height, image.Channels));
        Assert.InRange(image[3, 3, 0], 190, 210);
        Assert.InRange(image[3, 3, 1], 90, 110);
        Assert.InRange(image[3, 3, 2], 40, 60);
    }

    [Fact]
    public void Grey_jpeg_stays_grey()
    {
        var info = new SKImageInfo(8, 8, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        bitmap.Erase(new SKColor(90, 90, 90));
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        var image = ImageDecoder.Decode(jpeg.ToArray(), "grey.jpeg");
        Assert.Equal(1, image.Channels);
        Assert.InRange(image[4, 4], 85, 95);
    }

    [Fact]
    public void Garbage_is_not_a_decodable_image()
    {
        var error = Assert.Throws<FaceNetException>(() => ImageDecoder.Decode(Encoding.ASCII.GetBytes("this is not a jpeg at all"), "x.jpg"));
        Assert.StartsWith("x.jpg: not a decodable image (", error.Message);

        error = Assert.Throws<FaceNetException>(() => ImageDecoder.Decode([], "y.png"));
        Assert.Equal("y.png: not a decodable image (the file is empty)", error.Message);
    }

    [Fact]
    public void Truncated_png_is_reported()
    {
        byte[] png = ImageEncoder.EncodePng(Gradient(64, 64, 3));
        var error = Assert.Throws<FaceNetException>(() => ImageDecoder.Decode(png.AsSpan(0, png.Length / 2), "half.png"));
        Assert.StartsWith("half.png: not a decodable image (", error.Message);
    }

    [Theory]
    [InlineData("face.gif", "the extension '.gif'")]
    [InlineData("face", "no extension")]
    public void Unsupported_extensions_are_named(string name, string expected)
    {
        var error = Assert.Throws<FaceNetException>(() => ImageDecoder.Load(name));
        Assert.StartsWith($"{name}: unsupported image type ({expected})", error.Message);
    }

    [Fact]
    public void Extension_check_ignores_case()
    {
        Assert.True(ImageDecoder.IsSupported("A/B.JPG"));
        Assert.True(ImageDecoder.IsSupported("x.Pgm"));
        Assert.False(ImageDecoder.IsSupported("x.txt"));
    }

    [DataFact]
    public void Reads_an_LFW_jpeg()
    {
        var image = ImageDecoder.Load(Path.Combine(TestPaths.Data("lfw_devsubset"), "images", "Tom_Hanks", "Tom_Hanks_0001.jpg"));
        Assert.Equal((250, 250, 3), (image.Width, image.Height, image.Channels));
    }
}
