namespace FaceNetGen.Training;

/// <summary>
/// The loss of one batch: its value, the anchor-positive pairs of the batch, the triplets selected for them, and how
/// many of those violate the margin.
/// </summary>
public readonly record struct TripletLossResult(double Loss, int Triplets, int Active, int Pairs)
{
    /// <summary>
    /// The fraction of anchor-positive pairs whose triplet is active (non-zero loss). Semi-hard negatives are active by
    /// definition, so this falls as the embedding separates identities and fewer pairs find a negative inside the margin.
    /// </summary>
    public double ActiveFraction => Pairs == 0 ? (Triplets == 0 ? 0 : (double)Active / Triplets) : (double)Active / Pairs;
}

/// <summary>
/// The triplet loss of equation 2, on L2-normalised embeddings:
/// L = (1/T) Σₜ max(0, ‖a−p‖² − ‖a−n‖² + α) over the T selected triplets (the paper's sum, divided by T so that the
/// learning rate does not depend on how many triplets a batch yields). Its gradient with respect to the embeddings
/// is written for the model's backward pass, which carries it through the L2 normalisation.
/// </summary>
public static class TripletLoss
{
    /// <summary>The paper's margin, α = 0.2.</summary>
    public const float DefaultMargin = 0.2f;

    /// <summary>
    /// Computes the loss of <paramref name="triplets"/> over n embeddings of <paramref name="dim"/> floats and writes
    /// dL/d(embedding) into <paramref name="gradient"/> (n × dim, overwritten). For an active triplet:
    /// ∂/∂a = 2(n − p)/T, ∂/∂p = 2(p − a)/T, ∂/∂n = 2(a − n)/T.
    /// </summary>
    public static TripletLossResult Compute(ReadOnlySpan<float> embeddings, int dim, IReadOnlyList<Triplet> triplets, float margin, Span<float> gradient, int pairs = 0)
    {
        gradient.Clear();
        int count = triplets.Count;
        if (count == 0) return new TripletLossResult(0, 0, 0, pairs);
        double total = 0;
        int active = 0;
        float scale = 2f / count;
        for (int t = 0; t < count; t++)
        {
            var (ia, ip, ineg) = (triplets[t].Anchor, triplets[t].Positive, triplets[t].Negative);
            var a = embeddings.Slice(ia * dim, dim);
            var p = embeddings.Slice(ip * dim, dim);
            var n = embeddings.Slice(ineg * dim, dim);
            double dap = 0, dan = 0;
            for (int i = 0; i < dim; i++)
            {
                double u = a[i] - p[i], v = a[i] - n[i];
                dap += u * u;
                dan += v * v;
            }
            double value = dap - dan + margin;
            if (value <= 0) continue;
            total += value;
            active++;
            var ga = gradient.Slice(ia * dim, dim);
            var gp = gradient.Slice(ip * dim, dim);
            var gn = gradient.Slice(ineg * dim, dim);
            for (int i = 0; i < dim; i++)
            {
                ga[i] += scale * (n[i] - p[i]);
                gp[i] += scale * (p[i] - a[i]);
                gn[i] += scale * (a[i] - n[i]);
            }
        }
        return new TripletLossResult(total / count, count, active, pairs);
    }
}
