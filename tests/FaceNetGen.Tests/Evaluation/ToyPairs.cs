using FaceNetGen.Evaluation;

namespace FaceNetGen.Tests.Evaluation;

/// <summary>
/// A hand-checked pair set: 4 same pairs at 0.2, 0.5, 0.9, 1.3 and 6 different pairs at 0.7, 1.1, 1.5, 1.8, 2.2, 3.0.
/// In distance order: 0.2S 0.5S 0.7D 0.9S 1.1D 1.3S 1.5D 1.8D 2.2D 3.0D.
/// </summary>
internal static class ToyPairs
{
    public static readonly float[] Same = [0.2f, 0.5f, 0.9f, 1.3f];
    public static readonly float[] Diff = [0.7f, 1.1f, 1.5f, 1.8f, 2.2f, 3.0f];

    /// <summary>The pairs, deliberately not in distance order.</summary>
    public static ScoredPair[] Pairs() =>
    [
        new(1.8f, false), new(0.5f, true), new(3.0f, false), new(0.7f, false), new(1.3f, true),
        new(0.2f, true), new(2.2f, false), new(1.1f, false), new(0.9f, true), new(1.5f, false),
    ];

    public static PairSet Set() => new(Pairs());
}
