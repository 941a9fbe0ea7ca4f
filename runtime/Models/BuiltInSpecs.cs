namespace FaceNetGen.Models;

/// <summary>The six paper architectures' YAML, embedded in the runtime (the same files the generator compiled).</summary>
public static class BuiltInSpecs
{
    public static IReadOnlyList<string> Names { get; } = new[] { "NN1", "NN2", "NN3", "NN4", "NNS1", "NNS2" };

    /// <summary>The YAML text of a built-in spec, by name (case-insensitive), or null.</summary>
    public static string? GetText(string name)
    {
        string? match = Names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        if (match is null) return null;
        using var stream = typeof(BuiltInSpecs).Assembly.GetManifestResourceStream($"specs/{match}.yaml");
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
