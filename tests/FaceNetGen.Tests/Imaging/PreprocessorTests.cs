using FaceNetGen.Imaging;

namespace FaceNetGen.Tests.Imaging;

public class PreprocessorTests
{
    private static float N(double v) => (float)((v - 127.5) / 128);

    private static Image Grey(int width, int height, params byte[] pixels) => new(width, height, 1, pixels);

    /// <summary>Equal within float rounding (weights such as 1/46 are not exact in binary).</summary>
    private static void Near(IReadOnlyList<float> expected, IReadOnlyList<float> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"at {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Shrinking_averages_areas_and_repeats_grey_into_three_planes()
    {
        // 4x4 -> 2x2: each output is the mean of a 2x2 block.
        var image = Grey(4, 4,
            0, 10, 20, 30,
            40, 50, 60, 70,
            100, 100, 200, 200,
            100, 100, 200, 202);
        var pre = new Preprocessor(2, 2, cropFraction: 1.0);
        var output = new float[pre.OutputLength];
        pre.Process(image, output);

        float[] plane = [N(25), N(45), N(100), N(200.5)];
        Assert.Equal([.. plane, .. plane, .. plane], output);
    }

    [Fact]
    public void Fractional_boxes_count_partly_covered_pixels_by_their_share()
    {
        // 3 -> 2 columns: [0, 1.5) and [1.5, 3): (0 + 0.5 * 90) / 1.5 = 30, (0.5 * 90 + 180) / 1.5 = 150.
        var pre = new Preprocessor(1, 2, 1.0);
        var output = new float[pre.OutputLength];
        pre.Process(Grey(3, 1, 0, 90, 180), CropBox.Whole(3, 1), flip: false, output);
        Assert.Equal(N(30), output[0], 5);
        Assert.Equal(N(150), output[1], 5);
    }

    [Fact]
    public void Enlarging_interpolates_between_pixel_centres()
    {
        // 2 -> 4 columns: samples at source x = -0.25, 0.25, 0.75, 1.25 (edges repeat).
        var pre = new Preprocessor(1, 4, 1.0);
        var output = new float[pre.OutputLength];
        pre.Process(Grey(2, 1, 100, 200), CropBox.Whole(2, 1), flip: false, output);
        Assert.Equal(N(100), output[0], 5);
        Assert.Equal(N(125), output[1], 5);
        Assert.Equal(N(175), output[2], 5);
        Assert.Equal(N(200), output[3], 5);
    }

    [Fact]
    public void Flip_mirrors_columns()
    {
        var image = Grey(4, 2, 0, 40, 80, 120, 4, 44, 84, 124);
        var pre = new Preprocessor(2, 2, 1.0);
        var output = new float[pre.OutputLength];
        pre.Process(image, CropBox.Whole(4, 2), flip: true, output);
        Assert.Equal(new[] { N(100), N(20), N(104), N(24) }, output[..4]);
    }

    [Fact]
    public void Rgb_goes_to_planes_R_G_B()
    {
        var image = new Image(2, 1, 3, [10, 20, 30, 40, 50, 60]);
        var pre = new Preprocessor(1, 2, 1.0);
        var output = new float[pre.OutputLength];
        pre.Process(image, CropBox.Whole(2, 1), flip: false, output);
        Assert.Equal(new[] { N(10), N(40), N(20), N(50), N(30), N(60) }, output);
    }

    [Fact]
    public void Same_size_is_exact_and_inverts_back_to_the_image()
    {
        var image = new Image(5, 3, 3);
        for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = (byte)(i * 17);
        var pre = new Preprocessor(3, 5, 1.0);
        var output = new float[pre.OutputLength];
        pre.Process(image, output);
        Assert.Equal(image.Pixels, Preprocessor.ToImage(output, 3, 5).Pixels);
    }

    [Fact]
    public void Centre_crop_keeps_the_model_aspect_ratio()
    {
        Assert.Equal(new CropBox(0, 10, 92, 92), CropBox.Centered(92, 112, 96, 96, 1.0));
        Assert.Equal(new CropBox(55, 55, 140, 140), new Preprocessor(160, 160).CenterCrop(250, 250));
        Assert.Equal(new CropBox(25, 0, 50, 100), CropBox.Centered(100, 100, 1, 2, 1.0));
    }

    [Fact]
    public void Centre_crop_of_an_ATT_sized_face_is_its_middle_square()
    {
        // 92x112 -> 2x2 with fraction 1 crops rows 10..101; each output averages a 46x46 block of it.
        var image = new Image(92, 112, 1);
        for (int y = 0; y < 112; y++)
        {
            for (int x = 0; x < 92; x++) image[x, y] = (byte)(y < 10 || y >= 102 ? 255 : (x < 46 ? 0 : 100));
        }

        var pre = new Preprocessor(2, 2, 1.0);
        var output = new float[pre.OutputLength];
        pre.Process(image, output);
        Near(new[] { N(0), N(100), N(0), N(100) }, output[..4]);
    }

    [Fact]
    public void Crop_outside_the_image_names_both()
    {
        var pre = new Preprocessor(2, 2, 1.0);
        var output = new float[pre.OutputLength];
        var error = Assert.Throws<FaceNetException>(() => pre.Process(new Image(92, 112, 1), new CropBox(50, 0, 50, 50), false, output));
        Assert.Contains("92x112", error.Message);
        Assert.Contains("outside", error.Message);

        error = Assert.Throws<FaceNetException>(() => pre.Process(new Image(4, 4, 1), new CropBox(0, 0, 0, 2), false, output));
        Assert.Contains("4x4", error.Message);
    }

    [Fact]
    public void Bad_sizes_are_named()
    {
        Assert.Contains("96x0", Assert.Throws<FaceNetException>(() => new Preprocessor(0, 96)).Message);
        Assert.Contains("0x112", Assert.Throws<FaceNetException>(() => new Image(0, 112, 1)).Message);
        Assert.Contains("2x2 image must have 1 (grey) or 3 (RGB) channels, not 2", Assert.Throws<FaceNetException>(() => new Image(2, 2, 2)).Message);
        Assert.Throws<ArgumentException>(() => new Preprocessor(2, 2, 1.0).Process(new Image(2, 2, 1), new float[11]));
    }

    [Fact]
    public void Augmentation_draws_follow_the_seed()
    {
        var aug = new Augmentation(Flip: true, MaxShift: 0.1, MaxScale: 0.2);
        Assert.Equal(aug.Draw(42), aug.Draw(42));
        Assert.NotEqual(aug.Draw(42), aug.Draw(43));
        var samples = Enumerable.Range(0, 200).Select(i => aug.Draw((ulong)i)).ToList();
        Assert.All(samples, s => Assert.InRange(s.Scale, 0.8, 1.2));
        Assert.All(samples, s => Assert.InRange(s.ShiftX, -0.1, 0.1));
        Assert.InRange(samples.Count(s => s.Flip), 60, 140);
        Assert.All(Enumerable.Range(0, 50).Select(i => Augmentation.None.Draw((ulong)i)), s => Assert.Equal(AugmentationSample.Identity, s));
    }

    [Fact]
    public void Jittered_boxes_stay_inside_the_image()
    {
        var grown = Augmentation.Apply(CropBox.Whole(100, 80), new AugmentationSample(false, 1.3, 0.2, -0.2), 100, 80);
        Assert.Equal(100, grown.Width, 9);
        Assert.Equal(80, grown.Height, 9);
        Assert.Equal(0, grown.X, 9);

        var moved = Augmentation.Apply(new CropBox(10, 10, 40, 40), new AugmentationSample(false, 1.0, -0.5, 0.25), 100, 100);
        Assert.Equal(new CropBox(0, 20, 40, 40), moved);
    }

    [Fact]
    public void A_flip_draw_equals_processing_the_mirrored_image()
    {
        var image = new Image(9, 7, 3);
        for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = (byte)((i * 29) % 251);
        var pre = new Preprocessor(4, 4, 0.8);
        var flipped = new float[pre.OutputLength];
        var mirrored = new float[pre.OutputLength];
        pre.Process(image, new AugmentationSample(true, 1, 0, 0), flipped);
        pre.Process(image.FlipHorizontal(), AugmentationSample.Identity, mirrored);
        Near(mirrored, flipped);
    }

    [Fact]
    public void Seeded_processing_is_repeatable()
    {
        var image = new Image(30, 30, 3);
        for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = (byte)((i * 13) % 256);
        var pre = new Preprocessor(8, 8, 0.7);
        var a = new float[pre.OutputLength];
        var b = new float[pre.OutputLength];
        pre.Process(image, Augmentation.Default, 5UL, a);
        pre.Process(image, Augmentation.Default, new DeterministicRandom(5), b);
        Assert.Equal(a, b);
    }
}
