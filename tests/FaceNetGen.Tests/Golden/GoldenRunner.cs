using FaceNetGen.Backends.Cpu;
using FaceNetGen.Backends;
using FaceNetGen.Models;

namespace FaceNetGen.Tests.Golden;

/// <summary>
/// Runs a golden case on one backend the way PyTorch ran it: deterministic weights and input, Forward, the upstream
/// gradient r written into <see cref="FaceNetModel.OutputGradient"/>, Backward (which overwrites the parameter gradients,
/// as PyTorch's first backward after zero_grad fills them). Then reads tensors back.
/// </summary>
public sealed class GoldenRunner : IDisposable
{
    private readonly IBackend _backend;

    public GoldenRunner(IBackend backend, Func<IBackend, int, bool, FaceNetModel> create, GoldenCase golden)
    {
        _backend = backend;
        Case = golden;
        Model = create(backend, golden.Batch, true);
        // Every activation gradient in a slot of its own, to compare them all after Backward (the shared gradient
        // arena's parameter gradients are checked against these in GradientArenaTests).
        Model.KeepActivationGradients();
        Info = Model.Description;
        int n = golden.Batch;
        Model.SetParameters(GoldenTensors.Parameters(Info, golden.WeightsSeed));
        Model.SetInput(GoldenTensors.Input(Info, n, golden.InputSeed), n);
        Model.Forward(n);
        backend.Upload(GoldenTensors.UpstreamGradient(Info, n, golden.GradientSeed), Model.OutputGradient);
        Model.Backward(n);
        backend.Synchronize();
        // No kernel wrote past the scratch it asked for (the tests guard every CPU scratch buffer).
        (backend as CpuBackend)?.VerifyScratch();
    }

    public GoldenCase Case { get; }

    public FaceNetModel Model { get; }

    public ModelDescription Info { get; }

    public float[] Output()
    {
        var y = new float[Case.Batch * Info.EmbeddingSize];
        Model.GetOutput(y, Case.Batch);
        return y;
    }

    /// <summary>An activation tensor's values for the batch, (n, C, H, W).</summary>
    public float[] Activation(string name) => Read(Model.Activations, name);

    /// <summary>What the gradient arena holds for an activation tensor after Backward.</summary>
    public float[] ActivationGradient(string name) => Read(Model.ActivationGradients!, name);

    /// <summary>The whole parameter-gradient arena.</summary>
    public float[] ParameterGradients()
    {
        var g = new float[Info.ParameterLength];
        _backend.Download(new BufferView(Model.ParameterGradients!, 0), g);
        return g;
    }

    private float[] Read(DeviceBuffer arena, string name)
    {
        var t = Info.Activations.FirstOrDefault(a => a.Name == name)
            ?? throw new InvalidOperationException($"{Info.Name} has no activation tensor '{name}'");
        var values = new float[Case.Batch * t.Size];
        _backend.Download(new BufferView(arena, t.Offset * Model.MaxBatch), values);
        return values;
    }

    public void Dispose()
    {
        Model.Dispose();
        _backend.Dispose();
    }
}
