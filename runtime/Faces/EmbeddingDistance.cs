using System.Buffers;
using System.Numerics.Tensors;
using FaceNetGen.Evaluation;

namespace FaceNetGen.Faces;

/// <summary>A pair of embeddings with its label, for calibration and evaluation.</summary>
/// <param name="First">One face's embedding.</param>
/// <param name="Second">The other face's embedding (same length).</param>
/// <param name="IsSame">Whether the two faces show the same person.</param>
public readonly record struct EmbeddingPair(float[] First, float[] Second, bool IsSame);

/// <summary>
/// The face dissimilarity of FaceNet: the squared Euclidean distance ||a − b||² between two embeddings. For
/// L2-normalised embeddings it lies in [0, 4]: 0 for the same image, 4 for opposite points.
/// </summary>
public static class EmbeddingDistance
{
    private const int StackLimit = 512;

    /// <summary>||a − b||², computed with <see cref="TensorPrimitives"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static float Squared(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"embeddings of different sizes: {a.Length} and {b.Length}.", nameof(b));
        if (a.Length <= StackLimit)
        {
            Span<float> diff = stackalloc float[a.Length];
            TensorPrimitives.Subtract(a, b, diff);
            return TensorPrimitives.SumOfSquares<float>(diff);
        }
        float[] rented = ArrayPool<float>.Shared.Rent(a.Length);
        try
        {
            var diff = rented.AsSpan(0, a.Length);
            TensorPrimitives.Subtract(a, b, diff);
            return TensorPrimitives.SumOfSquares<float>(diff);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Each pair's squared distance with its label, ready for the metrics of <see cref="PairSet"/>.</summary>
    public static ScoredPair[] Score(IEnumerable<EmbeddingPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return pairs.Select(p => new ScoredPair(Squared(p.First, p.Second), p.IsSame)).ToArray();
    }

    /// <summary>Throws unless <paramref name="embedding"/> has <paramref name="size"/> finite components.</summary>
    internal static void Check(ReadOnlySpan<float> embedding, int size, string paramName)
    {
        if (embedding.Length != size)
            throw new ArgumentException($"an embedding of {embedding.Length} values where {size} are expected.", paramName);
        if (!TensorPrimitives.IsFiniteAll(embedding))
            throw new ArgumentException("an embedding holds NaN or infinite values.", paramName);
    }
}
