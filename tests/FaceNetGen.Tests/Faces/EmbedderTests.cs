using FaceNetGen.Backends.Cpu;
using FaceNetGen.Data;
using FaceNetGen.Faces;
using FaceNetGen.Imaging;
using FaceNetGen.Models;

namespace FaceNetGen.Tests.Faces;

public class EmbedderTests
{
    private static Image[] Faces(int count)
    {
        var faces = new SyntheticFaces(count, 2, seed: 3, size: 96);
        return Enumerable.Range(0, count).Select(i => faces.Render(i, 0, 96, 96)).ToArray();
    }

    private static Embedder Make(int maxBatch)
    {
        var model = new NNS2(new CpuBackend(threads: 1), maxBatch);
        model.InitializeParameters(11);
        return new Embedder(model, cropFraction: 1.0, ownsModel: true);
    }

    [Fact]
    public void Batching_does_not_change_the_embeddings_and_they_have_unit_length()
    {
        var images = Faces(5);
        using var small = Make(2);
        using var large = Make(8);
        var a = small.Embed(images);
        var b = large.Embed(images);
        for (int i = 0; i < images.Length; i++)
        {
            Assert.Equal(128, a[i].Length);
            Assert.Equal(1.0, Math.Sqrt(a[i].Sum(v => (double)v * v)), 4);
            // Another batch size may take another kernel for a layer (and so another summation order): equal to 1e-5.
            for (int k = 0; k < 128; k++) Assert.True(Math.Abs(a[i][k] - b[i][k]) <= 1e-5, $"image {i}, component {k}: {a[i][k]} vs {b[i][k]}");
        }
        Assert.NotEqual(a[0], a[1]);
    }

    [Fact]
    public void Concurrent_callers_get_the_same_embeddings_as_one_caller()
    {
        var images = Faces(6);
        using var embedder = Make(3);
        var expected = images.Select(embedder.Embed).ToArray();
        var results = new float[24][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = embedder.Embed(images[i % images.Length]));
        for (int i = 0; i < results.Length; i++) Assert.Equal(expected[i % images.Length], results[i]);
    }

    [Fact]
    public void A_checkpoint_loads_into_an_embedder_with_its_crop()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fng-embedder-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var backend = new CpuBackend(threads: 1))
            using (var model = new NNS2(backend, 1))
            {
                model.InitializeParameters(11);
                new Checkpoint(NNS2.SpecName, NNS2.SpecHash, model.GetParameters())
                {
                    Metadata = new Dictionary<string, string> { ["crop_fraction"] = "1" },
                }.Save(path, NNS2.Info);
            }
            // The same thread count as Make's backend: a kernel's choice of path (and so its rounding) may depend on it.
            using var oneThread = new CpuBackend(threads: 1);
            using var loaded = Embedder.Load(path, maxBatch: 4, backend: oneThread);
            using var direct = Make(4);
            Assert.Equal(1.0, loaded.CropFraction);
            var image = Faces(1)[0];
            Assert.Equal(direct.Embed(image), loaded.Embed(image));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
