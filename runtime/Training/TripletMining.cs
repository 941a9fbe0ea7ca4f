using System.Numerics.Tensors;

namespace FaceNetGen.Training;

/// <summary>Which negative each anchor-positive pair gets (FaceNet §3.2).</summary>
public enum NegativeMining
{
    /// <summary>
    /// The hardest semi-hard negative: among negatives with d(a,p) &lt; d(a,n) &lt; d(a,p) + α, the one with the
    /// smallest d(a,n) (ties to the smallest index). Pairs without such a negative are dropped. The default.
    /// </summary>
    SemiHard,

    /// <summary>A semi-hard negative drawn uniformly from the candidates of the rule above (the trainer's seeded stream).</summary>
    SemiHardRandom,

    /// <summary>The hardest negative, d(a,n) smallest over every other identity, whatever d(a,p) is. Early in training it
    /// can collapse the model (the paper's warning); offered for fine-tuning and experiments.</summary>
    Hardest,
}

/// <summary>A triplet of batch positions.</summary>
public readonly record struct Triplet(int Anchor, int Positive, int Negative);

/// <summary>
/// Online triplet selection inside a batch: every ordered anchor-positive pair of the batch is used (the paper's
/// "all anchor-positive pairs"), each with one negative chosen by a <see cref="NegativeMining"/> rule.
/// Reuses its buffers: after the first batch of a given size, selecting allocates nothing.
/// </summary>
public sealed class TripletMiner
{
    private int[] _choice = Array.Empty<int>();
    private float[] _norms = Array.Empty<float>();

    public TripletMiner(NegativeMining mining, float margin)
    {
        if (!(margin >= 0)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be zero or more.");
        Mining = mining;
        Margin = margin;
    }

    public NegativeMining Mining { get; }

    public float Margin { get; }

    /// <summary>distances[i·n + j] = ‖e_i − e_j‖², for n embeddings of <paramref name="dim"/> floats.</summary>
    public void SquaredDistances(ReadOnlySpan<float> embeddings, int n, int dim, Span<float> distances)
    {
        if (_norms.Length < n) _norms = new float[n];
        for (int i = 0; i < n; i++)
        {
            var e = embeddings.Slice(i * dim, dim);
            _norms[i] = TensorPrimitives.Dot(e, e);
        }
        for (int i = 0; i < n; i++)
        {
            var a = embeddings.Slice(i * dim, dim);
            distances[i * n + i] = 0;
            for (int j = i + 1; j < n; j++)
            {
                // ‖a‖² + ‖b‖² − 2a·b, clamped: rounding must not make a distance negative.
                float d = MathF.Max(0, _norms[i] + _norms[j] - 2 * TensorPrimitives.Dot(a, embeddings.Slice(j * dim, dim)));
                distances[i * n + j] = d;
                distances[j * n + i] = d;
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="triplets"/> (cleared first) with the selected triplets, in (anchor, positive) order, and
    /// returns the number of anchor-positive pairs (kept or dropped). <paramref name="random"/> is used by
    /// <see cref="NegativeMining.SemiHardRandom"/> only.
    /// </summary>
    public int Select(int n, ReadOnlySpan<float> distances, ReadOnlySpan<int> labels, DeterministicRandom random, List<Triplet> triplets)
    {
        triplets.Clear();
        if (_choice.Length < n * n) _choice = new int[n * n];
        var choice = _choice.AsSpan(0, n * n);
        int pairs = 0;
        if (Mining == NegativeMining.SemiHard)
        {
            SemiHardNegatives.Select(n, distances, labels, Margin, choice);
            for (int i = 0; i < n * n; i++)
            {
                if (choice[i] == SemiHardNegatives.NotAPair) continue;
                pairs++;
                if (choice[i] >= 0) triplets.Add(new Triplet(i / n, i % n, choice[i]));
            }
            return pairs;
        }

        for (int a = 0; a < n; a++)
        for (int p = 0; p < n; p++)
        {
            if (a == p || labels[a] != labels[p]) continue;
            pairs++;
            float dap = distances[a * n + p];
            int chosen = -1;
            if (Mining == NegativeMining.Hardest)
            {
                float best = float.PositiveInfinity;
                for (int k = 0; k < n; k++)
                {
                    if (labels[k] != labels[a] && distances[a * n + k] < best)
                    {
                        best = distances[a * n + k];
                        chosen = k;
                    }
                }
            }
            else
            {
                // Reservoir sampling over the semi-hard candidates: uniform, one pass, no list.
                float upper = dap + Margin;
                int seen = 0;
                for (int k = 0; k < n; k++)
                {
                    float dan = distances[a * n + k];
                    if (labels[k] == labels[a] || !(dap < dan && dan < upper)) continue;
                    seen++;
                    if (random.Next(seen) == 0) chosen = k;
                }
            }
            if (chosen >= 0) triplets.Add(new Triplet(a, p, chosen));
        }
        return pairs;
    }
}
