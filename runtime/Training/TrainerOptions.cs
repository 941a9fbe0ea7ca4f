using System.Globalization;
using FaceNetGen.Imaging;

namespace FaceNetGen.Training;

/// <summary>Everything a training run is set up with. Defaults follow the paper where it says, and scale down to small data.</summary>
public sealed record TrainerOptions
{
    /// <summary>The architecture (a name in <see cref="Models.ModelCatalog"/>).</summary>
    public string Spec { get; init; } = "NNS2";

    public int Epochs { get; init; } = 10;

    /// <summary>Seeds the identity split, the sampler, augmentation, initialisation and mining: a run is a function of it.</summary>
    public ulong Seed { get; init; } = 1;

    public SamplerOptions Sampler { get; init; } = new();

    public OptimizerOptions Optimizer { get; init; } = OptimizerOptions.Defaults(OptimizerKind.AdaGrad);

    public LearningRateSchedule Schedule { get; init; } = new();

    public NegativeMining Mining { get; init; } = NegativeMining.SemiHard;

    /// <summary>The triplet margin α (the paper's 0.2).</summary>
    public float Margin { get; init; } = TripletLoss.DefaultMargin;

    /// <summary>Training-time augmentation (flips and crop jitter).</summary>
    public Augmentation Augmentation { get; init; } = Augmentation.Default;

    /// <summary>The centre crop as a fraction of the shorter side; null takes the data set's suggestion.</summary>
    public double? CropFraction { get; init; }

    /// <summary>The fraction of identities held out (never trained on) to measure verification accuracy.</summary>
    public double HeldOutFraction { get; init; } = 0.1;

    /// <summary>Validate every this many epochs (and at the start and the end); 0 never.</summary>
    public int ValidateEvery { get; init; } = 1;

    /// <summary>Save the resumable checkpoint every this many epochs (and at the end).</summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Worker threads of the CPU backend (0: all processors).</summary>
    public int Threads { get; init; }

    /// <summary>Threads decoding images in parallel with compute.</summary>
    public int LoaderWorkers { get; init; } = 1;

    /// <summary>Where checkpoints, the log and the plot go.</summary>
    public string OutputDirectory { get; init; } = "runs/facenet";

    /// <summary>Continue from the output folder's checkpoint instead of starting over.</summary>
    public bool Resume { get; init; }

    /// <summary>Stop after this many steps in this invocation (to interrupt a run on purpose); 0 runs to the end.</summary>
    public long StopAfterSteps { get; init; }

    /// <summary>The settings a resumed run must share with the run that saved the checkpoint, as text.</summary>
    public string Fingerprint => string.Create(CultureInfo.InvariantCulture,
        $"spec={Spec};epochs={Epochs};seed={Seed};sampler={Sampler.IdentitiesPerBatch}x{Sampler.FacesPerIdentity}+{Sampler.ExtraNegatives};" +
        $"optimizer={Optimizer};schedule={Schedule};mining={Mining};margin={Margin};augmentation={Augmentation};crop={CropFraction};heldout={HeldOutFraction}");
}
