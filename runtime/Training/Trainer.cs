using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Data;
using FaceNetGen.Evaluation;
using FaceNetGen.Faces;
using FaceNetGen.Models;

namespace FaceNetGen.Training;

/// <summary>Training stopped because the loss or the embeddings stopped being finite numbers.</summary>
public sealed class TrainingDivergedException(string message) : FaceNetException(message);

/// <summary>What a finished (or interrupted) run produced.</summary>
public sealed record TrainingResult(long Steps, long TotalSteps, double Seconds, VerificationReport? InitialValidation, VerificationReport? FinalValidation, string CheckpointPath, string? ModelPath)
{
    public bool Completed => Steps >= TotalSteps;
}

/// <summary>
/// The paper's recipe (§3.1–3.3) on a face data set: batches of identities × faces (<see cref="BatchSampler"/>),
/// decoded and augmented on other threads while the model computes (<see cref="BatchLoader"/>), every anchor-positive
/// pair with a semi-hard negative (<see cref="TripletMiner"/>), the triplet loss on the L2-normalised embeddings
/// (<see cref="TripletLoss"/>), AdaGrad at 0.05 (<see cref="Optimizer"/>), verification accuracy on held-out identities
/// every epoch, a CSV log and PNG plot, and atomic, resumable safetensors checkpoints.
/// </summary>
/// <remarks>
/// A run is a function of its seed: the identity split, the batches, the augmentations and the initial weights all
/// derive from it, and the CPU backend's results do not depend on thread timing; resuming from a checkpoint gives the
/// same weights as an uninterrupted run with the same options. The compute step (<see cref="Step"/>) allocates nothing
/// once warmed up.
/// </remarks>
public sealed class Trainer : IDisposable
{
    public const string CheckpointFile = "checkpoint.safetensors";
    public const string ModelFile = "model.safetensors";
    public const string LogFile = "training_log.csv";
    public const string PlotFile = "training_curves.png";
    public const string ValidationFile = "validation.json";

    private readonly IFaceDataset? _heldOut;
    private readonly IBackend _backend;
    private readonly bool _ownsBackend;
    private readonly TextWriter _log;
    private readonly bool _live;
    private readonly TripletMiner _miner;
    private readonly float[] _embeddings;
    private readonly float[] _gradient;
    private readonly float[] _distances;
    private readonly int[] _labels;
    private readonly List<Triplet> _triplets;
    private DeterministicRandom _random;
    private List<(int A, int B, bool Same)>? _validationPairs;

    public Trainer(IFaceDataset dataset, TrainerOptions options, IBackend? backend = null, TextWriter? log = null, bool liveProgress = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Options = options;
        _log = log ?? TextWriter.Null;
        _live = liveProgress;
        Dataset = dataset;
        IFaceDataset train = dataset;
        if (options.HeldOutFraction > 0)
        {
            var split = IdentitySplit.Create(dataset, options.HeldOutFraction, options.Seed);
            if (split.HeldOut.Identities.Count(i => i.Items.Count >= 2) >= 2)
            {
                train = split.Train;
                _heldOut = split.HeldOut;
            }
            else
            {
                _log.WriteLine($"warning: {dataset.Name} has too few identities to hold {options.HeldOutFraction:P0} out for validation; training on all of them without validation.");
            }
        }
        TrainSet = train;
        Sampler = new BatchSampler(train, options.Sampler, options.Seed);
        var entry = ModelCatalog.Get(options.Spec);
        _ownsBackend = backend is null;
        _backend = backend ?? new CpuBackend(options.Threads);
        Model = entry.Create(_backend, Sampler.MaxBatchSize, true);
        Model.InitializeParameters(options.Seed);
        Optimizer = new Optimizer(Model, options.Optimizer);
        _miner = new TripletMiner(options.Mining, options.Margin);
        int max = Sampler.MaxBatchSize, d = Model.Description.EmbeddingSize;
        _embeddings = new float[max * d];
        _gradient = new float[max * d];
        _distances = new float[max * max];
        _labels = new int[max];
        _triplets = new List<Triplet>(max * max);
        _random = new DeterministicRandom(BatchSampler.Mix(options.Seed, 0x7121, 0, 0));
        CropFraction = options.CropFraction ?? dataset.SuggestedCropFraction;
    }

    public TrainerOptions Options { get; }

    public IFaceDataset Dataset { get; }

    public IFaceDataset TrainSet { get; }

    /// <summary>The held-out identities validation runs on, or null when the data set is too small.</summary>
    public IFaceDataset? HeldOut => _heldOut;

    public BatchSampler Sampler { get; }

    public FaceNetModel Model { get; }

    public Optimizer Optimizer { get; }

    public double CropFraction { get; }

    /// <summary>Steps taken (a resumed run starts from the checkpoint's).</summary>
    public long CurrentStep { get; private set; }

    public long TotalSteps => (long)Options.Epochs * Sampler.StepsPerEpoch;

    public TrainingLog Log { get; } = new();

    public string CheckpointPath => Path.Combine(Options.OutputDirectory, CheckpointFile);

    /// <summary>
    /// One training step on a loaded batch: forward, pairwise distances, triplet selection, loss, backward and an
    /// optimiser update at <paramref name="learningRate"/>. A batch with no triplet leaves the weights alone.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss or an embedding is not finite.</exception>
    public TripletLossResult Step(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int n, float learningRate)
    {
        int d = Model.Description.EmbeddingSize;
        Model.SetInput(inputs, n);
        Model.Forward(n);
        var embeddings = _embeddings.AsSpan(0, n * d);
        Model.GetOutput(embeddings, n);
        if (!float.IsFinite(TensorPrimitives.Sum(embeddings)))
            throw new TrainingDivergedException($"training diverged at step {CurrentStep}: the embeddings are no longer finite numbers.");
        var distances = _distances.AsSpan(0, n * n);
        _miner.SquaredDistances(embeddings, n, d, distances);
        int pairs = _miner.Select(n, distances, labels, _random, _triplets);
        var gradient = _gradient.AsSpan(0, n * d);
        var result = TripletLoss.Compute(embeddings, d, _triplets, Options.Margin, gradient, pairs);
        if (!double.IsFinite(result.Loss))
            throw new TrainingDivergedException($"training diverged at step {CurrentStep}: the loss is {result.Loss}.");
        if (result.Triplets > 0)
        {
            _backend.Upload(gradient, Model.OutputGradient);
            Model.Backward(n);
            Optimizer.Step(learningRate);
        }
        return result;
    }

    /// <summary>Trains to the end (or <see cref="TrainerOptions.StopAfterSteps"/>), validating, logging and checkpointing on the way.</summary>
    public TrainingResult Run(CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(Options.OutputDirectory);
        string logPath = Path.Combine(Options.OutputDirectory, LogFile);
        if (Options.Resume && File.Exists(CheckpointPath))
        {
            RestoreFrom(CheckpointPath);
            if (File.Exists(logPath)) Log.Restore(TrainingLog.ParseCsv(File.ReadAllText(logPath)).Where(r => r.Step <= CurrentStep));
            _log.WriteLine($"resuming {Options.Spec} from {CheckpointPath} at step {CurrentStep:N0} of {TotalSteps:N0}");
        }
        else if (Options.Resume)
        {
            _log.WriteLine($"no checkpoint in {Options.OutputDirectory}; starting a new run");
        }

        _log.WriteLine($"training {Model.Description} on {TrainSet.Name}: {Sampler.EligibleIdentities:N0} identities, {TrainSet.ItemCount:N0} images, " +
                       $"{Sampler.StepsPerEpoch} steps per epoch of up to {Sampler.MaxBatchSize} faces ({Sampler.IdentitiesPerBatch} identities x {Options.Sampler.FacesPerIdentity} + {Options.Sampler.ExtraNegatives}), " +
                       $"{Options.Epochs} epochs");
        _log.WriteLine($"{Options.Optimizer}, schedule {Options.Schedule}, {Options.Mining} mining, margin {Options.Margin}, {_backend.Description}" +
                       (_heldOut is null ? "" : $"; validating on {_heldOut.Identities.Count} held-out identities ({_heldOut.ItemCount} images)"));

        VerificationReport? initial = null, last = null;
        if (CurrentStep == 0 && _heldOut is not null && Options.ValidateEvery > 0)
        {
            initial = last = Validate();
            Log.Add(new EpochRecord(0, 0, 0, 0, double.NaN, double.NaN, double.NaN, 0, 0, initial.MeanAccuracy, initial.AccuracyStandardError, initial.Auc));
            _log.WriteLine($"epoch 0 (initial weights): held-out accuracy {Percent(initial.MeanAccuracy)} ± {Percent(initial.AccuracyStandardError)}");
        }

        var clock = Stopwatch.StartNew();
        long stepsThisRun = 0;
        var epochClock = Stopwatch.StartNew();
        double lossSum = 0, activeSum = 0, tripletSum = 0;
        long images = 0;
        int stepsInEpoch = 0;
        using (var loader = new BatchLoader(TrainSet, Model.Description.InputHeight, Model.Description.InputWidth, Sampler.MaxBatchSize, new BatchLoaderOptions
        {
            Workers = Math.Max(1, Options.LoaderWorkers),
            Prefetch = 2,
            Augmentation = Options.Augmentation,
            Seed = Options.Seed,
            CropFraction = CropFraction,
            Warn = message => _log.WriteLine("warning: " + message),
        }))
        {
            if (CurrentStep < TotalSteps) loader.Submit(Sampler.Batch(CurrentStep));
            while (CurrentStep < TotalSteps)
            {
                cancellation.ThrowIfCancellationRequested();
                if (CurrentStep + 1 < TotalSteps) loader.Submit(Sampler.Batch(CurrentStep + 1));
                using var batch = loader.Take();
                for (int i = 0; i < batch.Count; i++) _labels[i] = batch.Labels[i];
                float lr = Options.Schedule.At(Options.Optimizer.LearningRate, CurrentStep, TotalSteps);
                var result = Step(batch.Inputs, _labels.AsSpan(0, batch.Count), batch.Count, lr);
                CurrentStep++;
                stepsThisRun++;
                stepsInEpoch++;
                lossSum += result.Loss;
                activeSum += result.ActiveFraction;
                tripletSum += result.Triplets;
                images += batch.Count;
                Progress(result, lr, images / Math.Max(1e-9, epochClock.Elapsed.TotalSeconds), clock.Elapsed.TotalSeconds / stepsThisRun);

                bool epochEnd = CurrentStep % Sampler.StepsPerEpoch == 0;
                bool stop = Options.StopAfterSteps > 0 && stepsThisRun >= Options.StopAfterSteps;
                if (epochEnd || CurrentStep == TotalSteps || stop)
                {
                    int epoch = (int)((CurrentStep + Sampler.StepsPerEpoch - 1) / Sampler.StepsPerEpoch);
                    bool validate = _heldOut is not null && Options.ValidateEvery > 0 && (epoch % Options.ValidateEvery == 0 || CurrentStep == TotalSteps);
                    VerificationReport? report = validate ? Validate() : null;
                    if (report is not null) last = report;
                    double seconds = epochClock.Elapsed.TotalSeconds;
                    var record = new EpochRecord(epoch, CurrentStep, images, seconds, lossSum / stepsInEpoch, activeSum / stepsInEpoch, tripletSum / stepsInEpoch, lr,
                        images / Math.Max(1e-9, seconds), report?.MeanAccuracy, report?.AccuracyStandardError, report?.Auc);
                    Log.Add(record);
                    EndLiveLine();
                    _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"epoch {epoch}/{Options.Epochs}  step {CurrentStep:N0}  loss {record.Loss:F4}  active {record.ActiveFraction * 100:F1}%  {record.ImagesPerSecond:F1} img/s  lr {lr:G3}") +
                        (report is null ? "" : $"  held-out accuracy {Percent(report.MeanAccuracy)} ± {Percent(report.AccuracyStandardError)}") +
                        string.Create(CultureInfo.InvariantCulture, $"  ({seconds:F1} s)"));
                    Log.SaveCsv(logPath);
                    Log.SavePlot(Path.Combine(Options.OutputDirectory, PlotFile), $"{Options.Spec} on {TrainSet.Name}");
                    if (report is not null) report.SaveJson(Path.Combine(Options.OutputDirectory, ValidationFile));
                    if (epoch % Math.Max(1, Options.CheckpointEvery) == 0 || CurrentStep == TotalSteps || stop) SaveCheckpoint(CheckpointPath, last);
                    lossSum = activeSum = tripletSum = 0;
                    images = 0;
                    stepsInEpoch = 0;
                    epochClock.Restart();
                }
                if (stop) break;
            }
        }

        string? modelPath = null;
        if (CurrentStep >= TotalSteps)
        {
            modelPath = Path.Combine(Options.OutputDirectory, ModelFile);
            SaveCheckpoint(modelPath, last, includeTrainingState: false);
            if (!File.Exists(CheckpointPath)) SaveCheckpoint(CheckpointPath, last);
        }
        return new TrainingResult(CurrentStep, TotalSteps, clock.Elapsed.TotalSeconds, initial, last, CheckpointPath, modelPath);
    }

    /// <summary>
    /// Verification accuracy on the held-out identities: every same-identity pair (up to 3,000) and as many
    /// different-identity pairs, scored by squared distance, under the 10-fold protocol.
    /// </summary>
    public VerificationReport Validate()
    {
        var heldOut = _heldOut ?? throw new InvalidOperationException("No identities are held out for validation.");
        var items = heldOut.Identities.SelectMany(i => i.Items).ToList();
        int d = Model.Description.EmbeddingSize;
        var embeddings = new float[items.Count * d];
        using (var loader = new BatchLoader(heldOut, Model.Description.InputHeight, Model.Description.InputWidth, Model.MaxBatch, new BatchLoaderOptions
        {
            Workers = Math.Max(1, Options.LoaderWorkers),
            Augmentation = Imaging.Augmentation.None,
            Seed = Options.Seed,
            CropFraction = CropFraction,
            Warn = message => _log.WriteLine("warning: " + message),
        }))
        {
            for (int start = 0; start < items.Count; start += Model.MaxBatch)
            {
                var request = new BatchRequest(items.Skip(start).Take(Model.MaxBatch).ToList(), 0, start);
                using var batch = loader.Load(request);
                Model.SetInput(batch.Inputs, batch.Count);
                Model.Forward(batch.Count);
                Model.GetOutput(embeddings.AsSpan(start * d, batch.Count * d), batch.Count);
            }
        }
        _validationPairs ??= ValidationPairs(items);
        var scored = _validationPairs.Select(p => new ScoredPair(EmbeddingDistance.Squared(embeddings.AsSpan(p.A * d, d), embeddings.AsSpan(p.B * d, d)), p.Same)).ToList();
        var folds = Enumerable.Range(0, scored.Count).Select(i => i % 10).ToList();
        return KFoldProtocol.Evaluate(scored, folds, 1e-3, $"{Options.Spec}, held-out identities of {Dataset.Name}");
    }

    private List<(int A, int B, bool Same)> ValidationPairs(List<FaceItem> items)
    {
        var rng = new DeterministicRandom(BatchSampler.Mix(Options.Seed, 0xA11D, 0, 0));
        var same = new List<(int, int, bool)>();
        for (int i = 0; i < items.Count; i++)
        {
            for (int j = i + 1; j < items.Count; j++)
            {
                if (items[i].Identity == items[j].Identity) same.Add((i, j, true));
            }
        }
        rng.Shuffle(same);
        if (same.Count > 3000) same.RemoveRange(3000, same.Count - 3000);
        var pairs = new List<(int A, int B, bool Same)>(same);
        var seen = new HashSet<(int, int)>();
        for (int attempts = 0; pairs.Count < 2 * same.Count && attempts < 100 * same.Count + 100; attempts++)
        {
            int a = rng.Next(items.Count), b = rng.Next(items.Count);
            if (a == b || items[a].Identity == items[b].Identity || !seen.Add((Math.Min(a, b), Math.Max(a, b)))) continue;
            pairs.Add((a, b, false));
        }
        rng.Shuffle(pairs);
        return pairs;
    }

    /// <summary>
    /// Saves the weights, and with <paramref name="includeTrainingState"/> the optimiser and random state that resume the
    /// run, atomically: the previous file stays intact until the new one is complete.
    /// </summary>
    public void SaveCheckpoint(string path, VerificationReport? validation = null, bool includeTrainingState = true)
    {
        var parameters = Model.GetParameters();
        if (!float.IsFinite(TensorPrimitives.Sum(parameters)))
            throw new TrainingDivergedException($"training diverged at step {CurrentStep}: the weights are no longer finite numbers; {path} was not overwritten.");
        var state = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, buffer) in includeTrainingState ? Optimizer.State : Array.Empty<(string, Backends.DeviceBuffer)>())
        {
            var values = new float[buffer.Length];
            _backend.Download(buffer.At(0), values);
            state[name] = values;
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["trainer"] = Options.Fingerprint,
            ["optimizer"] = Options.Optimizer.Kind.ToString(),
            ["optimizer_settings"] = Options.Optimizer.ToString(),
            ["optimizer_steps"] = Optimizer.Steps.ToString(CultureInfo.InvariantCulture),
            ["epoch"] = ((CurrentStep + Sampler.StepsPerEpoch - 1) / Sampler.StepsPerEpoch).ToString(CultureInfo.InvariantCulture),
            ["total_steps"] = TotalSteps.ToString(CultureInfo.InvariantCulture),
            [Checkpoint.CropFractionKey] = CropFraction.ToString("R", CultureInfo.InvariantCulture),
            ["dataset"] = Dataset.Name,
        };
        if (validation is not null)
        {
            metadata["heldout_accuracy"] = validation.MeanAccuracy.ToString("F4", CultureInfo.InvariantCulture);
            metadata["heldout_accuracy_se"] = validation.AccuracyStandardError.ToString("F4", CultureInfo.InvariantCulture);
            // The squared-distance threshold that separated same from different held-out pairs best: `facenet verify`'s default.
            metadata[Checkpoint.ThresholdKey] = validation.MeanThreshold.ToString("R", CultureInfo.InvariantCulture);
        }
        new Checkpoint(Model.Description.Name, Model.Description.SpecHash, parameters)
        {
            Step = CurrentStep,
            OptimizerState = state,
            RandomState = includeTrainingState ? _random.GetState() : null,
            Metadata = metadata,
        }.Save(path, Model.Description);
    }

    /// <summary>Continues from a checkpoint written by <see cref="SaveCheckpoint"/> with the same options.</summary>
    public void RestoreFrom(string path)
    {
        var checkpoint = Checkpoint.Load(path);
        if (!checkpoint.Metadata.TryGetValue("trainer", out var fingerprint) || fingerprint != Options.Fingerprint)
        {
            throw new FaceNetException($"{path} was saved by a run with other settings ({fingerprint ?? "none recorded"}); " +
                                       $"resume with the same options ({Options.Fingerprint}), or train into a new --out folder.");
        }
        checkpoint.ApplyTo(Model, path);
        long optimizerSteps = checkpoint.Metadata.TryGetValue("optimizer_steps", out var s) ? long.Parse(s, CultureInfo.InvariantCulture) : checkpoint.Step;
        Optimizer.Restore(optimizerSteps, checkpoint.OptimizerState);
        if (checkpoint.RandomState is { } random) _random = DeterministicRandom.FromState(random);
        CurrentStep = checkpoint.Step;
    }

    private void Progress(TripletLossResult result, float lr, double imagesPerSecond, double secondsPerStep)
    {
        if (!_live) return;
        double eta = (TotalSteps - CurrentStep) * secondsPerStep;
        _log.Write(string.Create(CultureInfo.InvariantCulture,
            $"\rstep {CurrentStep:N0}/{TotalSteps:N0}  {imagesPerSecond:F1} img/s  loss {result.Loss:F4}  active {result.ActiveFraction * 100:F0}% of {result.Pairs} pairs  lr {lr:G3}  ETA {TimeSpan.FromSeconds(Math.Round(eta)):g}   "));
    }

    private void EndLiveLine()
    {
        if (_live) _log.Write("\r" + new string(' ', 100) + "\r");
    }

    private static string Percent(double v) => (v * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    public void Dispose()
    {
        Optimizer.Dispose();
        Model.Dispose();
        if (_ownsBackend) _backend.Dispose();
    }
}
