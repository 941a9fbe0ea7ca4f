using System.Text;
using FaceNetGen.Data;
using FaceNetGen.Tests.Imaging;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Data;

public class FolderFaceDatasetTests
{
    internal static byte[] Pgm(byte value) => [.. Encoding.ASCII.GetBytes("P5 2 2 255\n"), value, value, value, value];

    [Fact]
    public void Natural_order_compares_numbers_by_value()
    {
        string[] names = ["10.pgm", "2.pgm", "1.pgm", "a10", "a9", "b", "a09", "A1", "x_0002.jpg", "x_0010.jpg"];
        var sorted = names.Order(NaturalComparer.Instance).ToArray();
        Assert.Equal(["1.pgm", "2.pgm", "10.pgm", "A1", "a09", "a9", "a10", "b", "x_0002.jpg", "x_0010.jpg"], sorted);
    }

    [Fact]
    public void Scans_identity_folders_in_ordinal_order_and_images_in_natural_order()
    {
        using var temp = new TempFolder();
        foreach (var id in new[] { "b", "a", "C" })
        {
            foreach (var file in new[] { "10.pgm", "2.pgm", "1.pgm" }) temp.Write($"{id}/{file}", Pgm(1));
        }

        temp.Write("a/notes.txt", [1, 2, 3]);
        temp.Write(".hidden/1.pgm", Pgm(1));
        temp.Write(".hidden/2.pgm", Pgm(1));
        temp.Write("README.md", [1]);

        var dataset = FolderFaceDataset.Open(temp.Path);
        Assert.Equal(["C", "a", "b"], dataset.Identities.Select(i => i.Name));
        Assert.Equal(["1.pgm", "2.pgm", "10.pgm"], dataset.Identities[1].Items.Select(i => Path.GetFileName(i.Source)));
        Assert.Equal(9, dataset.ItemCount);
        Assert.All(dataset.Identities, id => Assert.All(id.Items, item => Assert.Equal(id.Index, item.Identity)));
        Assert.Empty(dataset.Warnings);
        Assert.Equal(1.0, dataset.SuggestedCropFraction);
        Assert.Equal(2, dataset.Load(dataset.Identities[2].Items[0]).Width);
    }

    [Fact]
    public void Identities_with_one_image_are_skipped_with_a_warning()
    {
        using var temp = new TempFolder();
        temp.Write("alone/1.pgm", Pgm(1));
        temp.Write("pair/1.pgm", Pgm(1));
        temp.Write("pair/2.pgm", Pgm(2));
        var said = new List<string>();

        var dataset = FolderFaceDataset.Open(temp.Path, said.Add);
        Assert.Equal(["pair"], dataset.Identities.Select(i => i.Name));
        Assert.Single(said);
        Assert.Equal(said, dataset.Warnings);
        Assert.Contains("'alone'", said[0]);
        Assert.Contains("1 image(s)", said[0]);
    }

    [Fact]
    public void Uses_an_images_folder_when_the_root_has_no_identities()
    {
        using var temp = new TempFolder();
        temp.Write("images/Ann_Lee/Ann_Lee_0001.jpg", [1]);
        temp.Write("images/Ann_Lee/Ann_Lee_0002.jpg", [1]);
        temp.Write("protocol/pairs.txt", [1]);

        var dataset = FolderFaceDataset.Open(temp.Path);
        Assert.Equal(Path.Combine(temp.Path, "images"), dataset.ImageRoot);
        Assert.Equal(["Ann_Lee"], dataset.Identities.Select(i => i.Name));
        Assert.Equal(FaceNetGen.Imaging.Preprocessor.DefaultCropFraction, dataset.SuggestedCropFraction);
    }

    [Fact]
    public void Missing_or_empty_roots_are_named()
    {
        using var temp = new TempFolder();
        string missing = temp.File("nowhere");
        Assert.Equal($"{missing}: face folder not found", Assert.Throws<FaceNetException>(() => FolderFaceDataset.Open(missing)).Message);

        var error = Assert.Throws<FaceNetException>(() => FolderFaceDataset.Open(temp.Path));
        Assert.StartsWith($"{temp.Path}: no identity folders with images", error.Message);

        temp.Write("solo/1.pgm", Pgm(1));
        error = Assert.Throws<FaceNetException>(() => FolderFaceDataset.Open(temp.Path, _ => { }));
        Assert.Contains("no identity has at least 2 images", error.Message);
    }

    [DataFact]
    public void Reads_the_ATT_faces()
    {
        var dataset = FolderFaceDataset.Open(TestPaths.Data("att_faces"));
        Assert.Equal(40, dataset.Identities.Count);
        Assert.Equal(400, dataset.ItemCount);
        Assert.All(dataset.Identities, id => Assert.Equal(10, id.Items.Count));
        Assert.Equal(["s1", "s10", "s11"], dataset.Identities.Take(3).Select(i => i.Name));
        Assert.Equal(["1.pgm", "2.pgm", "3.pgm", "4.pgm", "5.pgm", "6.pgm", "7.pgm", "8.pgm", "9.pgm", "10.pgm"], dataset.Identities[0].Items.Select(i => Path.GetFileName(i.Source)));
        Assert.Empty(dataset.Warnings);

        var image = dataset.Load(dataset.Identities[39].Items[9]);
        Assert.Equal((92, 112, 1), (image.Width, image.Height, image.Channels));
    }

    [DataTheory]
    [InlineData("lfw_train", 1104, 3267)]
    [InlineData("lfw_devsubset", 158, 1512)]
    public void Reads_the_LFW_folders_as_their_READMEs_count_them(string name, int identities, int images)
    {
        string root = TestPaths.Data(name);
        var dataset = FolderFaceDataset.Open(root);
        Assert.Equal(identities, dataset.Identities.Count);
        Assert.Equal(images, dataset.ItemCount);
        Assert.Empty(dataset.Warnings);

        // Per person, the counts in identities.tsv (header row, then name and count first).
        var expected = File.ReadAllLines(Path.Combine(root, "identities.tsv")).Skip(1)
            .Select(l => l.Split('\t'))
            .ToDictionary(f => f[0], f => int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expected.Count, dataset.Identities.Count);
        Assert.All(dataset.Identities, id => Assert.Equal(expected[id.Name], id.Items.Count));

        var first = dataset.Identities[0];
        Assert.Equal($"{first.Name}_0001.jpg", Path.GetFileName(first.Items[0].Source));
    }

    [DataFact]
    public void Identity_splits_are_disjoint_complete_and_repeatable()
    {
        var dataset = FolderFaceDataset.Open(TestPaths.Data("att_faces"));
        var split = IdentitySplit.Create(dataset, 0.25, seed: 3);
        var again = IdentitySplit.Create(dataset, 0.25, seed: 3);
        var other = IdentitySplit.Create(dataset, 0.25, seed: 4);

        var train = split.Train.Identities.Select(i => i.Name).ToList();
        var held = split.HeldOut.Identities.Select(i => i.Name).ToList();
        Assert.Equal(10, held.Count);
        Assert.Equal(30, train.Count);
        Assert.Empty(train.Intersect(held));
        Assert.Equal(dataset.Identities.Select(i => i.Name).Order(StringComparer.Ordinal), train.Concat(held).Order(StringComparer.Ordinal));
        Assert.Equal(held, again.HeldOut.Identities.Select(i => i.Name));
        Assert.NotEqual(held, other.HeldOut.Identities.Select(i => i.Name));

        // Views renumber identities and still load through the original.
        var view = split.HeldOut;
        Assert.All(view.Identities, id => Assert.All(id.Items, item => Assert.Equal(id.Index, item.Identity)));
        Assert.Equal(100, view.ItemCount);
        Assert.Equal(112, view.Load(view.Identities[3].Items[2]).Height);
    }

    [Fact]
    public void Splits_need_two_identities_and_a_sane_fraction()
    {
        var faces = new SyntheticFaces(1, 2, seed: 1, size: 16);
        Assert.Throws<FaceNetException>(() => IdentitySplit.Create(faces, 0.5, 1));
        Assert.Throws<FaceNetException>(() => IdentitySplit.Create(new SyntheticFaces(4, 2, 1, 16), 1.0, 1));
        var tiny = IdentitySplit.Create(new SyntheticFaces(4, 2, 1, 16), 0.01, 1);
        Assert.Single(tiny.HeldOut.Identities);
    }
}
