using System.Globalization;
using FaceNetGen.Evaluation;

namespace FaceNetGen.Faces;

/// <summary>
/// What int8 storage (<see cref="EmbeddingQuantiser"/>) does to verification on a set of labelled embedding pairs:
/// best accuracy and VAL at a target FAR with float embeddings and with their int8 codes, and how far the squared
/// distances moved. The paper reports no loss of accuracy from 128 floats to 128 bytes.
/// </summary>
public sealed class QuantisationImpact
{
    private QuantisationImpact(
        AccuracyOperatingPoint floatBest, AccuracyOperatingPoint int8Best, FarOperatingPoint floatAtFar, FarOperatingPoint int8AtFar,
        double maxDistanceError, double meanDistanceError)
    {
        FloatBest = floatBest;
        Int8Best = int8Best;
        FloatAtFar = floatAtFar;
        Int8AtFar = int8AtFar;
        MaxDistanceError = maxDistanceError;
        MeanDistanceError = meanDistanceError;
    }

    /// <summary>The best-accuracy operating point with float embeddings.</summary>
    public AccuracyOperatingPoint FloatBest { get; }

    /// <summary>The best-accuracy operating point with int8 codes.</summary>
    public AccuracyOperatingPoint Int8Best { get; }

    /// <summary>VAL at the target FAR with float embeddings.</summary>
    public FarOperatingPoint FloatAtFar { get; }

    /// <summary>VAL at the target FAR with int8 codes.</summary>
    public FarOperatingPoint Int8AtFar { get; }

    /// <summary>The largest |D_int8 − D_float| over the pairs.</summary>
    public double MaxDistanceError { get; }

    /// <summary>The mean |D_int8 − D_float| over the pairs.</summary>
    public double MeanDistanceError { get; }

    /// <summary>Int8 best accuracy minus float best accuracy (negative = a loss).</summary>
    public double AccuracyChange => Int8Best.Accuracy - FloatBest.Accuracy;

    /// <summary>Int8 VAL minus float VAL at the target FAR (negative = a loss).</summary>
    public double ValChange => Int8AtFar.Val - FloatAtFar.Val;

    /// <summary>
    /// Scores every pair twice, once on the float embeddings and once on their int8 codes
    /// (<see cref="EmbeddingQuantiser.SquaredDistance"/>), and compares the metrics.
    /// </summary>
    /// <param name="pairs">Labelled pairs; at least one different pair.</param>
    /// <param name="targetFar">The FAR for the VAL comparison.</param>
    public static QuantisationImpact Measure(IReadOnlyList<EmbeddingPair> pairs, double targetFar = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("no pairs to measure.", nameof(pairs));
        var floats = new ScoredPair[pairs.Count];
        var int8 = new ScoredPair[pairs.Count];
        double maxError = 0, sumError = 0;
        for (int i = 0; i < pairs.Count; i++)
        {
            var p = pairs[i];
            float d = EmbeddingDistance.Squared(p.First, p.Second);
            float q = EmbeddingQuantiser.SquaredDistance(EmbeddingQuantiser.Quantise(p.First), EmbeddingQuantiser.Quantise(p.Second));
            floats[i] = new ScoredPair(d, p.IsSame);
            int8[i] = new ScoredPair(q, p.IsSame);
            double error = Math.Abs((double)q - d);
            maxError = Math.Max(maxError, error);
            sumError += error;
        }
        var f = new PairSet(floats);
        var q8 = new PairSet(int8);
        return new QuantisationImpact(f.BestAccuracy(), q8.BestAccuracy(), f.AtFar(targetFar), q8.AtFar(targetFar), maxError, sumError / pairs.Count);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"""
        best accuracy: float {TextFormat.Percent(FloatBest.Accuracy)}, int8 {TextFormat.Percent(Int8Best.Accuracy)} (change {100 * AccuracyChange:+0.00;-0.00;0.00} points)
        VAL @ FAR <= {FloatAtFar.TargetFar:G3}: float {TextFormat.Percent(FloatAtFar.Val)}, int8 {TextFormat.Percent(Int8AtFar.Val)} (change {100 * ValChange:+0.00;-0.00;0.00} points)
        squared distance change: max {MaxDistanceError:G4}, mean {MeanDistanceError:G4}
        """);
}
