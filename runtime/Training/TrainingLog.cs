using System.Globalization;
using System.Text;
using FaceNetGen.Evaluation;
using SkiaSharp;

namespace FaceNetGen.Training;

/// <summary>One row of the training log: an epoch's means, and the validation measured at its end (if any).</summary>
public sealed record EpochRecord(
    int Epoch, long Step, long Images, double Seconds, double Loss, double ActiveFraction, double Triplets,
    float LearningRate, double ImagesPerSecond, double? ValidationAccuracy, double? ValidationStandardError, double? ValidationAuc);

/// <summary>The CSV log and the PNG plot of a run, both rewritten atomically after each epoch.</summary>
public sealed class TrainingLog
{
    private readonly List<EpochRecord> _records = new();

    public IReadOnlyList<EpochRecord> Records => _records;

    public void Add(EpochRecord record) => _records.Add(record);

    public void Restore(IEnumerable<EpochRecord> records)
    {
        _records.Clear();
        _records.AddRange(records);
    }

    public string ToCsv()
    {
        var sb = new StringBuilder("epoch,step,images,seconds,loss,active_fraction,triplets_per_batch,learning_rate,images_per_second,val_accuracy,val_accuracy_se,val_auc\n");
        foreach (var r in _records)
        {
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"{r.Epoch},{r.Step},{r.Images},{r.Seconds:F2},{r.Loss:F6},{r.ActiveFraction:F4},{r.Triplets:F1},{r.LearningRate:G6},{r.ImagesPerSecond:F2},{F(r.ValidationAccuracy)},{F(r.ValidationStandardError)},{F(r.ValidationAuc)}\n"));
        }
        return sb.ToString();
    }

    /// <summary>Reads a log written by <see cref="ToCsv"/> (to continue it after a resume).</summary>
    public static IEnumerable<EpochRecord> ParseCsv(string text)
    {
        foreach (var line in text.Split('\n').Skip(1).Where(l => l.Length > 0))
        {
            var c = line.Split(',');
            if (c.Length < 12) continue;
            double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
            double? N(string s) => s.Length == 0 ? null : D(s);
            yield return new EpochRecord(int.Parse(c[0], CultureInfo.InvariantCulture), long.Parse(c[1], CultureInfo.InvariantCulture), long.Parse(c[2], CultureInfo.InvariantCulture),
                D(c[3]), D(c[4]), D(c[5]), D(c[6]), (float)D(c[7]), D(c[8]), N(c[9]), N(c[10]), N(c[11]));
        }
    }

    public void SaveCsv(string path) => AtomicFile.WriteAllText(path, ToCsv());

    /// <summary>
    /// Two charts, one above the other: the training loss by epoch; and, on a 0–1 scale, the held-out verification
    /// accuracy and the fraction of selected triplets still violating the margin.
    /// </summary>
    public void SavePlot(string path, string title)
    {
        var loss = new LinePlot { Title = title + ": triplet loss", XLabel = "epoch", YLabel = "loss", Width = 900, Height = 420, YMin = 0 };
        loss.Series.Add(new LineSeries("training loss", _records.Where(r => r.Epoch > 0).Select(r => new PlotPoint(r.Epoch, r.Loss)).ToList()) { ShowMarkers = true });
        var fractions = new LinePlot { Title = "held-out verification accuracy (10-fold) and active triplets", XLabel = "epoch", YLabel = "fraction", Width = 900, Height = 420, YMin = 0, YMax = 1 };
        fractions.Series.Add(new LineSeries("verification accuracy", _records.Where(r => r.ValidationAccuracy.HasValue).Select(r => new PlotPoint(r.Epoch, r.ValidationAccuracy!.Value)).ToList()) { ShowMarkers = true });
        fractions.Series.Add(new LineSeries("active triplets", _records.Where(r => r.Epoch > 0).Select(r => new PlotPoint(r.Epoch, r.ActiveFraction)).ToList()) { Dashed = true });
        using var top = loss.Render();
        using var bottom = fractions.Render();
        using var surface = SKSurface.Create(new SKImageInfo(900, 840));
        surface.Canvas.Clear(SKColors.White);
        using (var topImage = SKImage.FromBitmap(top))
        using (var bottomImage = SKImage.FromBitmap(bottom))
        {
            surface.Canvas.DrawImage(topImage, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
            surface.Canvas.DrawImage(bottomImage, 0, 420, new SKSamplingOptions(SKFilterMode.Nearest));
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, data.Span);
    }

    private static string F(double? v) => v.HasValue ? v.Value.ToString("F4", CultureInfo.InvariantCulture) : "";
}
