using FaceNetGen.Training;

namespace FaceNetGen.Tests.Training;

public class TripletLossTests
{
    // Three unit vectors in 2-d: a = (1, 0), p = (0.8, 0.6), n = (0.6, 0.8).
    // d(a,p) = 0.04 + 0.36 = 0.4; d(a,n) = 0.16 + 0.64 = 0.8.
    private static readonly float[] E = { 1f, 0f, 0.8f, 0.6f, 0.6f, 0.8f };

    [Fact]
    public void An_active_triplet_has_the_hinge_loss_and_its_gradient()
    {
        var gradient = new float[6];
        // margin 0.5: 0.4 − 0.8 + 0.5 = 0.1 > 0.
        var r = TripletLoss.Compute(E, 2, new[] { new Triplet(0, 1, 2) }, 0.5f, gradient);
        Assert.Equal(0.1, r.Loss, 6);
        Assert.Equal(1, r.Active);
        // ∂/∂a = 2(n − p) = (−0.4, 0.4); ∂/∂p = 2(p − a) = (−0.4, 1.2); ∂/∂n = 2(a − n) = (0.8, −1.6).
        float[] expected = { -0.4f, 0.4f, -0.4f, 1.2f, 0.8f, -1.6f };
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], gradient[i], 5);
    }

    [Fact]
    public void A_satisfied_triplet_contributes_nothing()
    {
        var gradient = Enumerable.Repeat(9f, 6).ToArray();
        // margin 0.2: 0.4 − 0.8 + 0.2 = −0.2 ≤ 0.
        var r = TripletLoss.Compute(E, 2, new[] { new Triplet(0, 1, 2) }, 0.2f, gradient);
        Assert.Equal(0, r.Loss);
        Assert.Equal(0, r.Active);
        Assert.All(gradient, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void The_loss_is_the_mean_over_selected_triplets_and_gradients_add_up()
    {
        var gradient = new float[6];
        // (a, p, n) active with 0.1 as above; (n, a, p): d(n,a) = 0.8, d(n,p) = 0.08 → 0.8 − 0.08 + 0.5 = 1.22.
        var triplets = new[] { new Triplet(0, 1, 2), new Triplet(2, 0, 1) };
        var r = TripletLoss.Compute(E, 2, triplets, 0.5f, gradient);
        Assert.Equal((0.1 + 1.22) / 2, r.Loss, 5);
        Assert.Equal(2, r.Active);
        // Position 0 is the anchor of one triplet and the positive of the other: both gradients, each scaled by 1/2.
        // anchor: 2(n − p)/2 = (−0.2, 0.2); as positive of (2, 0, 1): 2(a − n)/2 with a = e0, anchor = e2 → (0.4, −0.8).
        Assert.Equal(-0.2f + 0.4f, gradient[0], 5);
        Assert.Equal(0.2f - 0.8f, gradient[1], 5);
    }

    [Fact]
    public void The_gradient_matches_finite_differences()
    {
        var rng = new DeterministicRandom(4);
        int n = 6, d = 5;
        var e = Enumerable.Range(0, n * d).Select(_ => (float)rng.NextNormal()).ToArray();
        var triplets = new[] { new Triplet(0, 1, 2), new Triplet(3, 4, 5), new Triplet(1, 0, 5), new Triplet(2, 3, 0) };
        var gradient = new float[n * d];
        TripletLoss.Compute(e, d, triplets, 1.5f, gradient);
        var scratch = new float[n * d];
        for (int i = 0; i < e.Length; i++)
        {
            var plus = (float[])e.Clone();
            var minus = (float[])e.Clone();
            plus[i] += 1e-3f;
            minus[i] -= 1e-3f;
            double numeric = (TripletLoss.Compute(plus, d, triplets, 1.5f, scratch).Loss - TripletLoss.Compute(minus, d, triplets, 1.5f, scratch).Loss) / 2e-3;
            Assert.Equal(numeric, gradient[i], 2);
        }
    }

    [Fact]
    public void No_triplets_is_zero_loss_and_zero_gradient()
    {
        var gradient = Enumerable.Repeat(1f, 6).ToArray();
        var r = TripletLoss.Compute(E, 2, Array.Empty<Triplet>(), 0.2f, gradient, pairs: 4);
        Assert.Equal(0, r.Loss);
        Assert.Equal(4, r.Pairs);
        Assert.Equal(0, r.ActiveFraction);
        Assert.All(gradient, g => Assert.Equal(0f, g));
    }
}
