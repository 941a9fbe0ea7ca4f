namespace FaceNetGen.Evaluation;

/// <summary>
/// A set of labelled pairs, sorted once, on which the paper's verification metrics (Section 4, equations 4–6) are
/// evaluated exactly. A pair is accepted as "same" at threshold d when its distance D ≤ d:
/// <list type="bullet">
/// <item>TA(d) = {(i, j) ∈ P_same : D(x_i, x_j) ≤ d} (true accepts),</item>
/// <item>FA(d) = {(i, j) ∈ P_diff : D(x_i, x_j) ≤ d} (false accepts),</item>
/// <item>VAL(d) = |TA(d)| / |P_same| and FAR(d) = |FA(d)| / |P_diff|.</item>
/// </list>
/// </summary>
/// <remarks>
/// The thresholds worth considering are the distinct pair distances (each accepts every pair up to and including
/// it) plus one that accepts nothing: the largest float below the smallest distance. They are the
/// <see cref="CandidateThresholds"/>, in ascending order. Rates over an empty set (VAL without same pairs, FAR
/// without different pairs, accuracy without pairs) are NaN.
/// </remarks>
public sealed class PairSet
{
    private readonly float[] _same;
    private readonly float[] _diff;
    private float[]? _candidates;

    /// <summary>Sorts the pairs' distances by label. Every distance must be finite.</summary>
    /// <exception cref="ArgumentException">A distance is NaN or infinite.</exception>
    public PairSet(IEnumerable<ScoredPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var same = new List<float>();
        var diff = new List<float>();
        int index = 0;
        foreach (var pair in pairs)
        {
            if (!float.IsFinite(pair.Distance))
                throw new ArgumentException($"pair {index} has a distance of {pair.Distance}; distances must be finite.", nameof(pairs));
            (pair.IsSame ? same : diff).Add(pair.Distance);
            index++;
        }
        _same = same.ToArray();
        _diff = diff.ToArray();
        Array.Sort(_same);
        Array.Sort(_diff);
    }

    /// <summary>|P_same|.</summary>
    public int SameCount => _same.Length;

    /// <summary>|P_diff|.</summary>
    public int DiffCount => _diff.Length;

    /// <summary>All pairs.</summary>
    public int Count => _same.Length + _diff.Length;

    /// <summary>|TA(d)|: same pairs with D ≤ <paramref name="threshold"/>.</summary>
    public int TrueAccepts(float threshold) => CountAtMost(_same, threshold);

    /// <summary>|FA(d)|: different pairs with D ≤ <paramref name="threshold"/>.</summary>
    public int FalseAccepts(float threshold) => CountAtMost(_diff, threshold);

    /// <summary>VAL(d) = |TA(d)| / |P_same|, NaN when there are no same pairs.</summary>
    public double Val(float threshold) => SameCount == 0 ? double.NaN : (double)TrueAccepts(threshold) / SameCount;

    /// <summary>FAR(d) = |FA(d)| / |P_diff|, NaN when there are no different pairs.</summary>
    public double Far(float threshold) => DiffCount == 0 ? double.NaN : (double)FalseAccepts(threshold) / DiffCount;

    /// <summary>
    /// The fraction of pairs classified correctly at <paramref name="threshold"/>:
    /// (|TA(d)| + |P_diff| − |FA(d)|) / (|P_same| + |P_diff|); NaN for an empty set.
    /// </summary>
    public double Accuracy(float threshold) =>
        Count == 0 ? double.NaN : (double)(TrueAccepts(threshold) + DiffCount - FalseAccepts(threshold)) / Count;

    /// <summary>
    /// The reject-everything threshold (the largest float below the smallest distance) followed by every distinct
    /// distance, ascending. Empty for an empty set.
    /// </summary>
    public IReadOnlyList<float> CandidateThresholds => _candidates ??= BuildCandidates();

    /// <summary>
    /// The candidate threshold with the highest accuracy. Ties go to the smallest such threshold, the one with the
    /// fewest false accepts, so the choice is deterministic.
    /// </summary>
    /// <exception cref="InvalidOperationException">The set is empty.</exception>
    public AccuracyOperatingPoint BestAccuracy()
    {
        if (Count == 0) throw new InvalidOperationException("the best-accuracy threshold needs at least one pair.");
        var candidates = CandidateThresholds;
        int ta = 0, fa = 0, bestCorrect = -1, bestTa = 0, bestFa = 0;
        float bestThreshold = candidates[0];
        foreach (float d in candidates)
        {
            while (ta < _same.Length && _same[ta] <= d) ta++;
            while (fa < _diff.Length && _diff[fa] <= d) fa++;
            int correct = ta + _diff.Length - fa;
            if (correct > bestCorrect)
            {
                bestCorrect = correct;
                bestThreshold = d;
                bestTa = ta;
                bestFa = fa;
            }
        }
        return new AccuracyOperatingPoint(bestThreshold, (double)bestCorrect / Count, bestTa, bestFa, SameCount, DiffCount);
    }

    /// <summary>
    /// The largest threshold whose FAR does not exceed <paramref name="targetFar"/>, and VAL there; see
    /// <see cref="FarOperatingPoint"/> for how ties and pair sets too small for the target are handled.
    /// </summary>
    /// <param name="targetFar">The FAR to stay within, in [0, 1] (the paper's headline uses 10^-3).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetFar"/> is outside [0, 1].</exception>
    /// <exception cref="InvalidOperationException">There are no different pairs, so FAR is undefined.</exception>
    public FarOperatingPoint AtFar(double targetFar)
    {
        if (!(targetFar >= 0 && targetFar <= 1)) throw new ArgumentOutOfRangeException(nameof(targetFar), targetFar, "a target FAR lies in [0, 1].");
        int n = _diff.Length;
        if (n == 0) throw new InvalidOperationException("VAL at a FAR needs at least one different-identity pair.");

        // m: the largest count with m / n <= target, using the same division as FAR itself.
        int m = (int)Math.Min(n, Math.Floor(targetFar * n));
        while (m > 0 && (double)m / n > targetFar) m--;
        while (m < n && (double)(m + 1) / n <= targetFar) m++;

        float threshold = m >= n ? float.MaxValue : MathF.BitDecrement(_diff[m]);
        return new FarOperatingPoint(targetFar, threshold, TrueAccepts(threshold), FalseAccepts(threshold), m, SameCount, n);
    }

    /// <summary>The ROC curve over every candidate threshold. Needs at least one same and one different pair.</summary>
    public RocCurve Roc() => RocCurve.From(this);

    internal ReadOnlySpan<float> SameDistances => _same;

    internal ReadOnlySpan<float> DiffDistances => _diff;

    private float[] BuildCandidates()
    {
        if (Count == 0) return [];
        var result = new List<float>(Count + 1);
        float min = Math.Min(_same.Length > 0 ? _same[0] : float.PositiveInfinity, _diff.Length > 0 ? _diff[0] : float.PositiveInfinity);
        result.Add(MathF.BitDecrement(min));
        int i = 0, j = 0;
        while (i < _same.Length || j < _diff.Length)
        {
            float next = j >= _diff.Length || (i < _same.Length && _same[i] <= _diff[j]) ? _same[i++] : _diff[j++];
            if (next > result[^1]) result.Add(next);
        }
        return result.ToArray();
    }

    /// <summary>How many of the ascending <paramref name="sorted"/> values are ≤ <paramref name="threshold"/>.</summary>
    private static int CountAtMost(float[] sorted, float threshold)
    {
        if (float.IsNaN(threshold)) throw new ArgumentException("a threshold must not be NaN.", nameof(threshold));
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= threshold) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
