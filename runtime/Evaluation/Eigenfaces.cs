using System.Numerics.Tensors;
using FaceNetGen.Data;
using FaceNetGen.Imaging;

namespace FaceNetGen.Evaluation;

/// <summary>
/// The classic pixel-PCA baseline (Turk and Pentland's Eigenfaces): faces are centre-cropped, turned grey and shrunk to
/// <see cref="Size"/>², the mean face is subtracted, and each face is described by its coordinates on the top
/// <see cref="Components"/> principal axes of a training set, optionally whitened (each divided by the standard
/// deviation along its axis), then L2-normalised (so that squared distance, as for our embeddings, is a cosine
/// distance). The axes come from the pixel covariance by subspace iteration. It learns from
/// pixels alone, without labels, which is what a trained embedding has to beat.
/// </summary>
public sealed class Eigenfaces
{
    private readonly float[] _mean;
    private readonly float[][] _axes;
    private readonly float[] _variances;

    private Eigenfaces(int size, double cropFraction, float[] mean, float[][] axes, float[] variances)
    {
        Size = size;
        CropFraction = cropFraction;
        _mean = mean;
        _axes = axes;
        _variances = variances;
    }

    /// <summary>Divide each coordinate by the standard deviation along its axis (the Mahalanobis-like variant).</summary>
    public bool Whiten { get; init; }

    public int Size { get; }

    public double CropFraction { get; }

    public int Components => _axes.Length;

    /// <summary>The same model with only the first <paramref name="components"/> axes (the strongest), whitened or not.</summary>
    public Eigenfaces Truncate(int components, bool whiten) =>
        new(Size, CropFraction, _mean, _axes.Take(components).ToArray(), _variances.Take(components).ToArray()) { Whiten = whiten };

    /// <summary>Learns the mean face and the principal axes from every face of <paramref name="dataset"/>.</summary>
    /// <param name="dataset">The training faces (labels are not used).</param>
    /// <param name="components">Principal axes kept.</param>
    /// <param name="size">Faces are compared at size × size grey pixels.</param>
    /// <param name="cropFraction">The centre crop; null takes the data set's suggestion.</param>
    /// <param name="whiten">Scale each coordinate by 1/σ of its axis; on LFW pairs this lifts Eigenfaces from about 55% to
    /// about 64% (100 axes, 48², the 0.56 crop), so it is the default: the baseline should be a fair one.</param>
    /// <param name="seed">Seeds the subspace iteration's start.</param>
    public static Eigenfaces Fit(IFaceDataset dataset, int components = 100, int size = 48, double? cropFraction = null, bool whiten = true, ulong seed = 1)
    {
        double crop = cropFraction ?? dataset.SuggestedCropFraction;
        var items = dataset.Identities.SelectMany(i => i.Items).ToList();
        int d = size * size, n = items.Count;
        if (n < 2) throw new FaceNetException($"{dataset.Name}: Eigenfaces needs at least 2 faces, not {n}.");
        components = Math.Min(components, Math.Min(d, n - 1));
        // Pixels as columns: column i holds pixel i of every face, so covariance entries are dot products.
        var columns = new float[d * (long)n];
        var pixels = new float[n][];
        Parallel.For(0, n, () => new Preprocessor(size, size, crop), (i, _, pre) =>
        {
            pixels[i] = Grey(pre, dataset.Load(items[i]));
            return pre;
        }, _ => { });
        var mean = new float[d];
        foreach (var p in pixels) TensorPrimitives.Add(mean, p, mean);
        TensorPrimitives.Divide(mean, n, mean);
        for (int s = 0; s < n; s++)
        {
            for (int i = 0; i < d; i++) columns[(long)i * n + s] = pixels[s][i] - mean[i];
        }
        var covariance = new float[(long)d * d];
        Parallel.For(0, d, i =>
        {
            var ci = columns.AsSpan((int)((long)i * n), n);
            for (int j = 0; j <= i; j++)
            {
                float v = TensorPrimitives.Dot(ci, columns.AsSpan((int)((long)j * n), n)) / n;
                covariance[(long)i * d + j] = v;
                covariance[(long)j * d + i] = v;
            }
        });

        // Subspace iteration: Q ← orth(C·Q) converges to the top eigenvectors.
        var rng = new DeterministicRandom(seed);
        var q = Enumerable.Range(0, components).Select(_ => Enumerable.Range(0, d).Select(_ => (float)rng.NextNormal()).ToArray()).ToArray();
        Orthonormalise(q);
        for (int iteration = 0; iteration < 30; iteration++)
        {
            var z = new float[components][];
            Parallel.For(0, components, k =>
            {
                var row = new float[d];
                for (int i = 0; i < d; i++) row[i] = TensorPrimitives.Dot(covariance.AsSpan((int)((long)i * d), d), q[k]);
                z[k] = row;
            });
            Orthonormalise(z);
            q = z;
        }
        // The variance along each axis (its Rayleigh quotient), for whitening.
        var variances = new float[components];
        var cq = new float[d];
        for (int k = 0; k < components; k++)
        {
            for (int i = 0; i < d; i++) cq[i] = TensorPrimitives.Dot(covariance.AsSpan((int)((long)i * d), d), q[k]);
            variances[k] = TensorPrimitives.Dot(cq, q[k]);
        }
        return new Eigenfaces(size, crop, mean, q, variances) { Whiten = whiten };
    }

    /// <summary>The unit-length PCA description of a face image.</summary>
    public float[] Describe(Image image)
    {
        var x = Grey(new Preprocessor(Size, Size, CropFraction), image);
        TensorPrimitives.Subtract(x, _mean, x);
        var c = new float[_axes.Length];
        for (int k = 0; k < c.Length; k++)
        {
            c[k] = TensorPrimitives.Dot(x, _axes[k]);
            if (Whiten) c[k] /= MathF.Sqrt(MathF.Max(_variances[k], 1e-12f));
        }
        float norm = TensorPrimitives.Norm(c);
        if (norm > 0) TensorPrimitives.Divide(c, norm, c);
        return c;
    }

    /// <summary>The verification protocol of a pair file with Eigenfaces descriptions instead of embeddings.</summary>
    public VerificationReport Evaluate(PairsFile file, double targetFar = 1e-3)
    {
        var paths = file.Pairs.SelectMany(p => new[] { p.PathA, p.PathB }).Distinct(StringComparer.Ordinal).ToList();
        var described = new float[paths.Count][];
        Parallel.For(0, paths.Count, i => described[i] = Describe(ImageDecoder.Load(paths[i])));
        var byPath = paths.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => described[x.i], StringComparer.Ordinal);
        var scored = file.Pairs.Select(p => new ScoredPair(Faces.EmbeddingDistance.Squared(byPath[p.PathA], byPath[p.PathB]), p.Same)).ToList();
        return KFoldProtocol.Evaluate(scored, file.Pairs.Select(p => p.Fold).ToList(), targetFar, $"Eigenfaces ({Components} components{(Whiten ? ", whitened" : "")}, {Size}x{Size} grey) on {Path.GetFileName(file.Path)}");
    }

    private static float[] Grey(Preprocessor preprocessor, Image image)
    {
        var rgb = new float[preprocessor.OutputLength];
        preprocessor.Process(image, rgb);
        int plane = preprocessor.Height * preprocessor.Width;
        var grey = new float[plane];
        for (int i = 0; i < plane; i++) grey[i] = (rgb[i] + rgb[plane + i] + rgb[2 * plane + i]) / 3f;
        return grey;
    }

    private static void Orthonormalise(float[][] vectors)
    {
        for (int k = 0; k < vectors.Length; k++)
        {
            for (int j = 0; j < k; j++)
            {
                float dot = TensorPrimitives.Dot(vectors[k], vectors[j]);
                TensorPrimitives.MultiplyAdd(vectors[j], -dot, vectors[k], vectors[k]);
            }
            float norm = TensorPrimitives.Norm(vectors[k]);
            TensorPrimitives.Divide(vectors[k], norm > 0 ? norm : 1, vectors[k]);
        }
    }
}
