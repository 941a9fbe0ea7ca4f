using System.Globalization;

namespace FaceNetGen.Imaging;

/// <summary>
/// A rectangle of an image, in continuous pixel coordinates: pixel (i, j) covers [i, i + 1) × [j, j + 1), so the
/// whole of a W×H image is the box (0, 0, W, H). Boxes may have fractional corners.
/// </summary>
/// <param name="X">Left edge, in pixels from the image's left edge.</param>
/// <param name="Y">Top edge, in pixels from the image's top edge.</param>
/// <param name="Width">Width in pixels (positive).</param>
/// <param name="Height">Height in pixels (positive).</param>
public readonly record struct CropBox(double X, double Y, double Width, double Height)
{
    /// <summary>How far (in pixels) a box may stick out of the image through rounding before it is an error.</summary>
    internal const double Tolerance = 1e-6;

    /// <summary>The right edge.</summary>
    public double Right => X + Width;

    /// <summary>The bottom edge.</summary>
    public double Bottom => Y + Height;

    /// <summary>The whole of an image.</summary>
    public static CropBox Whole(int imageWidth, int imageHeight) => new(0, 0, imageWidth, imageHeight);

    /// <summary>
    /// The centred box with the target's aspect ratio (<paramref name="targetWidth"/> : <paramref name="targetHeight"/>)
    /// whose size is <paramref name="fraction"/> of the largest such box that fits in the image. With fraction 1 a
    /// 92×112 image and a square target give the box (0, 10, 92, 92); with fraction 0.56 a 250×250 image gives the
    /// central 140×140 pixels.
    /// </summary>
    /// <exception cref="FaceNetException">A size is not positive or the fraction is not in (0, 1].</exception>
    public static CropBox Centered(int imageWidth, int imageHeight, int targetWidth, int targetHeight, double fraction)
    {
        if (imageWidth <= 0 || imageHeight <= 0)
        {
            throw new FaceNetException(Invariant($"cannot crop a {imageWidth}x{imageHeight} image: it is empty"));
        }

        if (targetWidth <= 0 || targetHeight <= 0)
        {
            throw new FaceNetException(Invariant($"the target size {targetWidth}x{targetHeight} is empty"));
        }

        if (!(fraction > 0 && fraction <= 1))
        {
            throw new FaceNetException(Invariant($"the crop fraction must be in (0, 1], not {fraction}"));
        }

        double aspect = (double)targetWidth / targetHeight;
        double w, h;
        if ((double)imageWidth / imageHeight >= aspect)
        {
            h = imageHeight;
            w = imageHeight * aspect;
        }
        else
        {
            w = imageWidth;
            h = imageWidth / aspect;
        }

        w *= fraction;
        h *= fraction;
        return new CropBox((imageWidth - w) / 2, (imageHeight - h) / 2, w, h);
    }

    /// <summary>Checks that the box is non-empty and lies inside a <paramref name="imageWidth"/>×<paramref name="imageHeight"/> image.</summary>
    /// <exception cref="FaceNetException">It does not; the message names the box and the image size.</exception>
    public void Validate(int imageWidth, int imageHeight)
    {
        if (!(double.IsFinite(X) && double.IsFinite(Y) && Width > 0 && Height > 0 && double.IsFinite(Width) && double.IsFinite(Height)))
        {
            throw new FaceNetException(Invariant($"the crop box {this} of a {imageWidth}x{imageHeight} image is empty or not finite"));
        }

        if (X < -Tolerance || Y < -Tolerance || Right > imageWidth + Tolerance || Bottom > imageHeight + Tolerance)
        {
            throw new FaceNetException(Invariant($"the crop box {this} lies outside the {imageWidth}x{imageHeight} image"));
        }
    }

    /// <summary>"x=…, y=…, W×H" with up to 3 decimals.</summary>
    public override string ToString() => Invariant($"(x={X:0.###}, y={Y:0.###}, {Width:0.###}x{Height:0.###})");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
