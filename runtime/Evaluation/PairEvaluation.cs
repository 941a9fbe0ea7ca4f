using FaceNetGen.Data;
using FaceNetGen.Faces;

namespace FaceNetGen.Evaluation;

/// <summary>
/// The verification protocol on a pair file (the official LFW pairs.txt format or our TSV): every image is embedded
/// once, each pair is scored by squared L2 distance, and the k-fold protocol of the file's folds chooses thresholds on
/// k − 1 folds and measures accuracy on the remaining one.
/// </summary>
public static class PairEvaluation
{
    /// <summary>The scored pairs, in file order, and their folds.</summary>
    public static (IReadOnlyList<ScoredPair> Pairs, IReadOnlyList<int> Folds) Score(Embedder embedder, PairsFile file)
    {
        var paths = file.Pairs.SelectMany(p => new[] { p.PathA, p.PathB }).Distinct(StringComparer.Ordinal).ToList();
        foreach (var path in paths)
        {
            if (!File.Exists(path)) throw new FaceNetException($"{file.Path}: the image {path} does not exist.");
        }
        var embeddings = embedder.EmbedFiles(paths);
        var byPath = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int i = 0; i < paths.Count; i++) byPath[paths[i]] = embeddings[i];
        var scored = file.Pairs.Select(p => new ScoredPair(EmbeddingDistance.Squared(byPath[p.PathA], byPath[p.PathB]), p.Same)).ToList();
        return (scored, file.Pairs.Select(p => p.Fold).ToList());
    }

    /// <summary>Scores the pairs and runs the k-fold protocol (plus VAL at <paramref name="targetFar"/>).</summary>
    public static VerificationReport Evaluate(Embedder embedder, PairsFile file, double targetFar = 1e-3, string? title = null)
    {
        var (pairs, folds) = Score(embedder, file);
        return KFoldProtocol.Evaluate(pairs, folds, targetFar, title ?? $"{embedder.Model.Name} on {Path.GetFileName(file.Path)}");
    }
}
