using FaceNetGen.Backends.Cuda;

namespace FaceNetGen.Cli;

/// <summary>
/// <c>facenet device-check [--json FILE]</c>: the CUDA backend against the reference kernels and a whole model, then its
/// throughput. Exit code 0 when every check passes, 1 when one fails, 3 when CUDA is not available (with the reason).
/// </summary>
internal static class DeviceCheckCommand
{
    public const string Summary =
        "device-check [--json FILE] [--model NN2] [--agreement-batch 3] [--train-batch 64] [--embed-batch 256] [--steps 20] [--warmup 3] [--no-model] [--no-throughput]   check the CUDA backend against the reference and measure it";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var cl = new CommandLine(args, new[] { "no-model", "no-throughput" });
        string? json = cl.Option("json");
        var options = new DeviceCheckOptions
        {
            Model = cl.Option("model") ?? "NN2",
            AgreementBatch = cl.Int("agreement-batch", 3, min: 1),
            TrainBatch = cl.Int("train-batch", 64, min: 1),
            EmbedBatch = cl.Int("embed-batch", 256, min: 1),
            TimedSteps = cl.Int("steps", 20, min: 1),
            WarmupSteps = cl.Int("warmup", 3, min: 0),
            CheckModel = !cl.Flag("no-model"),
            MeasureThroughput = !cl.Flag("no-throughput"),
        };
        cl.Done();
        if (cl.Positionals.Count != 0) throw new UsageException("device-check takes no positional arguments.");
        // Fail on an unknown model before any device work.
        _ = FaceNetGen.Models.ModelCatalog.Get(options.Model);

        var report = DeviceCheck.Run(options, stdout, json);
        if (!report.IsAvailable) stderr.WriteLine($"facenet device-check: {report.Probe?.Reason}");
        else if (!report.Passed) stderr.WriteLine($"facenet device-check: {report.FailureSummary()}");
        if (json is not null) stdout.WriteLine($"report written to {json}");
        return report.ExitCode;
    }
}
