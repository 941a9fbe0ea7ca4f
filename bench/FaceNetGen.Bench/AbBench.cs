using System.Diagnostics;
using System.Globalization;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;

namespace FaceNetGen.Bench;

/// <summary>
/// `bench ab`: one model on two CPU backend settings in one process, taking training steps (or forward passes) in
/// turn, so that both see the same phases of a shared machine. This machine's speed moves in phases of 20–60 s, which
/// misled comparisons of whole runs; neighbouring steps share a phase, so the median of the pairs' ratios is the
/// figure to trust. Settings: <c>winograd=on|off</c>, <c>direct=on|off</c>, <c>simd=512|256|128|scalar</c>,
/// <c>taps=on|off</c>, <c>threads=N</c>, <c>batch=N</c>, comma-separated. Times are compared per image, so that two batch sizes can be.
/// </summary>
internal static class AbBench
{
    private sealed record Setting(string Text, int Threads, SimdLevel? Simd, bool Winograd, bool Direct, bool Taps, int Batch, double FlopNs = CpuBackend.NanosecondsPerFlop)
    {
        public static Setting Parse(string text, int threads, int batch)
        {
            var s = new Setting(text, threads, null, true, true, true, batch);
            foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
                string value = kv.Length == 2 ? kv[1] : throw new ArgumentException($"setting '{part}' is not key=value");
                s = kv[0] switch
                {
                    "winograd" => s with { Winograd = OnOff(part, value) },
                    "direct" => s with { Direct = OnOff(part, value) },
                    "taps" => s with { Taps = OnOff(part, value) },
                    "threads" => s with { Threads = Positive(part, value) },
                    "batch" => s with { Batch = Positive(part, value) },
                    "flopns" => s with { FlopNs = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double ns) && ns > 0 ? ns : throw new ArgumentException($"setting '{part}': a positive number of nanoseconds") },
                    "simd" => s with
                    {
                        Simd = value switch
                        {
                            "512" => SimdLevel.Vector512,
                            "256" => SimdLevel.Vector256,
                            "128" => SimdLevel.Vector128,
                            "scalar" => SimdLevel.Scalar,
                            _ => throw new ArgumentException($"setting '{part}': simd is 512, 256, 128 or scalar"),
                        },
                    },
                    _ => throw new ArgumentException($"unknown setting '{kv[0]}' in '{text}' (winograd, direct, taps, simd, threads, batch, flopns)"),
                };
            }
            return s;
        }

        private static int Positive(string part, string value) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0
                ? v
                : throw new ArgumentException($"setting '{part}': a whole number of at least 1");

        private static bool OnOff(string part, string value) => value switch
        {
            "on" or "true" => true,
            "off" or "false" => false,
            _ => throw new ArgumentException($"setting '{part}': use on or off"),
        };

        public CpuBackend Create() => new(Threads, Simd, Winograd, Direct) { Taps = Taps, FlopNanoseconds = FlopNs };
    }

    public static int Run(string[] args)
    {
        string aText = "", bText = "winograd=off";
        var (model, batch, threads, seconds, forward) = TurnOptions.Parse(args, 30, (option, next) =>
        {
            switch (option)
            {
                case "--a": aText = next(); return true;
                case "--b": bText = next(); return true;
                default: return false;
            }
        });
        var a = Setting.Parse(aText, threads, batch);
        var b = Setting.Parse(bText, threads, batch);
        var entry = ModelCatalog.Get(model);

        using var backendA = a.Create();
        using var backendB = b.Create();
        using var modelA = entry.Create(backendA, a.Batch, !forward);
        using var modelB = entry.Create(backendB, b.Batch, !forward);
        modelA.InitializeParameters(1);
        modelB.SetParameters(modelA.GetParameters());
        var info = modelA.Description;
        int most = Math.Max(a.Batch, b.Batch), common = Math.Min(a.Batch, b.Batch);
        // The smaller batch is the larger one's first images, so their embeddings can be compared.
        var input = ModelBench.Random(most * info.InputSize, 2);
        var dOut = ModelBench.Random(most * info.EmbeddingSize, 3, 0.01f);
        modelA.SetInput(input.AsSpan(0, a.Batch * info.InputSize), a.Batch);
        modelB.SetInput(input.AsSpan(0, b.Batch * info.InputSize), b.Batch);
        Action Step(FaceNetModel m, CpuBackend backend, int n)
        {
            var gradient = dOut.AsSpan(0, n * info.EmbeddingSize).ToArray();
            return forward
                ? () => m.Forward(n)
                : () =>
                {
                    m.Forward(n);
                    backend.Upload(gradient, m.OutputGradient);
                    m.Backward(n);
                };
        }
        var stepA = Step(modelA, backendA, a.Batch);
        var stepB = Step(modelB, backendB, b.Batch);

        // Both compute the same function: their embeddings agree before any timing.
        stepA();
        stepB();
        var embA = new float[a.Batch * info.EmbeddingSize];
        var embB = new float[b.Batch * info.EmbeddingSize];
        modelA.GetOutput(embA, a.Batch);
        modelB.GetOutput(embB, b.Batch);
        double maxDiff = embA.Take(common * info.EmbeddingSize).Zip(embB, (x, y) => Math.Abs(x - y)).Max();
        string batches = a.Batch == b.Batch ? $"batch {a.Batch}" : $"batch {a.Batch} against {b.Batch}";
        Console.WriteLine($"{model}, {batches}, {(forward ? "forward passes" : "training steps (forward, backward)")}, taking turns for {seconds:F0} s");
        Console.WriteLine($"A: {Describe(a, backendA)}");
        Console.WriteLine($"B: {Describe(b, backendB)}");
        Console.WriteLine($"largest embedding difference between A and B{(a.Batch == b.Batch ? "" : $" (their first {common} images)")}: {maxDiff:G3}");
        for (int i = 0; i < 2; i++)
        {
            stepA();
            stepB();
        }

        var timesA = new List<double>();
        var timesB = new List<double>();
        var clock = Stopwatch.StartNew();
        for (int pair = 0; clock.Elapsed.TotalSeconds < seconds || pair < 3; pair++)
        {
            // Which goes first alternates too, so that neither always follows the other.
            bool aFirst = pair % 2 == 0;
            double first = Timed(aFirst ? stepA : stepB), second = Timed(aFirst ? stepB : stepA);
            timesA.Add((aFirst ? first : second) / a.Batch);
            timesB.Add((aFirst ? second : first) / b.Batch);
        }
        var ratios = timesB.Zip(timesA, (tb, ta) => tb / ta).ToList();
        string unit = forward ? "pass" : "step";
        Console.WriteLine($"pairs: {timesA.Count}; median ms per {unit}: A {Median(timesA) * a.Batch * 1e3:F2}, B {Median(timesB) * b.Batch * 1e3:F2}; per image: A {Median(timesA) * 1e3:F3}, B {Median(timesB) * 1e3:F3}");
        Console.WriteLine($"B's time per image over A's, median of the pairs: {Median(ratios):F4} (quartiles {Turns.Quantile(ratios, 0.25):F4}–{Turns.Quantile(ratios, 0.75):F4})");
        Console.WriteLine("by thirds of the run: " + Turns.Thirds(ratios, "F4"));
        return 0;
    }

    private static string Describe(Setting s, CpuBackend backend) =>
        $"{(s.Text.Length == 0 ? "defaults" : $"'{s.Text}'")} → {backend.Description} (winograd {(s.Winograd ? "on" : "off")}, direct {(s.Direct ? "on" : "off")}, taps {(s.Taps ? "on" : "off")}), batch {s.Batch}";

    private static double Timed(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double Median(List<double> values) => Turns.Quantile(values, 0.5);
}
