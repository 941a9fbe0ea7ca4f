using System.Diagnostics;
using FaceNetGen.Models;
using FaceNetGen.Onnx;
using FaceNetGen.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static FaceNetGen.Tests.Onnx.OnnxTestSupport;

namespace FaceNetGen.Tests.Onnx;

/// <summary>
/// Every built-in spec, with random weights, exported and run by ONNX Runtime on real faces, against our own forward
/// pass on the same input. Error measure: per row max |ours − ORT| / max |ours|, the worst row; it must stay within 1e-4.
/// </summary>
public sealed class OnnxEquivalenceTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Specs
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var entry in ModelCatalog.All) data.Add(entry.Name);
            return data;
        }
    }

    [DataTheory]
    [MemberData(nameof(Specs))]
    public void Exported_model_gives_our_embeddings_on_real_faces(string spec)
    {
        var entry = ModelCatalog.Get(spec);
        var info = entry.Info;
        float[] parameters;
        using (var backend = CreateBackend())
        using (var model = entry.Create(backend, 1, false))
        {
            model.InitializeParameters(2015);
            parameters = model.GetParameters();
        }

        using var folder = new TempFolder();
        string path = folder.File(spec + ".onnx");
        var clock = Stopwatch.StartNew();
        OnnxExport.Export(info, parameters, path);
        var exportTime = clock.Elapsed;
        Assert.Equal(new[] { spec + ".onnx" }, folder.Files());

        const int batch = 3;
        var input = TestFaceImages.Batch(info, batch);
        int ours = batch;
        clock.Restart();
        var expected = Forward(entry, parameters, input, ours);
        var forwardTime = clock.Elapsed;

        using var session = new InferenceSession(path);
        var (three, threeShape) = RunOrt(session, info, input, batch);
        var (one, oneShape) = RunOrt(session, info, input[..info.InputSize], 1);
        Assert.Equal(new long[] { batch, info.EmbeddingSize }, threeShape);
        Assert.Equal(new long[] { 1, info.EmbeddingSize }, oneShape);

        int d = info.EmbeddingSize;
        double errorThree = MaxRelativeError(three.AsSpan(0, ours * d), expected, d);
        double errorOne = MaxRelativeError(one, expected.AsSpan(0, d), d);
        // Rows of the batch of 3 that our forward did not compute: each against ORT on that image alone.
        double errorRows = 0;
        for (int i = ours; i < batch; i++)
        {
            var (single, _) = RunOrt(session, info, input[(i * info.InputSize)..((i + 1) * info.InputSize)], 1);
            errorRows = Math.Max(errorRows, MaxRelativeError(three.AsSpan(i * d, d), single, d));
        }

        output.WriteLine($"{spec}: error batch 3 (rows vs ours: {ours}) {errorThree:E2}, batch 1 {errorOne:E2}, other rows vs ORT alone {errorRows:E2}; " +
            $"file {new FileInfo(path).Length:N0} bytes, export {exportTime.TotalSeconds:F2} s, our forward {forwardTime.TotalSeconds:F1} s");
        Assert.True(errorThree <= Tolerance, $"{spec}: batch of 3 differs from our forward by {errorThree:E2}");
        Assert.True(errorOne <= Tolerance, $"{spec}: batch of 1 differs from our forward by {errorOne:E2}");
        Assert.True(errorRows <= Tolerance, $"{spec}: rows of the batch of 3 differ from the same images alone by {errorRows:E2}");
        for (int i = 0; i < batch; i++)
        {
            double norm = Math.Sqrt(three.AsSpan(i * d, d).ToArray().Sum(v => (double)v * v));
            Assert.InRange(norm, 1 - 1e-5, 1 + 1e-5);
        }
    }

    [DataFact]
    public void A_trained_checkpoint_exports_to_the_same_embeddings()
    {
        // A few steps of the triplet trainer on AT&T faces: weights that training shaped, saved as the trainer saves them.
        using var folder = new TempFolder();
        var options = new FaceNetGen.Training.TrainerOptions
        {
            Spec = "NNS2",
            Epochs = 2,
            HeldOutFraction = 0,
            OutputDirectory = folder.Path,
        };
        string checkpointPath;
        using (var trainer = new FaceNetGen.Training.Trainer(FaceNetGen.Data.FolderFaceDataset.Open(TestPaths.Data("att_faces")), options))
        {
            checkpointPath = trainer.Run().ModelPath!;
        }
        var checkpoint = Checkpoint.Load(checkpointPath);
        var entry = ModelCatalog.Get(checkpoint.SpecName);
        string path = Path.Combine(folder.Path, "trained.onnx");
        OnnxExport.Export(entry.Info, checkpoint.Parameters, path);

        const int batch = 3;
        var input = TestFaceImages.Batch(entry.Info, batch);
        var expected = Forward(entry, checkpoint.Parameters, input, batch);
        using var session = new InferenceSession(path);
        var (actual, _) = RunOrt(session, entry.Info, input, batch);
        double error = MaxRelativeError(actual, expected, entry.Info.EmbeddingSize);
        output.WriteLine($"trained NNS2: error {error:E2}");
        Assert.True(error <= Tolerance, $"trained NNS2: max relative error {error:E2} > {Tolerance:E0}");
    }
}
