using System.Globalization;

namespace FaceNetGen.Data;

/// <summary>
/// An identity-disjoint split of a data set: no person has faces on both sides, so held-out verification measures
/// how the embedding generalises to new people (as the paper's evaluations do).
/// </summary>
/// <param name="Train">The training identities, in their original order.</param>
/// <param name="HeldOut">The held-out identities, in their original order.</param>
public sealed record IdentitySplit(IFaceDataset Train, IFaceDataset HeldOut)
{
    /// <summary>
    /// Shuffles the identity indices with <see cref="DeterministicRandom"/>(<paramref name="seed"/>) and holds out
    /// the first round(<paramref name="heldOutFraction"/> × count) of them (at least one and at most all but one when the
    /// fraction is above 0); the same data set, fraction and seed always give the same split.
    /// </summary>
    /// <exception cref="FaceNetException">There are too few identities to split, or the fraction is outside [0, 1).</exception>
    public static IdentitySplit Create(IFaceDataset dataset, double heldOutFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (!(heldOutFraction >= 0 && heldOutFraction < 1))
        {
            throw new FaceNetException(string.Create(CultureInfo.InvariantCulture, $"the held-out fraction must be in [0, 1), not {heldOutFraction}"));
        }

        int n = dataset.Identities.Count;
        int heldOut = (int)Math.Round(heldOutFraction * n, MidpointRounding.AwayFromZero);
        if (heldOutFraction > 0)
        {
            if (n < 2) throw new FaceNetException($"{dataset.Name}: {n} identity cannot be split into training and held-out people");
            heldOut = Math.Clamp(heldOut, 1, n - 1);
        }

        var order = Enumerable.Range(0, n).ToList();
        new DeterministicRandom(seed).Shuffle(order);
        var held = order.Take(heldOut).Order().ToList();
        var train = order.Skip(heldOut).Order().ToList();
        string seedText = seed.ToString(CultureInfo.InvariantCulture);
        return new IdentitySplit(
            new FaceDatasetView(dataset, train, $"{dataset.Name} (train: {train.Count} of {n} identities, split seed {seedText})"),
            new FaceDatasetView(dataset, held, $"{dataset.Name} (held out: {held.Count} of {n} identities, split seed {seedText})"));
    }
}
