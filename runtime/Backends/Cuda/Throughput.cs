using System.Diagnostics;
using FaceNetGen.Models;

namespace FaceNetGen.Backends.Cuda;

/// <summary>A measured rate: <paramref name="Steps"/> timed steps of <paramref name="Batch"/> images after a warm-up.</summary>
public sealed record ThroughputResult(string Model, string What, int Batch, int Steps, double MillisecondsPerStep)
{
    public double ImagesPerSecond => MillisecondsPerStep > 0 ? Batch * 1000.0 / MillisecondsPerStep : 0;
}

/// <summary>
/// Training-step and embedding throughput of a model on a backend. The input batch and the upstream gradient are on
/// the device before timing; host transfers are not timed. On a <see cref="CudaBackend"/> the time comes from CUDA
/// events on its stream; elsewhere from a stopwatch after <see cref="IBackend.Synchronize"/>.
/// </summary>
public static class Throughput
{
    /// <summary>AdaGrad's learning rate in the timed step (the paper's).</summary>
    public const float LearningRate = 0.05f;

    /// <summary>AdaGrad's epsilon (PyTorch's default, so that both sides do the same arithmetic).</summary>
    public const float Epsilon = 1e-10f;

    /// <summary>
    /// One training step: zero the gradients, forward, backward from a fixed dL/d(embedding) (the gradient of the loss
    /// Σ g·embedding), and an AdaGrad step over the whole parameter arena.
    /// </summary>
    public static ThroughputResult TrainingStep(ModelEntry model, IBackend backend, int batch, int warmup, int steps, ulong seed)
    {
        using var m = model.Create(backend, batch, true);
        using var sumSquares = backend.Allocate(m.Description.ParameterLength);
        Prepare(m, backend, batch, seed, upstream: true);
        long length = m.Description.ParameterLength;
        void Step()
        {
            m.Forward(batch);
            m.Backward(batch);
            backend.AdaGradStep(m.Parameters.At(0), m.ParameterGradients!.At(0), sumSquares.At(0), length, LearningRate, Epsilon);
        }
        return Time(model.Name, "train step", backend, batch, warmup, steps, Step);
    }

    /// <summary>Embedding: the forward pass of an inference model.</summary>
    public static ThroughputResult Embed(ModelEntry model, IBackend backend, int batch, int warmup, int steps, ulong seed)
    {
        using var m = model.Create(backend, batch, false);
        Prepare(m, backend, batch, seed, upstream: false);
        return Time(model.Name, "embed", backend, batch, warmup, steps, () => m.Forward(batch));
    }

    private static void Prepare(FaceNetModel m, IBackend backend, int batch, ulong seed, bool upstream)
    {
        var rng = new DeterministicRandom(seed);
        m.InitializeParameters(rng.NextUInt64());
        var input = new float[(long)batch * m.Description.InputSize];
        for (long i = 0; i < input.Length; i++) input[i] = rng.NextFloat(-1f, 1f);
        m.SetInput(input, batch);
        if (upstream)
        {
            var g = new float[batch * m.Description.EmbeddingSize];
            for (int i = 0; i < g.Length; i++) g[i] = rng.NextFloat(-1f, 1f);
            backend.Upload(g, m.OutputGradient);
        }
        backend.Synchronize();
    }

    private static ThroughputResult Time(string model, string what, IBackend backend, int batch, int warmup, int steps, Action step)
    {
        for (int i = 0; i < warmup; i++) step();
        backend.Synchronize();
        double ms;
        if (backend is CudaBackend cuda)
        {
            using var timer = cuda.CreateTimer();
            timer.Start();
            for (int i = 0; i < steps; i++) step();
            ms = timer.Stop();
        }
        else
        {
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++) step();
            backend.Synchronize();
            ms = watch.Elapsed.TotalMilliseconds;
        }
        return new ThroughputResult(model, what, batch, steps, ms / Math.Max(steps, 1));
    }
}
