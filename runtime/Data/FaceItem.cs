namespace FaceNetGen.Data;

/// <summary>One face image of a data set.</summary>
/// <param name="Identity">The index of its identity in the data set that lists it.</param>
/// <param name="Source">
/// Where it comes from, as messages print it: the file's path for a folder data set, a name such as
/// "synthetic:12/3" for generated faces.
/// </param>
/// <param name="Handle">
/// A number that means something only to the data set that made the item (the folder data set's file number, the
/// synthetic set's face number); views of a data set (splits) keep it, so that the original data set can load it.
/// </param>
public sealed record FaceItem(int Identity, string Source, long Handle)
{
    /// <inheritdoc/>
    public override string ToString() => Source;
}

/// <summary>One person of a data set and their faces.</summary>
/// <param name="Index">Position in <see cref="IFaceDataset.Identities"/> (0-based).</param>
/// <param name="Name">The person's label (folder name, or "id0042" for synthetic faces).</param>
/// <param name="Items">Their faces, in a fixed order (natural file-name order for folders).</param>
public sealed record FaceIdentity(int Index, string Name, IReadOnlyList<FaceItem> Items)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Items.Count} images)";
}
