namespace FaceNetGen.Faces;

public static partial class Clusterer
{
    /// <summary>
    /// k-means with k-means++ seeding, run <paramref name="restarts"/> times; the run with the smallest inertia wins
    /// (the earliest on a tie). The same points, k and seed always give the same result.
    /// </summary>
    /// <remarks>
    /// Each restart draws from its own <see cref="DeterministicRandom"/> forked, in order, from one seeded with
    /// <paramref name="seed"/>. Seeding: the first centroid is a uniformly chosen point; each next one is a point
    /// drawn with probability proportional to its squared distance to the nearest centroid so far (the D² rule).
    /// Then Lloyd iterations: assign each point to its nearest centroid (the lowest index on a tie) and move each
    /// centroid to the mean of its points, until no assignment changes or <paramref name="maxIterations"/> steps
    /// have run. A cluster left empty takes the point farthest from its centroid among clusters of two or more.
    /// Distances are squared Euclidean; centroids are plain means (not re-normalised to the unit sphere).
    /// </remarks>
    /// <param name="points">The embeddings, all of one size.</param>
    /// <param name="k">The number of clusters, 1..points.Count.</param>
    /// <param name="seed">The random seed.</param>
    /// <param name="restarts">How many seedings to try.</param>
    /// <param name="maxIterations">The most assignment steps per restart.</param>
    public static KMeansResult KMeans(IReadOnlyList<float[]> points, int k, ulong seed, int restarts = 4, int maxIterations = 100)
    {
        int size = CheckPoints(points);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, points.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(restarts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIterations, 1);
        var master = new DeterministicRandom(seed);
        KMeansResult? best = null;
        for (int r = 0; r < restarts; r++)
        {
            var result = KMeansOnce(points, size, k, master.Fork(), maxIterations, r);
            if (best is null || result.Inertia < best.Inertia) best = result;
        }
        return best!;
    }

    private static KMeansResult KMeansOnce(IReadOnlyList<float[]> points, int size, int k, DeterministicRandom rng, int maxIterations, int restart)
    {
        int n = points.Count;
        var centroids = SeedPlusPlus(points, k, rng);
        var assignments = new int[n];
        Array.Fill(assignments, -1);
        var distance = new float[n];
        int iterations = 0;
        while (iterations < maxIterations)
        {
            iterations++;
            bool changed = false;
            for (int i = 0; i < n; i++)
            {
                int nearest = 0;
                float best = EmbeddingDistance.Squared(points[i], centroids[0]);
                for (int c = 1; c < k; c++)
                {
                    float d = EmbeddingDistance.Squared(points[i], centroids[c]);
                    if (d < best)
                    {
                        best = d;
                        nearest = c;
                    }
                }
                distance[i] = best;
                if (assignments[i] != nearest)
                {
                    assignments[i] = nearest;
                    changed = true;
                }
            }
            if (!changed) break;
            UpdateCentroids(points, size, assignments, distance, centroids);
        }

        double inertia = 0;
        for (int i = 0; i < n; i++) inertia += EmbeddingDistance.Squared(points[i], centroids[assignments[i]]);
        return new KMeansResult(assignments, centroids, inertia, iterations, restart);
    }

    /// <summary>k-means++ seeding (the D² rule).</summary>
    private static float[][] SeedPlusPlus(IReadOnlyList<float[]> points, int k, DeterministicRandom rng)
    {
        int n = points.Count;
        var centroids = new float[k][];
        centroids[0] = (float[])points[rng.Next(n)].Clone();
        var nearest = new double[n];
        for (int i = 0; i < n; i++) nearest[i] = EmbeddingDistance.Squared(points[i], centroids[0]);
        for (int c = 1; c < k; c++)
        {
            double total = 0;
            for (int i = 0; i < n; i++) total += nearest[i];
            int pick;
            if (total <= 0)
            {
                pick = rng.Next(n);
            }
            else
            {
                double u = rng.NextDouble() * total, cumulative = 0;
                pick = -1;
                int lastPositive = -1;
                for (int i = 0; i < n; i++)
                {
                    if (nearest[i] <= 0) continue;
                    lastPositive = i;
                    cumulative += nearest[i];
                    if (u < cumulative)
                    {
                        pick = i;
                        break;
                    }
                }
                if (pick < 0) pick = lastPositive;
            }
            centroids[c] = (float[])points[pick].Clone();
            for (int i = 0; i < n; i++) nearest[i] = Math.Min(nearest[i], EmbeddingDistance.Squared(points[i], centroids[c]));
        }
        return centroids;
    }

    /// <summary>Moves each centroid to its points' mean, first giving each empty cluster the farthest movable point.</summary>
    private static void UpdateCentroids(IReadOnlyList<float[]> points, int size, int[] assignments, float[] distance, float[][] centroids)
    {
        int k = centroids.Length, n = points.Count;
        var counts = new int[k];
        foreach (int a in assignments) counts[a]++;
        for (int c = 0; c < k; c++)
        {
            if (counts[c] > 0) continue;
            int far = -1;
            for (int i = 0; i < n; i++)
            {
                if (counts[assignments[i]] > 1 && (far < 0 || distance[i] > distance[far])) far = i;
            }
            counts[assignments[far]]--;
            assignments[far] = c;
            distance[far] = 0;
            counts[c] = 1;
        }
        var sums = new double[k, size];
        for (int i = 0; i < n; i++)
        {
            var p = points[i];
            int a = assignments[i];
            for (int j = 0; j < size; j++) sums[a, j] += p[j];
        }
        for (int c = 0; c < k; c++)
            for (int j = 0; j < size; j++) centroids[c][j] = (float)(sums[c, j] / counts[c]);
    }
}
