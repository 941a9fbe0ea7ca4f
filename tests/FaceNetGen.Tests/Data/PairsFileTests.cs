using FaceNetGen.Data;
using FaceNetGen.Tests.Imaging;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Data;

public class PairsFileTests
{
    [Fact]
    public void Reads_a_small_LFW_file_with_folds()
    {
        using var temp = new TempFolder();
        string path = temp.Write("pairs.txt", "2\t1\nAnn_Lee\t1\t2\nBob\t3\tAnn_Lee\t12\nCy\t1\t4\r\nDee\t2\tEd\t1\n\n"u8.ToArray());
        var file = PairsFile.Load(path);
        string images = Path.Combine(temp.Path, "images");

        Assert.Equal(PairsFormat.Lfw, file.Format);
        Assert.Equal(2, file.Folds);
        Assert.Equal(
            [
                new FacePair(1, Path.Combine(images, "Ann_Lee", "Ann_Lee_0001.jpg"), Path.Combine(images, "Ann_Lee", "Ann_Lee_0002.jpg"), true),
                new FacePair(1, Path.Combine(images, "Bob", "Bob_0003.jpg"), Path.Combine(images, "Ann_Lee", "Ann_Lee_0012.jpg"), false),
                new FacePair(2, Path.Combine(images, "Cy", "Cy_0001.jpg"), Path.Combine(images, "Cy", "Cy_0004.jpg"), true),
                new FacePair(2, Path.Combine(images, "Dee", "Dee_0002.jpg"), Path.Combine(images, "Ed", "Ed_0001.jpg"), false),
            ],
            file.Pairs);
    }

    [Fact]
    public void Reads_a_single_count_header_as_one_fold_and_finds_images_one_level_up()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("images"));
        string path = temp.Write("protocol/pairsDevTrain.txt", "2\nA\t1\t2\nB\t1\t2\nA\t1\tB\t2\nB\t2\tA\t1\n"u8.ToArray());
        var file = PairsFile.Load(path);
        Assert.Equal(1, file.Folds);
        Assert.Equal([true, true, false, false], file.Pairs.Select(p => p.Same));
        Assert.Equal(Path.Combine(temp.Path, "images", "A", "A_0001.jpg"), file.Pairs[0].PathA);
    }

    [Fact]
    public void Reads_a_TSV_with_header_and_paths_relative_to_it()
    {
        using var temp = new TempFolder();
        string path = temp.Write("sub/pairs.tsv", "fold\tpath_a\tpath_b\tsame\n1\timages/a.jpg\timages/b.jpg\t1\n3\t../c.png\td.pgm\t0\n"u8.ToArray());
        var file = PairsFile.Load(path);
        Assert.Equal(PairsFormat.Tsv, file.Format);
        Assert.Equal(
            [
                new FacePair(1, Path.Combine(temp.Path, "sub", "images", "a.jpg"), Path.Combine(temp.Path, "sub", "images", "b.jpg"), true),
                new FacePair(3, Path.Combine(temp.Path, "c.png"), Path.Combine(temp.Path, "sub", "d.pgm"), false),
            ],
            file.Pairs);
        Assert.Equal(2, file.Folds);
    }

    [Theory]
    [InlineData("2\t1\nA\t1\t2\nB\t1\tC\nC\t1\t2\nD\t1\tE\t1\n", "line 3: expected a different-person pair")]
    [InlineData("1\t2\nA\t1\t2\nB\t1\tC\t2\nA\t1\tC\t2\nD\t1\tE\t1\n", "line 3: expected a same-person pair")]
    [InlineData("1\t1\nA\t1\tx\nB\t1\tC\t2\n", "line 2: an image number must be a whole number from 1 to 9999, not 'x'")]
    [InlineData("1\t1\nA\t0\t1\nB\t1\tC\t2\n", "line 2: an image number")]
    [InlineData("3\t1\nA\t1\t2\nB\t1\tC\t2\n", "the header on line 1 promises 6 pair lines (3 folds x (1 same + 1 different)), but the file has 2")]
    [InlineData("2\nA\t1\t2\n", "promises 4 pair lines (2 same + 2 different), but the file has 1")]
    [InlineData("hello world\n", "line 1: expected an LFW header")]
    [InlineData("0\t5\n", "line 1: the fold count must be a whole number from 1, not '0'")]
    [InlineData("fold\tpath_a\tpath_b\tsame\n1\ta.jpg\tb.jpg\n", "line 2: expected 4 tab-separated fields")]
    [InlineData("fold\tpath_a\tpath_b\tsame\n1\ta.jpg\tb.jpg\t1\nx\ta.jpg\tb.jpg\t1\n", "line 3: the fold must be a whole number from 1, not 'x'")]
    [InlineData("fold\tpath_a\tpath_b\tsame\n1\ta.jpg\tb.jpg\tyes\n", "line 2: 'same' must be 1 or 0")]
    [InlineData("fold\tpath_a\tpath_b\tsame\n", "has a header but no pairs")]
    [InlineData("\n\n", "the pair file is empty")]
    public void Malformed_files_name_the_file_and_line(string content, string expected)
    {
        var error = Assert.Throws<FaceNetException>(() => PairsFile.Parse(content, "p.txt", "/data", "/data/images"));
        Assert.StartsWith("p.txt: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        Assert.Equal("/no/such/pairs.txt: pair file not found", Assert.Throws<FaceNetException>(() => PairsFile.Load("/no/such/pairs.txt")).Message);
    }

    [DataFact]
    public void Devsubset_TSV_has_600_pairs_in_5_folds_and_matches_its_LFW_format_twin()
    {
        string root = TestPaths.Data("lfw_devsubset");
        var tsv = PairsFile.Load(Path.Combine(root, "pairs_devsubset.tsv"));
        var lfw = PairsFile.Load(Path.Combine(root, "pairs_devsubset_lfwformat.txt"));

        Assert.Equal(PairsFormat.Tsv, tsv.Format);
        Assert.Equal(PairsFormat.Lfw, lfw.Format);
        Assert.Equal(600, tsv.Pairs.Count);
        Assert.Equal(5, tsv.Folds);
        Assert.All(Enumerable.Range(1, 5), f =>
        {
            Assert.Equal(60, tsv.Pairs.Count(p => p.Fold == f && p.Same));
            Assert.Equal(60, tsv.Pairs.Count(p => p.Fold == f && !p.Same));
        });
        Assert.Equal(Path.Combine(root, "images", "Tom_Hanks", "Tom_Hanks_0001.jpg"), tsv.Pairs[0].PathA);
        Assert.All(tsv.Pairs, p => Assert.True(File.Exists(p.PathA) && File.Exists(p.PathB), $"{p.PathA} / {p.PathB}"));
        Assert.Equal(tsv.Pairs, lfw.Pairs);
    }

    [DataFact]
    public void Official_protocol_files_parse_with_their_documented_counts()
    {
        string root = TestPaths.Data("lfw_devsubset");
        var view2 = PairsFile.Load(Path.Combine(root, "protocol", "pairs.txt"));
        Assert.Equal(6000, view2.Pairs.Count);
        Assert.Equal(10, view2.Folds);
        Assert.Equal(3000, view2.Pairs.Count(p => p.Same));
        Assert.Equal(Path.Combine(root, "images", "Abel_Pacheco", "Abel_Pacheco_0001.jpg"), view2.Pairs[0].PathA);
        Assert.Equal(Path.Combine(root, "images", "Abel_Pacheco", "Abel_Pacheco_0004.jpg"), view2.Pairs[0].PathB);
        Assert.Equal(323, view2.Pairs.Count(p => File.Exists(p.PathA) && File.Exists(p.PathB)));

        var view1 = PairsFile.Load(Path.Combine(root, "protocol", "pairsDevTrain.txt"));
        Assert.Equal(2200, view1.Pairs.Count);
        Assert.Equal(1, view1.Folds);
        Assert.Equal(1100, view1.Pairs.Count(p => p.Same));
        Assert.Equal(121, view1.Pairs.Count(p => File.Exists(p.PathA) && File.Exists(p.PathB)));
    }
}
