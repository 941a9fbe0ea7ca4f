namespace FaceNetGen.Evaluation;

/// <summary>One fold of the <see cref="KFoldProtocol"/>.</summary>
/// <param name="Fold">The fold number, as given with the pairs.</param>
/// <param name="PairCount">How many pairs the held-out fold has.</param>
/// <param name="Threshold">The best-accuracy threshold chosen on the other folds.</param>
/// <param name="TrainAccuracy">That threshold's accuracy on the other folds.</param>
/// <param name="TestAccuracy">That threshold's accuracy on this fold: the number the protocol reports.</param>
public sealed record FoldResult(int Fold, int PairCount, float Threshold, double TrainAccuracy, double TestAccuracy);
