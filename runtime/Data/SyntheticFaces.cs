using System.Globalization;
using FaceNetGen.Imaging;

namespace FaceNetGen.Data;

/// <summary>
/// A generated face data set that needs no download: <see cref="IdentityCount"/> people ×
/// <see cref="ImagesPerIdentity"/> pictures, drawn with SkiaSharp. Each person has stable traits (face shape and
/// size, skin tone, eye spacing, size and colour, brows, nose, mouth, hair colour and style, and for some glasses,
/// a beard or a mole); each picture varies what a camera varies (position, roll, scale and a little yaw;
/// expression; background; clothing; lighting direction, brightness, colour cast and gamma; blur; noise; now and
/// then an occluding object), enough that mean colour alone does not tell people apart.
/// </summary>
/// <remarks>
/// Everything follows from the seed: identity i's traits come from a generator seeded with a hash of
/// (seed, i), and picture j's nuisances from a hash of (seed, i, j), so any picture can be rendered alone, in any
/// order, on any thread, with the same pixels (for a given SkiaSharp native build). Pictures are framed like
/// cropped faces (head and shoulders filling the frame), so the suggested crop fraction is 1.
/// </remarks>
public sealed class SyntheticFaces : IFaceDataset
{
    /// <summary>The smallest side a picture may have.</summary>
    public const int MinSize = 16;

    /// <summary>The largest side a picture may have.</summary>
    public const int MaxSize = 1024;

    private readonly SyntheticFaceTraits[] _traits;

    /// <summary>
    /// A data set of <paramref name="identities"/> × <paramref name="imagesPerIdentity"/> pictures of
    /// <paramref name="size"/> × <paramref name="size"/> pixels.
    /// </summary>
    /// <exception cref="FaceNetException">A count is below 1 (2 pictures per identity) or the size is outside 16–1024.</exception>
    public SyntheticFaces(int identities, int imagesPerIdentity, ulong seed = 1, int size = 128)
    {
        if (identities < 1) throw new FaceNetException($"synthetic faces need at least 1 identity, not {identities}");
        if (imagesPerIdentity < 2) throw new FaceNetException($"synthetic faces need at least 2 images per identity (a triplet needs an anchor and a positive), not {imagesPerIdentity}");
        CheckSize(size, size);
        if ((long)identities * imagesPerIdentity > int.MaxValue) throw new FaceNetException($"{identities} x {imagesPerIdentity} synthetic faces are too many");

        IdentityCount = identities;
        ImagesPerIdentity = imagesPerIdentity;
        Seed = seed;
        Size = size;
        _traits = new SyntheticFaceTraits[identities];
        var list = new FaceIdentity[identities];
        for (int i = 0; i < identities; i++)
        {
            _traits[i] = SyntheticFaceTraits.Draw(new DeterministicRandom(Hash(seed, (ulong)i)));
            var items = new FaceItem[imagesPerIdentity];
            for (int j = 0; j < imagesPerIdentity; j++)
            {
                items[j] = new FaceItem(i, string.Create(CultureInfo.InvariantCulture, $"synthetic:{i}/{j}"), ((long)i * imagesPerIdentity) + j);
            }

            list[i] = new FaceIdentity(i, string.Create(CultureInfo.InvariantCulture, $"id{i:0000}"), items);
        }

        Identities = list;
    }

    /// <summary>The number of people.</summary>
    public int IdentityCount { get; }

    /// <summary>Pictures per person.</summary>
    public int ImagesPerIdentity { get; }

    /// <summary>The seed everything follows from.</summary>
    public ulong Seed { get; }

    /// <summary>The side, in pixels, of the pictures <see cref="Load"/> renders.</summary>
    public int Size { get; }

    /// <inheritdoc/>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"synthetic faces ({IdentityCount} identities x {ImagesPerIdentity} images, seed {Seed}, {Size}x{Size})");

    /// <inheritdoc/>
    public IReadOnlyList<FaceIdentity> Identities { get; }

    /// <inheritdoc/>
    public int ItemCount => IdentityCount * ImagesPerIdentity;

    /// <inheritdoc/>
    public double SuggestedCropFraction => 1.0;

    /// <inheritdoc/>
    public Image Load(FaceItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Handle < 0 || item.Handle >= ItemCount) throw new ArgumentException($"{item.Source}: this face item does not belong to {Name}", nameof(item));
        return Render((int)(item.Handle / ImagesPerIdentity), (int)(item.Handle % ImagesPerIdentity), Size, Size);
    }

    /// <summary>
    /// Renders picture <paramref name="image"/> of person <paramref name="identity"/> at any size from 16 to 1024
    /// pixels a side (the head is scaled to the shorter side). Image numbers beyond
    /// <see cref="ImagesPerIdentity"/> are allowed: they are further pictures of the same person.
    /// </summary>
    /// <exception cref="FaceNetException">The identity is not in the set or the size is out of range.</exception>
    public Image Render(int identity, int image, int width, int height)
    {
        if ((uint)identity >= (uint)IdentityCount) throw new FaceNetException($"synthetic identity {identity} is not in 0..{IdentityCount - 1}");
        if (image < 0) throw new FaceNetException($"synthetic image number {image} is negative");
        CheckSize(width, height);
        var nuisance = SyntheticFaceNuisance.Draw(new DeterministicRandom(Hash(Hash(Seed, (ulong)identity), 0x100000000UL + (ulong)image)));
        return SyntheticFaceRenderer.Render(_traits[identity], nuisance, width, height);
    }

    private static void CheckSize(int width, int height)
    {
        if (width < MinSize || height < MinSize || width > MaxSize || height > MaxSize)
        {
            throw new FaceNetException($"synthetic faces are rendered at {MinSize}x{MinSize} to {MaxSize}x{MaxSize} pixels, not {width}x{height}");
        }
    }

    private static ulong Hash(ulong a, ulong b)
    {
        ulong z = a ^ (b * 0xD1B54A32D192ED03UL) ^ 0xA0761D6478BD642FUL;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
