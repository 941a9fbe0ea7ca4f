using System.Globalization;

namespace FaceNetGen.Evaluation;

/// <summary>Number formats shared by the evaluation reports (invariant culture, "98.87%" with no space).</summary>
internal static class TextFormat
{
    public static string Percent(double fraction) =>
        double.IsNaN(fraction) ? "n/a" : (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
