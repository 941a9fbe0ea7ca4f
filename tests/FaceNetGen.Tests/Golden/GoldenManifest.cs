using System.Text.Json;
using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Golden;

/// <summary>Where a tensor lies in a golden blob, in floats.</summary>
public sealed record GoldenPlace(string Name, int Offset, int Length);

/// <summary>Statistics of one tensor of the PyTorch run (sum, Σ|x|, Σx²) and, for parameter gradients, sampled entries.</summary>
public sealed record GoldenStats(string Name, double Sum, double SumAbs, double SumSquares, IReadOnlyList<(int Index, double Value)> Samples);

/// <summary>A spec's tables as the PyTorch model builds them.</summary>
public sealed record GoldenLayout(string Spec, long MultiplyAdds, IReadOnlyList<(string Name, int[] Shape)> Parameters, IReadOnlyList<(string Name, int[] Shape)> Activations);

/// <summary>What one golden case shares: the spec, batch, seeds, tolerances and probes of the deterministic tensors.</summary>
public sealed record GoldenCase(
    string Spec, int Batch, ulong WeightsSeed, ulong InputSeed, ulong GradientSeed,
    IReadOnlyDictionary<string, double> Tolerance,
    IReadOnlyList<(long Index, float Value)> ParameterProbes,
    IReadOnlyList<(long Index, float Value)> InputProbes,
    IReadOnlyList<(long Index, float Value)> GradientProbes);

/// <summary>GoldenInception: full tensors, in a float32 blob.</summary>
public sealed record InceptionGolden(
    GoldenCase Case, float[] Blob, GoldenPlace Output,
    IReadOnlyList<GoldenPlace> Activations, IReadOnlyList<GoldenPlace> ActivationGradients, GoldenPlace ParameterGradients)
{
    public ReadOnlySpan<float> Of(GoldenPlace place) => Blob.AsSpan(place.Offset, place.Length);
}

/// <summary>NNS2: the embeddings, and statistics and samples of the other tensors.</summary>
public sealed record Nns2Golden(
    GoldenCase Case, double[] Embeddings,
    IReadOnlyList<GoldenStats> Activations, IReadOnlyList<GoldenStats> ActivationGradients, IReadOnlyList<GoldenStats> ParameterGradients);

/// <summary>
/// Golden/golden.json and its blob, written by tools/torch/make_golden.py (which documents the format). Loaded once.
/// </summary>
public sealed class GoldenManifest
{
    private static readonly Lazy<GoldenManifest> Instance = new(() => Load(TestPaths.TestFile(Path.Combine("Golden", "golden.json"))));

    private GoldenManifest(IReadOnlyList<GoldenLayout> layouts, InceptionGolden inception, Nns2Golden nns2)
    {
        Layouts = layouts;
        Inception = inception;
        Nns2 = nns2;
    }

    public static GoldenManifest Current => Instance.Value;

    public IReadOnlyList<GoldenLayout> Layouts { get; }

    public InceptionGolden Inception { get; }

    public Nns2Golden Nns2 { get; }

    public static GoldenManifest Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        if (root.GetProperty("format").GetInt32() != 1) throw new InvalidDataException($"{path}: unknown golden format");

        var layouts = root.GetProperty("layouts").EnumerateArray().Select(l => new GoldenLayout(
            l.GetProperty("spec").GetString()!,
            l.GetProperty("multiplyAdds").GetInt64(),
            NamedShapes(l.GetProperty("parameters")),
            NamedShapes(l.GetProperty("activations")))).ToList();

        var inc = root.GetProperty("inception");
        string blobPath = Path.Combine(Path.GetDirectoryName(path)!, inc.GetProperty("blob").GetString()!);
        var inception = new InceptionGolden(
            Case(inc), ReadFloats(blobPath), Place("output", inc.GetProperty("output")),
            Places(inc.GetProperty("activations")), Places(inc.GetProperty("activationGradients")),
            Place("parameterGradients", inc.GetProperty("parameterGradients")));

        var n = root.GetProperty("nns2");
        var nns2 = new Nns2Golden(
            Case(n), n.GetProperty("embeddings").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            Stats(n.GetProperty("activations")), Stats(n.GetProperty("activationGradients")), Stats(n.GetProperty("parameterGradients")));
        return new GoldenManifest(layouts, inception, nns2);
    }

    private static GoldenCase Case(JsonElement e)
    {
        var seeds = e.GetProperty("seeds");
        var probes = e.GetProperty("probes");
        return new GoldenCase(
            e.GetProperty("spec").GetString()!,
            e.GetProperty("batch").GetInt32(),
            seeds.GetProperty("weights").GetUInt64(),
            seeds.GetProperty("input").GetUInt64(),
            seeds.GetProperty("gradient").GetUInt64(),
            e.GetProperty("tolerance").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()),
            Probes(probes.GetProperty("parameters")),
            Probes(probes.GetProperty("input")),
            Probes(probes.GetProperty("gradient")));
    }

    private static List<(long, float)> Probes(JsonElement e) =>
        e.EnumerateArray().Select(p => (p[0].GetInt64(), (float)p[1].GetDouble())).ToList();

    private static List<(string, int[])> NamedShapes(JsonElement e) =>
        e.EnumerateArray().Select(p => (p[0].GetString()!, p[1].EnumerateArray().Select(d => d.GetInt32()).ToArray())).ToList();

    private static GoldenPlace Place(string name, JsonElement e) => new(name, e.GetProperty("offset").GetInt32(), e.GetProperty("length").GetInt32());

    private static List<GoldenPlace> Places(JsonElement e) =>
        e.EnumerateArray().Select(p => Place(p.GetProperty("name").GetString()!, p)).ToList();

    private static List<GoldenStats> Stats(JsonElement e) => e.EnumerateArray().Select(s => new GoldenStats(
        s.GetProperty("name").GetString()!,
        s.GetProperty("sum").GetDouble(),
        s.GetProperty("sumAbs").GetDouble(),
        s.GetProperty("sumSquares").GetDouble(),
        s.TryGetProperty("samples", out var samples)
            ? samples.EnumerateArray().Select(x => (x[0].GetInt32(), x[1].GetDouble())).ToList()
            : new List<(int, double)>())).ToList();

    private static float[] ReadFloats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length % 4 != 0) throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of floats");
        var floats = new float[bytes.Length / 4];
        for (int i = 0; i < floats.Length; i++) floats[i] = BitConverter.ToSingle(bytes, i * 4);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("golden blobs are little-endian");
        return floats;
    }
}
