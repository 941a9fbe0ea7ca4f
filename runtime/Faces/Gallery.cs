using FaceNetGen.Models;

namespace FaceNetGen.Faces;

/// <summary>
/// Labelled embeddings of known people, for identification by nearest neighbours (<see cref="Identifier"/>).
/// A gallery belongs to one model: it records the spec name, spec hash and embedding size, and
/// <see cref="Load(string, string?, string?, int?)"/> refuses a gallery made for another model.
/// </summary>
/// <remarks>
/// <para>Thread safety: any number of readers (<see cref="Nearest"/>, <see cref="Entries"/>, <see cref="Save"/>)
/// may run alongside writers (<see cref="Add"/>, <see cref="Remove"/>, <see cref="RemoveLabel"/>). Writers take a
/// short lock; a reader works on an immutable snapshot of the entries taken when it starts, so it sees every
/// write that finished before it and none that started after.</para>
/// <para>The file format, version 1. All integers are little-endian; a string is a u32 byte count followed by
/// that many bytes of UTF-8 (at most 1 MiB).
/// <code>
/// magic            8 bytes  "FNGALLRY" (ASCII)
/// version          u32      1
/// embedding size   u32      n, 1..65536
/// storage          u8       0 = float32, 1 = int8
/// spec name        string
/// spec hash        string
/// entry count      u32
/// entries          per entry: label (string), flags (u8, bit 0 = has source), source (string, if flagged),
///                  embedding (n × f32 for float32 storage, n × i8 for int8 storage)
/// checksum         u32      CRC-32 (IEEE, as zlib) of every byte before it
/// </code>
/// A file is written to a temporary beside the target and moved over it, so readers never see a partial file.
/// Reading checks the magic, the version, the checksum and every length, and reports a truncated or corrupt file
/// as a <see cref="FaceNetException"/> naming it.</para>
/// </remarks>
public sealed class Gallery
{
    private readonly object _gate = new();
    private readonly List<GalleryEntry> _entries = new();
    private GalleryEntry[]? _snapshot;

    /// <summary>An empty gallery for embeddings of one model.</summary>
    /// <param name="embeddingSize">The embedding length (128 for the paper's models).</param>
    /// <param name="specName">The model spec's name.</param>
    /// <param name="specHash">The model spec's hash (<see cref="ModelDescription.SpecHash"/>).</param>
    /// <param name="storage">Float32 (exact) or Int8 (one byte per component).</param>
    public Gallery(int embeddingSize, string specName, string specHash, GalleryStorage storage = GalleryStorage.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddingSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(embeddingSize, GalleryFile.MaxEmbeddingSize);
        ArgumentNullException.ThrowIfNull(specName);
        ArgumentNullException.ThrowIfNull(specHash);
        if (!Enum.IsDefined(storage)) throw new ArgumentOutOfRangeException(nameof(storage), storage, "unknown gallery storage.");
        EmbeddingSize = embeddingSize;
        SpecName = specName;
        SpecHash = specHash;
        Storage = storage;
    }

    /// <summary>An empty gallery for embeddings of <paramref name="model"/>.</summary>
    public static Gallery For(ModelDescription model, GalleryStorage storage = GalleryStorage.Float32)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Gallery(model.EmbeddingSize, model.Name, model.SpecHash, storage);
    }

    /// <summary>The embedding length every entry has.</summary>
    public int EmbeddingSize { get; }

    /// <summary>The spec whose embeddings the gallery holds.</summary>
    public string SpecName { get; }

    /// <summary>That spec's hash.</summary>
    public string SpecHash { get; }

    /// <summary>How embeddings are stored.</summary>
    public GalleryStorage Storage { get; }

    /// <summary>How many entries there are now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _entries.Count;
        }
    }

    /// <summary>A snapshot of the entries, in the order they were added.</summary>
    public IReadOnlyList<GalleryEntry> Entries => Snapshot();

    /// <summary>The distinct labels, in ordinal order.</summary>
    public IReadOnlyList<string> Labels => Snapshot().Select(e => e.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Adds a labelled embedding (copied; quantised for int8 storage) and returns its entry.</summary>
    /// <exception cref="ArgumentException">The label is empty, or the embedding has the wrong size or non-finite values.</exception>
    public GalleryEntry Add(string label, ReadOnlySpan<float> embedding, string? source = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(label);
        EmbeddingDistance.Check(embedding, EmbeddingSize, nameof(embedding));
        var entry = Storage == GalleryStorage.Int8
            ? new GalleryEntry(label, source, null, EmbeddingQuantiser.Quantise(embedding))
            : new GalleryEntry(label, source, embedding.ToArray(), null);
        AddEntry(entry);
        return entry;
    }

    /// <summary>Removes <paramref name="entry"/> (by reference); false when it is not in this gallery.</summary>
    public bool Remove(GalleryEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_gate)
        {
            int index = _entries.IndexOf(entry);
            if (index < 0) return false;
            _entries.RemoveAt(index);
            _snapshot = null;
            return true;
        }
    }

    /// <summary>Removes every entry labelled <paramref name="label"/> (ordinal comparison) and returns how many.</summary>
    public int RemoveLabel(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        lock (_gate)
        {
            int removed = _entries.RemoveAll(e => string.Equals(e.Label, label, StringComparison.Ordinal));
            if (removed > 0) _snapshot = null;
            return removed;
        }
    }

    /// <summary>
    /// The <paramref name="k"/> entries nearest to <paramref name="query"/> by squared Euclidean distance, nearest
    /// first; equal distances keep the order the entries were added. For int8 storage the query is quantised and
    /// the distance computed on the codes.
    /// </summary>
    public IReadOnlyList<Neighbour> Nearest(ReadOnlySpan<float> query, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        EmbeddingDistance.Check(query, EmbeddingSize, nameof(query));
        var entries = Snapshot();
        int n = entries.Length;
        if (n == 0) return [];
        var distances = new float[n];
        if (Storage == GalleryStorage.Int8)
        {
            Span<sbyte> codes = EmbeddingSize <= 1024 ? stackalloc sbyte[EmbeddingSize] : new sbyte[EmbeddingSize];
            EmbeddingQuantiser.Quantise(query, codes);
            for (int i = 0; i < n; i++) distances[i] = EmbeddingQuantiser.SquaredDistance(codes, entries[i].Codes);
        }
        else
        {
            for (int i = 0; i < n; i++) distances[i] = EmbeddingDistance.Squared(query, entries[i].Values);
        }
        return SmallestK(entries, distances, Math.Min(k, n));
    }

    /// <summary>Writes the gallery in the <see cref="GalleryFile"/> format, atomically.</summary>
    public void Save(string path) => GalleryFile.Write(path, this, Snapshot());

    /// <summary>Reads a gallery file, optionally checking that it was made for the expected model.</summary>
    /// <param name="path">The file.</param>
    /// <param name="expectedSpecName">The spec it must be for (case-insensitive); null skips the check.</param>
    /// <param name="expectedSpecHash">The spec hash it must carry; null skips the check.</param>
    /// <param name="expectedEmbeddingSize">The embedding size it must have; null skips the check.</param>
    /// <exception cref="FaceNetException">
    /// The file is missing, not a gallery, truncated or corrupt, or made for another model; the message names it.
    /// </exception>
    public static Gallery Load(string path, string? expectedSpecName = null, string? expectedSpecHash = null, int? expectedEmbeddingSize = null)
    {
        var gallery = GalleryFile.Read(path);
        if (expectedSpecName is not null && !string.Equals(gallery.SpecName, expectedSpecName, StringComparison.OrdinalIgnoreCase))
            throw new FaceNetException($"gallery '{path}' was made for spec {gallery.SpecName}, not {expectedSpecName}.");
        if (expectedSpecHash is not null && !string.Equals(gallery.SpecHash, expectedSpecHash, StringComparison.Ordinal))
            throw new FaceNetException($"gallery '{path}' was made for spec {gallery.SpecName} with hash {gallery.SpecHash}, not hash {expectedSpecHash}: the architecture changed since it was built.");
        if (expectedEmbeddingSize is { } size && gallery.EmbeddingSize != size)
            throw new FaceNetException($"gallery '{path}' holds {gallery.EmbeddingSize}-d embeddings, not {size}-d.");
        return gallery;
    }

    /// <summary>Reads a gallery file and checks that it was made for <paramref name="model"/> (name, hash and embedding size).</summary>
    public static Gallery Load(string path, ModelDescription model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Load(path, model.Name, model.SpecHash, model.EmbeddingSize);
    }

    internal void AddEntry(GalleryEntry entry)
    {
        lock (_gate)
        {
            _entries.Add(entry);
            _snapshot = null;
        }
    }

    private GalleryEntry[] Snapshot()
    {
        lock (_gate) return _snapshot ??= _entries.ToArray();
    }

    private static Neighbour[] SmallestK(GalleryEntry[] entries, float[] distances, int k)
    {
        if (k > 64)
        {
            // Many neighbours: sort everything by (distance, index).
            var order = new int[distances.Length];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort(order, (a, b) => distances[a] != distances[b] ? distances[a].CompareTo(distances[b]) : a.CompareTo(b));
            return order.Take(k).Select(i => new Neighbour(entries[i], distances[i])).ToArray();
        }

        // A sorted buffer of the best k (distance, index) so far; strict comparisons keep earlier entries first on ties.
        var best = new int[k];
        int count = 0;
        for (int i = 0; i < distances.Length; i++)
        {
            float d = distances[i];
            if (count == k && !(d < distances[best[k - 1]])) continue;
            int pos = count == k ? k - 1 : count++;
            while (pos > 0 && d < distances[best[pos - 1]])
            {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = i;
        }
        var result = new Neighbour[count];
        for (int j = 0; j < count; j++) result[j] = new Neighbour(entries[best[j]], distances[best[j]]);
        return result;
    }
}
