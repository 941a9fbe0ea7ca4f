using FaceNetGen.Faces;
using FaceNetGen.Models;
using FaceNetGen.Tests.Evaluation;

namespace FaceNetGen.Tests.Faces;

public class GalleryTests
{
    private static Gallery ThreePeople(GalleryStorage storage = GalleryStorage.Float32)
    {
        var g = new Gallery(4, "NN2", "hash-nn2", storage);
        g.Add("alice", [1, 0, 0, 0], "alice/1.jpg");
        g.Add("alice", [0.8f, 0.6f, 0, 0], "alice/2.jpg");
        g.Add("bob", [0, 0, 1, 0]);
        g.Add("carol", [0, 0, 0, 1], "carol/1.jpg");
        return g;
    }

    [Fact]
    public void Nearest_orders_by_squared_distance()
    {
        var g = ThreePeople();
        var n = g.Nearest([1, 0, 0, 0], 3);
        Assert.Equal(["alice/1.jpg", "alice/2.jpg", null], n.Select(x => x.Entry.Source));
        Assert.Equal(0f, n[0].Distance);
        Assert.Equal(0.4f, n[1].Distance, 1e-6f); // 0.2² + 0.6²
        Assert.Equal(2f, n[2].Distance); // bob before carol: equal distance, added first
        Assert.Equal("bob", n[2].Entry.Label);
        Assert.Equal(4, g.Nearest([1, 0, 0, 0], 10).Count);
    }

    [Fact]
    public void Nearest_with_many_neighbours_sorts_everything_the_same_way()
    {
        var rng = new DeterministicRandom(5);
        var g = new Gallery(8, "NN2", "h");
        for (int i = 0; i < 300; i++) g.Add("p" + (i % 7), Synthetic.UnitVector(rng, 8));
        var q = Synthetic.UnitVector(rng, 8);
        var few = g.Nearest(q, 20);
        var many = g.Nearest(q, 200);
        Assert.Equal(few.Select(n => n.Entry), many.Take(20).Select(n => n.Entry));
        Assert.True(many.Zip(many.Skip(1)).All(p => p.First.Distance <= p.Second.Distance));
        Assert.Equal(g.Entries.Select(e => EmbeddingDistance.Squared(q, e.GetEmbedding())).Order().Take(200), many.Select(n => n.Distance));
    }

    [Fact]
    public void Remove_by_entry_and_by_label()
    {
        var g = ThreePeople();
        var extra = g.Add("bob", [0, 0, 0.6f, 0.8f]);
        Assert.Equal(5, g.Count);
        Assert.True(g.Remove(extra));
        Assert.False(g.Remove(extra));
        Assert.Equal(4, g.Count);
        Assert.Equal(2, g.RemoveLabel("alice"));
        Assert.Equal(0, g.RemoveLabel("alice"));
        Assert.Equal(["bob", "carol"], g.Labels);
        Assert.Equal("bob", g.Nearest([1, 0, 0, 0], 1)[0].Entry.Label);
    }

    [Fact]
    public void Entries_copy_the_embedding()
    {
        var g = new Gallery(2, "NN2", "h");
        float[] e = [0.6f, 0.8f];
        var entry = g.Add("x", e);
        e[0] = 0;
        Assert.Equal([0.6f, 0.8f], entry.GetEmbedding());
        entry.GetEmbedding()[0] = 5;
        Assert.Equal([0.6f, 0.8f], entry.GetEmbedding());
    }

    [Fact]
    public void Add_refuses_bad_embeddings()
    {
        var g = new Gallery(2, "NN2", "h");
        Assert.Throws<ArgumentException>(() => g.Add("x", [1f, 0f, 0f]));
        Assert.Throws<ArgumentException>(() => g.Add("x", [float.NaN, 0f]));
        Assert.Throws<ArgumentException>(() => g.Add("", [1f, 0f]));
        Assert.Throws<ArgumentException>(() => g.Nearest([1f], 1));
    }

    [Fact]
    public void Int8_storage_computes_distances_on_codes()
    {
        var g = ThreePeople(GalleryStorage.Int8);
        Assert.All(g.Entries, e => Assert.True(e.IsQuantised));
        float[] q = [0.9f, 0.1f, 0.3f, 0.3f];
        var n = g.Nearest(q, 4);
        foreach (var x in n)
        {
            float expected = EmbeddingQuantiser.SquaredDistance(EmbeddingQuantiser.Quantise(q), EmbeddingQuantiser.Quantise(x.Entry.GetEmbedding()));
            Assert.Equal(expected, x.Distance);
        }
        Assert.Equal(102f / 127, g.Entries[1].GetEmbedding()[0]); // 0.8 · 127 = 101.6 → code 102
    }

    [Fact]
    public void Round_trip_keeps_everything()
    {
        using var folder = new TempFolder();
        foreach (var storage in new[] { GalleryStorage.Float32, GalleryStorage.Int8 })
        {
            string path = folder.File($"g-{storage}.fng");
            var original = ThreePeople(storage);
            original.Add("dave", [0.5f, 0.5f, 0.5f, 0.5f], "dävé/ünïcode.jpg");
            original.Save(path);
            var loaded = Gallery.Load(path, "NN2", "hash-nn2", 4);
            Assert.Equal((4, "NN2", "hash-nn2", storage), (loaded.EmbeddingSize, loaded.SpecName, loaded.SpecHash, loaded.Storage));
            Assert.Equal(original.Entries.Select(e => (e.Label, e.Source)), loaded.Entries.Select(e => (e.Label, e.Source)));
            for (int i = 0; i < original.Count; i++)
                Assert.Equal(original.Entries[i].GetEmbedding(), loaded.Entries[i].GetEmbedding());
        }
        Assert.Equal(["g-Float32.fng", "g-Int8.fng"], folder.Files());
    }

    [Fact]
    public void Int8_file_is_smaller()
    {
        using var folder = new TempFolder();
        var rng = new DeterministicRandom(2);
        var f = new Gallery(128, "NN2", "h");
        var q = new Gallery(128, "NN2", "h", GalleryStorage.Int8);
        for (int i = 0; i < 50; i++)
        {
            var e = Synthetic.UnitVector(rng, 128);
            f.Add("p", e);
            q.Add("p", e);
        }
        f.Save(folder.File("f.fng"));
        q.Save(folder.File("q.fng"));
        long header = 8 + 4 + 4 + 1 + (4 + 3) + (4 + 1) + 4 + 4;
        Assert.Equal(header + 50 * (4 + 1 + 1 + 128 * 4), new FileInfo(folder.File("f.fng")).Length);
        Assert.Equal(header + 50 * (4 + 1 + 1 + 128), new FileInfo(folder.File("q.fng")).Length);
    }

    [Fact]
    public void For_a_model_uses_its_name_hash_and_size()
    {
        var nn2 = ModelCatalog.Get("NN2").Info;
        var nn4 = ModelCatalog.Get("NN4").Info;
        var g = Gallery.For(nn2);
        Assert.Equal((nn2.Name, nn2.SpecHash, nn2.EmbeddingSize), (g.SpecName, g.SpecHash, g.EmbeddingSize));

        using var folder = new TempFolder();
        string path = folder.File("nn2.fng");
        g.Save(path);
        Assert.Equal(0, Gallery.Load(path, nn2).Count);
        var e = Assert.Throws<FaceNetException>(() => Gallery.Load(path, nn4));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Load_refuses_another_spec_hash_or_size()
    {
        using var folder = new TempFolder();
        string path = folder.File("g.fng");
        ThreePeople().Save(path);
        var byName = Assert.Throws<FaceNetException>(() => Gallery.Load(path, expectedSpecName: "NN4"));
        Assert.Contains(path, byName.Message);
        Assert.Contains("NN4", byName.Message);
        var byHash = Assert.Throws<FaceNetException>(() => Gallery.Load(path, expectedSpecHash: "other"));
        Assert.Contains(path, byHash.Message);
        Assert.Contains("hash", byHash.Message);
        var bySize = Assert.Throws<FaceNetException>(() => Gallery.Load(path, expectedEmbeddingSize: 128));
        Assert.Contains(path, bySize.Message);
        Assert.Contains("4-d", bySize.Message);
        Assert.Equal(4, Gallery.Load(path, "nn2").Count);
    }

    [Fact]
    public async Task Reads_and_writes_may_run_together()
    {
        var rng = new DeterministicRandom(9);
        var vectors = Enumerable.Range(0, 400).Select(_ => Synthetic.UnitVector(rng, 16)).ToArray();
        var g = new Gallery(16, "NN2", "h");
        for (int i = 0; i < 100; i++) g.Add("seed", vectors[i]);
        var writer = Task.Run(() =>
        {
            for (int i = 100; i < 400; i++)
            {
                var e = g.Add("w" + i, vectors[i]);
                if (i % 3 == 0) Assert.True(g.Remove(e));
            }
        });
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                var n = g.Nearest(vectors[(i * 7 + r) % 100], 5);
                Assert.Equal(5, n.Count);
                Assert.Equal(0f, n[0].Distance); // the query itself is one of the seed entries
            }
        })).ToArray();
        await Task.WhenAll([writer, .. readers]);
        Assert.Equal(100 + 300 - 100, g.Count);
    }
}
