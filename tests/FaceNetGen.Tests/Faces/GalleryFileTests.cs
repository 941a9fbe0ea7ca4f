using System.Buffers.Binary;
using System.Text;
using FaceNetGen.Faces;
using FaceNetGen.Tests.Evaluation;

namespace FaceNetGen.Tests.Faces;

public class GalleryFileTests
{
    private static byte[] Saved(TempFolder folder, string name = "g.fng")
    {
        var g = new Gallery(3, "NN2", "abc");
        g.Add("alice", [1, 0, 0], "a.jpg");
        g.Add("bob", [0, 1, 0]);
        g.Save(folder.File(name));
        return File.ReadAllBytes(folder.File(name));
    }

    [Fact]
    public void Layout_matches_the_documentation()
    {
        using var folder = new TempFolder();
        byte[] b = Saved(folder);
        Assert.Equal("FNGALLRY", Encoding.ASCII.GetString(b, 0, 8));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(12)));
        Assert.Equal(0, b[16]); // float32
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(17)));
        Assert.Equal("NN2", Encoding.UTF8.GetString(b, 21, 3));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24)));
        Assert.Equal("abc", Encoding.UTF8.GetString(b, 28, 3));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(31)));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(35)));
        Assert.Equal("alice", Encoding.UTF8.GetString(b, 39, 5));
        Assert.Equal(1, b[44]); // has a source
        Assert.Equal(1f, BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(44 + 1 + 4 + 5)));
        // 8+4+4+1+7+7+4 header, alice 4+5+1+4+5+12, bob 4+3+1+12, checksum 4.
        Assert.Equal(35 + 31 + 20 + 4, b.Length);
        // The checksum is the standard CRC-32 of everything before it ("123456789" → 0xCBF43926 checks the table).
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(Crc32.Compute(b.AsSpan(0, b.Length - 4)), BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(b.Length - 4)));
    }

    [Fact]
    public void A_flipped_byte_is_reported_as_corrupt()
    {
        using var folder = new TempFolder();
        byte[] b = Saved(folder);
        for (int i = 16; i < b.Length; i += 7)
        {
            byte[] damaged = (byte[])b.Clone();
            damaged[i] ^= 0x10;
            string path = folder.File($"flip{i}.fng");
            File.WriteAllBytes(path, damaged);
            var e = Assert.Throws<FaceNetException>(() => Gallery.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("corrupt", e.Message);
        }
    }

    [Fact]
    public void A_truncated_file_is_refused_at_every_length()
    {
        using var folder = new TempFolder();
        byte[] b = Saved(folder);
        for (int length = 0; length < b.Length; length++)
        {
            string path = folder.File($"cut{length}.fng");
            File.WriteAllBytes(path, b.AsSpan(0, length).ToArray());
            var e = Assert.Throws<FaceNetException>(() => Gallery.Load(path));
            Assert.Contains(path, e.Message);
        }
    }

    [Fact]
    public void Other_files_and_versions_are_refused()
    {
        using var folder = new TempFolder();
        byte[] b = Saved(folder);
        string text = folder.File("text.fng");
        File.WriteAllText(text, "hello, this is not a gallery");
        Assert.Contains("not a gallery file", Assert.Throws<FaceNetException>(() => Gallery.Load(text)).Message);

        byte[] v2 = (byte[])b.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(v2.AsSpan(8), 2);
        string future = folder.File("v2.fng");
        File.WriteAllBytes(future, v2);
        var e = Assert.Throws<FaceNetException>(() => Gallery.Load(future));
        Assert.Contains("version 2", e.Message);
        Assert.Contains(future, e.Message);

        string missing = folder.File("missing.fng");
        Assert.Contains(missing, Assert.Throws<FaceNetException>(() => Gallery.Load(missing)).Message);
    }

    [Fact]
    public void A_failed_save_leaves_the_old_file()
    {
        using var folder = new TempFolder();
        byte[] before = Saved(folder);
        // A spec name over the 1 MiB string limit cannot be written.
        var g = new Gallery(3, new string('x', (1 << 20) + 1), "abc");
        Assert.ThrowsAny<Exception>(() => g.Save(folder.File("g.fng")));
        Assert.Equal(["g.fng"], folder.Files());
        Assert.Equal(before, File.ReadAllBytes(folder.File("g.fng")));
    }
}
