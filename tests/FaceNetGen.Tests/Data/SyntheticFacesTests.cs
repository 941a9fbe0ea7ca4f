using FaceNetGen.Data;
using FaceNetGen.Imaging;

namespace FaceNetGen.Tests.Data;

public class SyntheticFacesTests
{
    [Fact]
    public void Rendering_is_deterministic_by_seed_and_independent_of_order()
    {
        var a = new SyntheticFaces(6, 4, seed: 7, size: 64);
        var b = new SyntheticFaces(6, 4, seed: 7, size: 64);
        var late = a.Render(5, 3, 64, 64);
        var early = a.Render(0, 0, 64, 64);

        Assert.Equal(b.Render(0, 0, 64, 64).Pixels, early.Pixels);
        Assert.Equal(b.Render(5, 3, 64, 64).Pixels, late.Pixels);
        Assert.Equal(a.Render(5, 3, 64, 64).Pixels, late.Pixels);
    }

    [Fact]
    public void Another_seed_gives_other_people()
    {
        var a = new SyntheticFaces(3, 2, seed: 1, size: 48);
        var b = new SyntheticFaces(3, 2, seed: 2, size: 48);
        Assert.NotEqual(a.Render(0, 0, 48, 48).Pixels, b.Render(0, 0, 48, 48).Pixels);
    }

    [Fact]
    public void Identities_differ_and_pictures_of_one_identity_differ()
    {
        var faces = new SyntheticFaces(4, 4, seed: 3, size: 64);
        var p00 = faces.Render(0, 0, 64, 64);
        var p01 = faces.Render(0, 1, 64, 64);
        var p10 = faces.Render(1, 0, 64, 64);

        Assert.True(MeanAbsoluteDifference(p00, p01) > 5, "two pictures of one person should differ");
        Assert.True(MeanAbsoluteDifference(p00, p10) > 5, "two people should differ");
    }

    [Fact]
    public void Renders_at_the_requested_size_up_to_224_and_beyond()
    {
        var faces = new SyntheticFaces(2, 2, seed: 1, size: 224);
        var image = faces.Load(faces.Identities[1].Items[1]);
        Assert.Equal((224, 224, 3), (image.Width, image.Height, image.Channels));

        var wide = faces.Render(0, 0, 96, 64);
        Assert.Equal((96, 64), (wide.Width, wide.Height));

        var error = Assert.Throws<FaceNetException>(() => faces.Render(0, 0, 8, 8));
        Assert.Contains("8x8", error.Message);
    }

    [Fact]
    public void Lists_items_like_a_dataset()
    {
        var faces = new SyntheticFaces(5, 3, seed: 9, size: 32);
        Assert.Equal(5, faces.Identities.Count);
        Assert.Equal(15, faces.ItemCount);
        Assert.Equal(1.0, faces.SuggestedCropFraction);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(i, faces.Identities[i].Index);
            Assert.All(faces.Identities[i].Items, item => Assert.Equal(i, item.Identity));
        }

        Assert.Equal("synthetic:2/1", faces.Identities[2].Items[1].Source);
        Assert.Equal(faces.Render(2, 1, 32, 32).Pixels, faces.Load(faces.Identities[2].Items[1]).Pixels);
    }

    [Fact]
    public void Mean_colour_does_not_identify_a_person()
    {
        // Nearest class mean on the mean RGB colour, leave-one-out: far from perfect, because lighting, colour
        // cast and background vary from picture to picture.
        const int people = 12, pictures = 8;
        var faces = new SyntheticFaces(people, pictures, seed: 11, size: 40);
        var means = new double[people, pictures, 3];
        for (int i = 0; i < people; i++)
        {
            for (int j = 0; j < pictures; j++)
            {
                var px = faces.Render(i, j, 40, 40).Pixels;
                for (int k = 0; k < px.Length; k++) means[i, j, k % 3] += px[k] / (px.Length / 3.0);
            }
        }

        int correct = 0;
        for (int i = 0; i < people; i++)
        {
            for (int j = 0; j < pictures; j++)
            {
                int best = -1;
                double bestDistance = double.MaxValue;
                for (int c = 0; c < people; c++)
                {
                    double d = 0;
                    for (int ch = 0; ch < 3; ch++)
                    {
                        double centre = 0;
                        int n = 0;
                        for (int q = 0; q < pictures; q++)
                        {
                            if (c == i && q == j) continue;
                            centre += means[c, q, ch];
                            n++;
                        }

                        d += Math.Pow((centre / n) - means[i, j, ch], 2);
                    }

                    if (d < bestDistance)
                    {
                        bestDistance = d;
                        best = c;
                    }
                }

                if (best == i) correct++;
            }
        }

        double accuracy = correct / (double)(people * pictures);
        Assert.True(accuracy < 0.35, $"mean colour identifies {accuracy:P0} of the pictures (chance is {1.0 / people:P0})");
    }

    [Fact]
    public void Contact_sheet_of_synthetic_faces_is_written()
    {
        var faces = new SyntheticFaces(8, 6, seed: 1, size: 112);
        var images = new List<Image>();
        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 6; j++) images.Add(faces.Render(i, j, 112, 112));
        }

        var sheet = ContactSheet.Compose(images, columns: 6, cellWidth: 112, cellHeight: 112);
        string path = Path.Combine(Path.GetTempPath(), "facenetgen-synthetic-faces.png");
        ImageEncoder.SavePng(sheet, path);
        var back = ImageDecoder.Load(path);
        Assert.Equal(sheet.Pixels, back.Pixels);
    }

    private static double MeanAbsoluteDifference(Image a, Image b)
    {
        double sum = 0;
        for (int i = 0; i < a.Pixels.Length; i++) sum += Math.Abs(a.Pixels[i] - b.Pixels[i]);
        return sum / a.Pixels.Length;
    }
}
