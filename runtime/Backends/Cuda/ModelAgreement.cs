using System.Diagnostics;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;

namespace FaceNetGen.Backends.Cuda;

/// <summary>The agreement of one parameter-gradient tensor.</summary>
public sealed record TensorAgreement(string Tensor, long Length, double MaxRelativeError);

/// <summary>A whole model run forward and backward on a candidate backend and on the reference, with the same weights and inputs.</summary>
public sealed record ModelAgreementResult(
    string Model, int Batch, double EmbeddingError, double EmbeddingTolerance,
    IReadOnlyList<TensorAgreement> Gradients, double GradientTolerance, double ReferenceSeconds)
{
    public double MaxGradientError => Gradients.Count == 0 ? 0 : Gradients.Max(g => g.MaxRelativeError);

    public bool Passed => EmbeddingError <= EmbeddingTolerance && Gradients.All(g => g.MaxRelativeError <= GradientTolerance);
}

/// <summary>
/// Runs a generated model on a candidate backend and on <see cref="ReferenceBackend"/>: the same initial weights (seeded
/// He/Glorot), the same random input batch and the same random upstream gradient dL/d(embedding); compares the
/// embeddings and every parameter-gradient tensor (max |a − r| / max |r| per tensor). The reference runs one image per
/// thread (each its own batch-1 model; parameter gradients summed), since it is naive and single-threaded.
/// </summary>
public static class ModelAgreement
{
    public const double EmbeddingTolerance = 1e-3;
    public const double GradientTolerance = 5e-3;

    public static ModelAgreementResult Compare(ModelEntry model, IBackend candidate, int batch, ulong seed)
    {
        var info = model.Info;
        var rng = new DeterministicRandom(seed);
        var input = new float[(long)batch * info.InputSize];
        for (int i = 0; i < input.Length; i++) input[i] = rng.NextFloat(-1f, 1f);
        var upstream = new float[batch * info.EmbeddingSize];
        for (int i = 0; i < upstream.Length; i++) upstream[i] = rng.NextFloat(-1f, 1f);
        ulong weightSeed = rng.NextUInt64();

        // Candidate: the whole batch at once.
        var embeddings = new float[batch * info.EmbeddingSize];
        float[] gradients;
        using (var m = model.Create(candidate, batch, true))
        {
            m.InitializeParameters(weightSeed);
            m.SetInput(input, batch);
            m.Forward(batch);
            m.GetOutput(embeddings, batch);
            candidate.Upload(upstream, m.OutputGradient);
            m.Backward(batch);
            candidate.Synchronize();
            gradients = new float[info.ParameterLength];
            candidate.Download(m.ParameterGradients!.At(0), gradients);
        }

        // Reference: one image per thread.
        var watch = Stopwatch.StartNew();
        var refEmbeddings = new float[batch * info.EmbeddingSize];
        var refGradientParts = new float[batch][];
        Parallel.For(0, batch, i =>
        {
            using var backend = new ReferenceBackend();
            using var m = model.Create(backend, 1, true);
            m.InitializeParameters(weightSeed);
            m.SetInput(input.AsSpan(i * info.InputSize, info.InputSize), 1);
            m.Forward(1);
            m.GetOutput(refEmbeddings.AsSpan(i * info.EmbeddingSize, info.EmbeddingSize), 1);
            backend.Upload(upstream.AsSpan(i * info.EmbeddingSize, info.EmbeddingSize), m.OutputGradient);
            m.Backward(1);
            refGradientParts[i] = new float[info.ParameterLength];
            backend.Download(m.ParameterGradients!.At(0), refGradientParts[i]);
        });
        var refGradients = new float[info.ParameterLength];
        for (long k = 0; k < refGradients.Length; k++)
        {
            double sum = 0;
            for (int i = 0; i < batch; i++) sum += refGradientParts[i][k];
            refGradients[k] = (float)sum;
        }
        watch.Stop();

        var tensors = info.Parameters.Select(p => new TensorAgreement(p.Name, p.Length,
            KernelAgreement.RelativeError(gradients.AsSpan((int)p.Offset, (int)p.Length), refGradients.AsSpan((int)p.Offset, (int)p.Length)))).ToList();
        return new ModelAgreementResult(info.Name, batch, KernelAgreement.RelativeError(embeddings, refEmbeddings), EmbeddingTolerance,
            tensors, GradientTolerance, watch.Elapsed.TotalSeconds);
    }
}
