using FaceNetGen.Faces;

namespace FaceNetGen.Cli;

/// <summary>
/// <c>facenet verify A B --model CKPT [--threshold T] [--json]</c>: the squared distance of two faces' embeddings and
/// whether it is within the threshold (the checkpoint's calibrated one unless --threshold is given). The exit code is
/// 0 for either answer.
/// </summary>
internal static class VerifyCommand
{
    public const string Summary = "verify A B --model CKPT [--threshold T] [--json] [--crop F]   same person or not: squared distance against a threshold";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var cl = new CommandLine(args, new[] { "json" });
        string modelPath = cl.Required("model");
        double? given = CliSupport.Distance(cl, "threshold");
        bool json = cl.Flag("json");
        double? crop = CliSupport.Crop(cl);
        cl.Done();
        if (cl.Positionals.Count != 2) throw new UsageException($"give exactly two image files, not {cl.Positionals.Count}.");
        string a = cl.Positionals[0], b = cl.Positionals[1];
        var missing = new[] { a, b }.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0) throw new FaceNetException(CliSupport.Missing(missing, "image"));

        using var model = LoadedModel.Load(modelPath, crop);
        var (threshold, fromCheckpoint) = model.ResolveThreshold(given);
        var embeddings = model.EmbedFiles(new[] { a, b });
        var verifier = new Verifier(threshold, model.Description.Name, model.DescribeThreshold(fromCheckpoint));
        var result = verifier.Verify(embeddings[0], embeddings[1]);

        if (json)
        {
            stdout.Write(CliSupport.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("a", a);
                w.WriteString("b", b);
                w.WriteString("spec", model.Description.Name);
                w.WriteString("model", model.Path);
                w.WriteNumber("distance", result.Distance);
                w.WriteNumber("threshold", threshold);
                w.WriteString("thresholdSource", fromCheckpoint ? "checkpoint" : "option");
                w.WriteBoolean("same", result.IsSame);
                w.WriteEndObject();
            }));
            return 0;
        }
        stdout.WriteLine($"A: {a}");
        stdout.WriteLine($"B: {b}");
        stdout.WriteLine($"squared distance: {CliSupport.F(result.Distance)}");
        stdout.WriteLine($"threshold:        {CliSupport.F(threshold)} (from {verifier.Calibration})");
        stdout.WriteLine(result.IsSame
            ? $"same person ({CliSupport.F(result.Distance)} <= {CliSupport.F(threshold)})"
            : $"different people ({CliSupport.F(result.Distance)} > {CliSupport.F(threshold)})");
        return 0;
    }
}
