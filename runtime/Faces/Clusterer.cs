namespace FaceNetGen.Faces;

/// <summary>
/// Clustering of face embeddings into identities (Section 5.8 of the paper): k-means++ when the number of people
/// is known, agglomerative clustering with a squared-distance threshold when it is not, and a purity measure to
/// score either against known labels. Both algorithms are exact and deterministic.
/// </summary>
public static partial class Clusterer
{
    /// <summary>
    /// Purity of a clustering against known labels: for each cluster, the count of its most frequent label, summed
    /// and divided by the number of points. 1 means every cluster holds a single identity (a clustering that puts
    /// every point alone also scores 1, so read it together with the cluster count).
    /// </summary>
    public static double Purity<TLabel>(IReadOnlyList<int> assignments, IReadOnlyList<TLabel> labels)
        where TLabel : notnull
    {
        ArgumentNullException.ThrowIfNull(assignments);
        ArgumentNullException.ThrowIfNull(labels);
        if (assignments.Count != labels.Count)
            throw new ArgumentException($"{assignments.Count} assignments but {labels.Count} labels.", nameof(labels));
        if (assignments.Count == 0) throw new ArgumentException("purity needs at least one point.", nameof(assignments));
        var counts = new Dictionary<(int Cluster, TLabel Label), int>();
        for (int i = 0; i < assignments.Count; i++)
        {
            var key = (assignments[i], labels[i]);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        int majority = counts.GroupBy(p => p.Key.Cluster).Sum(g => g.Max(p => p.Value));
        return (double)majority / assignments.Count;
    }

    /// <summary>Checks that there is at least one point and that all points have one finite size; returns the size.</summary>
    private static int CheckPoints(IReadOnlyList<float[]> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0) throw new ArgumentException("clustering needs at least one point.", nameof(points));
        int size = points[0]?.Length ?? throw new ArgumentException("point 0 is null.", nameof(points));
        for (int i = 0; i < points.Count; i++)
        {
            if (points[i] is null) throw new ArgumentException($"point {i} is null.", nameof(points));
            if (points[i].Length != size) throw new ArgumentException($"point {i} has {points[i].Length} values; point 0 has {size}.", nameof(points));
            if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(points[i]))
                throw new ArgumentException($"point {i} holds NaN or infinite values.", nameof(points));
        }
        return size;
    }
}
