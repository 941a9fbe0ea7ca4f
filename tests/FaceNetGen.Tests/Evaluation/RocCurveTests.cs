using FaceNetGen.Evaluation;
using SkiaSharp;

namespace FaceNetGen.Tests.Evaluation;

public class RocCurveTests
{
    [Fact]
    public void Points_cover_every_candidate_threshold()
    {
        var roc = ToyPairs.Set().Roc();
        (double Far, double Val)[] expected =
        [
            (0, 0), (0, 0.25), (0, 0.5), (1.0 / 6, 0.5), (1.0 / 6, 0.75), (2.0 / 6, 0.75),
            (2.0 / 6, 1), (3.0 / 6, 1), (4.0 / 6, 1), (5.0 / 6, 1), (1, 1),
        ];
        Assert.Equal(expected, roc.Points.Select(p => (p.Far, p.Val)));
        Assert.Equal([0.2f, 0.5f, 0.7f, 0.9f, 1.1f, 1.3f, 1.5f, 1.8f, 2.2f, 3.0f], roc.Points.Skip(1).Select(p => p.Threshold));
        Assert.True(roc.Points[0].Threshold < 0.2f);
        Assert.Equal((3, 1), (roc.Points[4].TrueAccepts, roc.Points[4].FalseAccepts));
    }

    [Fact]
    public void Auc_is_the_trapezoid_area()
    {
        // Steps: 1/6 wide at VAL 0.5, 1/6 at 0.75, 4/6 at 1: 1/12 + 1/8 + 2/3 = 21/24, which is also the share of
        // (same, different) pairs where the same pair is closer: (6 + 6 + 5 + 4) / 24.
        Assert.Equal(21.0 / 24, ToyPairs.Set().Roc().Auc, 12);
    }

    [Fact]
    public void Auc_counts_a_tie_as_half()
    {
        Assert.Equal(0.5, new PairSet([new(1f, true), new(1f, false)]).Roc().Auc, 12);
        Assert.Equal(1.0, new PairSet([new(0.5f, true), new(1f, false)]).Roc().Auc, 12);
        Assert.Equal(0.0, new PairSet([new(2f, true), new(1f, false)]).Roc().Auc, 12);
    }

    [Fact]
    public void Roc_needs_both_kinds()
    {
        Assert.Throws<InvalidOperationException>(() => new PairSet([new(1f, true)]).Roc());
    }

    [Fact]
    public void Csv_has_a_header_and_one_line_per_point()
    {
        string csv = ToyPairs.Set().Roc().ToCsv();
        string[] lines = csv.Split('\n');
        Assert.Equal(13, lines.Length); // header + 11 points + the empty string after the last "\n"
        Assert.Equal("threshold,far,val,true_accepts,false_accepts", lines[0]);
        Assert.Equal("0.2,0,0.25,1,0", lines[2]);
        Assert.Equal("0.7,0.16666666666666666,0.5,2,1", lines[4]);
        Assert.Equal("3,1,1,4,6", lines[11]);
        Assert.Equal("", lines[12]);
    }

    [Fact]
    public void Csv_and_png_files_are_written()
    {
        using var folder = new TempFolder();
        var roc = ToyPairs.Set().Roc();
        roc.SaveCsv(folder.File("roc.csv"));
        roc.SavePng(folder.File("roc.png"), width: 640, height: 480);
        roc.SavePng(folder.File("roc-log.png"), logFar: true, width: 500, height: 400);

        Assert.Equal(["roc-log.png", "roc.csv", "roc.png"], folder.Files());
        Assert.Equal(roc.ToCsv(), File.ReadAllText(folder.File("roc.csv")));
        using (var png = SKBitmap.Decode(folder.File("roc.png")))
        {
            Assert.NotNull(png);
            Assert.Equal((640, 480), (png.Width, png.Height));
        }
        using (var png = SKBitmap.Decode(folder.File("roc-log.png")))
        {
            Assert.NotNull(png);
            Assert.Equal((500, 400), (png.Width, png.Height));
        }
    }

    [Fact]
    public void Log_plot_starts_at_the_decade_of_the_smallest_far()
    {
        var plot = ToyPairs.Set().Roc().ToPlot(logFar: true);
        // 1/6 lies in the decade [0.1, 1).
        Assert.Equal(0.1, plot.XMin);
        Assert.Equal(1, plot.XMax);
        Assert.True(plot.LogX);
        Assert.Single(plot.Series);
        Assert.Equal(11, plot.Series[0].Points.Count);
    }
}
