using FaceNetGen.Imaging;

namespace FaceNetGen.Data;

/// <summary>
/// Some identities of another data set, renumbered 0, 1, … in the order given; items keep their source and
/// handle and are loaded by the original data set.
/// </summary>
public sealed class FaceDatasetView : IFaceDataset
{
    private readonly IFaceDataset _parent;

    /// <summary>A view of the identities of <paramref name="parent"/> at <paramref name="identityIndices"/> (each at most once).</summary>
    public FaceDatasetView(IFaceDataset parent, IEnumerable<int> identityIndices, string name)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(identityIndices);
        _parent = parent;
        Name = name;
        var seen = new HashSet<int>();
        var identities = new List<FaceIdentity>();
        int count = 0;
        foreach (int index in identityIndices)
        {
            if ((uint)index >= (uint)parent.Identities.Count) throw new ArgumentOutOfRangeException(nameof(identityIndices), index, $"{parent.Name} has {parent.Identities.Count} identities");
            if (!seen.Add(index)) throw new ArgumentException($"identity {index} is listed twice", nameof(identityIndices));
            var original = parent.Identities[index];
            int newIndex = identities.Count;
            var items = original.Items.Select(i => i with { Identity = newIndex }).ToArray();
            identities.Add(new FaceIdentity(newIndex, original.Name, items));
            count += items.Length;
        }

        Identities = identities;
        ItemCount = count;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IReadOnlyList<FaceIdentity> Identities { get; }

    /// <inheritdoc/>
    public int ItemCount { get; }

    /// <inheritdoc/>
    public double SuggestedCropFraction => _parent.SuggestedCropFraction;

    /// <inheritdoc/>
    public Image Load(FaceItem item) => _parent.Load(item);
}
