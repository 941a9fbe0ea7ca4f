namespace FaceNetGen.Faces;

/// <summary>How <see cref="Clusterer.Agglomerative"/> measures the distance between two clusters.</summary>
public enum Linkage
{
    /// <summary>The mean squared distance over all cross-cluster point pairs (UPGMA).</summary>
    Average,

    /// <summary>The largest cross-cluster squared distance: every pair in a cluster is within the threshold.</summary>
    Complete,

    /// <summary>The smallest cross-cluster squared distance: clusters are chains of close points.</summary>
    Single,
}

/// <summary>The outcome of <see cref="Clusterer.KMeans"/>.</summary>
public sealed class KMeansResult
{
    internal KMeansResult(int[] assignments, float[][] centroids, double inertia, int iterations, int restart)
    {
        Assignments = assignments;
        Centroids = centroids;
        Inertia = inertia;
        Iterations = iterations;
        Restart = restart;
    }

    /// <summary>The cluster (0..k−1) of each point.</summary>
    public IReadOnlyList<int> Assignments { get; }

    /// <summary>The k centroids: the mean of each cluster's points (not re-normalised).</summary>
    public IReadOnlyList<float[]> Centroids { get; }

    /// <summary>The sum over points of the squared distance to their centroid; the best restart has the smallest.</summary>
    public double Inertia { get; }

    /// <summary>How many assignment steps the best restart took.</summary>
    public int Iterations { get; }

    /// <summary>Which restart (0-based) gave this result.</summary>
    public int Restart { get; }
}

/// <summary>One merge of agglomerative clustering.</summary>
/// <param name="First">The smallest point index in one merged cluster.</param>
/// <param name="Second">The smallest point index in the other (First &lt; Second).</param>
/// <param name="Height">The linkage distance at which they merged (made monotone: never below an earlier merge of
/// either part).</param>
/// <param name="Size">The number of points in the merged cluster.</param>
public readonly record struct ClusterMerge(int First, int Second, double Height, int Size);

/// <summary>The outcome of <see cref="Clusterer.Agglomerative"/>.</summary>
public sealed class AgglomerativeResult
{
    internal AgglomerativeResult(int[] assignments, int clusterCount, ClusterMerge[] merges)
    {
        Assignments = assignments;
        ClusterCount = clusterCount;
        Merges = merges;
    }

    /// <summary>The cluster of each point, numbered 0.. in order of each cluster's first point.</summary>
    public IReadOnlyList<int> Assignments { get; }

    /// <summary>How many clusters remain at the threshold.</summary>
    public int ClusterCount { get; }

    /// <summary>The whole dendrogram (n − 1 merges, including those above the threshold), by ascending height.</summary>
    public IReadOnlyList<ClusterMerge> Merges { get; }
}
