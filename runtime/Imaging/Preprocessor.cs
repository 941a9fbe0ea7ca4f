using System.Globalization;
using FaceNetGen.Models;

namespace FaceNetGen.Imaging;

/// <summary>
/// Turns a decoded image into a model input of <see cref="Height"/> × <see cref="Width"/>: crop, resize (area
/// averaging when shrinking, bilinear when enlarging), optionally mirror, repeat grey into three channels, and
/// write floats in <see cref="InputFormat"/> (RGB, NCHW, (v − 127.5) / 128) into a caller's span. Values are
/// resampled in floating point and normalised without rounding back to 8 bits.
/// </summary>
/// <remarks>
/// <para>
/// The default crop is the paper's "mode 1", a fixed centre crop: the centred box with the input's aspect ratio
/// whose side is <see cref="CropFraction"/> of the largest such box in the image. The default fraction,
/// <see cref="DefaultCropFraction"/> = 0.56, keeps the central 140 × 140 pixels of an LFW 250 × 250 thumbnail:
/// the face there spans roughly the central 110–130 pixels, so this keeps all of it with a small margin and
/// drops most of the background. Pass 1.0 for faces that are already cropped, such as AT&amp;T's 92 × 112
/// images (the square centre 92 × 92 of those) or <see cref="FaceNetGen.Data.SyntheticFaces"/>.
/// </para>
/// <para>
/// An instance keeps scratch buffers so that it allocates nothing per image once warm; it is not thread-safe:
/// use one per thread.
/// </para>
/// </remarks>
public sealed class Preprocessor
{
    /// <summary>The default centre-crop fraction, chosen for LFW's 250 × 250 thumbnails (see the remarks).</summary>
    public const double DefaultCropFraction = 0.56;

    private readonly Resampler _resampler = new();

    /// <summary>A preprocessor for inputs of <paramref name="height"/> × <paramref name="width"/> × 3.</summary>
    /// <exception cref="FaceNetException">The size is empty or the fraction is outside (0, 1].</exception>
    public Preprocessor(int height, int width, double cropFraction = DefaultCropFraction)
    {
        if (height <= 0 || width <= 0)
        {
            throw new FaceNetException(string.Create(CultureInfo.InvariantCulture, $"the model input size {width}x{height} is empty"));
        }

        if (!(cropFraction > 0 && cropFraction <= 1))
        {
            throw new FaceNetException(string.Create(CultureInfo.InvariantCulture, $"the crop fraction must be in (0, 1], not {cropFraction}"));
        }

        Height = height;
        Width = width;
        CropFraction = cropFraction;
    }

    /// <summary>Input height in pixels.</summary>
    public int Height { get; }

    /// <summary>Input width in pixels.</summary>
    public int Width { get; }

    /// <summary>The centre-crop fraction (see the remarks).</summary>
    public double CropFraction { get; }

    /// <summary>Floats per image: 3 × Height × Width.</summary>
    public int OutputLength => 3 * Height * Width;

    /// <summary>A preprocessor for a model's input size.</summary>
    /// <exception cref="FaceNetException">The model does not take 3-channel input.</exception>
    public static Preprocessor For(ModelDescription model, double cropFraction = DefaultCropFraction)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.InputChannels != 3)
        {
            throw new FaceNetException($"model {model.Name} takes {model.InputChannels} input channel(s); preprocessing writes 3 (RGB)");
        }

        return new Preprocessor(model.InputHeight, model.InputWidth, cropFraction);
    }

    /// <summary>The fixed centre crop of an image of the given size.</summary>
    public CropBox CenterCrop(int imageWidth, int imageHeight) =>
        CropBox.Centered(imageWidth, imageHeight, Width, Height, CropFraction);

    /// <summary>The centre crop of <paramref name="image"/>, not augmented.</summary>
    public void Process(Image image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        Process(image, CenterCrop(image.Width, image.Height), flip: false, destination);
    }

    /// <summary>The centre crop of <paramref name="image"/>, jittered and mirrored as <paramref name="augmentation"/> draws from <paramref name="random"/>.</summary>
    public void Process(Image image, Augmentation augmentation, DeterministicRandom random, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(augmentation);
        Process(image, augmentation.Draw(random), destination);
    }

    /// <summary>As <see cref="Process(Image, Augmentation, DeterministicRandom, Span{float})"/>, with a generator seeded by <paramref name="seed"/>.</summary>
    public void Process(Image image, Augmentation augmentation, ulong seed, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(augmentation);
        Process(image, augmentation.Draw(seed), destination);
    }

    /// <summary>The centre crop of <paramref name="image"/> changed by one augmentation draw.</summary>
    public void Process(Image image, AugmentationSample sample, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        var box = Augmentation.Apply(CenterCrop(image.Width, image.Height), sample, image.Width, image.Height);
        Process(image, box, sample.Flip, destination);
    }

    /// <summary>
    /// The box <paramref name="crop"/> of <paramref name="image"/> resized to the input size, mirrored when
    /// <paramref name="flip"/>, written to the first <see cref="OutputLength"/> floats of <paramref name="destination"/>
    /// as planes R, G, B.
    /// </summary>
    /// <exception cref="FaceNetException">The box is empty or lies outside the image (the message gives both).</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="OutputLength"/>.</exception>
    public void Process(Image image, CropBox crop, bool flip, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (destination.Length < OutputLength)
        {
            throw new ArgumentException($"the destination holds {destination.Length} floats; a {Width}x{Height} RGB input needs {OutputLength}", nameof(destination));
        }

        int plane = Height * Width;
        var output = destination[..OutputLength];
        _resampler.Resample(image, crop, Width, Height, flip, output);
        var first = output[..(image.Channels * plane)];
        for (int i = 0; i < first.Length; i++)
        {
            first[i] = (first[i] - InputFormat.Mean) * InputFormat.Scale;
        }

        if (image.Channels == 1)
        {
            output[..plane].CopyTo(output.Slice(plane, plane));
            output[..plane].CopyTo(output.Slice(2 * plane, plane));
        }
    }

    /// <summary>
    /// The 8-bit RGB image a model input shows (the inverse of the normalisation, rounded and clamped), for
    /// contact sheets and debugging.
    /// </summary>
    public static Image ToImage(ReadOnlySpan<float> input, int height, int width)
    {
        int plane = height * width;
        if (height <= 0 || width <= 0 || input.Length < 3 * plane)
        {
            throw new ArgumentException($"a {width}x{height} RGB input needs {3 * plane} floats, not {input.Length}", nameof(input));
        }

        var image = new Image(width, height, 3);
        var pixels = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                double v = (input[(c * plane) + i] / InputFormat.Scale) + InputFormat.Mean;
                pixels[(i * 3) + c] = (byte)Math.Clamp(Math.Round(v), 0, 255);
            }
        }

        return image;
    }
}
