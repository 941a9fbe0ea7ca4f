using System.Globalization;

namespace FaceNetGen.Imaging;

/// <summary>One draw of the training augmentations: whether to mirror, and how to move and scale the crop box.</summary>
/// <param name="Flip">Mirror the crop left–right.</param>
/// <param name="Scale">The crop box's size relative to the base box (1 = unchanged).</param>
/// <param name="ShiftX">Horizontal move of the box's centre, as a fraction of the base box's width.</param>
/// <param name="ShiftY">Vertical move of the box's centre, as a fraction of the base box's height.</param>
public readonly record struct AugmentationSample(bool Flip, double Scale, double ShiftX, double ShiftY)
{
    /// <summary>No change: the base box, not mirrored.</summary>
    public static AugmentationSample Identity => new(false, 1, 0, 0);
}

/// <summary>
/// The training augmentations: a horizontal flip with probability ½ and a random jitter of the crop box
/// (translation up to ±<see cref="MaxShift"/> of its size, scale within 1 ± <see cref="MaxScale"/>). Draws come
/// from a <see cref="DeterministicRandom"/>, so a seed fixes them.
/// </summary>
/// <param name="Flip">Whether half of the draws mirror the image.</param>
/// <param name="MaxShift">Largest move of the box's centre, as a fraction of the box's size (0 to 0.5).</param>
/// <param name="MaxScale">Largest relative change of the box's size (0 to 0.5).</param>
public sealed record Augmentation(bool Flip = true, double MaxShift = 0.05, double MaxScale = 0.05)
{
    /// <summary>No augmentation: every draw is <see cref="AugmentationSample.Identity"/>.</summary>
    public static Augmentation None { get; } = new(false, 0, 0);

    /// <summary>Flip, ±5 % shift, ±5 % scale.</summary>
    public static Augmentation Default { get; } = new();

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="FaceNetException">A range is outside [0, 0.5].</exception>
    public void Validate()
    {
        if (!(MaxShift is >= 0 and <= 0.5) || !(MaxScale is >= 0 and <= 0.5))
        {
            throw new FaceNetException(string.Create(
                CultureInfo.InvariantCulture,
                $"augmentation ranges must lie in [0, 0.5]: shift {MaxShift}, scale {MaxScale}"));
        }
    }

    /// <summary>
    /// Draws one sample. It always takes exactly four numbers from <paramref name="random"/> (flip, scale, shift x,
    /// shift y, in that order), whatever the settings, so that changing a setting does not shift later draws.
    /// </summary>
    public AugmentationSample Draw(DeterministicRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        bool flip = random.NextDouble() < 0.5;
        double scale = 1 + (MaxScale * ((2 * random.NextDouble()) - 1));
        double dx = MaxShift * ((2 * random.NextDouble()) - 1);
        double dy = MaxShift * ((2 * random.NextDouble()) - 1);
        return new AugmentationSample(Flip && flip, scale, dx, dy);
    }

    /// <summary>Draws one sample from a fresh generator seeded with <paramref name="seed"/>.</summary>
    public AugmentationSample Draw(ulong seed) => Draw(new DeterministicRandom(seed));

    /// <summary>
    /// Moves and scales <paramref name="box"/> as <paramref name="sample"/> says, then fits it into the image: a box
    /// grown larger than the image shrinks (keeping its aspect ratio) and a box that sticks out slides back in.
    /// </summary>
    public static CropBox Apply(CropBox box, AugmentationSample sample, int imageWidth, int imageHeight)
    {
        double w = box.Width * sample.Scale;
        double h = box.Height * sample.Scale;
        double cx = box.X + (box.Width / 2) + (sample.ShiftX * box.Width);
        double cy = box.Y + (box.Height / 2) + (sample.ShiftY * box.Height);
        double fit = Math.Min(1, Math.Min(imageWidth / w, imageHeight / h));
        w *= fit;
        h *= fit;
        double x = Math.Clamp(cx - (w / 2), 0, imageWidth - w);
        double y = Math.Clamp(cy - (h / 2), 0, imageHeight - h);
        return new CropBox(x, y, w, h);
    }
}
