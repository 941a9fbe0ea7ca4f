using SkiaSharp;

namespace FaceNetGen.Evaluation;

/// <summary>A point of a <see cref="LineSeries"/>.</summary>
public readonly record struct PlotPoint(double X, double Y);

/// <summary>One named line of a <see cref="LinePlot"/>; non-finite points are skipped (the line breaks there).</summary>
/// <param name="Name">The legend entry.</param>
/// <param name="Points">The points, drawn in order.</param>
/// <param name="Colour">The line colour; null picks the next colour of the plot's palette.</param>
public sealed record LineSeries(string Name, IReadOnlyList<PlotPoint> Points, SKColor? Colour = null)
{
    /// <summary>Draws a small dot at each point as well as the line.</summary>
    public bool ShowMarkers { get; init; }

    /// <summary>Draws the line dashed.</summary>
    public bool Dashed { get; init; }
}

/// <summary>Where a <see cref="LinePlot"/> draws its legend, inside the plot area.</summary>
public enum LegendPosition
{
    /// <summary>No legend.</summary>
    None,

    /// <summary>Top-right corner.</summary>
    TopRight,

    /// <summary>Top-left corner.</summary>
    TopLeft,

    /// <summary>Bottom-right corner.</summary>
    BottomRight,

    /// <summary>Bottom-left corner.</summary>
    BottomLeft,
}
