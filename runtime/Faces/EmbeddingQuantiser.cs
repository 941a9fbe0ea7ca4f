namespace FaceNetGen.Faces;

/// <summary>
/// Stores an embedding in one signed byte per component (128 bytes for the paper's 128-d embeddings, which the
/// paper notes loses no accuracy). The scale is symmetric and fixed: a component x of an L2-normalised embedding
/// lies in [−1, 1] and is coded as q = round(x · 127) (half to even), so the code spans [−127, 127] and
/// x' = q / 127 differs from x by at most 0.5 / 127 (<see cref="MaxComponentError"/>). Components outside [−1, 1]
/// are clamped first.
/// </summary>
public static class EmbeddingQuantiser
{
    /// <summary>Codes per unit: component x becomes round(x · 127).</summary>
    public const float Scale = 127f;

    /// <summary>The largest |x − x'| for a component x in [−1, 1]: half a code step, 0.5 / 127.</summary>
    public const float MaxComponentError = 0.5f / Scale;

    /// <summary>The codes of <paramref name="embedding"/>.</summary>
    public static sbyte[] Quantise(ReadOnlySpan<float> embedding)
    {
        var codes = new sbyte[embedding.Length];
        Quantise(embedding, codes);
        return codes;
    }

    /// <summary>Writes the codes of <paramref name="embedding"/> into <paramref name="codes"/> (same length).</summary>
    /// <exception cref="ArgumentException">The lengths differ or a component is NaN.</exception>
    public static void Quantise(ReadOnlySpan<float> embedding, Span<sbyte> codes)
    {
        if (codes.Length != embedding.Length) throw new ArgumentException($"{embedding.Length} components but room for {codes.Length} codes.", nameof(codes));
        for (int i = 0; i < embedding.Length; i++)
        {
            float x = embedding[i];
            if (float.IsNaN(x)) throw new ArgumentException($"component {i} is NaN.", nameof(embedding));
            codes[i] = (sbyte)MathF.Round(Math.Clamp(x, -1f, 1f) * Scale, MidpointRounding.ToEven);
        }
    }

    /// <summary>The embedding the codes stand for: q / 127 per component.</summary>
    public static float[] Dequantise(ReadOnlySpan<sbyte> codes)
    {
        var values = new float[codes.Length];
        Dequantise(codes, values);
        return values;
    }

    /// <summary>Writes q / 127 for each code into <paramref name="embedding"/> (same length).</summary>
    public static void Dequantise(ReadOnlySpan<sbyte> codes, Span<float> embedding)
    {
        if (codes.Length != embedding.Length) throw new ArgumentException($"{codes.Length} codes but room for {embedding.Length} components.", nameof(embedding));
        for (int i = 0; i < codes.Length; i++) embedding[i] = codes[i] / Scale;
    }

    /// <summary>Σ (a_i − b_i)² over the integer codes, exact.</summary>
    public static int SquaredCodeDistance(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"codes of different sizes: {a.Length} and {b.Length}.", nameof(b));
        if (a.Length > 33_000) throw new ArgumentException($"{a.Length} codes overflow the integer sum; at most 33,000.", nameof(a));
        int sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = a[i] - b[i];
            sum += d * d;
        }
        return sum;
    }

    /// <summary>
    /// The squared Euclidean distance between the embeddings two codes stand for, computed on the codes:
    /// Σ (a_i − b_i)² / 127². It equals <see cref="EmbeddingDistance.Squared"/> of the dequantised embeddings.
    /// </summary>
    public static float SquaredDistance(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) =>
        SquaredCodeDistance(a, b) / (Scale * Scale);

    /// <summary>
    /// A bound on |D' − D|, the change quantisation can make to the squared distance D of two embeddings of
    /// <paramref name="size"/> components in [−1, 1]: each component difference moves by at most e = 1/127, so
    /// |D' − D| ≤ 2·√D·√size·e + size·e².
    /// </summary>
    public static double DistanceErrorBound(double distance, int size)
    {
        double e = 1.0 / Scale;
        return 2 * Math.Sqrt(Math.Max(0, distance)) * Math.Sqrt(size) * e + size * e * e;
    }
}
