using FaceNetGen.Backends.Cpu;
using FaceNetGen.Data;
using FaceNetGen.Imaging;
using FaceNetGen.Models;
using FaceNetGen.Tests.Infrastructure;
using FaceNetGen.Training;

namespace FaceNetGen.Tests.Training;

public class TrainerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fng-train-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private TrainerOptions Small(string name, int epochs = 2) => new()
    {
        Spec = "NNS2",
        Epochs = epochs,
        Seed = 5,
        Sampler = new SamplerOptions(4, 2, 2),
        HeldOutFraction = 0,
        Threads = 2,
        OutputDirectory = Path.Combine(_dir, name),
    };

    private static IFaceDataset Faces() => new CachedFaceDataset(new SyntheticFaces(12, 3, seed: 2, size: 140));

    [Fact]
    public void Resuming_reaches_the_same_weights_as_an_uninterrupted_run()
    {
        float[] straight;
        using (var trainer = new Trainer(Faces(), Small("straight")))
        {
            var result = trainer.Run();
            Assert.True(result.Completed);
            Assert.Equal(6, result.Steps);
            straight = trainer.Model.GetParameters();
        }

        var interrupted = Small("resumed") with { StopAfterSteps = 4 };
        using (var first = new Trainer(Faces(), interrupted))
        {
            var result = first.Run();
            Assert.False(result.Completed);
            Assert.Equal(4, result.Steps);
        }
        using (var second = new Trainer(Faces(), Small("resumed") with { Resume = true }))
        {
            var result = second.Run();
            Assert.True(result.Completed);
            Assert.Equal(6, result.Steps);
            Assert.Equal(straight, second.Model.GetParameters());
        }
        // The log of the resumed run continues the interrupted one's: one row per epoch, the partial epoch 2 replaced.
        var epochs = File.ReadAllLines(Path.Combine(_dir, "resumed", Trainer.LogFile)).Skip(1).Select(l => l.Split(',')[0]).ToList();
        Assert.Equal(new[] { "1", "2" }, epochs.Distinct());
    }

    [Fact]
    public void Resuming_with_other_settings_is_refused()
    {
        using (var first = new Trainer(Faces(), Small("other") with { StopAfterSteps = 2 }))
        {
            first.Run();
        }
        using var second = new Trainer(Faces(), Small("other") with { Resume = true, Seed = 6 });
        var ex = Assert.Throws<FaceNetException>(() => second.Run());
        Assert.Contains("other settings", ex.Message);
    }

    [Fact]
    public void A_diverging_run_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint()
    {
        // Two sane epochs (checkpointed after each), then the rate jumps by 1e30 and the weights overflow.
        var options = Small("diverge", epochs: 4) with
        {
            Optimizer = new OptimizerOptions(OptimizerKind.Sgd, 0.01f, Momentum: 0, WeightDecay: 0),
            Schedule = new LearningRateSchedule(ScheduleKind.Step, Gamma: 1e30, Milestones: new[] { 0.5 }),
        };
        using var trainer = new Trainer(Faces(), options);
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
        Assert.Contains("diverged at step", ex.Message);

        string checkpoint = Path.Combine(options.OutputDirectory, Trainer.CheckpointFile);
        var last = Checkpoint.Load(checkpoint);
        Assert.Equal(2 * trainer.Sampler.StepsPerEpoch, last.Step);
        Assert.All(last.Parameters, v => Assert.True(float.IsFinite(v)));
        Assert.False(File.Exists(Path.Combine(options.OutputDirectory, Trainer.ModelFile)));
        Assert.Empty(Directory.GetFiles(options.OutputDirectory, "*.tmp"));
    }

    [Fact]
    public void A_warm_compute_step_allocates_nothing()
    {
        using var trainer = new Trainer(Faces(), Small("alloc"));
        var backend = (CpuBackend)trainer.Model.Backend;
        var info = trainer.Model.Description;
        int n = 10;
        var inputs = new float[n * info.InputSize];
        new DeterministicRandom(1).NextDouble();
        var rng = new DeterministicRandom(2);
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(rng.NextDouble() - 0.5);
        var labels = new[] { 0, 0, 1, 1, 2, 2, 3, 3, 4, 5 };
        for (int i = 0; i < 3; i++) trainer.Step(inputs, labels, n, 0.01f);
        long before = GC.GetAllocatedBytesForCurrentThread() + backend.WorkerAllocatedBytes;
        var result = trainer.Step(inputs, labels, n, 0.01f);
        trainer.Step(inputs, labels, n, 0.01f);
        long allocated = GC.GetAllocatedBytesForCurrentThread() + backend.WorkerAllocatedBytes - before;
        Assert.True(result.Pairs > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void An_unreadable_image_is_reported_by_path_and_training_goes_on()
    {
        string data = Path.Combine(_dir, "faces");
        var synthetic = new SyntheticFaces(6, 3, seed: 4, size: 64);
        for (int id = 0; id < 6; id++)
        {
            Directory.CreateDirectory(Path.Combine(data, $"person{id}"));
            for (int j = 0; j < 3; j++) ImageEncoder.SavePng(synthetic.Render(id, j, 64, 64), Path.Combine(data, $"person{id}", $"{j}.png"));
        }
        string broken = Path.Combine(data, "person2", "1.png");
        File.WriteAllBytes(broken, new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 });
        File.WriteAllBytes(Path.Combine(data, "lonely.png"), Array.Empty<byte>());
        Directory.CreateDirectory(Path.Combine(data, "solo"));
        ImageEncoder.SavePng(synthetic.Render(0, 0, 64, 64), Path.Combine(data, "solo", "0.png"));

        var warnings = new List<string>();
        var dataset = FolderFaceDataset.Open(data, warn: warnings.Add);
        Assert.Contains(warnings, w => w.Contains("solo", StringComparison.Ordinal));
        var log = new StringWriter();
        using var trainer = new Trainer(dataset, Small("broken") with { Epochs = 3, Sampler = new SamplerOptions(6, 3, 0) }, log: log);
        var result = trainer.Run();
        Assert.True(result.Completed);
        Assert.Contains(broken, log.ToString());
    }

    [DataFact]
    public void Training_on_att_faces_raises_held_out_verification_accuracy_well_above_initialisation()
    {
        // NNS2 from scratch on 30 of the 40 people (2 steps an epoch), validated on the other 10. Adam gets there within
        // the time a CI test may take; over seeds 1-6 it gained 3 to 12 points here (seed 1: 7.8), where 60 epochs
        // gained as little as 1 (AdaGrad, the paper's choice and the CLI's default, needs longer).
        var options = new TrainerOptions
        {
            Spec = "NNS2",
            Epochs = 90,
            Seed = 1,
            HeldOutFraction = 0.25,
            Optimizer = OptimizerOptions.Defaults(OptimizerKind.Adam),
            OutputDirectory = Path.Combine(_dir, "att"),
        };
        using var trainer = new Trainer(FolderFaceDataset.Open(TestPaths.Data("att_faces")), options);
        var result = trainer.Run();
        Assert.True(result.Completed);
        double before = result.InitialValidation!.MeanAccuracy, after = result.FinalValidation!.MeanAccuracy;
        Assert.True(after >= before + 0.04, $"held-out accuracy {before:P1} at initialisation, {after:P1} after training");
        Assert.True(File.Exists(Path.Combine(options.OutputDirectory, Trainer.PlotFile)));
        Assert.Equal(91, File.ReadAllLines(Path.Combine(options.OutputDirectory, Trainer.LogFile)).Length - 1);
    }
}
