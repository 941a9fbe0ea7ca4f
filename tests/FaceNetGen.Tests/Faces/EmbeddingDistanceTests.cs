using FaceNetGen.Evaluation;
using FaceNetGen.Faces;

namespace FaceNetGen.Tests.Faces;

public class EmbeddingDistanceTests
{
    [Fact]
    public void Squared_distance_of_unit_vectors_spans_zero_to_four()
    {
        float[] x = [1, 0, 0], y = [0, 1, 0], minusX = [-1, 0, 0];
        Assert.Equal(0f, EmbeddingDistance.Squared(x, x));
        Assert.Equal(2f, EmbeddingDistance.Squared(x, y));
        Assert.Equal(4f, EmbeddingDistance.Squared(x, minusX));
        Assert.Equal(1.25f, EmbeddingDistance.Squared([0.5f, 1f], [0f, 0f]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(513)]
    [InlineData(2000)]
    public void Matches_a_naive_sum_at_every_size(int size)
    {
        var rng = new DeterministicRandom((ulong)size);
        var a = Enumerable.Range(0, size).Select(_ => (float)rng.NextNormal()).ToArray();
        var b = Enumerable.Range(0, size).Select(_ => (float)rng.NextNormal()).ToArray();
        double naive = a.Zip(b, (p, q) => (double)(p - q) * (p - q)).Sum();
        Assert.Equal(naive, EmbeddingDistance.Squared(a, b), naive * 1e-5);
    }

    [Fact]
    public void Different_sizes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => EmbeddingDistance.Squared([1f, 2f], [1f]));
    }

    [Fact]
    public void Score_pairs_keeps_labels()
    {
        var scored = EmbeddingDistance.Score([new EmbeddingPair([1, 0], [0, 1], true), new EmbeddingPair([1, 0], [-1, 0], false)]);
        Assert.Equal([new ScoredPair(2f, true), new ScoredPair(4f, false)], scored);
    }
}
