using System.Globalization;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Faces;
using FaceNetGen.Models;

namespace FaceNetGen.Tests.Cli;

/// <summary>
/// The checkpoints the face-command tests pass to <c>--model</c>, written once for the whole collection: NNS2 with
/// seeded random weights (the mechanics, not the accuracy, are under test), with and without a "threshold" in its
/// metadata, and two broken ones (truncated, and made for a spec this program does not know).
/// </summary>
public sealed class CliModelFixture : IDisposable
{
    /// <summary>The "threshold" metadata of <see cref="Model"/>.</summary>
    public const float Threshold = 0.75f;

    public CliModelFixture()
    {
        Folder = Path.Combine(Path.GetTempPath(), "fng-cli-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Folder);
        float[] parameters;
        ModelWithoutThreshold = Path.Combine(Folder, "nns2-no-threshold.safetensors");
        using (var backend = new CpuBackend())
        using (var model = new NNS2(backend, 1))
        {
            model.InitializeParameters(2015);
            parameters = model.GetParameters();
            Checkpoint.FromModel(model).Save(ModelWithoutThreshold, model.Description);
        }

        Model = Path.Combine(Folder, "nns2.safetensors");
        new Checkpoint(NNS2.SpecName, NNS2.SpecHash, parameters)
        {
            Metadata = new Dictionary<string, string> { ["threshold"] = Threshold.ToString("R", CultureInfo.InvariantCulture) },
        }.Save(Model, NNS2.Info);

        Truncated = Path.Combine(Folder, "truncated.safetensors");
        byte[] whole = File.ReadAllBytes(Model);
        File.WriteAllBytes(Truncated, whole.AsSpan(0, whole.Length / 2).ToArray());

        UnknownSpec = Path.Combine(Folder, "unknown-spec.safetensors");
        SafeTensors.Save(UnknownSpec, [new SafeTensor("conv1.weight", [2], new float[] { 1, 2 })], new Dictionary<string, string>
        {
            ["format"] = Checkpoint.FormatName,
            ["format_version"] = "1",
            ["spec"] = "NN9",
            ["spec_hash"] = "0123456789abcdef",
        });
    }

    /// <summary>The folder holding the checkpoints.</summary>
    public string Folder { get; }

    /// <summary>NNS2, random weights, "threshold" = <see cref="Threshold"/>, no "crop_fraction" (so the default crop).</summary>
    public string Model { get; }

    /// <summary>The same weights without a "threshold".</summary>
    public string ModelWithoutThreshold { get; }

    /// <summary>The first half of <see cref="Model"/>'s bytes.</summary>
    public string Truncated { get; }

    /// <summary>A well-formed checkpoint whose metadata names the spec "NN9".</summary>
    public string UnknownSpec { get; }

    /// <summary>The embeddings of image files computed through the library, as the commands should compute them.</summary>
    public float[][] Embed(params string[] paths)
    {
        using var embedder = Embedder.Load(Model);
        return embedder.EmbedFiles(paths);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The face-command test classes share one <see cref="CliModelFixture"/> and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class CliModelCollection : ICollectionFixture<CliModelFixture>
{
    public const string Name = "cli-model";
}

/// <summary>Paths of the shared data the face-command tests use.</summary>
internal static class CliData
{
    public static string Att(string relative) => Path.Combine(FaceNetGen.Tests.Infrastructure.TestPaths.Data("att_faces"), relative);

    public static string Lfw(string relative) => Path.Combine(FaceNetGen.Tests.Infrastructure.TestPaths.Data("lfw_devsubset"), relative);
}
