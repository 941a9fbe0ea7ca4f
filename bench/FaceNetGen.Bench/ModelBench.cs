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
/// bench/torch_bench.py script, kept running with --serve) and ONNX Runtime (on our own exported file) measured in the
/// same run on the same machine, and everything expressed against the FMA peak this machine measures for itself.
/// </summary>
/// <remarks>
/// The engines take turns, model by model, in slices of a few seconds: a turn runs our forward pass, ONNX Runtime's and
/// PyTorch's, then our training step and PyTorch's, then our batch-1 pass and ONNX Runtime's, the order within each
/// group reversed every other turn. This machine's speed moves in phases of 20–60 s (other tenants' cache pressure),
/// which a measurement of one engine a minute away from the other's may catch or miss; neighbouring slices share a
/// phase. Every engine's figure is the median of its slices, and every ratio is the median of the turns' ratios.
/// </remarks>
public static class ModelBench
{
    private sealed record Row(string Engine, string Model, int Batch, double ForwardImagesPerSecond, double TrainImagesPerSecond, double LatencyMs, long MultiplyAdds)
    {
        public double ForwardGflops => 2.0 * MultiplyAdds * ForwardImagesPerSecond / 1e9;

        public double TrainGflops => 3 * 2.0 * MultiplyAdds * TrainImagesPerSecond / 1e9;
    }

    private const string Ours = "FaceNetGen", Ort = "ONNX Runtime", Torch = "PyTorch";

    /// <summary>What a slice measures: images per second of a batch's forward pass or training step, or ms of a batch-1 pass.</summary>
    private enum Figure { Forward, Train, Latency }

    /// <summary>One engine's slice of one figure: runs whole calls for at least the given seconds and returns calls per second.</summary>
    private sealed record Contestant(string Engine, Figure Figure, Func<double, double> Slice, int ImagesPerCall)
    {
        public List<double> Values { get; } = new();

        /// <summary>The figure of one slice: images per second, or ms per call for <see cref="Figure.Latency"/>.</summary>
        public double Measure(double seconds)
        {
            double rate = Slice(seconds);
            return Figure == Figure.Latency ? 1000 / rate : rate * ImagesPerCall;
        }
    }

    public static int Run(string[] args)
    {
        var options = Options.Parse(args);
        int threads = options.Threads;
        Console.WriteLine($"machine: {Environment.ProcessorCount} logical processors; {threads} threads for every engine; batch {options.Batch}");
        double peak = FmaPeak.Measure(threads);
        Console.WriteLine($"FMA peak ({threads} threads, measured): {peak:F1} GFLOP/s");
        Console.WriteLine($"engines take turns in slices of {options.Slice:G} s for {options.Seconds:G} s a model (at least {options.MinTurns} turns)");
        var rows = new List<Row>();
        var ratios = new List<string>();
        foreach (string name in options.Models)
        {
            var entry = ModelCatalog.Get(name);
            var (modelRows, modelRatios) = TakeTurns(entry, options, peak);
            rows.AddRange(modelRows);
            ratios.Add(modelRatios);
            if (options.Profile) Profile(entry, options);
        }
        // The peak again, now that the machine is warm: the table uses the higher of the two readings.
        double after = FmaPeak.Measure(threads);
        Console.WriteLine($"FMA peak ({threads} threads, measured again after the runs): {after:F1} GFLOP/s");
        peak = Math.Max(peak, after);
        Console.WriteLine();
        Console.WriteLine(Table(rows, peak, options));
        Console.WriteLine("(each figure the median of its engine's slices)");
        Console.WriteLine();
        Console.WriteLine("our speed over each peer's, median of the turns (quartiles; range):");
        foreach (var line in ratios.Where(l => l.Length > 0)) Console.WriteLine(line);
        return 0;
    }

    /// <summary>One model: every engine set up at once, warmed up, then turns until the model's time is spent.</summary>
    private static (List<Row> Rows, string Ratios) TakeTurns(ModelEntry entry, Options options, double peak)
    {
        int n = options.Batch;
        var info = entry.Info;
        var contestants = new List<Contestant>();

        using var backend = new CpuBackend(options.Threads);
        using var model = entry.Create(backend, n, true);
        model.InitializeParameters(1);
        var input = Random(n * info.InputSize, 2);
        var dOut = Random(n * info.EmbeddingSize, 3, 0.01f);
        using var sumSquares = backend.Allocate(info.ParameterLength);
        model.SetInput(input, n);
        // The forward figure is the embedder's: a model built for inference, whose arena reuses dead tensors' slots.
        using var inference = entry.Create(backend, n, false);
        inference.SetParameters(model.GetParameters());
        inference.SetInput(input, n);
        using var single = entry.Create(backend, 1, false);
        single.SetParameters(model.GetParameters());
        single.SetInput(input.AsSpan(0, info.InputSize), 1);
        contestants.Add(new(Ours, Figure.Forward, s => Turns.Slice(() => inference.Forward(n), s), n));
        contestants.Add(new(Ours, Figure.Train, s => Turns.Slice(() =>
        {
            model.Forward(n);
            backend.Upload(dOut, model.OutputGradient);
            model.Backward(n);
            backend.AdaGradStep(model.Parameters.At(0), model.ParameterGradients!.At(0), sumSquares.At(0), info.ParameterLength, 1e-6f, 1e-8f);
        }, s), n));
        contestants.Add(new(Ours, Figure.Latency, s => Turns.Slice(() => single.Forward(1), s), 1));

        string onnxPath = Path.Combine(Path.GetTempPath(), $"facenet-bench-{entry.Name}-{Environment.ProcessId}.onnx");
        SessionOptions? so = null;
        InferenceSession? session = null;
        TorchServer? torch = null;
        try
        {
            if (options.Onnx)
            {
                OnnxExport.Export(info, model.GetParameters(), onnxPath);
                so = new SessionOptions { IntraOpNumThreads = options.Threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
                session = new InferenceSession(onnxPath, so);
                var batch = new[] { NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, new DenseTensor<float>(input, new[] { n, info.InputChannels, info.InputHeight, info.InputWidth })) };
                var one = new[] { NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, new DenseTensor<float>(input.AsMemory(0, info.InputSize), new[] { 1, info.InputChannels, info.InputHeight, info.InputWidth })) };
                var s1 = session;
                contestants.Add(new(Ort, Figure.Forward, s => Turns.Slice(() => { using var r = s1.Run(batch); }, s), n));
                contestants.Add(new(Ort, Figure.Latency, s => Turns.Slice(() => { using var r = s1.Run(one); }, s), 1));
                if (options.Profile) OnnxProfile(onnxPath, so, batch, entry.Name, n, options.ProfileTop);
            }
            if (options.Torch)
            {
                torch = TorchServer.Start(entry.Name, n, options.Threads);
                if (torch is null) Console.WriteLine($"{entry.Name}: no PyTorch figures");
                else
                {
                    var t = torch;
                    contestants.Add(new(Torch, Figure.Forward, s => t.Slice(forward: true, s), n));
                    contestants.Add(new(Torch, Figure.Train, s => t.Slice(forward: false, s), n));
                }
            }

            // Warm-up: .NET compiles hot methods again, fully optimised, after some dozens of calls, and its first
            // half-second of a large model runs at a third of its steady speed; the peers warm their caches.
            foreach (var c in contestants) c.Slice(Math.Max(options.Slice, options.WarmupSeconds));
            var clock = Stopwatch.StartNew();
            for (int turn = 0; clock.Elapsed.TotalSeconds < options.Seconds || turn < options.MinTurns; turn++)
            {
                var parts = new List<string>();
                foreach (var figure in new[] { Figure.Forward, Figure.Train, Figure.Latency })
                {
                    var group = contestants.Where(c => c.Figure == figure).ToList();
                    if (turn % 2 == 1) group.Reverse();
                    foreach (var c in group) c.Values.Add(c.Measure(options.Slice));
                    string unit = figure == Figure.Latency ? "batch-1 ms" : figure == Figure.Train ? "train img/s" : "forward img/s";
                    parts.Add($"{unit} " + string.Join(", ", contestants.Where(c => c.Figure == figure).Select(c => string.Format(CultureInfo.InvariantCulture, "{0} {1:F2}", c.Engine, c.Values[^1]))));
                }
                Console.WriteLine($"{entry.Name} turn {turn + 1}: {string.Join("; ", parts)}");
            }
        }
        finally
        {
            torch?.Dispose();
            session?.Dispose();
            so?.Dispose();
            File.Delete(onnxPath);
        }

        double Median(string engine, Figure figure) =>
            contestants.FirstOrDefault(c => c.Engine == engine && c.Figure == figure) is { } c ? Turns.Quantile(c.Values, 0.5) : double.NaN;
        var rows = new[] { Ours, Ort, Torch }
            .Where(e => contestants.Any(c => c.Engine == e))
            .Select(e => new Row(e, entry.Name, n, Median(e, Figure.Forward), Median(e, Figure.Train), Median(e, Figure.Latency), info.MultiplyAdds))
            .ToList();
        foreach (var r in rows) Console.WriteLine(Format(r, peak));
        return (rows, TurnRatios(entry.Name, contestants));
    }

    /// <summary>Our speed over each peer's, turn by turn (the slices of one turn ran seconds apart), summarised.</summary>
    private static string TurnRatios(string model, List<Contestant> contestants)
    {
        var parts = new List<string>();
        void Add(string label, string peer, Figure figure)
        {
            var ours = contestants.FirstOrDefault(c => c.Engine == Ours && c.Figure == figure);
            var other = contestants.FirstOrDefault(c => c.Engine == peer && c.Figure == figure);
            if (ours is null || other is null) return;
            // Speeds: images per second divide ours by theirs; latencies theirs by ours.
            var r = ours.Values.Zip(other.Values, (a, b) => figure == Figure.Latency ? b / a : a / b).ToList();
            parts.Add(string.Format(CultureInfo.InvariantCulture, "{0} {1:F2} ({2:F2}–{3:F2}; {4:F2}–{5:F2})",
                label, Turns.Quantile(r, 0.5), Turns.Quantile(r, 0.25), Turns.Quantile(r, 0.75), r.Min(), r.Max()));
        }
        Add("training ÷ PyTorch", Torch, Figure.Train);
        Add("forward ÷ PyTorch", Torch, Figure.Forward);
        Add("forward ÷ ONNX Runtime", Ort, Figure.Forward);
        Add("batch-1 speed ÷ ONNX Runtime", Ort, Figure.Latency);
        int turns = contestants.Count == 0 ? 0 : contestants[0].Values.Count;
        return parts.Count == 0 ? "" : $"{model} ({turns} turns): {string.Join("; ", parts)}";
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

    private static string Format(Row r, double peak)
    {
        string train = double.IsNaN(r.TrainImagesPerSecond)
            ? "train        —"
            : string.Format(CultureInfo.InvariantCulture, "train {0,8:F2} img/s ({1,5:F1}% peak)", r.TrainImagesPerSecond, r.TrainGflops / peak * 100);
        string latency = double.IsNaN(r.LatencyMs) ? "" : string.Format(CultureInfo.InvariantCulture, "  batch-1 {0,7:F1} ms", r.LatencyMs);
        return string.Format(CultureInfo.InvariantCulture, "{0,-14} {1,-5} fwd {2,8:F2} img/s ({3,5:F1}% peak)  {4}{5}",
            r.Engine, r.Model, r.ForwardImagesPerSecond, r.ForwardGflops / peak * 100, train, latency);
    }

    private static string Table(List<Row> rows, double peak, Options options)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| model | engine | forward img/s | forward GFLOP/s | % FMA peak | train img/s | train GFLOP/s | % FMA peak | batch-1 ms |");
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
        return sb.ToString();
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
        public double Slice { get; private set; } = 2;
        public double Seconds { get; private set; } = 120;
        public int MinTurns { get; private set; } = 3;
        public double WarmupSeconds { get; private set; } = 2;
        public bool Torch { get; private set; } = true;
        public bool Onnx { get; private set; } = true;
        public bool Profile { get; private set; }
        public int ProfileTop { get; private set; } = 25;

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
                    case "--slice": o.Slice = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--seconds": o.Seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--turns": o.MinTurns = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--no-torch": o.Torch = false; break;
                    case "--no-onnx": o.Onnx = false; break;
                    case "--profile": o.Profile = true; break;
                    case "--top": o.ProfileTop = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--quick": o.Batch = 4; o.Slice = 0.05; o.Seconds = 0; o.MinTurns = 1; o.WarmupSeconds = 0; break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }
            if (o.Threads < 1) throw new ArgumentException("--threads must be at least 1");
            if (o.Torch && o.Batch < 3) throw new ArgumentException("--batch must be at least 3 (PyTorch's loss forms triplets within the batch)");
            if (!(o.Slice > 0) || o.Seconds < 0 || o.MinTurns < 1) throw new ArgumentException("--slice must be positive, --seconds not negative, --turns at least 1");
            return o;
        }
    }
}
