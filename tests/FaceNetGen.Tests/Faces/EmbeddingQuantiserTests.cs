using FaceNetGen.Faces;

namespace FaceNetGen.Tests.Faces;

public class EmbeddingQuantiserTests
{
    [Fact]
    public void Codes_by_hand()
    {
        // 0.5 · 127 = 63.5 rounds half to even → 64; 0.3 · 127 = 38.1 → 38; beyond ±1 clamps.
        float[] x = [1f, -1f, 0f, 0.5f, -0.5f, 0.3f, 1.5f, -2f];
        Assert.Equal(new sbyte[] { 127, -127, 0, 64, -64, 38, 127, -127 }, EmbeddingQuantiser.Quantise(x));
        Assert.Equal([1f, -1f, 0f, 64f / 127, -64f / 127], EmbeddingQuantiser.Dequantise(new sbyte[] { 127, -127, 0, 64, -64 }));
    }

    [Fact]
    public void A_128_d_embedding_takes_128_bytes_and_each_component_moves_at_most_half_a_step()
    {
        var rng = new DeterministicRandom(7);
        for (int trial = 0; trial < 50; trial++)
        {
            var e = Synthetic.UnitVector(rng, 128);
            var codes = EmbeddingQuantiser.Quantise(e);
            Assert.Equal(128, codes.Length);
            var back = EmbeddingQuantiser.Dequantise(codes);
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(back[i] - e[i]) <= EmbeddingQuantiser.MaxComponentError + 1e-7f, $"component {i}: {e[i]} -> {back[i]}");
        }
    }

    [Fact]
    public void Distance_on_codes_equals_distance_of_dequantised_embeddings_and_stays_within_the_bound()
    {
        var rng = new DeterministicRandom(11);
        double worstRatio = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            var a = Synthetic.UnitVector(rng, 128);
            var b = trial % 2 == 0 ? Synthetic.Near(rng, a, 0.05) : Synthetic.UnitVector(rng, 128);
            var qa = EmbeddingQuantiser.Quantise(a);
            var qb = EmbeddingQuantiser.Quantise(b);
            float onCodes = EmbeddingQuantiser.SquaredDistance(qa, qb);
            float dequantised = EmbeddingDistance.Squared(EmbeddingQuantiser.Dequantise(qa), EmbeddingQuantiser.Dequantise(qb));
            Assert.Equal(dequantised, onCodes, 1e-5f);

            float exact = EmbeddingDistance.Squared(a, b);
            double bound = EmbeddingQuantiser.DistanceErrorBound(exact, 128);
            Assert.True(Math.Abs(onCodes - exact) <= bound, $"|{onCodes} - {exact}| > {bound}");
            worstRatio = Math.Max(worstRatio, Math.Abs(onCodes - exact) / bound);
        }
        // Rounding errors are independent, so the typical error is far below the worst-case bound.
        Assert.True(worstRatio < 0.5, $"worst error / bound = {worstRatio}");
    }

    [Fact]
    public void Integer_code_distance_is_exact()
    {
        Assert.Equal(254 * 254 + 1, EmbeddingQuantiser.SquaredCodeDistance(new sbyte[] { 127, 0 }, new sbyte[] { -127, 1 }));
        Assert.Equal(4f, EmbeddingQuantiser.SquaredDistance(new sbyte[] { 127, 0 }, new sbyte[] { -127, 0 }));
    }

    [Fact]
    public void Bad_inputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => EmbeddingQuantiser.Quantise([float.NaN]));
        Assert.Throws<ArgumentException>(() => EmbeddingQuantiser.SquaredCodeDistance(new sbyte[2], new sbyte[3]));
        Assert.Throws<ArgumentException>(() => EmbeddingQuantiser.Quantise([1f, 2f], new sbyte[1]));
    }
}
