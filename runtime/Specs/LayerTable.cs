using System.Globalization;
using System.Text;

namespace FaceNetGen.Specs;

/// <summary>
/// The paper-style layer table of an analysed spec (size in, size out, kernel, params, FLOPS), as plain text.
/// The generator writes it into each model's XML docs and `facenet spec` prints it: one rendering for both.
/// </summary>
public static class LayerTable
{
    public static IReadOnlyList<string> Lines(AnalyzedModel model, bool exact = false)
    {
        var header = new List<string> { "layer", "type", "size-in", "size-out", "kernel", "params", "FLOPS" };
        if (exact)
        {
            header.Add("weights");
            header.Add("biases");
            header.Add("FLOPS (exact)");
        }
        var rows = new List<string[]> { header.ToArray() };
        foreach (var r in model.Layers)
        {
            var row = new List<string>
            {
                r.Name, r.Type, r.In.ToString(), r.Out.ToString(), r.Kernel,
                SpecAnalyzer.FormatParams(r.Params), SpecAnalyzer.FormatFlops(r.Flops),
            };
            if (exact)
            {
                row.Add(Number(r.Weights));
                row.Add(Number(r.Biases));
                row.Add(Number(r.Flops));
            }
            rows.Add(row.ToArray());
        }
        var total = new List<string>
        {
            "total", "", model.Spec.InputShape.ToString(), $"{model.Spec.Embedding}", "",
            SpecAnalyzer.FormatParams(model.Params), SpecAnalyzer.FormatFlops(model.Flops),
        };
        if (exact)
        {
            total.Add(Number(model.Weights));
            total.Add(Number(model.Biases));
            total.Add(Number(model.Flops));
        }
        rows.Add(total.ToArray());

        int columns = rows[0].Length;
        var widths = new int[columns];
        foreach (var row in rows)
        {
            for (int i = 0; i < columns; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        }
        var lines = new List<string>();
        for (int r = 0; r < rows.Count; r++)
        {
            if (r == rows.Count - 1) lines.Add(Rule(widths));
            var sb = new StringBuilder();
            for (int i = 0; i < columns; i++)
            {
                bool numeric = i >= 5;
                string cell = rows[r][i];
                sb.Append(numeric ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]));
                if (i < columns - 1) sb.Append("  ");
            }
            lines.Add(sb.ToString().TrimEnd());
            if (r == 0) lines.Add(Rule(widths));
        }
        return lines;
    }

    public static string Text(AnalyzedModel model, bool exact = false) => string.Join("\n", Lines(model, exact)) + "\n";

    private static string Rule(int[] widths) => string.Join("  ", widths.Select(w => new string('-', w)));

    private static string Number(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}
