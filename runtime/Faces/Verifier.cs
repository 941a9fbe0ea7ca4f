using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceNetGen.Evaluation;

namespace FaceNetGen.Faces;

/// <summary>The answer of <see cref="Verifier.Verify"/>: the squared distance and whether it is within the threshold.</summary>
public readonly record struct VerificationResult(float Distance, bool IsSame);

/// <summary>
/// Face verification with a fixed squared-L2 threshold (Section 4 of the paper): two faces are the same person when
/// D(a, b) = ||a − b||² ≤ <see cref="Threshold"/>. The threshold belongs to one model, so the verifier carries the
/// spec name and its file refuses to load for another spec.
/// </summary>
/// <remarks>
/// The file is a small UTF-8 JSON object:
/// <c>{"format":"facenet-verifier","version":1,"spec":"NN2","threshold":1.242,"calibration":"…"}</c>.
/// </remarks>
public sealed class Verifier
{
    /// <summary>The "format" value of a verifier file.</summary>
    public const string FileFormat = "facenet-verifier";

    /// <summary>The file version this code writes and reads.</summary>
    public const int FileVersion = 1;

    /// <summary>A verifier with a given threshold.</summary>
    /// <param name="threshold">The largest squared distance accepted as the same person; finite.</param>
    /// <param name="specName">The model spec whose embeddings the threshold is for.</param>
    /// <param name="calibration">How the threshold was chosen, for people reading the file; optional.</param>
    public Verifier(float threshold, string specName, string? calibration = null)
    {
        if (!float.IsFinite(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "a verification threshold must be finite.");
        ArgumentException.ThrowIfNullOrWhiteSpace(specName);
        Threshold = threshold;
        SpecName = specName;
        Calibration = calibration;
    }

    /// <summary>The largest squared distance accepted as the same person.</summary>
    public float Threshold { get; }

    /// <summary>The spec whose embeddings the threshold is for.</summary>
    public string SpecName { get; }

    /// <summary>How the threshold was chosen, or null.</summary>
    public string? Calibration { get; }

    /// <summary>The squared distance between two embeddings and whether it is within <see cref="Threshold"/>.</summary>
    public VerificationResult Verify(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float d = EmbeddingDistance.Squared(a, b);
        return new VerificationResult(d, d <= Threshold);
    }

    /// <summary>
    /// A verifier whose threshold is the largest one with FAR ≤ <paramref name="targetFar"/> on the given pairs
    /// (<see cref="PairSet.AtFar"/>; mind <see cref="FarOperatingPoint.IsResolved"/> for small pair sets).
    /// </summary>
    public static Verifier CalibrateAtFar(IEnumerable<ScoredPair> pairs, double targetFar, string specName)
    {
        var set = new PairSet(pairs);
        var point = set.AtFar(targetFar);
        string how = string.Create(CultureInfo.InvariantCulture,
            $"largest threshold with FAR <= {targetFar:G3} on {set.Count} pairs ({set.SameCount} same, {set.DiffCount} different): VAL {TextFormat.Percent(point.Val)}, FAR {point.Far:G4}");
        if (!point.IsResolved) how += "; the pair set is too small for this FAR, so no false accept is allowed";
        return new Verifier(point.Threshold, specName, how);
    }

    /// <summary>A verifier whose threshold has the best accuracy on the given pairs (<see cref="PairSet.BestAccuracy"/>).</summary>
    public static Verifier CalibrateForAccuracy(IEnumerable<ScoredPair> pairs, string specName)
    {
        var set = new PairSet(pairs);
        var point = set.BestAccuracy();
        string how = string.Create(CultureInfo.InvariantCulture,
            $"best accuracy on {set.Count} pairs ({set.SameCount} same, {set.DiffCount} different): {TextFormat.Percent(point.Accuracy)}");
        return new Verifier(point.Threshold, specName, how);
    }

    /// <summary>Writes the verifier file (see the remarks), atomically.</summary>
    public void Save(string path)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", FileFormat);
            w.WriteNumber("version", FileVersion);
            w.WriteString("spec", SpecName);
            w.WriteNumber("threshold", Threshold);
            if (Calibration is null) w.WriteNull("calibration");
            else w.WriteString("calibration", Calibration);
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        AtomicFile.WriteAllBytes(path, buffer.ToArray());
    }

    /// <summary>Reads a verifier file, refusing one made for another spec when <paramref name="expectedSpecName"/> is given.</summary>
    /// <exception cref="FaceNetException">The file is missing, malformed, or for another spec; the message names the file.</exception>
    public static Verifier Load(string path, string? expectedSpecName = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"cannot read verifier file '{path}': {e.Message}", e);
        }
        Verifier verifier;
        try
        {
            var root = JsonNode.Parse(text) as JsonObject ?? throw new FaceNetException($"verifier file '{path}' does not hold a JSON object.");
            if (root["format"]?.GetValue<string>() != FileFormat)
                throw new FaceNetException($"'{path}' is not a verifier file (its \"format\" is not \"{FileFormat}\").");
            int version = root["version"]?.GetValue<int>() ?? throw new FaceNetException($"verifier file '{path}' has no version.");
            if (version != FileVersion)
                throw new FaceNetException($"verifier file '{path}' has version {version}; this build reads version {FileVersion}.");
            string spec = root["spec"]?.GetValue<string>() ?? throw new FaceNetException($"verifier file '{path}' names no spec.");
            float threshold = root["threshold"]?.GetValue<float>() ?? throw new FaceNetException($"verifier file '{path}' has no threshold.");
            if (!float.IsFinite(threshold)) throw new FaceNetException($"verifier file '{path}' has a threshold of {threshold}.");
            verifier = new Verifier(threshold, spec, root["calibration"]?.GetValue<string>());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new FaceNetException($"verifier file '{path}' is malformed: {e.Message}", e);
        }
        if (expectedSpecName is not null && !string.Equals(verifier.SpecName, expectedSpecName, StringComparison.OrdinalIgnoreCase))
            throw new FaceNetException($"verifier file '{path}' was calibrated for spec {verifier.SpecName}, not {expectedSpecName}.");
        return verifier;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{SpecName}: same person when ||a - b||^2 <= {Threshold:G6}");
}
