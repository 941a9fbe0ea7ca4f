using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;
using FaceNetGen.Tests.Infrastructure;
using FaceNetGen.Tests.Kernels;

namespace FaceNetGen.Tests.ModelTests;

/// <summary>The generated code runs over statically planned arenas: after warm-up a training step allocates nothing.</summary>
[Collection(nameof(SerialCollection))]
public class AllocationTests
{
    [Theory]
    [InlineData("NN4", 4)]
    [InlineData("NN4", 16)]
    [InlineData("NNS2", 8)]
    public void A_warm_training_step_allocates_zero_bytes(string name, int batch)
    {
        using var backend = new CpuBackend();
        using var model = ModelCatalog.Get(name).Create(backend, batch, true);
        model.InitializeParameters(1);
        var info = model.Description;
        var input = KernelHarness.Random(batch * info.InputSize, 1);
        var dEmbedding = KernelHarness.Random(batch * info.EmbeddingSize, 2, 0.01f);
        var embeddings = new float[batch * info.EmbeddingSize];
        using var sumSquares = backend.Allocate(info.ParameterLength);

        void Step()
        {
            model.SetInput(input, batch);
            model.Forward(batch);
            model.GetOutput(embeddings, batch);
            backend.Upload(dEmbedding, model.OutputGradient);
            model.Backward(batch);
            backend.AdaGradStep(model.Parameters.At(0), model.ParameterGradients!.At(0), sumSquares.At(0), info.ParameterLength, 0.05f, 1e-8f);
        }

        for (int i = 0; i < 3; i++) Step();
        // The step runs on this thread and the backend's workers: count exactly those (the test host's own threads
        // allocate in the background).
        long before = GC.GetAllocatedBytesForCurrentThread() + backend.WorkerAllocatedBytes;
        Step();
        Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() + backend.WorkerAllocatedBytes - before;
        Assert.Equal(0, allocated);
        // The fresh backend's scratch grew only as far as the model's kernels asked, and none wrote past it.
        backend.VerifyScratch();
    }
}
