using FaceNetGen.Training;

namespace FaceNetGen.Tests.Training;

/// <summary>Selection on a hand-built distance matrix: the semi-hard rule d(a,p) &lt; d(a,n) &lt; d(a,p) + α exactly.</summary>
public class TripletMinerTests
{
    // Labels: 0 0 1 1 2. Distances (symmetric), margin 0.2:
    //        0     1     2     3     4
    //  0   0    0.50  0.60  0.75  0.40
    //  1   0.50 0     0.55  1.20  0.71
    //  2   0.60 0.55  0     0.30  0.45
    //  3   0.75 1.20  0.30  0     0.49
    //  4   0.40 0.71  0.45  0.49  0
    private static readonly int[] Labels = { 0, 0, 1, 1, 2 };

    private static readonly float[] D =
    {
        0f, 0.50f, 0.60f, 0.75f, 0.40f,
        0.50f, 0f, 0.55f, 1.20f, 0.71f,
        0.60f, 0.55f, 0f, 0.30f, 0.45f,
        0.75f, 1.20f, 0.30f, 0f, 0.49f,
        0.40f, 0.71f, 0.45f, 0.49f, 0f,
    };

    private static List<Triplet> Select(NegativeMining mining, ulong seed = 1)
    {
        var miner = new TripletMiner(mining, 0.2f);
        var triplets = new List<Triplet>();
        int pairs = miner.Select(5, D, Labels, new DeterministicRandom(seed), triplets);
        Assert.Equal(4, pairs); // (0,1) (1,0) (2,3) (3,2)
        return triplets;
    }

    [Fact]
    public void Semi_hard_takes_the_closest_negative_beyond_the_positive_within_the_margin()
    {
        var triplets = Select(NegativeMining.SemiHard);
        // (0,1): d = 0.5; candidates in (0.5, 0.7): 2 (0.60); 3 is 0.75 (outside), 4 is 0.40 (harder than the positive).
        // (1,0): d = 0.5; candidates in (0.5, 0.7): 2 (0.55); 4 is 0.71 (just outside).
        // (2,3): d = 0.3; candidates in (0.3, 0.5): 4 (0.45); 0 is 0.60, 1 is 0.55.
        // (3,2): d = 0.3; candidates in (0.3, 0.5): 4 (0.49).
        Assert.Equal(new[] { new Triplet(0, 1, 2), new Triplet(1, 0, 2), new Triplet(2, 3, 4), new Triplet(3, 2, 4) }, triplets);
    }

    [Fact]
    public void Hardest_takes_the_closest_negative_whatever_the_positive()
    {
        var triplets = Select(NegativeMining.Hardest);
        Assert.Equal(new[] { new Triplet(0, 1, 4), new Triplet(1, 0, 2), new Triplet(2, 3, 4), new Triplet(3, 2, 4) }, triplets);
    }

    [Fact]
    public void Random_semi_hard_draws_only_candidates_and_is_seeded()
    {
        // Widen the margin so that (2,3) has two candidates, 4 (0.45) and 1 (0.55): margin 0.3 → (0.3, 0.6).
        var miner = new TripletMiner(NegativeMining.SemiHardRandom, 0.3f);
        var seen = new HashSet<int>();
        for (ulong seed = 1; seed <= 40; seed++)
        {
            var triplets = new List<Triplet>();
            miner.Select(5, D, Labels, new DeterministicRandom(seed), triplets);
            var t = triplets.Single(x => x.Anchor == 2 && x.Positive == 3);
            Assert.Contains(t.Negative, new[] { 1, 4 });
            seen.Add(t.Negative);
            var again = new List<Triplet>();
            miner.Select(5, D, Labels, new DeterministicRandom(seed), again);
            Assert.Equal(triplets, again);
        }
        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public void A_pair_without_a_semi_hard_negative_is_dropped()
    {
        // Make every negative of anchor 0 harder than its positive.
        var d = (float[])D.Clone();
        foreach (int k in new[] { 2, 3, 4 })
        {
            d[k] = 0.1f;
            d[k * 5] = 0.1f;
        }
        var miner = new TripletMiner(NegativeMining.SemiHard, 0.2f);
        var triplets = new List<Triplet>();
        miner.Select(5, d, Labels, new DeterministicRandom(1), triplets);
        Assert.DoesNotContain(triplets, t => t.Anchor == 0);
    }

    [Fact]
    public void Squared_distances_of_unit_vectors()
    {
        var e = new float[] { 1, 0, 0, 1, -1, 0 };
        var d = new float[9];
        new TripletMiner(NegativeMining.SemiHard, 0.2f).SquaredDistances(e, 3, 2, d);
        Assert.Equal(new float[] { 0, 2, 4, 2, 0, 2, 4, 2, 0 }, d);
    }
}
