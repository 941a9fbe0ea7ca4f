using FaceNetGen.Evaluation;

namespace FaceNetGen.Tests.Evaluation;

public class PairSetTests
{
    [Fact]
    public void Counts_pairs_by_kind()
    {
        var set = ToyPairs.Set();
        Assert.Equal(4, set.SameCount);
        Assert.Equal(6, set.DiffCount);
        Assert.Equal(10, set.Count);
    }

    [Theory]
    // threshold, |TA|, |FA|: accept when D <= d, so a pair exactly at the threshold is accepted.
    [InlineData(0.1f, 0, 0)]
    [InlineData(0.2f, 1, 0)]
    [InlineData(0.7f, 2, 1)]
    [InlineData(1.0f, 3, 1)]
    [InlineData(1.3f, 4, 2)]
    [InlineData(2.0f, 4, 4)]
    [InlineData(3.0f, 4, 6)]
    [InlineData(9.0f, 4, 6)]
    public void True_and_false_accepts_follow_equations_4_and_5(float threshold, int ta, int fa)
    {
        var set = ToyPairs.Set();
        Assert.Equal(ta, set.TrueAccepts(threshold));
        Assert.Equal(fa, set.FalseAccepts(threshold));
        Assert.Equal(ta / 4.0, set.Val(threshold));
        Assert.Equal(fa / 6.0, set.Far(threshold));
        Assert.Equal((ta + 6 - fa) / 10.0, set.Accuracy(threshold));
    }

    [Fact]
    public void Val_far_and_accuracy_at_one()
    {
        var set = ToyPairs.Set();
        Assert.Equal(0.75, set.Val(1.0f));
        Assert.Equal(1.0 / 6, set.Far(1.0f));
        Assert.Equal(0.8, set.Accuracy(1.0f));
    }

    [Fact]
    public void Candidate_thresholds_are_reject_all_then_each_distinct_distance()
    {
        var set = new PairSet([new(0.5f, true), new(0.5f, false), new(0.2f, true), new(0.9f, false)]);
        var c = set.CandidateThresholds;
        Assert.Equal(4, c.Count);
        Assert.True(c[0] < 0.2f);
        Assert.Equal(0, set.TrueAccepts(c[0]) + set.FalseAccepts(c[0]));
        Assert.Equal([0.2f, 0.5f, 0.9f], c.Skip(1));
    }

    [Fact]
    public void Best_accuracy_takes_the_smallest_of_tied_thresholds()
    {
        // Correct counts over the candidates: reject 6, 0.2: 7, 0.5: 8, 0.7: 7, 0.9: 8, 1.1: 7, 1.3: 8, then falling.
        var best = ToyPairs.Set().BestAccuracy();
        Assert.Equal(0.5f, best.Threshold);
        Assert.Equal(0.8, best.Accuracy);
        Assert.Equal(2, best.TrueAccepts);
        Assert.Equal(0, best.FalseAccepts);
        Assert.Equal(0.5, best.Val);
        Assert.Equal(0.0, best.Far);
    }

    [Fact]
    public void Best_accuracy_can_reject_everything()
    {
        var best = new PairSet([new(1f, false), new(2f, false), new(3f, true)]).BestAccuracy();
        // reject all: 2/3; accepting 3.0 needs both different pairs accepted too: 1/3.
        Assert.Equal(2.0 / 3, best.Accuracy);
        Assert.True(best.Threshold < 1f);
        Assert.Equal(0, best.FalseAccepts);
    }

    [Fact]
    public void At_far_allows_the_largest_whole_number_of_false_accepts()
    {
        // Target 0.2 of 6 different pairs allows m = 1 false accept: the threshold stops just below 1.1.
        var p = ToyPairs.Set().AtFar(0.2);
        Assert.Equal(MathF.BitDecrement(1.1f), p.Threshold);
        Assert.Equal(1, p.AllowedFalseAccepts);
        Assert.Equal(1, p.FalseAccepts);
        Assert.Equal(3, p.TrueAccepts);
        Assert.Equal(0.75, p.Val);
        Assert.Equal(1.0 / 6, p.Far);
        Assert.True(p.IsResolved);
        Assert.Null(p.Note);
    }

    [Fact]
    public void At_far_with_an_exact_fraction_allows_that_many()
    {
        // 1/3 of 6 is exactly 2 false accepts, whatever the rounding of 1/3 * 6.
        var p = ToyPairs.Set().AtFar(1.0 / 3);
        Assert.Equal(2, p.AllowedFalseAccepts);
        Assert.Equal(MathF.BitDecrement(1.5f), p.Threshold);
        Assert.Equal(1.0, p.Val);
        Assert.Equal(2, p.FalseAccepts);
    }

    [Fact]
    public void At_far_zero_accepts_up_to_the_first_different_pair()
    {
        var p = ToyPairs.Set().AtFar(0);
        Assert.Equal(MathF.BitDecrement(0.7f), p.Threshold);
        Assert.Equal(0.5, p.Val);
        Assert.Equal(0, p.FalseAccepts);
        Assert.True(p.IsResolved);
    }

    [Fact]
    public void At_far_below_the_resolution_is_reported_as_far_zero()
    {
        // 600 different pairs cannot measure FAR = 1e-3: 0.6 false accepts round down to none.
        var pairs = Enumerable.Range(0, 600).Select(i => new ScoredPair(1f + i / 600f, false))
            .Concat(Enumerable.Range(0, 600).Select(i => new ScoredPair(i / 300f, true)));
        var p = new PairSet(pairs).AtFar(1e-3);
        Assert.Equal(0, p.AllowedFalseAccepts);
        Assert.Equal(0, p.FalseAccepts);
        Assert.False(p.IsResolved);
        Assert.Equal(1.0 / 600, p.Resolution);
        Assert.Contains("zero false accepts", p.Note);
        // Same pairs below 1.0 are i/300 for i < 300.
        Assert.Equal(300, p.TrueAccepts);

        var resolved = new PairSet(pairs).AtFar(2e-3);
        Assert.Equal(1, resolved.AllowedFalseAccepts);
        Assert.True(resolved.IsResolved);
    }

    [Fact]
    public void At_far_never_splits_tied_distances()
    {
        // Different pairs 1.0, 1.0, 2.0, 3.0; target 0.25 allows one false accept, but the first two are tied, so neither is accepted.
        var set = new PairSet([new(1f, false), new(1f, false), new(2f, false), new(3f, false), new(0.5f, true), new(1f, true)]);
        var p = set.AtFar(0.25);
        Assert.Equal(1, p.AllowedFalseAccepts);
        Assert.Equal(0, p.FalseAccepts);
        Assert.Equal(0.0, p.Far);
        Assert.Equal(1, p.TrueAccepts);
        Assert.True(p.Threshold < 1f);
    }

    [Fact]
    public void At_far_one_accepts_everything()
    {
        var p = ToyPairs.Set().AtFar(1);
        Assert.Equal(float.MaxValue, p.Threshold);
        Assert.Equal(6, p.FalseAccepts);
        Assert.Equal(1.0, p.Val);
    }

    [Fact]
    public void Invalid_requests_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ToyPairs.Set().AtFar(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ToyPairs.Set().AtFar(double.NaN));
        Assert.Throws<InvalidOperationException>(() => new PairSet([new(1f, true)]).AtFar(0.1));
        Assert.Throws<InvalidOperationException>(() => new PairSet([]).BestAccuracy());
        Assert.Throws<ArgumentException>(() => new PairSet([new(float.NaN, true)]));
        Assert.Throws<ArgumentException>(() => new PairSet([new(float.PositiveInfinity, false)]));
    }

    [Fact]
    public void Rates_over_an_empty_kind_are_nan()
    {
        var onlySame = new PairSet([new(1f, true)]);
        Assert.True(double.IsNaN(onlySame.Far(2f)));
        Assert.Equal(1.0, onlySame.Val(2f));
        Assert.True(double.IsNaN(new PairSet([]).Accuracy(1f)));
    }
}
