using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;
using FaceNetGen.Specs;
using FaceNetGen.Tests.Infrastructure;
using FaceNetGen.Tests.Kernels;

namespace FaceNetGen.Tests.ModelTests;

/// <summary>
/// A model built for inference runs on a smaller arena whose slots are reused once their tensors are dead: the
/// embeddings must be those of the full arena, and no two tensors alive at once may share memory.
/// </summary>
[Collection(nameof(SerialCollection))]
public class InferenceArenaTests
{
    public static TheoryData<string> Specs => new() { "NN1", "NN2", "NN3", "NN4", "NNS1", "NNS2" };

    [Theory]
    [MemberData(nameof(Specs))]
    public void Tensors_alive_at_the_same_time_never_share_inference_memory(string name)
    {
        var plan = ModelCatalog.Get(name).Info;
        var analyzed = SpecAnalyzer.Compile(BuiltInSpecs.GetText(name)!).Model!;
        var ops = analyzed.Plan.Ops;
        int count = analyzed.Plan.Tensors.Count;
        var born = new int[count];
        var last = new int[count];
        for (int i = 0; i < ops.Count; i++)
        {
            born[ops[i].Output] = i;
            foreach (int t in ops[i].Inputs) last[t] = Math.Max(last[t], i);
        }
        last[analyzed.Plan.InputTensor] = last[analyzed.Plan.OutputTensor] = int.MaxValue;
        var tensors = plan.Activations;
        Assert.Equal(count, tensors.Count);
        for (int a = 0; a < count; a++)
        {
            Assert.InRange(tensors[a].InferenceOffset + tensors[a].Size, tensors[a].Size, plan.InferenceActivationsPerImage);
            for (int b = a + 1; b < count; b++)
            {
                bool together = born[a] <= last[b] && born[b] <= last[a];
                bool overlap = tensors[a].InferenceOffset < tensors[b].InferenceOffset + tensors[b].Size &&
                               tensors[b].InferenceOffset < tensors[a].InferenceOffset + tensors[a].Size;
                Assert.False(together && overlap, $"{name}: '{tensors[a].Name}' and '{tensors[b].Name}' are alive together but share inference memory");
            }
        }
        // The point of it: the inference arena is much smaller than the training one (every spec here at most half).
        Assert.True(plan.InferenceActivationsPerImage * 2 <= plan.ActivationsPerImage,
            $"{name}: inference arena {plan.InferenceActivationsPerImage} floats per image, training {plan.ActivationsPerImage}");
    }

    [Theory]
    [InlineData("NNS2", 3)]
    [InlineData("NN4", 2)]
    [InlineData("NNS1", 2)]
    public void An_inference_model_embeds_as_the_training_model_does(string name, int batch)
    {
        using var backend = new CpuBackend(2);
        using var training = ModelCatalog.Get(name).Create(backend, batch, true);
        using var inference = ModelCatalog.Get(name).Create(backend, batch, false);
        training.InitializeParameters(7);
        inference.SetParameters(training.GetParameters());
        var info = training.Description;
        var input = KernelHarness.Random(batch * info.InputSize, 3);
        var expected = new float[batch * info.EmbeddingSize];
        var actual = new float[batch * info.EmbeddingSize];
        training.SetInput(input, batch);
        training.Forward(batch);
        training.GetOutput(expected, batch);
        inference.SetInput(input, batch);
        // Twice: Forward must leave the input it reads intact, and a second pass over reused slots gives the same result.
        for (int pass = 0; pass < 2; pass++)
        {
            inference.Forward(batch);
            inference.GetOutput(actual, batch);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"{name} pass {pass}: embedding value {i} is {actual[i]}, the training arena gives {expected[i]}");
            }
        }
        Assert.True(inference.Activations.Length < training.Activations.Length);
    }
}
