using FaceNetGen.Evaluation;

namespace FaceNetGen.Tests.Evaluation;

public class AtomicFileTests
{
    [Fact]
    public void A_write_that_fails_midway_leaves_the_old_file_and_no_temporary()
    {
        using var folder = new TempFolder();
        string path = folder.File("out.txt");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial"u8);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal(["out.txt"], folder.Files());
        Assert.Equal("old", File.ReadAllText(path));
    }

    [Fact]
    public void A_write_replaces_the_file_and_creates_its_folder()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "sub", "out.txt");
        AtomicFile.WriteAllText(path, "one");
        AtomicFile.WriteAllText(path, "two");
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}
