using System.Globalization;

namespace FaceNetGen.Faces;

/// <summary>
/// The answer of <see cref="Identifier.Identify"/>.
/// </summary>
/// <param name="Label">The identity, or null for "unknown" (no neighbour within the threshold).</param>
/// <param name="Distance">The smallest squared distance among the winning label's neighbours; for an unknown
/// face the distance to the nearest entry (infinity when the gallery is empty).</param>
/// <param name="Votes">How many of the voting neighbours carry <paramref name="Label"/> (0 when unknown).</param>
/// <param name="Neighbours">The k nearest entries, nearest first, whether or not they were close enough to vote.</param>
public sealed record Identification(string? Label, float Distance, int Votes, IReadOnlyList<Neighbour> Neighbours)
{
    /// <summary>Whether a known identity was found.</summary>
    public bool IsKnown => Label is not null;

    /// <inheritdoc/>
    public override string ToString() => Label is null
        ? string.Create(CultureInfo.InvariantCulture, $"unknown (nearest at {Distance:G4})")
        : string.Create(CultureInfo.InvariantCulture, $"{Label} ({Votes}/{Neighbours.Count} votes, distance {Distance:G4})");
}

/// <summary>
/// Identification (recognition) by k-nearest-neighbour classification against a <see cref="Gallery"/>, as the paper
/// describes. Of the k nearest entries, those with squared distance ≤ <see cref="UnknownThreshold"/> vote for their
/// label; the label with the most votes wins. A tie in votes goes to the label whose voters have the smaller sum of
/// distances, then to the smaller nearest distance, then to the ordinal-first label. When no neighbour is within the
/// threshold the face is unknown.
/// </summary>
public sealed class Identifier
{
    /// <summary>An identifier over <paramref name="gallery"/> (which may change while the identifier is used).</summary>
    /// <param name="gallery">The known faces.</param>
    /// <param name="k">How many neighbours to consult; 1 is nearest-neighbour classification.</param>
    /// <param name="unknownThreshold">The largest squared distance at which a neighbour may vote (a verification
    /// threshold such as <see cref="Verifier.Threshold"/>); infinity never answers "unknown" for a non-empty gallery.</param>
    public Identifier(Gallery gallery, int k = 1, float unknownThreshold = float.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (float.IsNaN(unknownThreshold)) throw new ArgumentOutOfRangeException(nameof(unknownThreshold), "the unknown threshold must not be NaN.");
        Gallery = gallery;
        K = k;
        UnknownThreshold = unknownThreshold;
    }

    /// <summary>The known faces.</summary>
    public Gallery Gallery { get; }

    /// <summary>How many neighbours are consulted.</summary>
    public int K { get; }

    /// <summary>The largest squared distance at which a neighbour votes.</summary>
    public float UnknownThreshold { get; }

    /// <summary>Identifies the face with embedding <paramref name="query"/>.</summary>
    public Identification Identify(ReadOnlySpan<float> query)
    {
        var neighbours = Gallery.Nearest(query, K);
        if (neighbours.Count == 0) return new Identification(null, float.PositiveInfinity, 0, neighbours);

        var tally = new Dictionary<string, (int Votes, double Sum, float Nearest)>(StringComparer.Ordinal);
        foreach (var n in neighbours)
        {
            if (!(n.Distance <= UnknownThreshold)) continue;
            tally[n.Entry.Label] = tally.TryGetValue(n.Entry.Label, out var t)
                ? (t.Votes + 1, t.Sum + n.Distance, Math.Min(t.Nearest, n.Distance))
                : (1, n.Distance, n.Distance);
        }
        if (tally.Count == 0) return new Identification(null, neighbours[0].Distance, 0, neighbours);

        var winner = tally
            .OrderByDescending(p => p.Value.Votes)
            .ThenBy(p => p.Value.Sum)
            .ThenBy(p => p.Value.Nearest)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .First();
        return new Identification(winner.Key, winner.Value.Nearest, winner.Value.Votes, neighbours);
    }
}
