using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceNetGen.Models;
using FaceNetGen.Specs;

namespace FaceNetGen.Cli;

/// <summary><c>facenet spec NN2|path.yaml</c>: the layer table and totals, from the runtime's copy of the analysis.</summary>
internal static class SpecCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var cl = new CommandLine(args, new[] { "json" });
        bool json = cl.Flag("json");
        cl.Done();
        if (cl.Positionals.Count != 1) throw new UsageException("give one spec: a built-in name (" + string.Join(", ", BuiltInSpecs.Names) + ") or a path to a .yaml file.");
        string which = cl.Positionals[0];
        var (path, text) = Load(which);

        var result = SpecAnalyzer.Compile(text);
        if (result.Model is null)
        {
            foreach (var d in result.Diagnostics) stderr.WriteLine(d.Format(path));
            stderr.WriteLine($"facenet spec: {path} has {result.Diagnostics.Count} error(s).");
            return 1;
        }
        var model = result.Model;
        if (json)
        {
            WriteJson(model, stdout);
            return 0;
        }
        var spec = model.Spec;
        stdout.WriteLine($"{spec.Name}: input {spec.InputHeight}x{spec.InputWidth}x{spec.InputChannels}, embedding {spec.Embedding}, spec hash {model.Hash}");
        if (!string.IsNullOrEmpty(spec.Description)) stdout.WriteLine(spec.Description);
        stdout.WriteLine();
        foreach (var line in LayerTable.Lines(model, exact: true)) stdout.WriteLine(line);
        stdout.WriteLine();
        stdout.WriteLine($"params: {N(model.Params)} ({N(model.Weights)} weights + {N(model.Biases)} biases) = {SpecAnalyzer.FormatParams(model.Params)}{Declared(spec.Totals.Params, model.Params)}");
        stdout.WriteLine($"FLOPS:  {N(model.Flops)} per image = {SpecAnalyzer.FormatFlops(model.Flops)}{Declared(spec.Totals.Flops, model.Flops)}  ({N(model.MultiplyAdds)} multiply-adds)");
        stdout.WriteLine($"activations: {N(model.Plan.ActivationsPerImage)} floats per image for training, {N(model.Plan.InferenceActivationsPerImage)} for inference");
        stdout.WriteLine($"gradients:   {N(model.Plan.GradientsPerImage)} floats per image of activation gradients for training");
        return 0;
    }

    internal static (string Path, string Text) Load(string which)
    {
        if (!which.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) && !which.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
        {
            string? builtIn = BuiltInSpecs.GetText(which);
            if (builtIn is null)
                throw new FaceNetException($"unknown spec '{which}': expected one of {string.Join(", ", BuiltInSpecs.Names)} or a path to a .yaml file.");
            return (which.ToUpperInvariant() + ".yaml", builtIn);
        }
        try
        {
            return (which, File.ReadAllText(which));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"cannot read spec '{which}': {ex.Message}");
        }
    }

    private static string Declared(FigureDecl? d, long computed)
    {
        if (d is null) return "";
        double diff = (computed - d.Value) / d.Value * 100;
        return string.Format(CultureInfo.InvariantCulture, "  (spec declares {0}: {1:+0.0;-0.0;0.0}%)", d.Text, diff);
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static void WriteJson(AnalyzedModel model, TextWriter stdout)
    {
        // JsonNode rather than reflection over anonymous types: a trimmed publish of the tool stays warning-free.
        var layers = new JsonArray();
        foreach (var l in model.Layers)
        {
            layers.Add((JsonNode)new JsonObject
            {
                ["name"] = l.Name,
                ["type"] = l.Type,
                ["sizeIn"] = l.In.ToString(),
                ["sizeOut"] = l.Out.ToString(),
                ["kernel"] = l.Kernel,
                ["weights"] = l.Weights,
                ["biases"] = l.Biases,
                ["params"] = l.Params,
                ["flops"] = l.Flops,
            });
        }
        var doc = new JsonObject
        {
            ["name"] = model.Spec.Name,
            ["hash"] = model.Hash,
            ["input"] = new JsonObject { ["height"] = model.Spec.InputHeight, ["width"] = model.Spec.InputWidth, ["channels"] = model.Spec.InputChannels },
            ["embedding"] = model.Spec.Embedding,
            ["weights"] = model.Weights,
            ["biases"] = model.Biases,
            ["params"] = model.Params,
            ["flops"] = model.Flops,
            ["multiplyAdds"] = model.MultiplyAdds,
            ["layers"] = layers,
        };
        stdout.WriteLine(doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
