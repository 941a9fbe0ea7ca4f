using FaceNetGen.Evaluation;
using SkiaSharp;

namespace FaceNetGen.Tests.Evaluation;

public class LinePlotTests
{
    private static LinePlot TwoSeries() => new()
    {
        Title = "training",
        XLabel = "step",
        YLabel = "loss",
        Width = 400,
        Height = 300,
        Series =
        {
            new LineSeries("train", [new(0, 1.0), new(10, 0.5), new(20, 0.25)], SKColors.Red),
            new LineSeries("validation", [new(0, 1.2), new(10, 0.7), new(20, double.NaN), new(30, 0.4)], SKColors.Blue) { Dashed = true, ShowMarkers = true },
        },
    };

    [Fact]
    public void Png_is_written_with_the_requested_size()
    {
        using var folder = new TempFolder();
        TwoSeries().SavePng(folder.File("loss.png"));
        Assert.Equal(["loss.png"], folder.Files());
        using var png = SKBitmap.Decode(folder.File("loss.png"));
        Assert.NotNull(png);
        Assert.Equal((400, 300), (png.Width, png.Height));
    }

    [Fact]
    public void Series_are_drawn_in_their_colours()
    {
        using var bitmap = TwoSeries().Render();
        int red = 0, blue = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red > 200 && c.Green < 60 && c.Blue < 60) red++;
                if (c.Blue > 200 && c.Red < 60 && c.Green < 60) blue++;
            }
        Assert.True(red > 100, $"{red} red pixels");
        Assert.True(blue > 50, $"{blue} blue pixels");
    }

    [Fact]
    public void Empty_plot_still_renders()
    {
        using var bitmap = new LinePlot { Width = 200, Height = 150 }.Render();
        Assert.Equal((200, 150), (bitmap.Width, bitmap.Height));
        Assert.Throws<InvalidOperationException>(() => new LinePlot { Width = 10, Height = 10 }.Render());
    }

    [Fact]
    public void Linear_axis_has_nice_ticks()
    {
        var axis = PlotAxis.Create([0.03, 0.97], log: false, min: null, max: null);
        Assert.Equal([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], axis.Ticks.Select(t => Math.Round(t, 12)));
        Assert.Equal(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], axis.TickLabels);
        Assert.Equal(0.5, axis.Fraction(0.5), 12);
    }

    [Fact]
    public void Log_axis_has_a_tick_per_decade()
    {
        var axis = PlotAxis.Create([0, 0.002, 0.5], log: true, min: null, max: null);
        Assert.Equal(0.001, axis.Min, 15);
        Assert.Equal(1, axis.Max, 15);
        Assert.Equal(["1e-3", "0.01", "0.1", "1"], axis.TickLabels);
        Assert.Equal(1.0 / 3, axis.Fraction(0.01), 12);
        Assert.Equal(0, axis.Fraction(0)); // non-positive values sit on the lower edge
    }

    [Fact]
    public void Fixed_bounds_are_kept()
    {
        var axis = PlotAxis.Create([0.3, 0.4], log: false, min: 0, max: 1);
        Assert.Equal((0.0, 1.0), (axis.Min, axis.Max));
    }
}
