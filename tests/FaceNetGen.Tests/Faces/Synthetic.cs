namespace FaceNetGen.Tests.Faces;

/// <summary>Seeded synthetic embeddings: random unit vectors and tight clusters around given centres.</summary>
internal static class Synthetic
{
    public static float[] Normalise(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => (float)(x / norm)).ToArray();
    }

    public static float[] UnitVector(DeterministicRandom rng, int size) =>
        Normalise(Enumerable.Range(0, size).Select(_ => (float)rng.NextNormal()).ToArray());

    /// <summary>The unit vector along axis <paramref name="axis"/> plus <paramref name="lean"/> along the next axis, normalised.</summary>
    public static float[] Axis(int size, int axis, float lean = 0)
    {
        var v = new float[size];
        v[axis] = 1;
        v[axis + 1] = lean;
        return Normalise(v);
    }

    /// <summary>centre + N(0, sigma²) per component, normalised.</summary>
    public static float[] Near(DeterministicRandom rng, float[] centre, double sigma) =>
        Normalise(centre.Select(c => (float)(c + sigma * rng.NextNormal())).ToArray());

    /// <summary><paramref name="perCluster"/> points around each centre, with the centre's index as label.</summary>
    public static (List<float[]> Points, List<int> Labels) Clusters(DeterministicRandom rng, IReadOnlyList<float[]> centres, int perCluster, double sigma)
    {
        var points = new List<float[]>();
        var labels = new List<int>();
        for (int i = 0; i < perCluster; i++)
            for (int c = 0; c < centres.Count; c++)
            {
                points.Add(Near(rng, centres[c], sigma));
                labels.Add(c);
            }
        return (points, labels);
    }
}
