namespace FaceNetGen.Evaluation;

/// <summary>
/// One labelled pair of faces as the metrics see it: the distance between the two embeddings (for FaceNet the
/// squared Euclidean distance, 0 = same image, 4 = opposite points) and whether the two faces show the same person.
/// </summary>
/// <param name="Distance">The pair's distance D(x_i, x_j); smaller means more alike. Must be finite.</param>
/// <param name="IsSame">True for a pair in P_same (same identity), false for one in P_diff.</param>
public readonly record struct ScoredPair(float Distance, bool IsSame);
