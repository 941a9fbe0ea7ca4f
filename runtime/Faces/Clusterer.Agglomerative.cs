namespace FaceNetGen.Faces;

public static partial class Clusterer
{
    /// <summary>
    /// Agglomerative (hierarchical) clustering: starting from one cluster per point, the two closest clusters are
    /// merged while their linkage distance is ≤ <paramref name="threshold"/> (a squared Euclidean distance, like
    /// a verification threshold).
    /// </summary>
    /// <remarks>
    /// Exact: the full distance matrix is built (n(n−1)/2 doubles, about 4n² bytes: 64 MB for 4,000 points) and
    /// the dendrogram is found with the nearest-neighbour-chain algorithm in O(n²) time, which for these three
    /// linkages gives the same merges as repeatedly merging the closest pair of clusters (up to the order of merges
    /// at equal heights). Cluster distances after a merge follow the Lance–Williams formulas. Ties are broken by
    /// point index, so the result is deterministic.
    /// </remarks>
    /// <param name="points">The embeddings, all of one size.</param>
    /// <param name="threshold">The largest linkage distance at which two clusters still merge.</param>
    /// <param name="linkage">Average (default), complete or single linkage.</param>
    public static AgglomerativeResult Agglomerative(IReadOnlyList<float[]> points, double threshold, Linkage linkage = Linkage.Average)
    {
        CheckPoints(points);
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), "the merge threshold must not be NaN.");
        if (!Enum.IsDefined(linkage)) throw new ArgumentOutOfRangeException(nameof(linkage), linkage, "unknown linkage.");
        int n = points.Count;
        var matrix = new DistanceMatrix(points);
        var merges = NearestNeighbourChain(matrix, n, linkage);

        var parent = new int[n];
        for (int i = 0; i < n; i++) parent[i] = i;
        foreach (var m in merges)
        {
            if (m.Height > threshold) break;
            parent[Find(parent, m.Second)] = Find(parent, m.First);
        }
        var assignments = new int[n];
        var ids = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            int root = Find(parent, i);
            if (!ids.TryGetValue(root, out int id)) ids[root] = id = ids.Count;
            assignments[i] = id;
        }
        return new AgglomerativeResult(assignments, ids.Count, merges);
    }

    /// <summary>All n − 1 merges, sorted by (height, discovery order).</summary>
    private static ClusterMerge[] NearestNeighbourChain(DistanceMatrix d, int n, Linkage linkage)
    {
        // Cluster slot i starts as point i; a merge keeps the lower slot, which is then the cluster's smallest point.
        var active = new bool[n];
        Array.Fill(active, true);
        var size = new int[n];
        Array.Fill(size, 1);
        var formedAt = new double[n];
        var found = new List<ClusterMerge>(Math.Max(0, n - 1));
        var chain = new List<int>();
        int remaining = n, firstActive = 0;
        while (remaining > 1)
        {
            if (chain.Count == 0)
            {
                while (!active[firstActive]) firstActive++;
                chain.Add(firstActive);
            }
            int a = chain[^1];
            int previous = chain.Count >= 2 ? chain[^2] : -1;
            // The nearest active cluster to a; the previous chain link wins ties (so the chain always ends), then the lowest slot.
            int best = previous;
            double bestDistance = previous >= 0 ? d[a, previous] : double.PositiveInfinity;
            for (int b = 0; b < n; b++)
            {
                if (b == a || !active[b]) continue;
                double v = d[a, b];
                if (v < bestDistance)
                {
                    bestDistance = v;
                    best = b;
                }
            }
            if (best != previous)
            {
                chain.Add(best);
                continue;
            }

            chain.RemoveRange(chain.Count - 2, 2);
            int keep = Math.Min(a, best), drop = Math.Max(a, best);
            int sizeKeep = size[keep], sizeDrop = size[drop];
            for (int other = 0; other < n; other++)
            {
                if (!active[other] || other == keep || other == drop) continue;
                double dk = d[keep, other], dd = d[drop, other];
                d[keep, other] = linkage switch
                {
                    Linkage.Single => Math.Min(dk, dd),
                    Linkage.Complete => Math.Max(dk, dd),
                    _ => (sizeKeep * dk + sizeDrop * dd) / (sizeKeep + sizeDrop),
                };
            }
            double height = Math.Max(bestDistance, Math.Max(formedAt[keep], formedAt[drop]));
            size[keep] = sizeKeep + sizeDrop;
            formedAt[keep] = height;
            active[drop] = false;
            remaining--;
            found.Add(new ClusterMerge(keep, drop, height, size[keep]));
        }
        return found.Select((m, i) => (m, i)).OrderBy(e => e.m.Height).ThenBy(e => e.i).Select(e => e.m).ToArray();
    }

    private static int Find(int[] parent, int i)
    {
        while (parent[i] != i)
        {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    /// <summary>A symmetric matrix of squared distances without its diagonal, stored as the upper triangle.</summary>
    private sealed class DistanceMatrix
    {
        private readonly double[] _values;
        private readonly int _n;

        public DistanceMatrix(IReadOnlyList<float[]> points)
        {
            _n = points.Count;
            _values = new double[(long)_n * (_n - 1) / 2];
            for (int i = 0; i < _n; i++)
                for (int j = i + 1; j < _n; j++) _values[Index(i, j)] = EmbeddingDistance.Squared(points[i], points[j]);
        }

        public double this[int i, int j]
        {
            get => _values[i < j ? Index(i, j) : Index(j, i)];
            set => _values[i < j ? Index(i, j) : Index(j, i)] = value;
        }

        private long Index(int i, int j) => (long)i * (2L * _n - i - 1) / 2 + (j - i - 1);
    }
}
