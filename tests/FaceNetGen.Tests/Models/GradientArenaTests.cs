using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;
using FaceNetGen.Specs;
using FaceNetGen.Tests.Infrastructure;
using FaceNetGen.Tests.Kernels;

namespace FaceNetGen.Tests.ModelTests;

/// <summary>
/// Backward runs on a gradient arena whose slots are reused once their gradients are dead. Its parameter gradients
/// must be those of a model that keeps every gradient in a slot of its own, whatever the arena held before.
/// </summary>
[Collection(nameof(SerialCollection))]
public class GradientArenaTests
{
    [Theory]
    [InlineData("NN1", 2)]
    [InlineData("NN2", 2)]
    [InlineData("NN3", 2)]
    [InlineData("NN4", 3)]
    [InlineData("NNS1", 2)]
    [InlineData("NNS2", 4)]
    public void The_shared_gradient_arena_gives_the_gradients_of_kept_ones(string name, int batch)
    {
        using var backend = new CpuBackend(2);
        using var shared = ModelCatalog.Get(name).Create(backend, batch, true);
        using var kept = ModelCatalog.Get(name).Create(backend, batch, true);
        kept.KeepActivationGradients();
        shared.InitializeParameters(11);
        kept.SetParameters(shared.GetParameters());
        var info = shared.Description;
        var input = KernelHarness.Random(batch * info.InputSize, 12);
        var upstream = KernelHarness.Random(batch * info.EmbeddingSize, 13);

        float[] Gradients(FaceNetModel model, float poison)
        {
            // Stale values everywhere: a gradient read before Backward wrote it, or overwritten while still alive,
            // shows up as NaN or as a wrong gradient.
            backend.Fill(model.ActivationGradients!.At(0), model.ActivationGradients!.Length, poison);
            backend.Fill(model.ParameterGradients!.At(0), info.ParameterLength, poison);
            model.SetInput(input, batch);
            model.Forward(batch);
            backend.Upload(upstream, model.OutputGradient);
            model.Backward(batch);
            var g = new float[info.ParameterLength];
            backend.Download(model.ParameterGradients!.At(0), g);
            return g;
        }

        var expected = Gradients(kept, 0f);
        foreach (float poison in new[] { float.NaN, 1e3f })
        {
            var actual = Gradients(shared, poison);
            foreach (var p in info.Parameters)
            {
                double scale = 1e-30;
                for (long i = p.Offset; i < p.Offset + p.Length; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
                for (long i = p.Offset; i < p.Offset + p.Length; i++)
                {
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * scale,
                        $"{name}, arena poisoned with {poison}: d{p.Name}[{i - p.Offset}] is {actual[i]}, kept gradients give {expected[i]}");
                }
            }
        }
        Assert.Equal(info.GradientsPerImage * batch, shared.ActivationGradients!.Length);
        Assert.Equal(info.ActivationsPerImage * batch, kept.ActivationGradients!.Length);
    }

    [Theory]
    [MemberData(nameof(InferenceArenaTests.Specs), MemberType = typeof(InferenceArenaTests))]
    public void The_gradient_arena_is_a_fraction_of_the_activation_arena(string name)
    {
        var info = ModelCatalog.Get(name).Info;
        // Every spec here needs at most 40% (NN2 and NN4 about 23%).
        Assert.True(info.GradientsPerImage * 10 <= info.ActivationsPerImage * 4,
            $"{name}: gradient arena {info.GradientsPerImage} floats per image, activations {info.ActivationsPerImage}");
        var output = info.Activations.Single(t => t.Offset == info.OutputOffset);
        Assert.Equal(output.GradientOffset, info.OutputGradientOffset);
        Assert.Equal(-1, info.Activations[0].GradientOffset);
    }

    [Theory]
    [MemberData(nameof(InferenceArenaTests.Specs), MemberType = typeof(InferenceArenaTests))]
    public void Backward_runs_each_op_after_its_outputs_readers_and_a_shared_inputs_readers_together(string name)
    {
        var plan = SpecAnalyzer.Compile(BuiltInSpecs.GetText(name)!).Model!.Plan;
        var ops = plan.Ops;
        var order = plan.BackwardOrder.ToArray();
        Assert.Equal(Enumerable.Range(0, ops.Count), order.OrderBy(i => i));
        var position = new int[ops.Count];
        for (int k = 0; k < order.Length; k++) position[order[k]] = k;
        for (int i = 0; i < ops.Count; i++)
        {
            for (int j = 0; j < ops.Count; j++)
            {
                if (ops[j].Inputs.Contains(ops[i].Output))
                    Assert.True(position[j] < position[i], $"{name}: {ops[i].Layer}'s backward runs before {ops[j].Layer}'s, which reads its output");
            }
        }
        int shared = 0;
        foreach (var t in plan.Tensors)
        {
            var readers = Enumerable.Range(0, ops.Count).Where(j => ops[j].Inputs.Contains(t.Id)).Select(j => position[j]).OrderBy(p => p).ToList();
            if (readers.Count < 2) continue;
            shared++;
            Assert.True(readers[^1] - readers[0] == readers.Count - 1, $"{name}: the readers of '{t.Name}' run at backward steps {string.Join(", ", readers)}, not one after another");
        }
        if (ops.Any(o => o is ConcatOp)) Assert.True(shared > 0, $"{name}: no tensor has several readers");
        // Each gradient is assigned by the first of its writers in that order, and added to by the others.
        var written = new HashSet<int>();
        foreach (int i in order)
        {
            for (int j = 0; j < ops[i].Inputs.Count; j++)
            {
                int t = ops[i].Inputs[j];
                if (t == plan.InputTensor) continue;
                Assert.Equal(written.Add(t) ? GradMode.Assign : GradMode.Accumulate, ops[i].InputGrads[j]);
            }
        }
    }
}
