using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;
using FaceNetGen.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FaceNetGen.Bench;

/// <summary>
/// `bench models`: forward and training-step throughput of generated models on the CPU backend, with PyTorch (the
/// bench/torch_bench.py script) and ONNX Runtime (on our own exported file) measured in the same run on the same
/// machine, and everything expressed against the FMA peak this machine measures for itself.
/// </summary>
public static class ModelBench
{
    private sealed record Row(string Engine, string Model, int Batch, double ForwardImagesPerSecond, double TrainImagesPerSecond, double LatencyMs, long MultiplyAdds, int Round = 0)
    {
        public double ForwardGflops => 2.0 * MultiplyAdds * ForwardImagesPerSecond / 1e9;

        public double TrainGflops => 3 * 2.0 * MultiplyAdds * TrainImagesPerSecond / 1e9;
    }

    public static int Run(string[] args)
    {
        var options = Options.Parse(args);
        int threads = options.Threads;
        Console.WriteLine($"machine: {Environment.ProcessorCount} logical processors; {threads} threads for every engine; batch {options.Batch}");
        double peak = FmaPeak.Measure(threads);
        Console.WriteLine($"FMA peak ({threads} threads, measured): {peak:F1} GFLOP/s");
        // Each engine runs --repeat times, the engines taking turns, and every figure is the median of its runs: on a
        // shared machine a single run of either side can be off by a third.
        var runs = new List<Row>();
        for (int round = 0; round < options.Repeat; round++)
        {
            if (options.Repeat > 1) Console.WriteLine($"round {round + 1} of {options.Repeat}");
            foreach (string name in options.Models)
            {
                var entry = ModelCatalog.Get(name);
                runs.Add(Ours(entry, options) with { Round = round });
                Console.WriteLine(Format(runs[^1], peak));
                if (options.Onnx)
                {
                    runs.Add(OnnxRuntime(entry, options, options.Profile && round == 0) with { Round = round });
                    Console.WriteLine(Format(runs[^1], peak));
                }
                if (options.Profile && round == 0) Profile(entry, options);
            }
            if (options.Torch)
            {
                foreach (var row in Torch(options))
                {
                    runs.Add(row with { Round = round });
                    Console.WriteLine(Format(row, peak));
                }
            }
        }
        var rows = runs.GroupBy(r => (r.Engine, r.Model)).Select(g => g.First() with
        {
            ForwardImagesPerSecond = Median(g.Select(r => r.ForwardImagesPerSecond)),
            TrainImagesPerSecond = Median(g.Select(r => r.TrainImagesPerSecond)),
            LatencyMs = Median(g.Select(r => r.LatencyMs)),
        }).ToList();
        // The peak again, now that the machine is warm: the table uses the higher of the two readings.
        double after = FmaPeak.Measure(threads);
        Console.WriteLine($"FMA peak ({threads} threads, measured again after the runs): {after:F1} GFLOP/s");
        peak = Math.Max(peak, after);
        Console.WriteLine();
        Console.WriteLine(Table(rows, peak, options));
        if (options.Repeat > 1)
        {
            Console.WriteLine($"(medians of {options.Repeat} runs per engine)");
            Console.WriteLine();
            Console.WriteLine(RoundRatios(runs, options));
        }
        return 0;
    }

    /// <summary>
    /// Our speed over each peer's, round by round (the engines of one round ran minutes apart at most, so the machine's
    /// slow drifts cancel in the ratio), and the median of those ratios.
    /// </summary>
    private static string RoundRatios(List<Row> runs, Options options)
    {
        var sb = new System.Text.StringBuilder("ratios per round (median):\n");
        foreach (var model in options.Models)
        {
            string Ratios(string peer, Func<Row, double> figure)
            {
                var ratios = Enumerable.Range(0, options.Repeat).Select(round =>
                {
                    var ours = runs.FirstOrDefault(r => r.Round == round && r.Model == model && r.Engine == "FaceNetGen");
                    var other = runs.FirstOrDefault(r => r.Round == round && r.Model == model && r.Engine.StartsWith(peer, StringComparison.Ordinal));
                    return ours is null || other is null ? double.NaN : figure(ours) / figure(other);
                }).Where(v => !double.IsNaN(v)).ToList();
                return ratios.Count == 0 ? "" : string.Format(CultureInfo.InvariantCulture, "{0} ({1:F2})", string.Join(" ", ratios.Select(v => v.ToString("F2", CultureInfo.InvariantCulture))), Median(ratios));
            }
            var parts = new List<string>();
            string train = Ratios("PyTorch", r => r.TrainImagesPerSecond), torchForward = Ratios("PyTorch", r => r.ForwardImagesPerSecond), ort = Ratios("ONNX Runtime", r => r.ForwardImagesPerSecond);
            if (train.Length > 0) parts.Add($"training ÷ PyTorch {train}, forward ÷ PyTorch {torchForward}");
            if (ort.Length > 0) parts.Add($"forward ÷ ONNX Runtime {ort}");
            if (parts.Count > 0) sb.AppendLine($"{model}: {string.Join("; ", parts)}");
        }
        return sb.ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static Row Ours(ModelEntry entry, Options options)
    {
        using var backend = new CpuBackend(options.Threads);
        using var model = entry.Create(backend, options.Batch, true);
        model.InitializeParameters(1);
        var info = model.Description;
        int n = options.Batch;
        var input = Random(n * info.InputSize, 2);
        var dOut = Random(n * info.EmbeddingSize, 3, 0.01f);
        using var sumSquares = backend.Allocate(info.ParameterLength);
        model.SetInput(input, n);

        // The forward figure is the embedder's: a model built for inference, whose arena reuses dead tensors' slots.
        using var inference = entry.Create(backend, n, false);
        inference.SetParameters(model.GetParameters());
        inference.SetInput(input, n);
        double forward = Time(options, () => inference.Forward(n)) / n;
        double train = Time(options, () =>
        {
            model.Forward(n);
            backend.Upload(dOut, model.OutputGradient);
            model.Backward(n);
            backend.AdaGradStep(model.Parameters.At(0), model.ParameterGradients!.At(0), sumSquares.At(0), info.ParameterLength, 1e-6f, 1e-8f);
        }) / n;

        using var single = entry.Create(backend, 1, false);
        single.InitializeParameters(1);
        single.SetInput(input.AsSpan(0, info.InputSize), 1);
        double latency = Time(options, () => single.Forward(1));
        return new Row("FaceNetGen", entry.Name, n, 1 / forward, 1 / train, latency * 1000, info.MultiplyAdds);
    }

    private static Row OnnxRuntime(ModelEntry entry, Options options, bool profile)
    {
        var info = entry.Info;
        string path = Path.Combine(Path.GetTempPath(), $"facenet-bench-{entry.Name}-{Environment.ProcessId}.onnx");
        try
        {
            using (var backend = new CpuBackend(1))
            using (var model = entry.Create(backend, 1, false))
            {
                model.InitializeParameters(1);
                OnnxExport.Export(info, model.GetParameters(), path);
            }
            using var so = new SessionOptions { IntraOpNumThreads = options.Threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(path, so);
            int n = options.Batch;
            var batch = new DenseTensor<float>(Random(n * info.InputSize, 2), new[] { n, info.InputChannels, info.InputHeight, info.InputWidth });
            var one = new DenseTensor<float>(Random(info.InputSize, 2), new[] { 1, info.InputChannels, info.InputHeight, info.InputWidth });
            var inputs = new[] { NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, batch) };
            var single = new[] { NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, one) };
            double forward = Time(options, () => { using var r = session.Run(inputs); }) / n;
            double latency = Time(options, () => { using var r = session.Run(single); });
            if (profile) OnnxProfile(path, so, inputs, entry.Name, n, options.ProfileTop);
            return new Row("ONNX Runtime", entry.Name, n, 1 / forward, double.NaN, latency * 1000, info.MultiplyAdds);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>ONNX Runtime's own per-operator profile of a few batch runs, summed by operator type.</summary>
    private static void OnnxProfile(string path, SessionOptions baseOptions, NamedOnnxValue[] inputs, string name, int n, int top)
    {
        using var so = new SessionOptions
        {
            IntraOpNumThreads = baseOptions.IntraOpNumThreads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableProfiling = true, ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), $"facenet-ort-{Environment.ProcessId}"),
        };
        using var session = new InferenceSession(path, so);
        { using var warm = session.Run(inputs); }
        const int iterations = 3;
        for (int i = 0; i < iterations; i++) { using var r = session.Run(inputs); }
        string file = session.EndProfiling();
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var byOp = new Dictionary<string, (double Us, int Count)>();
            var byNode = new Dictionary<string, (string Op, double Us)>();
            double total = 0;
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node" || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                string op = e.GetProperty("args").GetProperty("op_name").GetString()!;
                double us = e.GetProperty("dur").GetDouble();
                byOp[op] = byOp.TryGetValue(op, out var t) ? (t.Us + us, t.Count + 1) : (us, 1);
                string node = e.GetProperty("name").GetString()![..^"_kernel_time".Length];
                byNode[node] = byNode.TryGetValue(node, out var u) ? (op, u.Us + us) : (op, us);
                total += us;
            }
            // The profile holds the warm-up run too: every figure is a mean over all the runs it holds.
            const int runs = iterations + 1;
            Console.WriteLine($"ONNX Runtime profile of {name}, batch {n}, mean of {runs} runs (ms per run by operator type):");
            foreach (var (op, (us, count)) in byOp.OrderByDescending(kv => kv.Value.Us))
            {
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "  {0,-22} {1,9:F2} ms  {2,5:F1}%  ({3} nodes)", op, us / runs / 1000, us / total * 100, count / runs));
            }
            Console.WriteLine($"ONNX Runtime's {Math.Min(top, byNode.Count)} slowest nodes (ms per run):");
            foreach (var (node, (op, us)) in byNode.OrderByDescending(kv => kv.Value.Us).Take(top))
            {
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "  {0,-40} {1,-14} {2,9:F2} ms", node, op, us / runs / 1000));
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static IEnumerable<Row> Torch(Options options)
    {
        string script = Path.Combine(RepoRoot(), "bench", "torch_bench.py");
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, "--models", string.Join(",", options.Models), "--threads", options.Threads.ToString(CultureInfo.InvariantCulture), "--batch", options.Batch.ToString(CultureInfo.InvariantCulture), "--min-time", options.MinSeconds.ToString(CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + python);
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.WriteLine($"PyTorch benchmark failed (exit {p.ExitCode}): {stderr.Result.Trim()}");
            yield break;
        }
        foreach (var line in stdout.Split('\n').Where(l => l.StartsWith('{')))
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            yield return new Row("PyTorch " + (r.TryGetProperty("torch", out var v) ? v.GetString() : ""), r.GetProperty("model").GetString()!, r.GetProperty("batch").GetInt32(),
                r.GetProperty("forwardImagesPerSecond").GetDouble(), r.GetProperty("trainImagesPerSecond").GetDouble(), double.NaN, r.GetProperty("multiplyAdds").GetInt64());
        }
    }

    /// <summary>Where the time of one forward and one training step goes, kernel by kernel (call order kept).</summary>
    private static void Profile(ModelEntry entry, Options options)
    {
        using var inner = new CpuBackend(options.Threads);
        using var timing = new TimingBackend(inner);
        using var model = entry.Create(timing, options.Batch, true);
        model.InitializeParameters(1);
        int n = options.Batch;
        model.SetInput(Random(n * entry.Info.InputSize, 2), n);
        for (int i = 0; i < 2; i++)
        {
            model.Forward(n);
            timing.Upload(Random(n * entry.Info.EmbeddingSize, 3, 0.01f), model.OutputGradient);
            model.Backward(n);
        }
        // Forward alone on a model built for inference, as the embedder runs it.
        using var inference = entry.Create(timing, n, false);
        inference.SetParameters(model.GetParameters());
        inference.SetInput(Random(n * entry.Info.InputSize, 2), n);
        inference.Forward(n);
        const int iterations = 9;
        timing.Reset();
        for (int i = 0; i < iterations; i++)
        {
            inference.Forward(n);
            timing.EndPass();
        }
        Console.WriteLine($"profile of {entry.Name}, batch {n}, forward only, median of {iterations} (ms per pass; GFLOP/s where the kernel multiplies):");
        Console.WriteLine(timing.Report(top: options.ProfileTop));
        timing.Reset();
        for (int i = 0; i < iterations; i++)
        {
            model.Forward(n);
            model.Backward(n);
            timing.EndPass();
        }
        Console.WriteLine($"profile of {entry.Name}, batch {n}, forward + backward, median of {iterations} (ms per step; GFLOP/s where the kernel multiplies):");
        Console.WriteLine(timing.Report(top: options.ProfileTop));
    }

    private static string Format(Row r, double peak) =>
        string.Format(CultureInfo.InvariantCulture, "{0,-14} {1,-5} fwd {2,8:F2} img/s ({3,5:F1}% peak)  train {4,8:F2} img/s ({5,5:F1}% peak)  batch-1 {6,7:F1} ms",
            r.Engine, r.Model, r.ForwardImagesPerSecond, r.ForwardGflops / peak * 100, r.TrainImagesPerSecond, r.TrainGflops / peak * 100, r.LatencyMs);

    private static string Table(List<Row> rows, double peak, Options options)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(string.Format(CultureInfo.InvariantCulture, "| model | engine | forward img/s | forward GFLOP/s | % FMA peak | train img/s | train GFLOP/s | % FMA peak | batch-1 ms |"));
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows.OrderBy(r => options.Models.IndexOf(r.Model)).ThenBy(r => r.Engine, StringComparer.Ordinal))
        {
            sb.AppendLine(string.Format(CultureInfo.InvariantCulture, "| {0} | {1} | {2:F2} | {3:F1} | {4:F1}% | {5} | {6} | {7} | {8} |",
                r.Model, r.Engine, r.ForwardImagesPerSecond, r.ForwardGflops, r.ForwardGflops / peak * 100,
                double.IsNaN(r.TrainImagesPerSecond) ? "—" : r.TrainImagesPerSecond.ToString("F2", CultureInfo.InvariantCulture),
                double.IsNaN(r.TrainImagesPerSecond) ? "—" : r.TrainGflops.ToString("F1", CultureInfo.InvariantCulture),
                double.IsNaN(r.TrainImagesPerSecond) ? "—" : (r.TrainGflops / peak * 100).ToString("F1", CultureInfo.InvariantCulture) + "%",
                double.IsNaN(r.LatencyMs) ? "—" : r.LatencyMs.ToString("F1", CultureInfo.InvariantCulture)));
        }
        foreach (var model in options.Models)
        {
            var ours = rows.FirstOrDefault(r => r.Model == model && r.Engine == "FaceNetGen");
            var torch = rows.FirstOrDefault(r => r.Model == model && r.Engine.StartsWith("PyTorch", StringComparison.Ordinal));
            var ort = rows.FirstOrDefault(r => r.Model == model && r.Engine == "ONNX Runtime");
            if (ours is null) continue;
            var parts = new List<string>();
            if (torch is not null) parts.Add(string.Format(CultureInfo.InvariantCulture, "training {0:F2}x PyTorch, forward {1:F2}x PyTorch", ours.TrainImagesPerSecond / torch.TrainImagesPerSecond, ours.ForwardImagesPerSecond / torch.ForwardImagesPerSecond));
            if (ort is not null) parts.Add(string.Format(CultureInfo.InvariantCulture, "forward {0:F2}x ONNX Runtime, batch-1 latency {1:F2}x ONNX Runtime's", ours.ForwardImagesPerSecond / ort.ForwardImagesPerSecond, ours.LatencyMs / ort.LatencyMs));
            if (parts.Count > 0) sb.AppendLine($"{model}: {string.Join("; ", parts)}");
        }
        return sb.ToString();
    }

    /// <summary>
    /// Seconds per call: warm-up, then repeated until both the iteration count and the minimum time are reached. The
    /// warm-up lasts at least <see cref="Options.WarmupSeconds"/> as well as <see cref="Options.Warmup"/> calls, for
    /// every engine: .NET compiles hot methods again, fully optimised, only after some dozens of calls, and its first
    /// half-second of a large model runs at a third of its steady speed.
    /// </summary>
    private static double Time(Options options, Action action)
    {
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < options.Warmup || warm.Elapsed.TotalSeconds < options.WarmupSeconds; i++) action();
        var sw = Stopwatch.StartNew();
        int iterations = 0;
        double best = double.MaxValue;
        while (iterations < options.Iterations || sw.Elapsed.TotalSeconds < options.MinSeconds)
        {
            var one = Stopwatch.StartNew();
            action();
            best = Math.Min(best, one.Elapsed.TotalSeconds);
            iterations++;
        }
        // The mean, not the best: sustained throughput is what a user sees.
        return sw.Elapsed.TotalSeconds / iterations;
    }

    internal static float[] Random(int length, ulong seed, float scale = 1f)
    {
        var r = new DeterministicRandom(seed);
        var a = new float[length];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return a;
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FaceNetGen.sln"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }

    private sealed class Options
    {
        public List<string> Models { get; private set; } = new() { "NN2", "NN4", "NNS2" };
        public int Batch { get; private set; } = 16;
        public int Threads { get; private set; } = Environment.ProcessorCount;
        public int Warmup { get; private set; } = 2;
        public double WarmupSeconds { get; private set; } = 1.5;
        public int Iterations { get; private set; } = 3;
        public double MinSeconds { get; private set; } = 3;
        public bool Torch { get; private set; } = true;
        public bool Onnx { get; private set; } = true;
        public bool Profile { get; private set; }
        public int ProfileTop { get; private set; } = 25;
        public int Repeat { get; private set; } = 1;

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--models": o.Models = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(); break;
                    case "--batch": o.Batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--threads": o.Threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--iters": o.Iterations = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--min-time": o.MinSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--no-torch": o.Torch = false; break;
                    case "--no-onnx": o.Onnx = false; break;
                    case "--profile": o.Profile = true; break;
                    case "--repeat": o.Repeat = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--top": o.ProfileTop = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--quick": o.Warmup = 1; o.WarmupSeconds = 0; o.Iterations = 1; o.MinSeconds = 0; o.Batch = 4; break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }
            return o;
        }
    }
}
