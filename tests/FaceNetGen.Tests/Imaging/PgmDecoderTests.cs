using System.Text;
using FaceNetGen.Imaging;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Imaging;

public class PgmDecoderTests
{
    private static byte[] Bytes(string header, params byte[] raster) => [.. Encoding.ASCII.GetBytes(header), .. raster];

    [Fact]
    public void Reads_a_binary_P5_file()
    {
        var image = ImageDecoder.Decode(Bytes("P5\n3 2\n255\n", 0, 10, 20, 200, 250, 255), "x.pgm");
        Assert.Equal((3, 2, 1), (image.Width, image.Height, image.Channels));
        Assert.Equal(new byte[] { 0, 10, 20, 200, 250, 255 }, image.Pixels);
        Assert.Equal(200, image[0, 1]);
    }

    [Fact]
    public void P5_header_may_hold_comments_and_any_whitespace()
    {
        var image = ImageDecoder.Decode(Bytes("P5 # made by hand\n3\t2\r\n# another comment\n255\r", 1, 2, 3, 4, 5, 6), "x.pgm");
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, image.Pixels);
    }

    [Fact]
    public void Reads_an_ASCII_P2_file()
    {
        var image = ImageDecoder.Decode(Bytes("P2\n# comment\n3 2\n255\n0 128 255\n  7\n8\t9\n"), "x.pgm");
        Assert.Equal((3, 2), (image.Width, image.Height));
        Assert.Equal(new byte[] { 0, 128, 255, 7, 8, 9 }, image.Pixels);
    }

    [Fact]
    public void Small_maxval_is_scaled_to_8_bits()
    {
        // round(v * 255 / 15) = 17 v: 0 -> 0, 15 -> 255, 7 -> 119, 1 -> 17.
        var image = ImageDecoder.Decode(Bytes("P2 2 2 15\n0 15 7 1"), "x.pgm");
        Assert.Equal(new byte[] { 0, 255, 119, 17 }, image.Pixels);
    }

    [Fact]
    public void Sixteen_bit_P5_is_big_endian_and_scaled_to_8_bits()
    {
        // 0x8000 = 32768: round(32768 * 255 / 65535) = 128; 0x0101 = 257 -> exactly 1.
        var image = ImageDecoder.Decode(Bytes("P5\n4 1\n65535\n", 0x00, 0x00, 0xFF, 0xFF, 0x80, 0x00, 0x01, 0x01), "x.pgm");
        Assert.Equal(new byte[] { 0, 255, 128, 1 }, image.Pixels);
    }

    [Fact]
    public void Sixteen_bit_P2_is_scaled_to_8_bits()
    {
        var image = ImageDecoder.Decode(Bytes("P2\n2 1\n1000\n1000 500\n"), "x.pgm");
        Assert.Equal(new byte[] { 255, 128 }, image.Pixels);
    }

    [Fact]
    public void Truncated_P5_names_the_file_and_the_sizes()
    {
        var error = Assert.Throws<FaceNetException>(() => ImageDecoder.Decode(Bytes("P5\n92 112\n255\n", new byte[1000]), "s1/1.pgm"));
        Assert.Equal("s1/1.pgm: truncated PGM: expected 10,304 bytes of pixels (92x112), found 1,000", error.Message);
    }

    [Fact]
    public void Truncated_sixteen_bit_P5_counts_two_bytes_a_pixel()
    {
        var error = Assert.Throws<FaceNetException>(() => ImageDecoder.Decode(Bytes("P5\n2 2\n4095\n", new byte[7]), "a.pgm"));
        Assert.Equal("a.pgm: truncated PGM: expected 8 bytes of pixels (2x2), found 7", error.Message);
    }

    [Fact]
    public void Truncated_P2_counts_values()
    {
        var error = Assert.Throws<FaceNetException>(() => ImageDecoder.Decode(Bytes("P2\n3 2\n255\n1 2 3 4\n"), "b.pgm"));
        Assert.Equal("b.pgm: truncated PGM: expected 6 pixel values (3x2), found 4", error.Message);
    }

    [Fact]
    public void Header_ending_early_is_reported()
    {
        var error = Assert.Throws<FaceNetException>(() => ImageDecoder.Decode(Bytes("P5\n92 112"), "c.pgm"));
        Assert.StartsWith("c.pgm: truncated PGM header", error.Message);
        Assert.Contains("maxval", error.Message);

        error = Assert.Throws<FaceNetException>(() => ImageDecoder.Decode(Bytes("P5\n92 112\n255"), "c.pgm"));
        Assert.Equal("c.pgm: truncated PGM: expected 10,304 bytes of pixels (92x112), found 0", error.Message);
    }

    [Theory]
    [InlineData("P5\n92 abc\n255\n", "expected the height (a number), found 'a'")]
    [InlineData("P5\n92x112\n255\n", "expected whitespace after the width, found 'x'")]
    [InlineData("P5\n0 112\n255\n", "the PGM size 0x112 is empty")]
    [InlineData("P5\n2 2\n0\n", "maxval must be 1 to 65,535, not 0")]
    [InlineData("P5\n2 2\n70000\n", "maxval must be 1 to 65,535, not 70,000")]
    [InlineData("P6\n2 2\n255\n", "unsupported Netpbm type P6")]
    [InlineData("GIF89a", "not a PGM file")]
    [InlineData("", "not a PGM file")]
    [InlineData("P2\n2 1\n255\n1 x\n", "line 4: expected a pixel value, found 'x'")]
    [InlineData("P2\n2 1\n100\n1 101\n", "pixel (1, 0) has the value 101, above the maxval 100")]
    public void Malformed_files_say_what_is_wrong(string content, string expected)
    {
        var error = Assert.Throws<FaceNetException>(() => ImageDecoder.Decode(Encoding.ASCII.GetBytes(content), "d.pgm"));
        Assert.StartsWith("d.pgm: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Loads_from_disk_and_names_missing_files()
    {
        using var temp = new TempFolder();
        string path = temp.Write("s1/1.pgm", Bytes("P5 2 1 255\n", 9, 8));
        Assert.Equal(new byte[] { 9, 8 }, ImageDecoder.Load(path).Pixels);

        string missing = temp.File("s1/2.pgm");
        var error = Assert.Throws<FaceNetException>(() => ImageDecoder.Load(missing));
        Assert.Equal($"{missing}: file not found", error.Message);
    }

    [DataFact]
    public void Reads_an_ATT_face()
    {
        var image = ImageDecoder.Load(Path.Combine(TestPaths.Data("att_faces"), "s1", "1.pgm"));
        Assert.Equal((92, 112, 1), (image.Width, image.Height, image.Channels));
        Assert.True(image.Pixels.Max() > image.Pixels.Min() + 100, "a real face has contrast");
    }
}
