using FaceNetGen.Faces;

namespace FaceNetGen.Tests.Faces;

public class QuantisationImpactTests
{
    [Fact]
    public void A_hand_built_case_where_int8_reverses_the_order()
    {
        // Same pair 0.0035 vs 0.0045: float D = 1e-6, codes 0 and 1 → D' = 1/127².
        // Different pair 0.0045 vs 0.0075: float D = 9e-6, codes 1 and 1 → D' = 0.
        EmbeddingPair[] pairs = [new([0.0035f], [0.0045f], true), new([0.0045f], [0.0075f], false)];
        var impact = QuantisationImpact.Measure(pairs, targetFar: 0);

        Assert.Equal(1.0, impact.FloatBest.Accuracy);
        Assert.Equal(0.5, impact.Int8Best.Accuracy); // the best int8 threshold rejects both
        Assert.Equal(-0.5, impact.AccuracyChange);
        Assert.Equal(1.0, impact.FloatAtFar.Val);
        Assert.Equal(0.0, impact.Int8AtFar.Val);
        Assert.Equal(-1.0, impact.ValChange);
        double floatSame = EmbeddingDistance.Squared([0.0035f], [0.0045f]);
        Assert.Equal(1.0 / (127 * 127) - floatSame, impact.MaxDistanceError, 1e-9);
    }

    [Fact]
    public void Int8_keeps_the_accuracy_of_well_separated_128_d_embeddings()
    {
        var rng = new DeterministicRandom(3);
        var people = Enumerable.Range(0, 30).Select(_ => Synthetic.UnitVector(rng, 128)).ToArray();
        var pairs = new List<EmbeddingPair>();
        for (int i = 0; i < 400; i++)
        {
            var p = people[rng.Next(people.Length)];
            var q = people[rng.Next(people.Length)];
            bool same = i % 2 == 0;
            pairs.Add(new EmbeddingPair(Synthetic.Near(rng, p, 0.06), Synthetic.Near(rng, same ? p : q, 0.06), same || ReferenceEquals(p, q)));
        }
        var impact = QuantisationImpact.Measure(pairs, 1e-2);
        Assert.True(Math.Abs(impact.AccuracyChange) <= 0.01, impact.ToString());
        Assert.True(Math.Abs(impact.ValChange) <= 0.02, impact.ToString());
        Assert.True(impact.MaxDistanceError < 0.05, impact.ToString());
        Assert.True(impact.MeanDistanceError <= impact.MaxDistanceError);
        Assert.Contains("best accuracy: float", impact.ToString());
    }
}
