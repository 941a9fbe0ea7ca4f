using FaceNetGen.Data;
using FaceNetGen.Imaging;
using FaceNetGen.Tests.Imaging;

namespace FaceNetGen.Tests.Data;

public class BatchLoaderTests
{
    private static readonly SyntheticFaces Faces = new(6, 5, seed: 21, size: 40);

    private static List<BatchRequest> Requests(IFaceDataset dataset, int batches, int size, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var all = dataset.Identities.SelectMany(i => i.Items).ToList();
        return Enumerable.Range(0, batches)
            .Select(b => new BatchRequest(Enumerable.Range(0, size).Select(_ => all[random.Next(all.Count)]).ToList(), Epoch: b / 2, Step: b))
            .ToList();
    }

    /// <summary>Runs the requests with submit-ahead (as a trainer does) and returns every input float and label.</summary>
    private static (float[] Inputs, int[] Labels) Run(IFaceDataset dataset, IReadOnlyList<BatchRequest> requests, BatchLoaderOptions options)
    {
        var inputs = new List<float>();
        var labels = new List<int>();
        using var loader = new BatchLoader(dataset, 24, 20, maxBatchSize: 8, options);
        loader.Submit(requests[0]);
        for (int k = 0; k < requests.Count; k++)
        {
            if (k + 1 < requests.Count) loader.Submit(requests[k + 1]);
            using var batch = loader.Take();
            Assert.Same(requests[k], batch.Request);
            inputs.AddRange(batch.Inputs.ToArray());
            labels.AddRange(batch.Labels);
        }

        return (inputs.ToArray(), labels.ToArray());
    }

    [Fact]
    public void Results_are_bit_identical_whatever_the_number_of_workers()
    {
        var requests = Requests(Faces, batches: 6, size: 7, seed: 5);
        var options = new BatchLoaderOptions { Augmentation = new Augmentation(true, 0.1, 0.1), Seed = 99, Prefetch = 2 };
        var one = Run(Faces, requests, options with { Workers = 1 });
        var three = Run(Faces, requests, options with { Workers = 3 });
        var again = Run(Faces, requests, options with { Workers = 2, Prefetch = 1 });

        Assert.Equal(one.Inputs, three.Inputs);
        Assert.Equal(one.Inputs, again.Inputs);
        Assert.Equal(one.Labels, three.Labels);
        Assert.Equal(requests.SelectMany(r => r.Items.Select(i => i.Identity)), one.Labels);
    }

    [Fact]
    public void Augmentation_follows_the_seed_and_inputs_match_the_preprocessor()
    {
        var requests = Requests(Faces, batches: 2, size: 4, seed: 6);
        var options = new BatchLoaderOptions { Augmentation = Augmentation.Default, Seed = 1, Workers = 2 };
        var a = Run(Faces, requests, options);
        var b = Run(Faces, requests, options with { Seed = 2 });
        Assert.NotEqual(a.Inputs, b.Inputs);

        // Position 2 of batch 1 is the preprocessor's output with the documented per-face seed.
        var pre = new Preprocessor(24, 20, Faces.SuggestedCropFraction);
        var expected = new float[pre.OutputLength];
        var item = requests[1].Items[2];
        pre.Process(Faces.Load(item), Augmentation.Default, BatchLoader.AugmentationSeed(1, requests[1].Epoch, requests[1].Step, 2), expected);
        int offset = (4 + 2) * pre.OutputLength;
        Assert.Equal(expected, a.Inputs[offset..(offset + pre.OutputLength)]);
    }

    [Fact]
    public void Unreadable_images_are_reported_once_and_replaced_by_the_next_of_the_identity()
    {
        using var temp = new TempFolder();
        temp.Write("ann/1.pgm", FolderFaceDatasetTests.Pgm(10));
        temp.Write("ann/2.pgm", "P5 2 2 255\n\u0001"u8.ToArray());
        temp.Write("ann/3.pgm", FolderFaceDatasetTests.Pgm(30));
        temp.Write("bob/1.pgm", FolderFaceDatasetTests.Pgm(40));
        temp.Write("bob/2.pgm", FolderFaceDatasetTests.Pgm(50));
        var dataset = FolderFaceDataset.Open(temp.Path);
        var said = new List<string>();
        var ann = dataset.Identities[0].Items;
        var bob = dataset.Identities[1].Items;

        using var loader = new BatchLoader(dataset, 2, 2, 4, new BatchLoaderOptions { Workers = 2, Warn = m => { lock (said) said.Add(m); } });
        using (var batch = loader.Load(new BatchRequest([ann[1], bob[0], ann[1]], 0, 0)))
        {
            Assert.Equal([ann[2], bob[0], ann[2]], batch.Items);
            Assert.Equal([0, 1, 0], batch.Labels);
            Assert.All(batch.Input(0).ToArray(), v => Assert.Equal((30 - 127.5f) / 128, v));
            Assert.All(batch.Input(1).ToArray(), v => Assert.Equal((40 - 127.5f) / 128, v));
        }

        using (var batch = loader.Load(new BatchRequest([ann[1]], 0, 1)))
        {
            Assert.Equal([ann[2]], batch.Items);
        }

        Assert.Single(said);
        Assert.Equal(said, loader.Warnings);
        Assert.Contains(ann[1].Source, said[0]);
        Assert.Contains("truncated PGM", said[0]);
    }

    [Fact]
    public void An_identity_with_no_readable_image_fails_the_batch_by_name()
    {
        using var temp = new TempFolder();
        temp.Write("cy/1.jpg", [1, 2, 3]);
        temp.Write("cy/2.jpg", [4, 5, 6]);
        var dataset = FolderFaceDataset.Open(temp.Path);
        using var loader = new BatchLoader(dataset, 2, 2, 2, new BatchLoaderOptions { Workers = 1 });
        var error = Assert.Throws<FaceNetException>(() => loader.Load(new BatchRequest([dataset.Identities[0].Items[0]], 0, 0)));
        Assert.Contains("identity 'cy'", error.Message);
        Assert.Equal(2, loader.Warnings.Count);

        // The loader is still usable: the buffer went back.
        using var faces = new BatchLoader(Faces, 2, 2, 2, new BatchLoaderOptions { Workers = 1 });
        using var ok = faces.Load(new BatchRequest([Faces.Identities[0].Items[0]], 0, 0));
        Assert.Equal(1, ok.Count);
    }

    [Fact]
    public void Misuse_is_refused_clearly()
    {
        var item = Faces.Identities[0].Items[0];
        var loader = new BatchLoader(Faces, 8, 8, 2, new BatchLoaderOptions { Workers = 1, Prefetch = 1 });
        Assert.Throws<InvalidOperationException>(() => loader.Take());
        Assert.Throws<ArgumentException>(() => loader.Submit(new BatchRequest([item, item, item], 0, 0)));
        Assert.Throws<ArgumentException>(() => loader.Submit(new BatchRequest([], 0, 0)));
        Assert.Throws<ArgumentException>(() => loader.Submit(new BatchRequest([item with { Identity = 99 }], 0, 0)));

        // Two buffers (prefetch 1): holding both and taking a third cannot succeed.
        loader.Submit(new BatchRequest([item], 0, 0));
        loader.Submit(new BatchRequest([item], 0, 1));
        loader.Submit(new BatchRequest([item], 0, 2));
        var first = loader.Take();
        var second = loader.Take();
        Assert.Throws<InvalidOperationException>(() => loader.Take());
        first.Dispose();
        Assert.Throws<ObjectDisposedException>(() => first.Inputs.Length);
        using (var third = loader.Take()) Assert.Equal(2, third.Request.Step);
        second.Dispose();

        loader.Dispose();
        loader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loader.Submit(new BatchRequest([item], 0, 3)));
    }
}
