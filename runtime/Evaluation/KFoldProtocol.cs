namespace FaceNetGen.Evaluation;

/// <summary>
/// The LFW verification protocol (unrestricted, labelled outside data), generalised to k folds: for each fold the
/// threshold with the best accuracy on the other k − 1 folds is chosen (<see cref="PairSet.BestAccuracy"/>) and the
/// accuracy is measured on the held-out fold. The result is the mean of the k held-out accuracies ± its standard
/// error, the sample standard deviation (n − 1 denominator) divided by √k, as the paper reports LFW (98.87% ± 0.15).
/// </summary>
public static class KFoldProtocol
{
    /// <summary>
    /// Runs the protocol. <paramref name="folds"/> gives each pair's fold number (any integers; the distinct values
    /// are the folds, in ascending order). The report also carries, for the same pairs taken together, VAL at
    /// <paramref name="targetFar"/>, the best accuracy and the ROC area.
    /// </summary>
    /// <param name="pairs">The labelled pairs; at least one same and one different pair.</param>
    /// <param name="folds">One fold number per pair; at least two distinct values.</param>
    /// <param name="targetFar">The FAR for the VAL@FAR line of the report (the paper uses 10^-3).</param>
    /// <param name="title">A heading for the report.</param>
    /// <exception cref="ArgumentException">The counts differ, there are fewer than two folds, or a pair kind is missing.</exception>
    public static VerificationReport Evaluate(IReadOnlyList<ScoredPair> pairs, IReadOnlyList<int> folds, double targetFar = 1e-3, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(folds);
        if (pairs.Count != folds.Count)
            throw new ArgumentException($"{pairs.Count} pairs but {folds.Count} fold numbers: give one fold number per pair.", nameof(folds));
        var all = new PairSet(pairs);
        if (all.SameCount == 0 || all.DiffCount == 0)
            throw new ArgumentException($"verification needs same and different pairs; got {all.SameCount} same and {all.DiffCount} different.", nameof(pairs));
        int[] foldIds = folds.Distinct().Order().ToArray();
        if (foldIds.Length < 2)
            throw new ArgumentException($"the k-fold protocol needs at least two folds; the fold numbers name {foldIds.Length}.", nameof(folds));

        var results = new List<FoldResult>(foldIds.Length);
        foreach (int fold in foldIds)
        {
            var train = new PairSet(Enumerable.Range(0, pairs.Count).Where(i => folds[i] != fold).Select(i => pairs[i]));
            var test = new PairSet(Enumerable.Range(0, pairs.Count).Where(i => folds[i] == fold).Select(i => pairs[i]));
            var best = train.BestAccuracy();
            results.Add(new FoldResult(fold, test.Count, best.Threshold, best.Accuracy, test.Accuracy(best.Threshold)));
        }

        return new VerificationReport(
            title, all.Count, all.SameCount, all.DiffCount, results,
            all.BestAccuracy(), all.AtFar(targetFar), all.Roc().Auc);
    }

    /// <summary>
    /// Fold numbers for <paramref name="count"/> pairs cut into <paramref name="k"/> contiguous blocks of (nearly)
    /// equal size: pair i goes to fold ⌊i·k / count⌋. This is LFW's layout, whose pairs file lists ten sets of
    /// 300 same then 300 different pairs.
    /// </summary>
    public static int[] ContiguousFolds(int count, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var folds = new int[count];
        for (int i = 0; i < count; i++) folds[i] = (int)((long)i * k / count);
        return folds;
    }

    /// <summary>The mean of <paramref name="values"/> and its standard error: sample standard deviation / √n (0 for n = 1).</summary>
    public static (double Mean, double StandardError) MeanAndStandardError(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("no values.", nameof(values));
        double mean = values.Average();
        if (values.Count == 1) return (mean, 0);
        double ss = values.Sum(v => (v - mean) * (v - mean));
        double sd = Math.Sqrt(ss / (values.Count - 1));
        return (mean, sd / Math.Sqrt(values.Count));
    }
}
