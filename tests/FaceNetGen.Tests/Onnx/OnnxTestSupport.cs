using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;
using Microsoft.ML.OnnxRuntime;

namespace FaceNetGen.Tests.Onnx;

/// <summary>What the ONNX tests share: the backend that computes our side of each comparison, ONNX Runtime runs, and the error measure.</summary>
internal static class OnnxTestSupport
{
    /// <summary>
    /// The one place that picks the backend our forward pass runs on in these tests. The naive reference backend for
    /// now (slow: the tests keep their batches small); a faster CPU backend replaces it here.
    /// </summary>
    public static IBackend CreateBackend() => new CpuBackend();

    /// <summary>Our own embeddings of the first <paramref name="n"/> images of <paramref name="input"/>.</summary>
    public static float[] Forward(ModelEntry entry, ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, int n)
    {
        using var backend = CreateBackend();
        using var model = entry.Create(backend, n, false);
        model.SetParameters(parameters);
        model.SetInput(input, n);
        model.Forward(n);
        var output = new float[n * entry.Info.EmbeddingSize];
        model.GetOutput(output, n);
        return output;
    }

    /// <summary>Runs an exported file on an (n, C, H, W) batch and returns its "embedding" output with its shape.</summary>
    public static (float[] Values, long[] Shape) RunOrt(InferenceSession session, ModelDescription model, float[] input, int n)
    {
        using var x = OrtValue.CreateTensorValueFromMemory(input, [n, model.InputChannels, model.InputHeight, model.InputWidth]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input"], [x], ["embedding"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }

    /// <summary>
    /// The error measure of the comparisons: for each row, max |a − b| over the row divided by max |b| over the row (b the
    /// reference), and the largest of these over the rows.
    /// </summary>
    public static double MaxRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int rowLength)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int row = 0; row < expected.Length / rowLength; row++)
        {
            double diff = 0, scale = 0;
            for (int k = row * rowLength; k < (row + 1) * rowLength; k++)
            {
                diff = Math.Max(diff, Math.Abs((double)actual[k] - expected[k]));
                scale = Math.Max(scale, Math.Abs((double)expected[k]));
            }
            double error = scale > 0 ? diff / scale : diff;
            if (double.IsNaN(error)) return double.PositiveInfinity;
            worst = Math.Max(worst, error);
        }
        return worst;
    }

    /// <summary>A fresh empty folder under the system temp folder, deleted on dispose.</summary>
    public sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = Directory.CreateTempSubdirectory("facenet-onnx-").FullName;
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        /// <summary>The names of every file in the folder (hidden ones included), sorted.</summary>
        public string[] Files() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: the system temp folder is cleaned eventually.
            }
        }
    }
}
