using SkiaSharp;

namespace FaceNetGen.Evaluation;

/// <summary>
/// A small line-plot renderer (SkiaSharp): several named series, a title, labelled axes with ticks and grid
/// lines, optional logarithmic axes, and a legend. Used for ROC curves and training curves.
/// </summary>
/// <example>
/// <code>
/// var plot = new LinePlot { Title = "Training", XLabel = "step", YLabel = "loss" };
/// plot.Add("train", steps.Select((s, i) =&gt; new PlotPoint(s, loss[i])));
/// plot.SavePng("loss.png");
/// </code>
/// </example>
public sealed class LinePlot
{
    private static readonly SKColor[] Palette =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    /// <summary>The title above the plot; null for none.</summary>
    public string? Title { get; set; }

    /// <summary>The label under the x axis.</summary>
    public string? XLabel { get; set; }

    /// <summary>The label beside the y axis.</summary>
    public string? YLabel { get; set; }

    /// <summary>A base-10 logarithmic x axis; points with X ≤ 0 are drawn at its left edge.</summary>
    public bool LogX { get; set; }

    /// <summary>A base-10 logarithmic y axis; points with Y ≤ 0 are drawn at its lower edge.</summary>
    public bool LogY { get; set; }

    /// <summary>Fixed x-axis bounds; null fits the data (rounded out to ticks).</summary>
    public double? XMin { get; set; }

    /// <inheritdoc cref="XMin"/>
    public double? XMax { get; set; }

    /// <summary>Fixed y-axis bounds; null fits the data (rounded out to ticks).</summary>
    public double? YMin { get; set; }

    /// <inheritdoc cref="YMin"/>
    public double? YMax { get; set; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; set; } = 800;

    /// <summary>Image height in pixels.</summary>
    public int Height { get; set; } = 600;

    /// <summary>Where the legend goes; it is omitted when there is no named series.</summary>
    public LegendPosition Legend { get; set; } = LegendPosition.TopRight;

    /// <summary>The series, drawn in order.</summary>
    public IList<LineSeries> Series { get; } = new List<LineSeries>();

    /// <summary>Adds a series and returns it.</summary>
    public LineSeries Add(string name, IEnumerable<PlotPoint> points, SKColor? colour = null)
    {
        var series = new LineSeries(name, points.ToArray(), colour);
        Series.Add(series);
        return series;
    }

    /// <summary>Renders the plot to a new bitmap of <see cref="Width"/> × <see cref="Height"/> pixels.</summary>
    public SKBitmap Render()
    {
        if (Width < 120 || Height < 100) throw new InvalidOperationException($"a plot needs at least 120x100 pixels, not {Width}x{Height}.");
        var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        Draw(canvas);
        return bitmap;
    }

    /// <summary>The plot encoded as PNG.</summary>
    public byte[] EncodePng()
    {
        using var bitmap = Render();
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Writes the plot as a PNG file, atomically.</summary>
    public void SavePng(string path) => AtomicFile.WriteAllBytes(path, EncodePng());

    private void Draw(SKCanvas canvas)
    {
        canvas.Clear(SKColors.White);
        var typeface = PlotFonts.Typeface;
        using var font = typeface is null ? null : new SKFont(typeface, 13);
        using var titleFont = typeface is null ? null : new SKFont(typeface, 16) { Embolden = true };
        using var textPaint = new SKPaint { Color = SKColors.Black, IsAntialias = true };

        var xAxis = PlotAxis.Create(Series.SelectMany(s => s.Points).Select(p => p.X), LogX, XMin, XMax);
        var yAxis = PlotAxis.Create(Series.SelectMany(s => s.Points).Select(p => p.Y), LogY, YMin, YMax);

        float tickWidth = font is null ? 30 : yAxis.TickLabels.Select(l => font.MeasureText(l)).DefaultIfEmpty(0).Max();
        float left = 16 + (YLabel is null ? 0 : 20) + tickWidth + 8;
        float top = Title is null ? 16 : 40;
        float right = Width - 20;
        float bottom = Height - (XLabel is null ? 32 : 52);
        var area = new SKRect(left, top, right, bottom);

        float Px(double x) => area.Left + (float)(Math.Clamp(xAxis.Fraction(x), -0.01, 1.01) * area.Width);
        float Py(double y) => area.Bottom - (float)(Math.Clamp(yAxis.Fraction(y), -0.01, 1.01) * area.Height);

        using (var grid = new SKPaint { Color = new SKColor(0xe0, 0xe0, 0xe0), StrokeWidth = 1, Style = SKPaintStyle.Stroke })
        using (var tickPaint = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, Style = SKPaintStyle.Stroke })
        {
            for (int i = 0; i < xAxis.Ticks.Count; i++)
            {
                float x = Px(xAxis.Ticks[i]);
                canvas.DrawLine(x, area.Top, x, area.Bottom, grid);
                canvas.DrawLine(x, area.Bottom, x, area.Bottom + 5, tickPaint);
                if (font is not null) canvas.DrawText(xAxis.TickLabels[i], x, area.Bottom + 19, SKTextAlign.Center, font, textPaint);
            }
            for (int i = 0; i < yAxis.Ticks.Count; i++)
            {
                float y = Py(yAxis.Ticks[i]);
                canvas.DrawLine(area.Left, y, area.Right, y, grid);
                canvas.DrawLine(area.Left - 5, y, area.Left, y, tickPaint);
                if (font is not null) canvas.DrawText(yAxis.TickLabels[i], area.Left - 8, y + 4.5f, SKTextAlign.Right, font, textPaint);
            }
            canvas.DrawRect(area, tickPaint);
        }

        if (font is not null)
        {
            if (Title is not null && titleFont is not null) canvas.DrawText(Title, Width / 2f, 26, SKTextAlign.Center, titleFont, textPaint);
            if (XLabel is not null) canvas.DrawText(XLabel, area.MidX, Height - 14, SKTextAlign.Center, font, textPaint);
            if (YLabel is not null)
            {
                canvas.Save();
                canvas.Translate(20, area.MidY);
                canvas.RotateDegrees(-90);
                canvas.DrawText(YLabel, 0, 0, SKTextAlign.Center, font, textPaint);
                canvas.Restore();
            }
        }

        canvas.Save();
        canvas.ClipRect(SKRect.Inflate(area, 2, 2));
        for (int s = 0; s < Series.Count; s++)
        {
            var series = Series[s];
            using var line = LinePaint(series, s);
            using var builder = new SKPathBuilder();
            bool open = false;
            foreach (var p in series.Points)
            {
                if (!double.IsFinite(p.X) || !double.IsFinite(p.Y))
                {
                    open = false;
                    continue;
                }
                if (open) builder.LineTo(Px(p.X), Py(p.Y));
                else builder.MoveTo(Px(p.X), Py(p.Y));
                open = true;
            }
            using (var path = builder.Detach()) canvas.DrawPath(path, line);
            if (series.ShowMarkers)
            {
                using var dot = new SKPaint { Color = line.Color, IsAntialias = true, Style = SKPaintStyle.Fill };
                foreach (var p in series.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)))
                    canvas.DrawCircle(Px(p.X), Py(p.Y), 3, dot);
            }
        }
        canvas.Restore();

        if (font is not null && Legend != LegendPosition.None && Series.Any(s => !string.IsNullOrEmpty(s.Name)))
            DrawLegend(canvas, area, font, textPaint);
    }

    private void DrawLegend(SKCanvas canvas, SKRect area, SKFont font, SKPaint textPaint)
    {
        var named = Series.Select((s, i) => (Series: s, Index: i)).Where(e => !string.IsNullOrEmpty(e.Series.Name)).ToList();
        float rowHeight = 18, swatch = 24;
        float width = named.Max(e => font.MeasureText(e.Series.Name)) + swatch + 24;
        float height = rowHeight * named.Count + 8;
        float x = Legend is LegendPosition.TopLeft or LegendPosition.BottomLeft ? area.Left + 10 : area.Right - 10 - width;
        float y = Legend is LegendPosition.TopLeft or LegendPosition.TopRight ? area.Top + 10 : area.Bottom - 10 - height;
        var box = new SKRect(x, y, x + width, y + height);
        using (var fill = new SKPaint { Color = new SKColor(255, 255, 255, 230), Style = SKPaintStyle.Fill })
        using (var border = new SKPaint { Color = new SKColor(0xa0, 0xa0, 0xa0), Style = SKPaintStyle.Stroke, StrokeWidth = 1 })
        {
            canvas.DrawRect(box, fill);
            canvas.DrawRect(box, border);
        }
        for (int r = 0; r < named.Count; r++)
        {
            float cy = y + 4 + rowHeight * r + rowHeight / 2;
            using var line = LinePaint(named[r].Series, named[r].Index);
            canvas.DrawLine(x + 8, cy, x + 8 + swatch, cy, line);
            canvas.DrawText(named[r].Series.Name, x + 16 + swatch, cy + 4.5f, SKTextAlign.Left, font, textPaint);
        }
    }

    private static SKPaint LinePaint(LineSeries series, int index)
    {
        var paint = new SKPaint
        {
            Color = series.Colour ?? Palette[index % Palette.Length],
            StrokeWidth = 2,
            Style = SKPaintStyle.Stroke,
            IsAntialias = true,
            StrokeJoin = SKStrokeJoin.Round,
        };
        if (series.Dashed) paint.PathEffect = SKPathEffect.CreateDash([8, 5], 0);
        return paint;
    }
}
