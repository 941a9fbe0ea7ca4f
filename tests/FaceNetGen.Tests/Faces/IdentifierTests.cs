using FaceNetGen.Faces;

namespace FaceNetGen.Tests.Faces;

public class IdentifierTests
{
    /// <summary>1-d "embeddings" make distances easy: D = (x − y)².</summary>
    private static Gallery Line(params (string Label, float X)[] entries)
    {
        var g = new Gallery(1, "toy", "h");
        foreach (var (label, x) in entries) g.Add(label, [x]);
        return g;
    }

    [Fact]
    public void Nearest_neighbour_names_the_closest_label()
    {
        var id = new Identifier(Line(("a", 0f), ("b", 1f)), k: 1, unknownThreshold: 1f);
        var r = id.Identify([0.25f]);
        Assert.True(r.IsKnown);
        Assert.Equal("a", r.Label);
        Assert.Equal(0.0625f, r.Distance);
        Assert.Equal(1, r.Votes);
        Assert.Single(r.Neighbours);
    }

    [Fact]
    public void Majority_of_k_wins_over_the_single_nearest()
    {
        // Query 0: a at 0.1 (D 0.01); b at 0.2, 0.3 (D 0.04, 0.09). With k = 3, b has two votes.
        var g = Line(("a", 0.1f), ("b", 0.2f), ("b", 0.3f), ("c", 2f));
        var r = new Identifier(g, k: 3).Identify([0f]);
        Assert.Equal("b", r.Label);
        Assert.Equal(2, r.Votes);
        Assert.Equal(0.04f, r.Distance, 1e-7f);
        Assert.Equal(["a", "b", "b"], r.Neighbours.Select(n => n.Entry.Label));
    }

    [Fact]
    public void Tied_votes_go_to_the_smaller_distance_sum()
    {
        // k = 4: a at D 0.01 and 0.64 (sum 0.65); b at D 0.04 and 0.09 (sum 0.13): b wins although a is nearest.
        var g = Line(("a", 0.1f), ("a", 0.8f), ("b", 0.2f), ("b", -0.3f));
        var r = new Identifier(g, k: 4).Identify([0f]);
        Assert.Equal("b", r.Label);
        Assert.Equal(2, r.Votes);
    }

    [Fact]
    public void Neighbours_beyond_the_threshold_do_not_vote()
    {
        // Threshold 0.05: only a (D 0.01) and the first b (D 0.04) vote: one each, sums 0.01 < 0.04 → a.
        var g = Line(("a", 0.1f), ("b", 0.2f), ("b", 0.3f));
        var r = new Identifier(g, k: 3, unknownThreshold: 0.05f).Identify([0f]);
        Assert.Equal("a", r.Label);
        Assert.Equal(1, r.Votes);
        Assert.Equal(3, r.Neighbours.Count);
    }

    [Fact]
    public void Too_far_is_unknown()
    {
        var g = Line(("a", 0f), ("b", 1f));
        var r = new Identifier(g, k: 2, unknownThreshold: 1f).Identify([3f]);
        Assert.False(r.IsKnown);
        Assert.Null(r.Label);
        Assert.Equal(0, r.Votes);
        Assert.Equal(4f, r.Distance); // to b, the nearest
        Assert.StartsWith("unknown", r.ToString());
    }

    [Fact]
    public void Empty_gallery_is_unknown()
    {
        var r = new Identifier(Line(), k: 3).Identify([0f]);
        Assert.False(r.IsKnown);
        Assert.Empty(r.Neighbours);
        Assert.Equal(float.PositiveInfinity, r.Distance);
    }

    [Fact]
    public void Identifies_noisy_faces_of_many_people()
    {
        var rng = new DeterministicRandom(21);
        var people = Enumerable.Range(0, 20).Select(_ => Synthetic.UnitVector(rng, 128)).ToArray();
        var g = new Gallery(128, "NN2", "h", GalleryStorage.Int8);
        for (int p = 0; p < people.Length; p++)
            for (int i = 0; i < 3; i++) g.Add("person" + p, Synthetic.Near(rng, people[p], 0.05));
        var id = new Identifier(g, k: 3, unknownThreshold: 1.0f);
        for (int p = 0; p < people.Length; p++)
            Assert.Equal("person" + p, id.Identify(Synthetic.Near(rng, people[p], 0.05)).Label);
        Assert.False(id.Identify(Synthetic.UnitVector(rng, 128)).IsKnown); // a stranger: squared distance ≈ 2
    }
}
