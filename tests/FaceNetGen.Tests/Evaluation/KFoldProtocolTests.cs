using FaceNetGen.Evaluation;

namespace FaceNetGen.Tests.Evaluation;

public class KFoldProtocolTests
{
    /// <summary>
    /// Three folds numbered 10, 20, 30 (interleaved in the list):
    /// fold 10: same 0.1, 0.3; different 1.0, 1.2.
    /// fold 20: same 0.2, 0.4; different 0.9, 1.1.
    /// fold 30: same 0.5, 0.95; different 0.6, 1.3.
    /// Held out 10: train on 20+30 → best 7/8 at 0.5 → fold 10 all correct.
    /// Held out 20: train on 10+30 → 7/8 at 0.5 (tied with 0.95; the smaller wins) → fold 20 all correct.
    /// Held out 30: train on 10+20 → 8/8 at 0.4 → fold 30: 0.5 and 0.95 rejected, 0.6 and 1.3 rejected → 2/4.
    /// </summary>
    internal static (ScoredPair[] Pairs, int[] Folds) Toy()
    {
        (float D, bool Same, int Fold)[] rows =
        [
            (0.1f, true, 10), (0.2f, true, 20), (0.5f, true, 30), (1.0f, false, 10), (0.9f, false, 20), (0.6f, false, 30),
            (0.3f, true, 10), (0.4f, true, 20), (0.95f, true, 30), (1.2f, false, 10), (1.1f, false, 20), (1.3f, false, 30),
        ];
        return (rows.Select(r => new ScoredPair(r.D, r.Same)).ToArray(), rows.Select(r => r.Fold).ToArray());
    }

    [Fact]
    public void Each_fold_uses_the_threshold_chosen_on_the_others()
    {
        var (pairs, folds) = Toy();
        var report = KFoldProtocol.Evaluate(pairs, folds);

        Assert.Equal([10, 20, 30], report.Folds.Select(f => f.Fold));
        Assert.Equal([0.5f, 0.5f, 0.4f], report.Folds.Select(f => f.Threshold));
        Assert.Equal([7.0 / 8, 7.0 / 8, 1.0], report.Folds.Select(f => f.TrainAccuracy));
        Assert.Equal([1.0, 1.0, 0.5], report.Folds.Select(f => f.TestAccuracy));
        Assert.All(report.Folds, f => Assert.Equal(4, f.PairCount));
    }

    [Fact]
    public void Mean_and_standard_error_over_folds()
    {
        var (pairs, folds) = Toy();
        var report = KFoldProtocol.Evaluate(pairs, folds);
        // Accuracies 1, 1, 0.5: mean 5/6; deviations 1/6, 1/6, -1/3 → sample variance (1/36 + 1/36 + 4/36) / 2 = 1/12;
        // standard error sqrt(1/12) / sqrt(3) = 1/6.
        Assert.Equal(5.0 / 6, report.MeanAccuracy, 12);
        Assert.Equal(1.0 / 6, report.AccuracyStandardError, 12);
        Assert.Equal((0.5 + 0.5 + 0.4) / 3, report.MeanThreshold, 6);
    }

    [Fact]
    public void All_pairs_figures_come_from_the_same_pairs()
    {
        var (pairs, folds) = Toy();
        var report = KFoldProtocol.Evaluate(pairs, folds, targetFar: 1e-3);
        Assert.Equal((12, 6, 6), (report.PairCount, report.SameCount, report.DiffCount));
        // Same 0.1..0.5 (5) then different 0.6, 0.9 then same 0.95: best 11/12 at 0.5.
        Assert.Equal(0.5f, report.BestAccuracy.Threshold);
        Assert.Equal(11.0 / 12, report.BestAccuracy.Accuracy, 12);
        // 1e-3 of 6 different pairs allows none: VAL at FAR 0 is 5/6, reported as unresolved.
        Assert.Equal(5.0 / 6, report.ValAtFar.Val, 12);
        Assert.Equal(0, report.ValAtFar.FalseAccepts);
        Assert.False(report.ValAtFar.IsResolved);
        // 0.95 is closer than 4 of the 6 different pairs, the other same pairs than all 6: 34/36.
        Assert.Equal(34.0 / 36, report.Auc, 12);
    }

    [Fact]
    public void Bad_inputs_are_refused()
    {
        var (pairs, folds) = Toy();
        Assert.Throws<ArgumentException>(() => KFoldProtocol.Evaluate(pairs, folds.Take(5).ToArray()));
        Assert.Throws<ArgumentException>(() => KFoldProtocol.Evaluate(pairs, new int[pairs.Length]));
        Assert.Throws<ArgumentException>(() => KFoldProtocol.Evaluate(pairs.Where(p => p.IsSame).ToArray(), folds.Take(6).ToArray()));
    }

    [Fact]
    public void Contiguous_folds_cut_equal_blocks()
    {
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], KFoldProtocol.ContiguousFolds(10, 3));
        var lfw = KFoldProtocol.ContiguousFolds(6000, 10);
        Assert.All(lfw.GroupBy(f => f), g => Assert.Equal(600, g.Count()));
        Assert.Equal(0, lfw[599]);
        Assert.Equal(1, lfw[600]);
    }

    [Fact]
    public void Standard_error_is_sample_deviation_over_root_n()
    {
        // 1, 2, 3, 4: mean 2.5, sample variance 5/3, standard error sqrt(5/3) / 2.
        var (mean, se) = KFoldProtocol.MeanAndStandardError([1.0, 2.0, 3.0, 4.0]);
        Assert.Equal(2.5, mean);
        Assert.Equal(Math.Sqrt(5.0 / 3) / 2, se, 12);
        Assert.Equal((7.0, 0.0), KFoldProtocol.MeanAndStandardError([7.0]));
    }
}
