using System.Globalization;

namespace FaceNetGen.Models;

/// <summary>
/// A model's weights, and optionally the training state that resumes a run: optimiser state, step, random state and
/// the trainer's settings. Stored as safetensors: each parameter tensor under its own name ("conv1.weight", …, so other
/// tools can read the weights), each optimiser state arena as "optimizer.&lt;name&gt;", the random state as the U64
/// tensor "trainer.rng", and the rest in the metadata, among it the spec's name and hash, which loading checks.
/// </summary>
public sealed class Checkpoint
{
    public const string FormatName = "facenetgen-checkpoint";
    public const int FormatVersion = 1;

    /// <summary>Metadata key of the squared-distance threshold calibrated on held-out identities during training.</summary>
    public const string ThresholdKey = "threshold";

    /// <summary>Metadata key of the centre-crop fraction the model was trained with.</summary>
    public const string CropFractionKey = "crop_fraction";

    public Checkpoint(string specName, string specHash, float[] parameters)
    {
        SpecName = specName;
        SpecHash = specHash;
        Parameters = parameters;
    }

    public string SpecName { get; }

    public string SpecHash { get; }

    /// <summary>The whole parameter arena, as <see cref="FaceNetModel.GetParameters"/> returns it.</summary>
    public float[] Parameters { get; }

    /// <summary>Training steps taken when this was saved (0 for weights alone).</summary>
    public long Step { get; init; }

    /// <summary>The optimiser's state arenas by name (empty for weights alone).</summary>
    public IReadOnlyDictionary<string, float[]> OptimizerState { get; init; } = new Dictionary<string, float[]>();

    /// <summary>The trainer's random state (<see cref="DeterministicRandom.GetState"/>), or null.</summary>
    public ulong[]? RandomState { get; init; }

    /// <summary>Free-form string metadata: optimiser and trainer settings, measured accuracy, and the like.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>The verification threshold recorded at training (<see cref="ThresholdKey"/>), or null.</summary>
    public float? Threshold { get; private init; }

    /// <summary>The centre-crop fraction recorded at training (<see cref="CropFractionKey"/>), or null.</summary>
    public double? CropFraction { get; private init; }

    /// <summary>The weights of <paramref name="model"/> as a checkpoint.</summary>
    public static Checkpoint FromModel(FaceNetModel model) => new(model.Description.Name, model.Description.SpecHash, model.GetParameters());

    /// <summary>Writes the checkpoint atomically: an interrupted save leaves the previous file intact.</summary>
    public void Save(string path, ModelDescription description)
    {
        CheckFor(description, path);
        var tensors = new List<SafeTensor>();
        foreach (var p in description.Parameters)
        {
            tensors.Add(new SafeTensor(p.Name, p.Shape.Select(d => (long)d).ToArray(), Parameters.AsSpan((int)p.Offset, (int)p.Length).ToArray()));
        }
        foreach (var (name, values) in OptimizerState.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            tensors.Add(new SafeTensor("optimizer." + name, new[] { (long)values.Length }, values));
        }
        if (RandomState is not null) tensors.Add(new SafeTensor("trainer.rng", new[] { (long)RandomState.Length }, RandomState));
        var metadata = new Dictionary<string, string>(Metadata, StringComparer.Ordinal)
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["spec"] = SpecName,
            ["spec_hash"] = SpecHash,
            ["embedding_size"] = description.EmbeddingSize.ToString(CultureInfo.InvariantCulture),
            ["input"] = $"{description.InputHeight}x{description.InputWidth}x{description.InputChannels}",
            ["input_format"] = InputFormat.Describe,
            ["step"] = Step.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>Reads a checkpoint; the file must be one of ours (its format and spec are in its metadata).</summary>
    public static Checkpoint Load(string path)
    {
        if (Directory.Exists(path)) throw new FaceNetException($"{path}: is a folder, not a checkpoint file (.safetensors).");
        var (tensors, metadata) = SafeTensors.Load(path);
        if (!metadata.TryGetValue("format", out var format) || format != FormatName)
            throw new FaceNetException($"{path}: not a FaceNetGen checkpoint (its metadata has no format '{FormatName}').");
        if (!metadata.TryGetValue("spec", out var spec) || !metadata.TryGetValue("spec_hash", out var hash))
            throw new FaceNetException($"{path}: the checkpoint does not name its spec.");
        var description = ModelCatalog.TryGet(spec, out var entry) ? entry.Info : null;
        if (description is null)
            throw new FaceNetException($"{path}: the checkpoint was made for spec '{spec}', which this program does not know (known: {string.Join(", ", ModelCatalog.All.Select(e => e.Name))}).");
        if (description.SpecHash != hash)
            throw new FaceNetException($"{path}: the checkpoint was made for a different {spec} architecture (spec hash {hash}; this program's {spec} is {description.SpecHash}).");

        var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var parameters = new float[description.ParameterLength];
        foreach (var p in description.Parameters)
        {
            if (!byName.TryGetValue(p.Name, out var t) || t.Floats is null)
                throw new FaceNetException($"{path}: the checkpoint has no float tensor '{p.Name}'.");
            if (!t.Shape.SequenceEqual(p.Shape.Select(d => (long)d)))
                throw new FaceNetException($"{path}: tensor '{p.Name}' has shape [{string.Join(", ", t.Shape)}], the model expects [{string.Join(", ", p.Shape)}].");
            t.Floats.CopyTo(parameters.AsSpan((int)p.Offset, (int)p.Length));
        }
        var state = tensors.Where(t => t.Name.StartsWith("optimizer.", StringComparison.Ordinal) && t.Floats is not null)
            .ToDictionary(t => t.Name["optimizer.".Length..], t => t.Floats!, StringComparer.Ordinal);
        ulong[]? random = byName.TryGetValue("trainer.rng", out var rng) ? rng.Words : null;
        long step = metadata.TryGetValue("step", out var s) && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
        return new Checkpoint(spec, hash, parameters)
        {
            Step = step,
            OptimizerState = state,
            RandomState = random,
            Metadata = metadata,
            Threshold = metadata.TryGetValue(ThresholdKey, out var threshold) ? ParseThreshold(threshold, path) : null,
            CropFraction = metadata.TryGetValue(CropFractionKey, out var crop) ? ParseCrop(crop, path) : null,
        };
    }

    private static float ParseThreshold(string text, string path) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) && v >= 0
            ? v
            : throw new FaceNetException($"{path}: the checkpoint's '{ThresholdKey}' metadata is '{text}', not a non-negative number.");

    private static double ParseCrop(string text, string path) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && v <= 1
            ? v
            : throw new FaceNetException($"{path}: the checkpoint's '{CropFractionKey}' metadata is '{text}', not a fraction in (0, 1].");

    /// <summary>Loads the weights into <paramref name="model"/>, after checking that they were made for its architecture.</summary>
    public void ApplyTo(FaceNetModel model, string? path = null)
    {
        CheckFor(model.Description, path);
        model.SetParameters(Parameters);
    }

    private void CheckFor(ModelDescription description, string? path)
    {
        string where = path is null ? "the checkpoint" : path;
        if (description.Name != SpecName || description.SpecHash != SpecHash)
            throw new FaceNetException($"{where}: the checkpoint was made for {SpecName} (spec hash {SpecHash}), not for {description.Name} (spec hash {description.SpecHash}).");
        if (Parameters.Length != description.ParameterLength)
            throw new FaceNetException($"{where}: the checkpoint holds {Parameters.Length:N0} parameters, {description.Name} has {description.ParameterLength:N0}.");
    }
}
