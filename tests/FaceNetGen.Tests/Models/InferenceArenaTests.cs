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
        var info = ModelCatalog.Get(name).Info;
        var plan = SpecAnalyzer.Compile(BuiltInSpecs.GetText(name)!).Model!.Plan;
        var ops = plan.Ops;
        var tensors = plan.Tensors;
        int count = tensors.Count;
        var born = new int[count];
        var last = new int[count];
        // Lifetimes in the order Forward runs the ops: a valid order, in which a tensor's readers run one after another.
        var order = plan.ForwardOrder.ToArray();
        Assert.Equal(Enumerable.Range(0, ops.Count), order.OrderBy(i => i));
        for (int k = 0; k < order.Length; k++)
        {
            var op = ops[order[k]];
            foreach (int t in op.Inputs) Assert.True(t == plan.InputTensor || order.Take(k).Any(i => ops[i].Output == t), $"{name}: {op.Layer} runs before its input is written");
            born[op.Output] = k;
            foreach (int t in op.Inputs) last[t] = Math.Max(last[t], k);
        }
        foreach (var t in tensors)
        {
            var steps = Enumerable.Range(0, order.Length).Where(k => ops[order[k]].Inputs.Contains(t.Id)).ToList();
            if (steps.Count > 1) Assert.True(steps[^1] - steps[0] == steps.Count - 1, $"{name}: the readers of '{t.Name}' run at steps {string.Join(", ", steps)}, not one after another");
        }
        // A group of 1×1 siblings runs as one call at its first member, which writes every member's output.
        foreach (var group in Siblings.Groups(ops, order, plan.OutputTensor))
        {
            foreach (int k in group) born[ops[order[k]].Output] = group[0];
        }
        born[plan.InputTensor] = -1;
        last[plan.InputTensor] = last[plan.OutputTensor] = int.MaxValue;
        // A view is written into its concatenation, which is therefore alive from the view's op on; the view must be
        // read by nothing but the concatenation, and lie within one image of it.
        int views = 0;
        foreach (var t in tensors.Where(t => t.IsInferenceView))
        {
            views++;
            var whole = tensors[t.InferenceView];
            var concat = Assert.IsType<ConcatOp>(ops.Single(o => o.Output == whole.Id));
            Assert.Equal(t.Id, Assert.Single(ops, o => o.Inputs.Contains(t.Id)).Inputs.Single(i => i == t.Id));
            Assert.Equal(concat.ChannelOffsets[concat.Parts.ToList().IndexOf(t.Id)] * (long)whole.Shape.H * whole.Shape.W, t.InferenceViewOffset);
            Assert.InRange(t.InferenceViewOffset + t.Shape.Size, t.Shape.Size, whole.Shape.Size);
            born[whole.Id] = Math.Min(born[whole.Id], born[t.Id]);
            Assert.Equal(-1, info.Activations[t.Id].InferenceOffset);
        }
        if (ops.Any(o => o is ConcatOp)) Assert.True(views > 0, $"{name}: no inception branch writes into its concatenation");
        var slots = tensors.Where(t => !t.IsInferenceView).ToList();
        foreach (var a in slots)
        {
            Assert.Equal(a.InferenceOffset, info.Activations[a.Id].InferenceOffset);
            Assert.InRange(a.InferenceOffset + a.Shape.Size, a.Shape.Size, plan.InferenceActivationsPerImage);
            foreach (var b in slots.Where(b => b.Id > a.Id))
            {
                bool together = born[a.Id] <= last[b.Id] && born[b.Id] <= last[a.Id];
                bool overlap = a.InferenceOffset < b.InferenceOffset + b.Shape.Size && b.InferenceOffset < a.InferenceOffset + a.Shape.Size;
                Assert.False(together && overlap, $"{name}: '{a.Name}' and '{b.Name}' are alive together but share inference memory");
            }
        }
        // The point of it: the inference arena is much smaller than the training one (every spec here at most half).
        Assert.True(info.InferenceActivationsPerImage * 2 <= info.ActivationsPerImage,
            $"{name}: inference arena {info.InferenceActivationsPerImage} floats per image, training {info.ActivationsPerImage}");
    }

    [Theory]
    [InlineData("NNS2", 3)]
    [InlineData("NNS2", 4)]
    [InlineData("NN4", 4)]
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
