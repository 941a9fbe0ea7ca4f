namespace FaceNetGen.Training;

/// <summary>
/// Semi-hard negative selection (FaceNet §3.2): the rule the trainer mines by, and the host reference of the CUDA
/// backend's device kernel.
/// </summary>
/// <remarks>
/// <para>Input: the n × n matrix of squared distances d (row-major, d[a·n + b]), a label per embedding and the margin α.</para>
/// <para>Rule: for every ordered anchor-positive pair (a, p) with a ≠ p and label(a) = label(p), the candidates are the
/// negatives k with label(k) ≠ label(a) and <c>d(a,p) &lt; d(a,k) &lt; d(a,p) + α</c> (both strict, with d(a,p) + α
/// computed in float). The chosen negative is the candidate with the smallest d(a,k); among equal distances, the smallest
/// index k. With no candidate the triplet is dropped: the result is <see cref="Dropped"/> (−1).</para>
/// <para>Output: result[a·n + p] holds the chosen negative, <see cref="Dropped"/>, or <see cref="NotAPair"/> (−2) where
/// (a, p) is not an anchor-positive pair (a = p, or different labels).</para>
/// </remarks>
public static class SemiHardNegatives
{
    /// <summary>An anchor-positive pair with no semi-hard negative: the triplet is dropped.</summary>
    public const int Dropped = -1;

    /// <summary>(a, p) is not an anchor-positive pair.</summary>
    public const int NotAPair = -2;

    /// <summary>Applies the rule to every (a, p); see the type's remarks.</summary>
    public static void Select(int n, ReadOnlySpan<float> distances, ReadOnlySpan<int> labels, float alpha, Span<int> result)
    {
        Check(n, distances.Length, labels.Length, result.Length);
        for (int a = 0; a < n; a++)
        for (int p = 0; p < n; p++)
        {
            int chosen = NotAPair;
            if (a != p && labels[a] == labels[p])
            {
                float dap = distances[a * n + p];
                float upper = dap + alpha;
                chosen = Dropped;
                float best = 0;
                for (int k = 0; k < n; k++)
                {
                    if (labels[k] == labels[a]) continue;
                    float dan = distances[a * n + k];
                    if (dap < dan && dan < upper && (chosen < 0 || dan < best))
                    {
                        chosen = k;
                        best = dan;
                    }
                }
            }
            result[a * n + p] = chosen;
        }
    }

    /// <summary>The kept triplets (anchor, positive, negative) of a selection, in (a, p) order.</summary>
    public static List<(int Anchor, int Positive, int Negative)> Triplets(int n, ReadOnlySpan<int> result)
    {
        if (result.Length != n * n) throw new ArgumentException($"A selection over {n} embeddings has {n * n} entries, not {result.Length}.", nameof(result));
        var triplets = new List<(int, int, int)>();
        for (int a = 0; a < n; a++)
        for (int p = 0; p < n; p++)
        {
            if (result[a * n + p] >= 0) triplets.Add((a, p, result[a * n + p]));
        }
        return triplets;
    }

    internal static void Check(int n, int distances, int labels, int result)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n));
        if (distances != n * n) throw new ArgumentException($"{n} embeddings need an {n}x{n} distance matrix ({n * n} floats), not {distances}.");
        if (labels != n) throw new ArgumentException($"{n} embeddings need {n} labels, not {labels}.");
        if (result != n * n) throw new ArgumentException($"The selection over {n} embeddings has {n * n} entries, not {result}.");
    }
}
