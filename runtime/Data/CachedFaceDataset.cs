using System.Collections.Concurrent;
using FaceNetGen.Imaging;

namespace FaceNetGen.Data;

/// <summary>
/// Keeps every decoded image of another data set in memory after its first load, so that later epochs skip
/// decoding (LFW's 3,267 training JPEGs take about 600 MB decoded). Failures are not cached: an unreadable file fails
/// again, and is reported by whoever loads it.
/// </summary>
public sealed class CachedFaceDataset(IFaceDataset inner) : IFaceDataset
{
    private readonly ConcurrentDictionary<(long Handle, string Source), Image> _images = new();

    public string Name => inner.Name;

    public IReadOnlyList<FaceIdentity> Identities => inner.Identities;

    public int ItemCount => inner.ItemCount;

    public double SuggestedCropFraction => inner.SuggestedCropFraction;

    /// <summary>Images decoded so far.</summary>
    public int Cached => _images.Count;

    public Image Load(FaceItem item)
    {
        // The handle and source identify an item in the data set and every view of it (views renumber identities).
        var key = (item.Handle, item.Source);
        if (_images.TryGetValue(key, out var image)) return image;
        image = inner.Load(item);
        return _images.GetOrAdd(key, image);
    }
}
