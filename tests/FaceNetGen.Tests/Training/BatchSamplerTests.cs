using FaceNetGen.Data;
using FaceNetGen.Imaging;
using FaceNetGen.Training;

namespace FaceNetGen.Tests.Training;

public class BatchSamplerTests
{
    /// <summary>A data set of identities with the given numbers of images (no pixels needed).</summary>
    private sealed class Counts : IFaceDataset
    {
        public Counts(params int[] counts)
        {
            long handle = 0;
            Identities = counts.Select((c, i) => new FaceIdentity(i, "id" + i, Enumerable.Range(0, c).Select(j => new FaceItem(i, $"id{i}/{j}", handle++)).ToList())).ToList();
        }

        public string Name => "counts";

        public IReadOnlyList<FaceIdentity> Identities { get; }

        public int ItemCount => Identities.Sum(i => i.Items.Count);

        public double SuggestedCropFraction => 1;

        public Image Load(FaceItem item) => throw new NotSupportedException();
    }

    [Fact]
    public void A_batch_is_identities_times_faces_plus_extra_negatives()
    {
        var data = new Counts(10, 10, 10, 10, 10, 10, 10, 10, 3, 2);
        var sampler = new BatchSampler(data, new SamplerOptions(IdentitiesPerBatch: 4, FacesPerIdentity: 4, ExtraNegatives: 3), seed: 7);
        Assert.Equal(10, sampler.EligibleIdentities);
        Assert.Equal(3, sampler.StepsPerEpoch);
        for (long step = 0; step < 6; step++)
        {
            var batch = sampler.Batch(step);
            // Identities come first, face by face; the extra negatives are the last three items.
            var main = batch.Items.Take(batch.Items.Count - 3).ToList();
            var extra = batch.Items.Skip(batch.Items.Count - 3).ToList();
            var byIdentity = main.GroupBy(i => i.Identity).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(4, byIdentity.Count);
            foreach (var (id, count) in byIdentity) Assert.Equal(Math.Min(4, data.Identities[id].Items.Count), count);
            Assert.Equal(batch.Items.Count, batch.Items.Distinct().Count());
            Assert.Equal(3, extra.Count);
            Assert.All(extra, i => Assert.DoesNotContain(i.Identity, byIdentity.Keys));
            Assert.True(batch.Items.Count <= sampler.MaxBatchSize);
            Assert.Equal(step, batch.Step);
            Assert.Equal(step / 3, batch.Epoch);
        }
    }

    [Fact]
    public void An_epoch_visits_every_identity_and_a_step_is_reproducible()
    {
        var data = new Counts(Enumerable.Repeat(5, 9).ToArray());
        var sampler = new BatchSampler(data, new SamplerOptions(3, 2, 0), seed: 3);
        var visited = Enumerable.Range(0, sampler.StepsPerEpoch).SelectMany(s => sampler.Batch(s).Items.Select(i => i.Identity)).Distinct().OrderBy(i => i);
        Assert.Equal(Enumerable.Range(0, 9), visited);
        var again = new BatchSampler(data, new SamplerOptions(3, 2, 0), seed: 3);
        Assert.Equal(sampler.Batch(5).Items, again.Batch(5).Items);
        Assert.NotEqual(sampler.Batch(0).Items, sampler.Batch(3).Items); // another epoch, another order
    }

    [Fact]
    public void Small_data_sets_shrink_the_batch_and_single_image_identities_only_serve_as_negatives()
    {
        var data = new Counts(2, 2, 1, 1);
        var sampler = new BatchSampler(data, new SamplerOptions(16, 4, 8), seed: 1);
        Assert.Equal(2, sampler.IdentitiesPerBatch);
        Assert.Equal(1, sampler.StepsPerEpoch);
        var batch = sampler.Batch(0);
        Assert.Equal(4, batch.Items.Count(i => i.Identity < 2));
        Assert.All(batch.Items.Where(i => i.Identity >= 2), i => Assert.Contains(i.Identity, new[] { 2, 3 }));
    }

    [Fact]
    public void Too_few_identities_is_a_clear_error()
    {
        var ex = Assert.Throws<FaceNetException>(() => new BatchSampler(new Counts(5, 1), new SamplerOptions(), 1));
        Assert.Contains("at least 2", ex.Message);
    }
}
