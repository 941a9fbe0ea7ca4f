using FaceNetGen.Imaging;

namespace FaceNetGen.Data;

/// <summary>
/// Labelled faces for training and evaluation: identities (0-based, in a fixed order), each with its face items,
/// and a way to get an item's pixels. Implemented by <see cref="FolderFaceDataset"/> (images on disk),
/// <see cref="SyntheticFaces"/> (generated) and <see cref="FaceDatasetView"/> (a subset of identities of another).
/// </summary>
public interface IFaceDataset
{
    /// <summary>A short description for logs ("folder /data/att_faces", "synthetic faces, seed 1").</summary>
    string Name { get; }

    /// <summary>The identities; <c>Identities[i].Index == i</c> and every item's <see cref="FaceItem.Identity"/> is its identity's index.</summary>
    IReadOnlyList<FaceIdentity> Identities { get; }

    /// <summary>The number of face items over all identities.</summary>
    int ItemCount { get; }

    /// <summary>
    /// The centre-crop fraction that suits how these images are framed (see <see cref="Preprocessor"/>):
    /// 1 for already-cropped faces, less for photos with background around the face.
    /// </summary>
    double SuggestedCropFraction { get; }

    /// <summary>Decodes or renders one item. Safe to call from several threads at once.</summary>
    /// <exception cref="FaceNetException">The item cannot be read (the message names it and says why).</exception>
    Image Load(FaceItem item);
}
