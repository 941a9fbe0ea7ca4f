namespace FaceNetGen.Faces;

/// <summary>How a <see cref="Gallery"/> stores its embeddings.</summary>
public enum GalleryStorage : byte
{
    /// <summary>4 bytes per component, exact.</summary>
    Float32 = 0,

    /// <summary>1 byte per component (<see cref="EmbeddingQuantiser"/>); distances are computed on the codes.</summary>
    Int8 = 1,
}

/// <summary>
/// One labelled embedding of a <see cref="Gallery"/>. Entries are compared by reference: <see cref="Gallery.Remove"/>
/// removes exactly the entry <see cref="Gallery.Add"/> returned (or <see cref="Gallery.Entries"/> listed).
/// </summary>
public sealed class GalleryEntry
{
    internal GalleryEntry(string label, string? source, float[]? values, sbyte[]? codes)
    {
        Label = label;
        Source = source;
        Values = values;
        Codes = codes;
    }

    /// <summary>The identity.</summary>
    public string Label { get; }

    /// <summary>Where the embedding came from (an image path, a URL…), or null.</summary>
    public string? Source { get; }

    /// <summary>Whether the embedding is stored as int8 codes.</summary>
    public bool IsQuantised => Codes is not null;

    /// <summary>The number of components.</summary>
    public int EmbeddingSize => Values?.Length ?? Codes!.Length;

    internal float[]? Values { get; }

    internal sbyte[]? Codes { get; }

    /// <summary>A copy of the embedding (dequantised for int8 storage).</summary>
    public float[] GetEmbedding() => Values is not null ? (float[])Values.Clone() : EmbeddingQuantiser.Dequantise(Codes);

    /// <inheritdoc/>
    public override string ToString() => Source is null ? Label : $"{Label} ({Source})";
}

/// <summary>A gallery entry and its squared distance to a query.</summary>
public readonly record struct Neighbour(GalleryEntry Entry, float Distance);
