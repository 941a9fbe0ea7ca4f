using System.Globalization;
using FaceNetGen.Imaging;

namespace FaceNetGen.Data;

/// <summary>Options of <see cref="FolderFaceDataset.Open"/>.</summary>
public sealed record FolderDatasetOptions
{
    /// <summary>Identities with fewer images are skipped with a warning (default 2: a triplet needs an anchor and a positive).</summary>
    public int MinImagesPerIdentity { get; init; } = 2;

    /// <summary>
    /// The crop fraction to suggest for these images; when null, <see cref="Preprocessor.DefaultCropFraction"/>
    /// for the LFW layout (identities under an <c>images/</c> folder) and 1 (already cropped) otherwise.
    /// </summary>
    public double? CropFraction { get; init; }
}

/// <summary>
/// Faces on disk: a root folder holding one folder per identity, each holding that person's images (JPEG, PNG,
/// PGM, BMP, WebP). This is the layout of AT&amp;T (<c>s1/1.pgm</c>) and, one level down, of LFW
/// (<c>images/Name/Name_0001.jpg</c>): when the root has no identity folders with images but has an
/// <c>images/</c> folder, that folder is used.
/// </summary>
/// <remarks>
/// Identities are sorted ordinally by folder name and images naturally by file name (1, 2, 10), so indices are the
/// same on every machine. Folders and files whose names start with '.' are ignored, as are files of other types.
/// Identities with fewer than <see cref="FolderDatasetOptions.MinImagesPerIdentity"/> images are skipped with a
/// warning; warnings go to the caller's callback and are kept in <see cref="Warnings"/>. Images are decoded only
/// when loaded.
/// </remarks>
public sealed class FolderFaceDataset : IFaceDataset
{
    private readonly string[] _paths;
    private readonly List<string> _warnings;

    private FolderFaceDataset(string root, string imageRoot, List<FaceIdentity> identities, string[] paths, List<string> warnings, double cropFraction)
    {
        Root = root;
        ImageRoot = imageRoot;
        Identities = identities;
        _paths = paths;
        _warnings = warnings;
        SuggestedCropFraction = cropFraction;
    }

    /// <summary>The folder that was opened.</summary>
    public string Root { get; }

    /// <summary>The folder whose sub-folders are the identities (the root, or its <c>images/</c> folder).</summary>
    public string ImageRoot { get; }

    /// <inheritdoc/>
    public string Name => $"folder {Root}";

    /// <inheritdoc/>
    public IReadOnlyList<FaceIdentity> Identities { get; }

    /// <inheritdoc/>
    public int ItemCount => _paths.Length;

    /// <inheritdoc/>
    public double SuggestedCropFraction { get; }

    /// <summary>What the scan warned about (skipped identities), in the order it was said.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Scans <paramref name="root"/> (see the class remarks).</summary>
    /// <param name="root">The data set's folder.</param>
    /// <param name="warn">Receives each warning as it is found; may be null.</param>
    /// <param name="options">Scan options; null for the defaults.</param>
    /// <exception cref="FaceNetException">The folder does not exist or holds no usable identity.</exception>
    public static FolderFaceDataset Open(string root, Action<string>? warn = null, FolderDatasetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        options ??= new FolderDatasetOptions();
        if (options.MinImagesPerIdentity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MinImagesPerIdentity, "MinImagesPerIdentity must be at least 1");
        }

        if (!Directory.Exists(root))
        {
            throw new FaceNetException(File.Exists(root) ? $"{root}: is a file, not a folder of identity folders" : $"{root}: face folder not found");
        }

        var candidates = ScanIdentities(root);
        string imageRoot = root;
        bool lfwLayout = false;
        if (candidates.Count == 0)
        {
            string images = Path.Combine(root, "images");
            if (Directory.Exists(images))
            {
                candidates = ScanIdentities(images);
                imageRoot = images;
                lfwLayout = true;
            }
        }

        if (candidates.Count == 0)
        {
            throw new FaceNetException($"{root}: no identity folders with images ({string.Join(", ", ImageDecoder.Extensions)}) in it or in an images/ folder under it");
        }

        var warnings = new List<string>();
        var identities = new List<FaceIdentity>();
        var paths = new List<string>();
        foreach (var (name, files) in candidates)
        {
            if (files.Count < options.MinImagesPerIdentity)
            {
                string message = string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Path.Combine(imageRoot, name)}: identity '{name}' skipped: it has {files.Count} image(s), fewer than {options.MinImagesPerIdentity}");
                warnings.Add(message);
                warn?.Invoke(message);
                continue;
            }

            int index = identities.Count;
            var items = new FaceItem[files.Count];
            for (int i = 0; i < files.Count; i++)
            {
                items[i] = new FaceItem(index, files[i], paths.Count);
                paths.Add(files[i]);
            }

            identities.Add(new FaceIdentity(index, name, items));
        }

        if (identities.Count == 0)
        {
            throw new FaceNetException(string.Create(
                CultureInfo.InvariantCulture,
                $"{root}: no identity has at least {options.MinImagesPerIdentity} images ({candidates.Count} identity folder(s) skipped)"));
        }

        double crop = options.CropFraction ?? (lfwLayout ? Preprocessor.DefaultCropFraction : 1.0);
        return new FolderFaceDataset(root, imageRoot, identities, paths.ToArray(), warnings, crop);
    }

    /// <inheritdoc/>
    public Image Load(FaceItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if ((ulong)item.Handle >= (ulong)_paths.Length || !string.Equals(_paths[item.Handle], item.Source, StringComparison.Ordinal))
        {
            throw new ArgumentException($"{item.Source}: this face item does not belong to {Name}", nameof(item));
        }

        return ImageDecoder.Load(_paths[item.Handle]);
    }

    private static List<(string Name, List<string> Files)> ScanIdentities(string folder)
    {
        var result = new List<(string, List<string>)>();
        var dirs = Directory.GetDirectories(folder)
            .Select(d => (Path: d, Name: Path.GetFileName(d)))
            .Where(d => !d.Name.StartsWith('.'))
            .OrderBy(d => d.Name, StringComparer.Ordinal);
        foreach (var (dir, name) in dirs)
        {
            var files = Directory.GetFiles(dir)
                .Where(f => !Path.GetFileName(f).StartsWith('.') && ImageDecoder.IsSupported(f))
                .OrderBy(f => Path.GetFileName(f), NaturalComparer.Instance)
                .ToList();
            if (files.Count > 0) result.Add((name, files));
        }

        return result;
    }
}
