using System.Globalization;

namespace FaceNetGen.Imaging;

/// <summary>Lays out many images on one grid, for looking at a data set or a batch at a glance.</summary>
public static class ContactSheet
{
    /// <summary>
    /// A grid of <paramref name="columns"/> columns of <paramref name="cellWidth"/> × <paramref name="cellHeight"/>
    /// cells separated by <paramref name="gap"/> pixels of dark grey. Each image is scaled (area averaging or
    /// bilinear) to fit its cell keeping its aspect ratio, centred; grey images are shown as grey.
    /// </summary>
    public static Image Compose(IReadOnlyList<Image> images, int columns, int cellWidth, int cellHeight, int gap = 2)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("a contact sheet needs at least one image", nameof(images));
        if (columns <= 0 || cellWidth <= 0 || cellHeight <= 0 || gap < 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"bad layout: {columns} columns of {cellWidth}x{cellHeight} cells, gap {gap}"));
        }

        columns = Math.Min(columns, images.Count);
        int rows = (images.Count + columns - 1) / columns;
        var sheet = new Image((columns * (cellWidth + gap)) + gap, (rows * (cellHeight + gap)) + gap, 3);
        Array.Fill(sheet.Pixels, (byte)40);
        var resampler = new Resampler();
        float[] planes = [];
        for (int n = 0; n < images.Count; n++)
        {
            var image = images[n];
            double fit = Math.Min((double)cellWidth / image.Width, (double)cellHeight / image.Height);
            int w = Math.Max(1, (int)Math.Round(image.Width * fit));
            int h = Math.Max(1, (int)Math.Round(image.Height * fit));
            int plane = w * h;
            if (planes.Length < plane * image.Channels) planes = new float[plane * image.Channels];
            resampler.Resample(image, CropBox.Whole(image.Width, image.Height), w, h, flip: false, planes);
            int left = gap + ((n % columns) * (cellWidth + gap)) + ((cellWidth - w) / 2);
            int top = gap + ((n / columns) * (cellHeight + gap)) + ((cellHeight - h) / 2);
            for (int y = 0; y < h; y++)
            {
                var row = sheet.Row(top + y);
                for (int x = 0; x < w; x++)
                {
                    for (int c = 0; c < 3; c++)
                    {
                        int sc = image.Channels == 1 ? 0 : c;
                        row[((left + x) * 3) + c] = (byte)Math.Clamp(MathF.Round(planes[(sc * plane) + (y * w) + x]), 0, 255);
                    }
                }
            }
        }

        return sheet;
    }
}
