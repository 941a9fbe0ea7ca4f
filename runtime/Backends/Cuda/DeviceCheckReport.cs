using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FaceNetGen.Backends.Cuda;

/// <summary>The result of a device check: readable rows as it runs, and a JSON document.</summary>
public sealed class DeviceCheckReport
{
    public DeviceCheckOptions Options { get; set; } = new();

    public CudaProbeResult? Probe { get; set; }

    public string? BackendDescription { get; set; }

    public List<AgreementRow> Kernels { get; } = new();

    public ModelAgreementResult? ModelAgreement { get; set; }

    public ThroughputResult? Train { get; set; }

    public ThroughputResult? Embed { get; set; }

    /// <summary>Steps that failed with an error instead of a result.</summary>
    public List<string> Errors { get; } = new();

    public bool IsAvailable => Probe?.IsAvailable == true;

    public bool Passed => IsAvailable && Errors.Count == 0 && Kernels.All(k => k.Passed) && (ModelAgreement?.Passed ?? true);

    /// <summary>0 passed, 1 failed, 3 CUDA unavailable.</summary>
    public int ExitCode => !IsAvailable ? DeviceCheck.ExitUnavailable : Passed ? DeviceCheck.ExitPassed : DeviceCheck.ExitFailed;

    public string FailureSummary()
    {
        var parts = new List<string>();
        parts.AddRange(Kernels.Where(k => !k.Passed).Select(k => $"{k.Kernel} [{k.Shape}] error {Number(k.MaxRelativeError)} > {Number(k.Tolerance)}"));
        if (ModelAgreement is { Passed: false } m) parts.Add($"{m.Model} agreement (embeddings {Number(m.EmbeddingError)}, gradients {Number(m.MaxGradientError)})");
        parts.AddRange(Errors);
        if (!IsAvailable && Probe is not null) parts.Add(Probe.Reason);
        return string.Join("; ", parts);
    }

    internal static string Number(double v) =>
        double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "inf" : v == 0 ? "0" : v.ToString("0.00e+00", CultureInfo.InvariantCulture);

    public static void WriteRowHeader(TextWriter w)
    {
        w.WriteLine($"  {"kernel",-36} {"max rel err",11} {"tolerance",9}  result  shape");
        w.WriteLine($"  {new string('-', 36)} {new string('-', 11)} {new string('-', 9)}  ------  -----");
    }

    public static void WriteRow(TextWriter w, AgreementRow r)
    {
        w.WriteLine($"  {r.Kernel,-36} {Number(r.MaxRelativeError),11} {Number(r.Tolerance),9}  {(r.Passed ? "pass" : "FAIL"),-6}  {r.Shape}");
        w.Flush();
    }

    public static void WriteModel(TextWriter w, ModelAgreementResult m)
    {
        w.WriteLine($"  embeddings           max rel err {Number(m.EmbeddingError)} (tolerance {Number(m.EmbeddingTolerance)}) {(m.EmbeddingError <= m.EmbeddingTolerance ? "pass" : "FAIL")}");
        w.WriteLine($"  parameter gradients  max rel err {Number(m.MaxGradientError)} over {m.Gradients.Count} tensors (tolerance {Number(m.GradientTolerance)}) {(m.Gradients.All(g => g.MaxRelativeError <= m.GradientTolerance) ? "pass" : "FAIL")}");
        foreach (var g in m.Gradients.OrderByDescending(g => g.MaxRelativeError).Take(5)) w.WriteLine($"    {g.Tensor,-32} {Number(g.MaxRelativeError)}");
        w.WriteLine($"  reference time {m.ReferenceSeconds:0.0} s");
        w.Flush();
    }

    public static void WriteThroughput(TextWriter w, ThroughputResult t)
    {
        w.WriteLine(string.Format(CultureInfo.InvariantCulture, "  {0} {1,-10} batch {2,4}: {3,9:0.00} ms per step, {4,9:0.0} images/s", t.Model, t.What, t.Batch, t.MillisecondsPerStep, t.ImagesPerSecond));
        w.Flush();
    }

    /// <summary>Writes the report as JSON, atomically (a temporary file in the same folder, then a move).</summary>
    public void WriteJson(string path)
    {
        AtomicFile.Write(path, stream =>
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            Write(json);
        });
    }

    /// <summary>The JSON document as a string.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true })) Write(json);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private void Write(Utf8JsonWriter j)
    {
        j.WriteStartObject();
        j.WriteString("tool", "facenet device-check");
        j.WriteBoolean("available", IsAvailable);
        j.WriteString("reason", Probe?.Reason ?? "");
        j.WriteBoolean("passed", Passed);
        j.WriteNumber("exitCode", ExitCode);
        if (Probe is { IsAvailable: true } p)
        {
            j.WriteString("device", p.Device!.Name);
            j.WriteString("computeCapability", $"{p.Device.ComputeMajor}.{p.Device.ComputeMinor}");
            j.WriteString("driver", CudaProbeResult.FormatCudaVersion(p.DriverVersion));
            j.WriteString("runtime", CudaProbeResult.FormatCudaVersion(p.RuntimeVersion));
            j.WriteString("cudnn", CudaProbeResult.FormatCudnnVersion(p.CudnnVersion));
            j.WriteString("nvrtc", p.NvrtcVersion);
            j.WriteStartObject("libraries");
            foreach (var (library, path) in p.LibraryPaths.OrderBy(l => l.Key)) j.WriteString(library.ToString(), path);
            j.WriteEndObject();
        }
        if (BackendDescription is not null) j.WriteString("backend", BackendDescription);
        j.WriteStartArray("errors");
        foreach (var e in Errors) j.WriteStringValue(e);
        j.WriteEndArray();

        j.WriteStartArray("kernels");
        foreach (var k in Kernels)
        {
            j.WriteStartObject();
            j.WriteString("kernel", k.Kernel);
            j.WriteString("shape", k.Shape);
            WriteNumber(j, "maxRelativeError", k.MaxRelativeError);
            j.WriteNumber("tolerance", k.Tolerance);
            j.WriteBoolean("passed", k.Passed);
            j.WriteEndObject();
        }
        j.WriteEndArray();

        if (ModelAgreement is { } m)
        {
            j.WriteStartObject("model");
            j.WriteString("name", m.Model);
            j.WriteNumber("batch", m.Batch);
            WriteNumber(j, "embeddingError", m.EmbeddingError);
            j.WriteNumber("embeddingTolerance", m.EmbeddingTolerance);
            WriteNumber(j, "maxGradientError", m.MaxGradientError);
            j.WriteNumber("gradientTolerance", m.GradientTolerance);
            j.WriteBoolean("passed", m.Passed);
            j.WriteNumber("referenceSeconds", Math.Round(m.ReferenceSeconds, 2));
            j.WriteStartArray("gradients");
            foreach (var g in m.Gradients)
            {
                j.WriteStartObject();
                j.WriteString("tensor", g.Tensor);
                j.WriteNumber("length", g.Length);
                WriteNumber(j, "maxRelativeError", g.MaxRelativeError);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteEndObject();
        }

        j.WriteStartObject("throughput");
        j.WriteString("model", Options.Model);
        WriteThroughput(j, "train", Train);
        WriteThroughput(j, "embed", Embed);
        j.WriteEndObject();
        j.WriteEndObject();
    }

    private static void WriteThroughput(Utf8JsonWriter j, string name, ThroughputResult? t)
    {
        if (t is null)
        {
            j.WriteNull(name);
            return;
        }
        j.WriteStartObject(name);
        j.WriteNumber("batch", t.Batch);
        j.WriteNumber("steps", t.Steps);
        j.WriteNumber("msPerStep", Math.Round(t.MillisecondsPerStep, 4));
        j.WriteNumber("imagesPerSecond", Math.Round(t.ImagesPerSecond, 2));
        j.WriteEndObject();
    }

    /// <summary>JSON has no NaN or infinity: those are written as strings.</summary>
    private static void WriteNumber(Utf8JsonWriter j, string name, double v)
    {
        if (double.IsFinite(v)) j.WriteNumber(name, v);
        else j.WriteString(name, Number(v));
    }
}
