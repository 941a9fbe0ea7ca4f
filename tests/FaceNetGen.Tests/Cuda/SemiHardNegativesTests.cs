using FaceNetGen.Backends.Cuda;
using FaceNetGen.Training;

namespace FaceNetGen.Tests.Cuda;

/// <summary>The semi-hard rule d(a,p) &lt; d(a,n) &lt; d(a,p) + α on a hand-built matrix (all values exact in float).</summary>
public class SemiHardNegativesTests
{
    private const float Alpha = 0.5f;
    private static readonly int[] Labels = { 0, 0, 0, 1, 1, 2 };

    private static readonly float[] D =
    {
        0.00f, 1.00f, 2.00f, 1.00f, 1.25f, 1.50f,
        1.00f, 0.00f, 0.50f, 0.75f, 0.75f, 3.00f,
        2.00f, 0.50f, 0.00f, 2.25f, 2.125f, 0.875f,
        1.00f, 0.75f, 2.25f, 0.00f, 1.00f, 1.25f,
        1.25f, 0.75f, 2.125f, 1.00f, 0.00f, 1.25f,
        1.50f, 3.00f, 0.875f, 1.25f, 1.25f, 0.00f,
    };

    private static int[] Select()
    {
        var result = new int[36];
        SemiHardNegatives.Select(6, D, Labels, Alpha, result);
        return result;
    }

    [Fact]
    public void EveryPair_GetsTheExpectedNegative()
    {
        const int x = SemiHardNegatives.NotAPair, none = SemiHardNegatives.Dropped;
        int[] expected =
        {
            // p:  0     1     2   3  4  5
            x, 4, none, x, x, x, // a=0: (0,1) window (1, 1.5): 4 at 1.25 (3 at 1.0 is not > d(a,p); 5 at 1.5 is not < d(a,p)+a); (0,2) window (2, 2.5): none
            none, x, 3, x, x, x, // a=1: (1,0) window (1, 1.5): none; (1,2) window (0.5, 1): 3 and 4 tie at 0.75, the smaller index wins
            4, 5, x, x, x, x,    // a=2: (2,0) window (2, 2.5): 4 at 2.125 beats 3 at 2.25; (2,1) window (0.5, 1): 5 at 0.875
            x, x, x, x, 5, x,    // a=3: (3,4) window (1, 1.5): 5 at 1.25 (0 at 1.0 is excluded)
            x, x, x, 0, x, x,    // a=4: (4,3) window (1, 1.5): 0 and 5 tie at 1.25, the smaller index wins
            x, x, x, x, x, x,    // a=5: no positive
        };
        Assert.Equal(expected, Select());
    }

    [Fact]
    public void Triplets_ListTheKeptOnesInAnchorPositiveOrder()
    {
        Assert.Equal(new[] { (0, 1, 4), (1, 2, 3), (2, 0, 4), (2, 1, 5), (3, 4, 5), (4, 3, 0) }, SemiHardNegatives.Triplets(6, Select()));
    }

    [Fact]
    public void NegativesOfTheAnchorsOwnLabel_AreNeverChosen()
    {
        // Give (0,2)'s window a same-label "negative": index 1 at d(0,1) = 2.25 lies inside (2, 2.5) but shares label 0.
        var d = (float[])D.Clone();
        d[0 * 6 + 1] = 2.25f;
        var result = new int[36];
        SemiHardNegatives.Select(6, d, Labels, Alpha, result);
        Assert.Equal(SemiHardNegatives.Dropped, result[0 * 6 + 2]);
    }

    [Fact]
    public void AWiderMargin_AdmitsTheNegativeAtTheOldBound()
    {
        var result = new int[36];
        SemiHardNegatives.Select(6, D, Labels, 0.75f, result);
        // (0,1): window (1, 1.75) now holds 4 (1.25) and 5 (1.5): the nearer, 4, is still chosen.
        Assert.Equal(4, result[0 * 6 + 1]);
        // (1,0): window (1, 1.75): still none (3 and 4 at 0.75, 5 at 3).
        Assert.Equal(SemiHardNegatives.Dropped, result[1 * 6 + 0]);
    }

    [Fact]
    public void Sizes_AreChecked()
    {
        var result = new int[36];
        Assert.Throws<ArgumentException>(() => SemiHardNegatives.Select(6, D.AsSpan(0, 35), Labels, Alpha, result));
        Assert.Throws<ArgumentException>(() => SemiHardNegatives.Select(6, D, Labels.AsSpan(0, 5), Alpha, result));
        Assert.Throws<ArgumentException>(() => SemiHardNegatives.Select(6, D, Labels, Alpha, new int[35]));
    }
}
