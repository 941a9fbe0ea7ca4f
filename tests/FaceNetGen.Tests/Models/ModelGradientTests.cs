using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;
using FaceNetGen.Tests.Kernels;
using FaceNetGen.Tests.Models;

namespace FaceNetGen.Tests.ModelTests;

/// <summary>A whole generated model: finite differences of its loss, and the CPU backend against the reference.</summary>
public class ModelGradientTests
{
    private const int Batch = 3;

    /// <summary>Runs forward and backward for L = Σ r·embedding; returns (L, embeddings, parameter gradients).</summary>
    private static (double Loss, float[] Embeddings, float[] Gradients) Step(FaceNetModel model, float[] input, float[] parameters, float[] r)
    {
        model.SetParameters(parameters);
        model.SetInput(input, Batch);
        model.Forward(Batch);
        var e = new float[Batch * model.Description.EmbeddingSize];
        model.GetOutput(e, Batch);
        double loss = 0;
        for (int i = 0; i < e.Length; i++) loss += (double)r[i] * e[i];
        // Stale gradients are NaN: Backward overwrites every parameter's gradient, or the comparisons fail.
        model.Backend.Fill(model.ParameterGradients!.At(0), model.Description.ParameterLength, float.NaN);
        model.Backend.Upload(r, model.OutputGradient);
        model.Backward(Batch);
        var grads = new float[model.Description.ParameterLength];
        model.Backend.Download(model.ParameterGradients!.At(0), grads);
        return (loss, e, grads);
    }

    private static (float[] Input, float[] Parameters, float[] R) Data(ModelDescription info)
    {
        var input = KernelHarness.Random(Batch * info.InputSize, 100);
        using var backend = new ReferenceBackend();
        using var init = ModelCatalogLike(backend, info);
        init.InitializeParameters(5);
        var parameters = init.GetParameters();
        // Non-zero biases so that every bias gradient is exercised.
        var bias = KernelHarness.Random(parameters.Length, 101, 0.05f);
        foreach (var p in info.Parameters.Where(p => p.IsBias))
        {
            for (long i = p.Offset; i < p.Offset + p.Length; i++) parameters[i] = bias[i];
        }
        return (input, parameters, KernelHarness.Random(Batch * info.EmbeddingSize, 102));
    }

    private static FaceNetModel ModelCatalogLike(IBackend backend, ModelDescription info) =>
        info.Name == GradCheckNet.SpecName ? new GradCheckNet(backend, Batch, training: true) : ModelCatalog.Get(info.Name).Create(backend, Batch, true);

    [Fact]
    public void Parameter_gradients_match_finite_differences_end_to_end()
    {
        using var backend = new ReferenceBackend();
        using var model = new GradCheckNet(backend, Batch, training: true);
        var (input, parameters, r) = Data(GradCheckNet.Info);
        var (_, _, grads) = Step(model, input, parameters, r);

        var rng = new DeterministicRandom(3);
        const double h = 1e-3;
        int checkedCount = 0, skipped = 0;
        // Every parameter tensor, a few coordinates each.
        foreach (var p in GradCheckNet.Info.Parameters)
        {
            for (int s = 0; s < 4; s++)
            {
                long i = p.Offset + rng.Next((int)p.Length);
                var plus = (float[])parameters.Clone();
                var minus = (float[])parameters.Clone();
                plus[i] += (float)h;
                minus[i] -= (float)h;
                double l0 = Step(model, input, parameters, r).Loss;
                double lp = Step(model, input, plus, r).Loss;
                double lm = Step(model, input, minus, r).Loss;
                if (Math.Abs((lp - l0) - (l0 - lm)) / h > 0.01 * Math.Max(Math.Abs(grads[i]), 0.05) + 5e-4)
                {
                    skipped++; // a ReLU or max crosses over inside [-h, h]
                    continue;
                }
                double numeric = (lp - lm) / (2 * h);
                Assert.True(Math.Abs(numeric - grads[i]) <= 0.02 * Math.Max(Math.Abs(numeric), 0.05) + 2e-3,
                    $"{p.Name}[{i - p.Offset}]: numeric {numeric:G5}, analytic {grads[i]:G5}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount >= 0.8 * (checkedCount + skipped), $"{skipped} of {checkedCount + skipped} coordinates sat on kinks");
    }

    public static TheoryData<string> Models => new() { GradCheckNet.SpecName, "GoldenInception", "NNS2" };

    [Theory]
    [MemberData(nameof(Models))]
    public void The_cpu_backend_agrees_with_the_reference_on_a_whole_model(string name)
    {
        var info = name == GradCheckNet.SpecName ? GradCheckNet.Info : name == "NNS2" ? NNS2.Info : FaceNetGen.Tests.Models.GoldenInception.Info;
        FaceNetModel Make(IBackend b) => name switch
        {
            "NNS2" => new NNS2(b, Batch, training: true),
            "GoldenInception" => new FaceNetGen.Tests.Models.GoldenInception(b, Batch, training: true),
            _ => new GradCheckNet(b, Batch, training: true),
        };
        var (input, parameters, r) = (KernelHarness.Random(Batch * info.InputSize, 200), (float[]?)null, KernelHarness.Random(Batch * info.EmbeddingSize, 201));
        using var refBackend = new ReferenceBackend();
        using var refModel = Make(refBackend);
        refModel.InitializeParameters(9);
        parameters = refModel.GetParameters();
        var expected = Step(refModel, input, parameters, r);
        foreach (var cpu in new[] { new CpuBackend(), new CpuBackend(threads: 1, simd: SimdLevel.Vector128) })
        {
            using (cpu)
            using (var model = Make(cpu))
            {
                var actual = Step(model, input, parameters, r);
                KernelHarness.AssertClose(expected.Embeddings, actual.Embeddings, 1e-4, $"{name} embeddings on {cpu.Description}");
                foreach (var p in info.Parameters)
                {
                    var e = expected.Gradients.AsSpan((int)p.Offset, (int)p.Length).ToArray();
                    var a = actual.Gradients.AsSpan((int)p.Offset, (int)p.Length).ToArray();
                    double scale = Math.Max(1e-6, e.Max(v => Math.Abs(v)));
                    KernelHarness.AssertClose(e.Select(v => (float)(v / scale)).ToArray(), a.Select(v => (float)(v / scale)).ToArray(), 2e-3, $"{name} d{p.Name} on {cpu.Description}");
                }
            }
        }
    }
    [Fact]
    public void Backward_overwrites_parameter_gradients_or_adds_to_them_when_asked()
    {
        // Step fills the gradients with NaN before Backward; an accumulating call after it adds the same batch's
        // gradients again (twice the first), and a plain call after that overwrites them back.
        using var cpu = new CpuBackend();
        using var model = new GradCheckNet(cpu, Batch, training: true);
        var (input, parameters, r) = Data(GradCheckNet.Info);
        var first = Step(model, input, parameters, r).Gradients;
        Assert.All(first, v => Assert.True(float.IsFinite(v)));
        Assert.Contains(first, v => v != 0);

        var read = new float[first.Length];
        model.Backward(Batch, accumulate: true);
        cpu.Download(model.ParameterGradients!.At(0), read);
        KernelHarness.AssertClose(first.Select(v => 2 * v).ToArray(), read, 1e-5, "gradients after an accumulating Backward");

        model.Backward(Batch);
        cpu.Download(model.ParameterGradients!.At(0), read);
        KernelHarness.AssertClose(first, read, 1e-5, "gradients after an overwriting Backward");
    }
}
