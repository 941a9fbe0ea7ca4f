using System.Globalization;
using FaceNetGen.Data;
using FaceNetGen.Evaluation;
using FaceNetGen.Faces;
using FaceNetGen.Imaging;
using FaceNetGen.Models;
using FaceNetGen.Training;

namespace FaceNetGen.Cli;

/// <summary><c>facenet train</c>: the triplet trainer on a folder of identity folders, or on built-in synthetic faces.</summary>
internal static class TrainCommand
{
    public const string Summary = "train [--spec NNS2] [--data DIR] [--epochs N] [--out DIR] [--resume] ...   train a model with triplet loss";

    private static readonly string[] Flags = { "resume", "no-augment", "json", "quiet" };

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var cl = new CommandLine(args, Flags);
        if (cl.Positionals.Count > 0) throw new UsageException($"unexpected argument '{cl.Positionals[0]}' (options start with --).");
        string spec = cl.Option("spec") ?? "NNS2";
        if (!ModelCatalog.TryGet(spec, out var entry)) throw new FaceNetException($"unknown spec '{spec}': known models are {string.Join(", ", ModelCatalog.All.Select(e => e.Name))}.");
        string? data = cl.Option("data");
        int identities = cl.Int("synthetic-identities", 240, 4);
        int perIdentity = cl.Int("synthetic-images", 10, 2);
        var kind = ParseOptimizer(cl.Option("optimizer") ?? "adagrad");
        var optimizer = OptimizerOptions.Defaults(kind);
        if (cl.Option("lr") is not null) optimizer = optimizer with { LearningRate = (float)cl.Double("lr", optimizer.LearningRate) };
        var options = new TrainerOptions
        {
            Spec = entry.Name,
            Epochs = cl.Int("epochs", data is null ? 12 : 30, 1),
            Seed = (ulong)cl.Int("seed", 1, 0),
            OutputDirectory = cl.Option("out") ?? Path.Combine("runs", entry.Name.ToLowerInvariant()),
            Sampler = new SamplerOptions(cl.Int("batch-identities", 16, 2), cl.Int("faces-per-identity", 4, 2), cl.Int("extra-negatives", 8, 0)),
            Optimizer = optimizer,
            Schedule = ParseSchedule(cl.Option("schedule") ?? "step"),
            Mining = ParseMining(cl.Option("mining") ?? "semihard"),
            Margin = (float)cl.Double("margin", TripletLoss.DefaultMargin),
            Augmentation = cl.Flag("no-augment") ? Augmentation.None : Augmentation.Default,
            CropFraction = cl.Option("crop") is null ? null : cl.Double("crop", 1),
            HeldOutFraction = cl.Double("held-out", 0.1),
            Threads = cl.Int("threads", 0, 0),
            LoaderWorkers = cl.Int("loader-workers", 1, 1),
            Resume = cl.Flag("resume"),
            StopAfterSteps = cl.Int("stop-after", 0, 0),
        };
        string? valPairs = cl.Option("val-pairs");
        bool quiet = cl.Flag("quiet");
        cl.Done();

        IFaceDataset dataset = data is null
            ? new CachedFaceDataset(new SyntheticFaces(identities, perIdentity, seed: options.Seed, size: Math.Max(entry.Info.InputHeight, entry.Info.InputWidth)))
            : new CachedFaceDataset(FolderFaceDataset.Open(data, warn: message => stderr.WriteLine("warning: " + message)));
        if (data is null)
        {
            stdout.WriteLine($"No --data given: training on {dataset.Name}, generated on the fly (no download needed).");
            stdout.WriteLine("Point --data at a folder of identity folders (JPEG, PNG or PGM) to train on real faces.");
        }
        PairsFile? pairs = valPairs is null ? null : PairsFile.Load(valPairs);

        using var trainer = new Trainer(dataset, options, log: stdout, liveProgress: !quiet && !Console.IsOutputRedirected);
        var result = trainer.Run();
        stdout.WriteLine();
        stdout.WriteLine(result.Completed
            ? $"done: {result.Steps:N0} steps in {TimeSpan.FromSeconds(Math.Round(result.Seconds)):g}; weights in {result.ModelPath}"
            : $"stopped after step {result.Steps:N0} of {result.TotalSteps:N0}; continue with --resume (checkpoint {result.CheckpointPath})");
        if (result.InitialValidation is { } before && result.FinalValidation is { } after)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"held-out verification accuracy: {before.MeanAccuracy * 100:F1}% at initialisation -> {after.MeanAccuracy * 100:F1}% ± {after.AccuracyStandardError * 100:F1}% after training"));
        }
        if (pairs is not null && result.ModelPath is not null)
        {
            using var embedder = Embedder.Load(result.ModelPath);
            var report = PairEvaluation.Evaluate(embedder, pairs);
            stdout.WriteLine();
            stdout.WriteLine(report.ToText());
            report.SaveJson(Path.Combine(options.OutputDirectory, "pairs_evaluation.json"));
        }
        return 0;
    }

    private static OptimizerKind ParseOptimizer(string s) => s.ToLowerInvariant() switch
    {
        "adagrad" => OptimizerKind.AdaGrad,
        "sgd" => OptimizerKind.Sgd,
        "adam" => OptimizerKind.Adam,
        _ => throw new UsageException($"--optimizer expects adagrad, sgd or adam, not '{s}'."),
    };

    private static LearningRateSchedule ParseSchedule(string s) => s.ToLowerInvariant() switch
    {
        "step" => new LearningRateSchedule(ScheduleKind.Step),
        "cosine" => new LearningRateSchedule(ScheduleKind.Cosine, Gamma: 0.01),
        "constant" => new LearningRateSchedule(ScheduleKind.Constant),
        _ => throw new UsageException($"--schedule expects step, cosine or constant, not '{s}'."),
    };

    private static NegativeMining ParseMining(string s) => s.ToLowerInvariant() switch
    {
        "semihard" => NegativeMining.SemiHard,
        "semihard-random" => NegativeMining.SemiHardRandom,
        "hardest" => NegativeMining.Hardest,
        _ => throw new UsageException($"--mining expects semihard, semihard-random or hardest, not '{s}'."),
    };
}
