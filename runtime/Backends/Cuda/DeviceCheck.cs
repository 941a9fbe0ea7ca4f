using FaceNetGen.Training;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;

namespace FaceNetGen.Backends.Cuda;

/// <summary>What <see cref="DeviceCheck.Run"/> does.</summary>
public sealed record DeviceCheckOptions
{
    /// <summary>The model of the whole-model agreement and the throughput runs.</summary>
    public string Model { get; init; } = "NN2";

    /// <summary>Images in the whole-model agreement (the reference runs one per thread).</summary>
    public int AgreementBatch { get; init; } = 3;

    public int TrainBatch { get; init; } = 64;

    public int EmbedBatch { get; init; } = 256;

    public int WarmupSteps { get; init; } = 3;

    public int TimedSteps { get; init; } = 20;

    public bool CheckModel { get; init; } = true;

    public bool MeasureThroughput { get; init; } = true;

    public ulong Seed { get; init; } = 2015;
}

/// <summary>
/// The device check behind <c>facenet device-check</c>: the CUDA probe; every kernel of the CUDA backend against the
/// reference (and our own pooling and LRN kernels, which replace cuDNN's where it does not apply, and the triplet-mining
/// helpers); training-step and embedding throughput; then a whole model forward and backward against the reference
/// (last, since the naive reference is slow).
/// Exit code: 0 all checks pass, 1 a check fails (or a step fails with an error), 3 CUDA is not available.
/// </summary>
public static class DeviceCheck
{
    public const int ExitPassed = 0;
    public const int ExitFailed = 1;
    public const int ExitUnavailable = 3;

    /// <summary>
    /// Runs the check. Rows are written to <paramref name="log"/> as they complete, and the JSON report (when
    /// <paramref name="jsonPath"/> is given) is rewritten after each section, so a run that dies still leaves what it had.
    /// </summary>
    public static DeviceCheckReport Run(DeviceCheckOptions options, TextWriter log, string? jsonPath = null)
    {
        var report = new DeviceCheckReport { Options = options };
        var probe = CudaProbe.Probe();
        report.Probe = probe;
        log.WriteLine(probe.ToString());
        if (probe.IsAvailable)
        {
            foreach (var (library, path) in probe.LibraryPaths.OrderBy(p => p.Key)) log.WriteLine($"  {library,-9} {path}");
        }
        Save(report, jsonPath);
        if (!probe.IsAvailable) return report;

        CudaBackend? backend = null;
        try
        {
            backend = Step(report, log, "start the CUDA backend", () => new CudaBackend());
            if (backend is null) return report;
            report.BackendDescription = backend.Description;
            log.WriteLine("backend: " + backend.Description);

            log.WriteLine();
            log.WriteLine($"kernel agreement with the reference (error = max|cuda - ref| / max|ref|; tolerance {KernelAgreement.ReductionTolerance:0e0} for convolutions and matrix products, {KernelAgreement.ElementwiseTolerance:0e0} otherwise)");
            DeviceCheckReport.WriteRowHeader(log);
            var reference = new ReferenceBackend();
            Step(report, log, "kernel agreement", () =>
            {
                report.Kernels.AddRange(KernelAgreement.Compare(backend, reference, options.Seed, progress: r => DeviceCheckReport.WriteRow(log, r)));
            });
            Step(report, log, "own pooling and LRN kernels", () =>
            {
                using var own = new CudaBackend(new CudaBackendOptions { UseCudnnPooling = false, UseCudnnLrn = false });
                report.Kernels.AddRange(KernelAgreement.Compare(own, reference, options.Seed, k => k.StartsWith("pool", StringComparison.Ordinal) || k.StartsWith("lrn", StringComparison.Ordinal),
                    " (own kernel)", r => DeviceCheckReport.WriteRow(log, r)));
            });
            Step(report, log, "triplet mining", () =>
            {
                report.Kernels.AddRange(MiningAgreement.Compare(backend, options.Seed, r => DeviceCheckReport.WriteRow(log, r)));
            });
            Save(report, jsonPath);

            var entry = ModelCatalog.Get(options.Model);
            // Throughput before the whole-model comparison: the reference is slow, and a run cut short by a time limit
            // still has the numbers.
            if (options.MeasureThroughput)
            {
                log.WriteLine();
                log.WriteLine($"throughput ({options.WarmupSteps} warm-up steps, {options.TimedSteps} timed by CUDA events)");
                report.Train = Step(report, log, "training-step throughput", () => Throughput.TrainingStep(entry, backend, options.TrainBatch, options.WarmupSteps, options.TimedSteps, options.Seed));
                if (report.Train is { } t) DeviceCheckReport.WriteThroughput(log, t);
                Save(report, jsonPath);
                report.Embed = Step(report, log, "embedding throughput", () => Throughput.Embed(entry, backend, options.EmbedBatch, options.WarmupSteps, options.TimedSteps, options.Seed));
                if (report.Embed is { } e) DeviceCheckReport.WriteThroughput(log, e);
            }
            Save(report, jsonPath);

            if (options.CheckModel)
            {
                log.WriteLine();
                log.WriteLine($"{entry.Name} forward and backward, batch {options.AgreementBatch}, against the reference (one image per thread; this takes a while)");
                report.ModelAgreement = Step(report, log, "model agreement", () => ModelAgreement.Compare(entry, backend, options.AgreementBatch, options.Seed));
                if (report.ModelAgreement is { } m) DeviceCheckReport.WriteModel(log, m);
                Save(report, jsonPath);
            }
        }
        finally
        {
            backend?.Dispose();
        }
        log.WriteLine();
        log.WriteLine(report.Passed ? "device check passed" : $"device check FAILED: {report.FailureSummary()}");
        Save(report, jsonPath);
        return report;
    }

    private static void Step(DeviceCheckReport report, TextWriter log, string what, Action action) =>
        Step(report, log, what, () =>
        {
            action();
            return string.Empty;
        });

    private static T? Step<T>(DeviceCheckReport report, TextWriter log, string what, Func<T> action)
        where T : class
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is FaceNetException or DllNotFoundException or EntryPointNotFoundException or ArgumentException or InvalidOperationException or AggregateException)
        {
            string message = $"{what} failed: {ex.GetType().Name}: {ex.Message}";
            report.Errors.Add(message);
            log.WriteLine("ERROR " + message);
            return null;
        }
    }

    private static void Save(DeviceCheckReport report, string? path)
    {
        if (path is not null) report.WriteJson(path);
    }
}

/// <summary>The triplet-mining helpers against their host references (CUDA only).</summary>
internal static class MiningAgreement
{
    public static List<AgreementRow> Compare(CudaBackend backend, ulong seed, Action<AgreementRow> progress)
    {
        const int n = 97, dim = 128, identities = 9;
        const float alpha = 0.2f;
        var rng = new DeterministicRandom(seed ^ 0x5EED);
        var e = new float[n * dim];
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int k = 0; k < dim; k++) norm += Math.Pow(e[i * dim + k] = (float)rng.NextNormal(), 2);
            for (int k = 0; k < dim; k++) e[i * dim + k] /= (float)Math.Sqrt(norm);
        }
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.Next(identities);

        var expected = new float[n * n];
        for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
        {
            double s = 0;
            for (int k = 0; k < dim; k++) s += Math.Pow((double)e[a * dim + k] - e[b * dim + k], 2);
            expected[a * n + b] = (float)s;
        }

        var distances = new float[n * n];
        var selection = new int[n * n];
        using (var eb = backend.Allocate(n * dim))
        using (var db = backend.Allocate(n * n))
        using (var mining = new CudaTripletMining(backend))
        {
            backend.Upload(e, eb.At(0));
            mining.PairwiseSquaredDistances(n, dim, eb.At(0), db.At(0));
            backend.Download(db.At(0), distances);
            mining.SelectSemiHardNegatives(n, db.At(0), labels, alpha, selection);
        }
        var rows = new List<AgreementRow>();
        var distanceRow = new AgreementRow("pairwise squared distances", $"{n} embeddings of {dim}", KernelAgreement.RelativeError(distances, expected), KernelAgreement.ReductionTolerance);
        progress(distanceRow);
        rows.Add(distanceRow);

        // The selection must match the host rule exactly on the same (device-computed) distances.
        var hostSelection = new int[n * n];
        SemiHardNegatives.Select(n, distances, labels, alpha, hostSelection);
        int mismatches = 0;
        for (int i = 0; i < hostSelection.Length; i++) if (hostSelection[i] != selection[i]) mismatches++;
        int kept = SemiHardNegatives.Triplets(n, hostSelection).Count;
        var selectionRow = new AgreementRow("semi-hard selection", $"{n} embeddings, {identities} labels, alpha {alpha}, {kept} triplets kept; error = mismatched fraction",
            (double)mismatches / hostSelection.Length, 0);
        progress(selectionRow);
        rows.Add(selectionRow);
        return rows;
    }
}
