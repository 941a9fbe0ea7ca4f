using System.Globalization;
using System.Text;

namespace FaceNetGen.Evaluation;

/// <summary>One point of a <see cref="RocCurve"/>: the rates reached by accepting every pair with D ≤ <paramref name="Threshold"/>.</summary>
public readonly record struct RocPoint(float Threshold, double Far, double Val, int TrueAccepts, int FalseAccepts);

/// <summary>
/// The ROC curve of a <see cref="PairSet"/>: (FAR, VAL) at every candidate threshold, ascending, from the
/// reject-everything point (0, 0) to the accept-everything point (1, 1), like the paper's Figure 5.
/// </summary>
/// <remarks>
/// <see cref="Auc"/> is the area under the curve by the trapezoid rule over FAR. Because a threshold that accepts
/// same and different pairs of equal distance together moves diagonally, the area equals the probability that a
/// random same pair is closer than a random different pair, counting ties as one half.
/// </remarks>
public sealed class RocCurve
{
    private RocCurve(RocPoint[] points, int sameCount, int diffCount)
    {
        Points = points;
        SameCount = sameCount;
        DiffCount = diffCount;
        double area = 0;
        for (int i = 1; i < points.Length; i++)
            area += (points[i].Far - points[i - 1].Far) * (points[i].Val + points[i - 1].Val) / 2;
        Auc = area;
    }

    /// <summary>The points, one per candidate threshold, in ascending threshold order.</summary>
    public IReadOnlyList<RocPoint> Points { get; }

    /// <summary>|P_same|.</summary>
    public int SameCount { get; }

    /// <summary>|P_diff|.</summary>
    public int DiffCount { get; }

    /// <summary>The area under the curve (trapezoids over FAR), in [0, 1].</summary>
    public double Auc { get; }

    /// <summary>The curve of <paramref name="pairs"/>; needs at least one same and one different pair.</summary>
    /// <exception cref="InvalidOperationException">One of the two pair kinds is missing.</exception>
    public static RocCurve From(PairSet pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.SameCount == 0 || pairs.DiffCount == 0)
            throw new InvalidOperationException($"a ROC curve needs same and different pairs; this set has {pairs.SameCount} same and {pairs.DiffCount} different.");
        var same = pairs.SameDistances;
        var diff = pairs.DiffDistances;
        var candidates = pairs.CandidateThresholds;
        var points = new RocPoint[candidates.Count];
        int ta = 0, fa = 0;
        for (int i = 0; i < candidates.Count; i++)
        {
            float d = candidates[i];
            while (ta < same.Length && same[ta] <= d) ta++;
            while (fa < diff.Length && diff[fa] <= d) fa++;
            points[i] = new RocPoint(d, (double)fa / diff.Length, (double)ta / same.Length, ta, fa);
        }
        return new RocCurve(points, same.Length, diff.Length);
    }

    /// <summary>
    /// The curve as CSV: a header <c>threshold,far,val,true_accepts,false_accepts</c> then one line per point,
    /// numbers in invariant culture with round-trip precision, lines ending in "\n".
    /// </summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("threshold,far,val,true_accepts,false_accepts\n");
        foreach (var p in Points)
            sb.Append(CultureInfo.InvariantCulture, $"{p.Threshold.ToString("R", CultureInfo.InvariantCulture)},{p.Far.ToString("R", CultureInfo.InvariantCulture)},{p.Val.ToString("R", CultureInfo.InvariantCulture)},{p.TrueAccepts},{p.FalseAccepts}\n");
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToCsv"/> to <paramref name="path"/>, atomically.</summary>
    public void SaveCsv(string path) => AtomicFile.WriteAllText(path, ToCsv());

    /// <summary>The curve as a plot series named <paramref name="name"/> (x = FAR, y = VAL).</summary>
    public LineSeries ToSeries(string name) => new(name, Points.Select(p => new PlotPoint(p.Far, p.Val)).ToArray());

    /// <summary>
    /// A plot of the curve: FAR on x, VAL on y. With <paramref name="logFar"/> the FAR axis is logarithmic from the
    /// decade holding 1 / |P_diff| (the smallest non-zero FAR) up to 1, and the FAR = 0 points lie on its left edge.
    /// </summary>
    public LinePlot ToPlot(string? title = null, bool logFar = false, string name = "ROC")
    {
        var plot = new LinePlot
        {
            Title = title ?? string.Create(CultureInfo.InvariantCulture, $"ROC ({SameCount} same, {DiffCount} different pairs, AUC {Auc:F4})"),
            XLabel = logFar ? "FAR (log scale)" : "FAR",
            YLabel = "VAL",
            LogX = logFar,
            XMin = logFar ? Math.Pow(10, Math.Floor(Math.Log10(1.0 / DiffCount))) : 0,
            XMax = 1,
            YMin = 0,
            YMax = 1,
            Legend = LegendPosition.BottomRight,
        };
        plot.Series.Add(ToSeries(name));
        return plot;
    }

    /// <summary>Writes <see cref="ToPlot"/> as a PNG file, atomically.</summary>
    public void SavePng(string path, string? title = null, bool logFar = false, int width = 800, int height = 600)
    {
        var plot = ToPlot(title, logFar);
        plot.Width = width;
        plot.Height = height;
        plot.SavePng(path);
    }
}
