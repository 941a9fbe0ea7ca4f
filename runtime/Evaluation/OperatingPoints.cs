using System.Globalization;

namespace FaceNetGen.Evaluation;

/// <summary>
/// The threshold with the best verification accuracy on a pair set, and what it achieves there.
/// Accuracy = (|TA(d)| + |P_diff| − |FA(d)|) / (|P_same| + |P_diff|): same pairs accepted plus different pairs rejected.
/// </summary>
/// <param name="Threshold">The chosen threshold d (a pair is accepted when D ≤ d).</param>
/// <param name="Accuracy">The fraction of pairs classified correctly at <paramref name="Threshold"/>.</param>
/// <param name="TrueAccepts">|TA(d)|.</param>
/// <param name="FalseAccepts">|FA(d)|.</param>
/// <param name="SameCount">|P_same|.</param>
/// <param name="DiffCount">|P_diff|.</param>
public sealed record AccuracyOperatingPoint(float Threshold, double Accuracy, int TrueAccepts, int FalseAccepts, int SameCount, int DiffCount)
{
    /// <summary>VAL(d) = |TA(d)| / |P_same|; NaN when there are no same pairs.</summary>
    public double Val => SameCount == 0 ? double.NaN : (double)TrueAccepts / SameCount;

    /// <summary>FAR(d) = |FA(d)| / |P_diff|; NaN when there are no different pairs.</summary>
    public double Far => DiffCount == 0 ? double.NaN : (double)FalseAccepts / DiffCount;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"accuracy {TextFormat.Percent(Accuracy)} at threshold {Threshold:G6} (VAL {TextFormat.Percent(Val)}, FAR {Far:G4})");
}

/// <summary>
/// The operating point for a target false accept rate: the largest threshold whose FAR does not exceed the target,
/// and the validation rate there (the paper's "VAL at FAR = 10^-3").
/// </summary>
/// <remarks>
/// <para>With n = |P_diff| the achievable FAR values are 0, 1/n, 2/n, … The number of false accepts allowed is
/// m, the largest integer with m / n ≤ target. The threshold is then the largest float strictly below the
/// (m+1)-th smallest different-pair distance, so FA(d) ≤ m and VAL(d) is the largest VAL any threshold reaches
/// without exceeding the target. Tied distances are never split: if the (m+1)-th different distance equals the m-th,
/// neither is accepted and the achieved FAR is below m / n. When the target allows every different pair (m = n,
/// i.e. target ≥ 1) the threshold is <see cref="float.MaxValue"/>.</para>
/// <para>A pair set too small for the target is reported as such, never rounded up: with 600 different pairs,
/// FAR = 10^-3 allows 0.6 false accepts, so m = 0 and the result is VAL at FAR = 0
/// (<see cref="IsResolved"/> is false and <see cref="Note"/> says so).</para>
/// </remarks>
/// <param name="TargetFar">The requested FAR.</param>
/// <param name="Threshold">The largest threshold whose FAR does not exceed <paramref name="TargetFar"/>.</param>
/// <param name="TrueAccepts">|TA(d)| at that threshold.</param>
/// <param name="FalseAccepts">|FA(d)| at that threshold (at most <paramref name="AllowedFalseAccepts"/>).</param>
/// <param name="AllowedFalseAccepts">m, the most false accepts the target allows on this pair set.</param>
/// <param name="SameCount">|P_same|.</param>
/// <param name="DiffCount">|P_diff|.</param>
public sealed record FarOperatingPoint(double TargetFar, float Threshold, int TrueAccepts, int FalseAccepts, int AllowedFalseAccepts, int SameCount, int DiffCount)
{
    /// <summary>VAL(d) = |TA(d)| / |P_same|; NaN when there are no same pairs.</summary>
    public double Val => SameCount == 0 ? double.NaN : (double)TrueAccepts / SameCount;

    /// <summary>The FAR actually achieved, |FA(d)| / |P_diff| (never above <see cref="TargetFar"/>).</summary>
    public double Far => (double)FalseAccepts / DiffCount;

    /// <summary>The smallest non-zero FAR this pair set can measure: 1 / |P_diff|.</summary>
    public double Resolution => 1.0 / DiffCount;

    /// <summary>
    /// True when the pair set is large enough for the target to allow at least one false accept (or the target is 0).
    /// False means the target is below <see cref="Resolution"/> and the result is really VAL at FAR = 0.
    /// </summary>
    public bool IsResolved => AllowedFalseAccepts >= 1 || TargetFar == 0;

    /// <summary>A sentence explaining an unresolved target, or null when the target is resolved.</summary>
    public string? Note => IsResolved
        ? null
        : string.Create(CultureInfo.InvariantCulture,
            $"FAR target {TargetFar:G3} is below this set's resolution 1/{DiffCount} = {Resolution:G3}: the threshold admits zero false accepts, so this is VAL at FAR = 0.");

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"VAL {TextFormat.Percent(Val)} at FAR {Far:G4} (target {TargetFar:G3}, {FalseAccepts}/{DiffCount} false accepts, threshold {Threshold:G6})");
}
