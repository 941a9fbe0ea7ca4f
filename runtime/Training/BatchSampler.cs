using FaceNetGen.Data;

namespace FaceNetGen.Training;

/// <summary>How a batch is composed.</summary>
/// <param name="IdentitiesPerBatch">Identities drawn per batch, each contributing anchor-positive pairs.</param>
/// <param name="FacesPerIdentity">Faces per identity (fewer when an identity has fewer).</param>
/// <param name="ExtraNegatives">Further faces of other identities, used as negatives only.</param>
public sealed record SamplerOptions(int IdentitiesPerBatch = 16, int FacesPerIdentity = 4, int ExtraNegatives = 8)
{
    public int MaxBatchSize => IdentitiesPerBatch * FacesPerIdentity + ExtraNegatives;

    public void Validate()
    {
        if (IdentitiesPerBatch < 2) throw new FaceNetException($"A batch needs at least 2 identities (negatives come from other identities), not {IdentitiesPerBatch}.");
        if (FacesPerIdentity < 2) throw new FaceNetException($"Each identity needs at least 2 faces in a batch (an anchor and a positive), not {FacesPerIdentity}.");
        if (ExtraNegatives < 0) throw new FaceNetException($"Extra negatives cannot be negative ({ExtraNegatives}).");
    }
}

/// <summary>
/// Identities × faces per identity, plus random extra negatives (FaceNet §3.2: about 40 faces per identity and 1,800
/// per batch there; the defaults here, 16 × 4 + 8, suit data sets of a few faces per person such as LFW). An epoch
/// visits every identity with at least 2 faces once, in a shuffled order, so a data set of 1,104 people and a batch
/// of 16 identities give 69 steps. Everything is a function of (seed, step): there is no state to save, and a
/// resumed run draws exactly the batches an uninterrupted one would.
/// </summary>
public sealed class BatchSampler
{
    private readonly IFaceDataset _dataset;
    private readonly int[] _eligible;
    private readonly ulong _seed;
    private long _permutationEpoch = -1;
    private int[] _permutation = Array.Empty<int>();

    public BatchSampler(IFaceDataset dataset, SamplerOptions options, ulong seed)
    {
        options.Validate();
        _dataset = dataset;
        Options = options;
        _seed = seed;
        _eligible = dataset.Identities.Where(i => i.Items.Count >= 2).Select(i => i.Index).ToArray();
        if (_eligible.Length < 2)
            throw new FaceNetException($"{dataset.Name} has {_eligible.Length} identit{(_eligible.Length == 1 ? "y" : "ies")} with at least 2 faces; training needs at least 2.");
        IdentitiesPerBatch = Math.Min(options.IdentitiesPerBatch, _eligible.Length);
        StepsPerEpoch = (_eligible.Length + IdentitiesPerBatch - 1) / IdentitiesPerBatch;
    }

    public SamplerOptions Options { get; }

    /// <summary>Identities per batch: the option, or all identities when there are fewer.</summary>
    public int IdentitiesPerBatch { get; }

    public int StepsPerEpoch { get; }

    /// <summary>Identities that can give anchor-positive pairs.</summary>
    public int EligibleIdentities => _eligible.Length;

    public int MaxBatchSize => IdentitiesPerBatch * Options.FacesPerIdentity + Options.ExtraNegatives;

    /// <summary>The batch of global step <paramref name="step"/> (0-based).</summary>
    public BatchRequest Batch(long step)
    {
        long epoch = step / StepsPerEpoch;
        int index = (int)(step % StepsPerEpoch);
        var order = Permutation(epoch);
        var rng = new DeterministicRandom(Mix(_seed, (ulong)epoch, (ulong)index, 0x5A3D));
        var items = new List<FaceItem>(MaxBatchSize);
        var chosen = new HashSet<int>();
        // The last batch of an epoch is filled up with identities from the start of the order, so every batch has the
        // same number of identities.
        for (int j = 0; j < IdentitiesPerBatch; j++)
        {
            int identity = order[(index * IdentitiesPerBatch + j) % order.Length];
            if (!chosen.Add(identity)) continue;
            var faces = _dataset.Identities[identity].Items;
            int take = Math.Min(Options.FacesPerIdentity, faces.Count);
            foreach (int f in Pick(faces.Count, take, rng)) items.Add(faces[f]);
        }
        int all = _dataset.Identities.Count;
        for (int e = 0, attempts = 0; e < Options.ExtraNegatives && attempts < 20 * Options.ExtraNegatives + 20; attempts++)
        {
            int identity = rng.Next(all);
            var faces = _dataset.Identities[identity].Items;
            if (chosen.Contains(identity) || faces.Count == 0) continue;
            var face = faces[rng.Next(faces.Count)];
            if (items.Contains(face)) continue;
            items.Add(face);
            e++;
        }
        return new BatchRequest(items, epoch, step);
    }

    private int[] Permutation(long epoch)
    {
        if (epoch != _permutationEpoch)
        {
            var p = (int[])_eligible.Clone();
            new DeterministicRandom(Mix(_seed, (ulong)epoch, 0, 0xE90C)).Shuffle(p);
            _permutation = p;
            _permutationEpoch = epoch;
        }
        return _permutation;
    }

    /// <summary><paramref name="take"/> distinct indices below <paramref name="count"/>, in increasing order.</summary>
    private static IEnumerable<int> Pick(int count, int take, DeterministicRandom rng)
    {
        var indices = Enumerable.Range(0, count).ToArray();
        for (int i = 0; i < take; i++)
        {
            int j = i + rng.Next(count - i);
            (indices[i], indices[j]) = (indices[j], indices[i]);
        }
        return indices.Take(take).OrderBy(i => i);
    }

    internal static ulong Mix(ulong a, ulong b, ulong c, ulong d)
    {
        ulong h = a * 0x9E3779B97F4A7C15UL;
        foreach (ulong v in new[] { b, c, d })
        {
            h ^= v + 0x632BE59BD9B4E019UL + (h << 6) + (h >> 2);
            h *= 0xBF58476D1CE4E5B9UL;
            h ^= h >> 31;
        }
        return h;
    }
}
