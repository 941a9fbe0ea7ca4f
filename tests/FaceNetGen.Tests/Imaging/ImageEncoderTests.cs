using FaceNetGen.Imaging;

namespace FaceNetGen.Tests.Imaging;

public class ImageEncoderTests
{
    [Fact]
    public void SavePng_writes_the_file_and_leaves_no_temporary()
    {
        using var temp = new TempFolder();
        var image = new Image(3, 2, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
        string path = temp.File("sheet.png");
        ImageEncoder.SavePng(image, path);
        ImageEncoder.SavePng(image, path);
        Assert.Equal(image.Pixels, ImageDecoder.Load(path).Pixels);
        Assert.Equal(new[] { "sheet.png" }, Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failed_save_names_the_path_and_leaves_nothing_behind()
    {
        using var temp = new TempFolder();
        string path = temp.File("taken");
        Directory.CreateDirectory(path);
        var error = Assert.Throws<FaceNetException>(() => ImageEncoder.SavePng(new Image(2, 2, 1), path));
        Assert.StartsWith($"{path}: cannot write the PNG", error.Message);
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void Contact_sheet_lays_images_on_a_grid()
    {
        var white = new Image(4, 4, 1);
        Array.Fill(white.Pixels, (byte)255);
        var red = new Image(8, 4, 3);
        for (int i = 0; i < red.Pixels.Length; i += 3) red.Pixels[i] = 200;

        var sheet = ContactSheet.Compose([white, red, white], columns: 2, cellWidth: 4, cellHeight: 4, gap: 1);
        Assert.Equal((11, 11), (sheet.Width, sheet.Height));
        Assert.Equal(255, sheet[1, 1, 0]);
        Assert.Equal(255, sheet[1, 1, 2]);
        Assert.Equal(200, sheet[6, 3, 0]);
        Assert.Equal(0, sheet[6, 3, 1]);
        Assert.Equal(255, sheet[2, 7, 1]);
        Assert.Equal(40, sheet[0, 0, 0]);
    }
}
