using System.Globalization;

namespace FaceNetGen.Evaluation;

/// <summary>
/// One axis of a <see cref="LinePlot"/>: its data range, tick positions and labels, and the map from data values
/// to a 0..1 fraction of the axis length. Linear axes get "nice" ticks (1, 2 or 5 × 10^k); logarithmic axes span
/// whole decades with a tick at each power of ten.
/// </summary>
internal sealed class PlotAxis
{
    private readonly double _lo;
    private readonly double _hi;

    private PlotAxis(bool log, double lo, double hi, IReadOnlyList<double> ticks, IReadOnlyList<string> labels)
    {
        IsLog = log;
        Min = lo;
        Max = hi;
        _lo = log ? Math.Log10(lo) : lo;
        _hi = log ? Math.Log10(hi) : hi;
        Ticks = ticks;
        TickLabels = labels;
    }

    public bool IsLog { get; }

    public double Min { get; }

    public double Max { get; }

    public IReadOnlyList<double> Ticks { get; }

    public IReadOnlyList<string> TickLabels { get; }

    /// <summary>
    /// Where <paramref name="value"/> falls along the axis, 0 at <see cref="Min"/> and 1 at <see cref="Max"/>. On a
    /// log axis non-positive values map to the lower edge.
    /// </summary>
    public double Fraction(double value)
    {
        double v = IsLog ? (value > 0 ? Math.Log10(value) : _lo) : value;
        return (v - _lo) / (_hi - _lo);
    }

    /// <summary>
    /// An axis covering <paramref name="values"/> (non-finite values ignored; on a log axis non-positive ones too),
    /// with explicit bounds where given.
    /// </summary>
    public static PlotAxis Create(IEnumerable<double> values, bool log, double? min, double? max)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (!double.IsFinite(v) || (log && v <= 0)) continue;
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        if (min is { } fixedMin) lo = fixedMin;
        if (max is { } fixedMax) hi = fixedMax;
        return log ? CreateLog(lo, hi, min.HasValue, max.HasValue) : CreateLinear(lo, hi, min.HasValue, max.HasValue);
    }

    private static PlotAxis CreateLinear(double lo, double hi, bool keepLo, bool keepHi)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi))
        {
            lo = 0;
            hi = 1;
        }
        if (hi < lo) (lo, hi) = (hi, lo);
        if (hi == lo)
        {
            double pad = lo == 0 ? 1 : Math.Abs(lo) * 0.5;
            lo -= pad;
            hi += pad;
        }
        double step = NiceStep((hi - lo) / 5);
        if (!keepLo) lo = Math.Floor(lo / step + 1e-9) * step;
        if (!keepHi) hi = Math.Ceiling(hi / step - 1e-9) * step;
        var ticks = new List<double>();
        var labels = new List<string>();
        int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        for (double t = Math.Ceiling(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
        {
            double tick = Math.Round(t / step) * step;
            ticks.Add(tick);
            labels.Add((tick == 0 ? 0 : tick).ToString("F" + decimals, CultureInfo.InvariantCulture));
        }
        return new PlotAxis(false, lo, hi, ticks, labels);
    }

    private static PlotAxis CreateLog(double lo, double hi, bool keepLo, bool keepHi)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi) || lo <= 0 || hi <= 0)
        {
            lo = 1e-3;
            hi = 1;
        }
        if (hi < lo) (lo, hi) = (hi, lo);
        int first = (int)Math.Floor(Math.Log10(lo) + 1e-9);
        int last = (int)Math.Ceiling(Math.Log10(hi) - 1e-9);
        if (last <= first) last = first + 1;
        if (!keepLo) lo = Math.Pow(10, first);
        if (!keepHi) hi = Math.Pow(10, last);
        int every = Math.Max(1, (last - first + 9) / 10);
        var ticks = new List<double>();
        var labels = new List<string>();
        for (int e = first; e <= last; e += every)
        {
            double tick = Math.Pow(10, e);
            if (tick < lo * (1 - 1e-9) || tick > hi * (1 + 1e-9)) continue;
            ticks.Add(tick);
            labels.Add(e is >= -2 and <= 3 ? tick.ToString(CultureInfo.InvariantCulture) : "1e" + e.ToString(CultureInfo.InvariantCulture));
        }
        return new PlotAxis(true, lo, hi, ticks, labels);
    }

    /// <summary>The smallest of 1, 2, 5 × 10^k that is at least <paramref name="rough"/>.</summary>
    private static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double f = rough / power;
        double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
        return nice * power;
    }
}
