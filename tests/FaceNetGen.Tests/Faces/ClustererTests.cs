using FaceNetGen.Faces;

namespace FaceNetGen.Tests.Faces;

public class ClustererTests
{
    /// <summary>Four people: A and A' close together (centres 0.285 apart), B and B' likewise, the pairs far apart (2).</summary>
    private static (List<float[]> Points, List<int> Labels) FourPeople(ulong seed = 1)
    {
        float[][] centres = [Synthetic.Axis(128, 0), Synthetic.Axis(128, 0, 0.6f), Synthetic.Axis(128, 2), Synthetic.Axis(128, 2, 0.6f)];
        return Synthetic.Clusters(new DeterministicRandom(seed), centres, perCluster: 10, sigma: 0.01);
    }

    private static float[][] Line(params float[] xs) => xs.Select(x => new[] { x }).ToArray();

    [Fact]
    public void Purity_by_hand()
    {
        // Cluster 0 holds a, a; cluster 1 holds a, b, b: (2 + 2) / 5.
        Assert.Equal(0.8, Clusterer.Purity([0, 0, 1, 1, 1], ["a", "a", "a", "b", "b"]));
        Assert.Equal(1.0, Clusterer.Purity([5, 5, 2], [1, 1, 7]));
        Assert.Throws<ArgumentException>(() => Clusterer.Purity([0, 1], ["a"]));
    }

    [Theory]
    [InlineData(Linkage.Average)]
    [InlineData(Linkage.Complete)]
    [InlineData(Linkage.Single)]
    public void Separated_people_get_pure_clusters(Linkage linkage)
    {
        var (points, labels) = FourPeople();
        var r = Clusterer.Agglomerative(points, threshold: 0.1, linkage);
        Assert.Equal(4, r.ClusterCount);
        Assert.Equal(1.0, Clusterer.Purity(r.Assignments, labels));
        Assert.Equal(points.Count - 1, r.Merges.Count);
    }

    [Theory]
    [InlineData(Linkage.Average)]
    [InlineData(Linkage.Complete)]
    [InlineData(Linkage.Single)]
    public void A_larger_threshold_merges_the_close_people(Linkage linkage)
    {
        var (points, labels) = FourPeople();
        var r = Clusterer.Agglomerative(points, threshold: 0.8, linkage);
        Assert.Equal(2, r.ClusterCount);
        Assert.Equal(0.5, Clusterer.Purity(r.Assignments, labels));
        Assert.Equal(1.0, Clusterer.Purity(r.Assignments, labels.Select(l => l / 2).ToList())); // {A, A'} and {B, B'}
    }

    [Fact]
    public void Dendrogram_by_hand()
    {
        // Points 0, 1, 3, 7 on a line; squared distances 0-1: 1, 1-3: 4, 0-3: 9, 3-7: 16, 1-7: 36, 0-7: 49.
        var points = Line(0, 1, 3, 7);
        var single = Clusterer.Agglomerative(points, 100, Linkage.Single).Merges;
        Assert.Equal([new(0, 1, 1, 2), new(0, 2, 4, 3), new ClusterMerge(0, 3, 16, 4)], single);
        var complete = Clusterer.Agglomerative(points, 100, Linkage.Complete).Merges;
        Assert.Equal([new(0, 1, 1, 2), new(0, 2, 9, 3), new ClusterMerge(0, 3, 49, 4)], complete);
        var average = Clusterer.Agglomerative(points, 100, Linkage.Average).Merges;
        Assert.Equal([(0, 1, 1.0, 2), (0, 2, 6.5, 3)], average.Take(2).Select(m => (m.First, m.Second, m.Height, m.Size)));
        Assert.Equal(101.0 / 3, average[2].Height, 12); // (49 + 36 + 16) / 3
    }

    [Theory]
    [InlineData(6.5, new[] { 0, 0, 0, 1 })]
    [InlineData(6.4, new[] { 0, 0, 1, 2 })]
    [InlineData(0.5, new[] { 0, 1, 2, 3 })]
    [InlineData(40.0, new[] { 0, 0, 0, 0 })]
    public void Threshold_cuts_the_average_dendrogram(double threshold, int[] expected)
    {
        var r = Clusterer.Agglomerative(Line(0, 1, 3, 7), threshold);
        Assert.Equal(expected, r.Assignments);
        Assert.Equal(expected.Max() + 1, r.ClusterCount);
    }

    [Fact]
    public void Ties_are_deterministic()
    {
        // Equally spaced points: every neighbouring pair is at distance 1.
        var points = Line(0, 1, 2, 3, 4, 5);
        var first = Clusterer.Agglomerative(points, 1.0, Linkage.Single);
        var second = Clusterer.Agglomerative(points, 1.0, Linkage.Single);
        Assert.Equal(first.Merges, second.Merges);
        Assert.Equal(1, first.ClusterCount);
        var complete = Clusterer.Agglomerative(points, 1.0, Linkage.Complete);
        Assert.Equal([0, 0, 1, 1, 2, 2], complete.Assignments);
    }

    [Fact]
    public void Kmeans_by_hand()
    {
        var r = Clusterer.KMeans(Line(0f, 0.1f, 10f, 10.1f), k: 2, seed: 4);
        Assert.Equal(r.Assignments[0], r.Assignments[1]);
        Assert.Equal(r.Assignments[2], r.Assignments[3]);
        Assert.NotEqual(r.Assignments[0], r.Assignments[2]);
        Assert.Equal(0.05f, r.Centroids[r.Assignments[0]][0], 1e-6f);
        Assert.Equal(10.05f, r.Centroids[r.Assignments[2]][0], 1e-5f);
        Assert.Equal(4 * 0.0025, r.Inertia, 1e-5); // each point 0.05 from its centroid
    }

    [Fact]
    public void Kmeans_finds_separated_people()
    {
        var (points, labels) = FourPeople(seed: 3);
        var r = Clusterer.KMeans(points, k: 4, seed: 42);
        Assert.Equal(1.0, Clusterer.Purity(r.Assignments, labels));
        Assert.Equal(4, r.Assignments.Distinct().Count());
        Assert.True(r.Inertia < points.Count * 0.05, $"inertia {r.Inertia}");
    }

    [Fact]
    public void Kmeans_is_deterministic_by_seed()
    {
        var rng = new DeterministicRandom(8);
        var points = Enumerable.Range(0, 200).Select(_ => Synthetic.UnitVector(rng, 16)).ToList();
        var a = Clusterer.KMeans(points, k: 7, seed: 123, restarts: 3);
        var b = Clusterer.KMeans(points, k: 7, seed: 123, restarts: 3);
        Assert.Equal(a.Assignments, b.Assignments);
        Assert.Equal(a.Inertia, b.Inertia);
        Assert.Equal(a.Restart, b.Restart);
        for (int c = 0; c < 7; c++) Assert.Equal(a.Centroids[c], b.Centroids[c]);

        // Other seeds may find other local minima; more restarts never do worse than one of them.
        var single = Clusterer.KMeans(points, k: 7, seed: 123, restarts: 1);
        Assert.True(a.Inertia <= single.Inertia);
    }

    [Fact]
    public void Kmeans_fills_clusters_even_with_duplicate_points()
    {
        // Three identical points and one other, k = 3: a cluster would be empty without the refill rule.
        var r = Clusterer.KMeans(Line(1, 1, 1, 5), k: 3, seed: 0, restarts: 2);
        Assert.Equal(3, r.Assignments.Distinct().Count());
        Assert.Equal(0, r.Inertia, 12);
    }

    [Fact]
    public void Bad_inputs_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Clusterer.KMeans(Line(1, 2), k: 3, seed: 0));
        Assert.Throws<ArgumentException>(() => Clusterer.KMeans([], k: 1, seed: 0));
        Assert.Throws<ArgumentException>(() => Clusterer.Agglomerative([[1f], [1f, 2f]], 1));
        Assert.Throws<ArgumentException>(() => Clusterer.Agglomerative([[float.NaN]], 1));
        Assert.Equal([0], Clusterer.Agglomerative([[1f]], 1).Assignments);
    }
}
