using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;

namespace FaceNetGen.Bench;

/// <summary>
/// `bench versus`: this engine and PyTorch take turns on one model, in slices of a few seconds, for a while. PyTorch
/// runs in a process of its own (bench/torch_bench.py --serve) that waits on its stdin between slices, so that only
/// one engine computes at a time. `models` measures each engine for some seconds a round, and this machine's speed
/// moves in phases of 20–60 s that a round of one engine may catch and the other's miss; neighbouring slices share a
/// phase, so the median of the pairs' speed ratios is the figure to trust, as in `ab`.
/// </summary>
internal static class VersusBench
{
    public static int Run(string[] args)
    {
        double slice = 2;
        var (model, batch, threads, seconds, forward) = TurnOptions.Parse(args, 120, (option, next) =>
        {
            if (option != "--slice") return false;
            slice = double.Parse(next(), CultureInfo.InvariantCulture);
            return true;
        });
        if (batch < 3) throw new ArgumentException("--batch must be at least 3 (PyTorch's loss forms triplets within the batch)");
        if (threads < 1) throw new ArgumentException("--threads must be at least 1");
        if (!(slice > 0) || !(seconds > 0)) throw new ArgumentException("--slice and --seconds must be positive");
        var entry = ModelCatalog.Get(model);

        using var torch = TorchServer.Start(model, batch, threads);
        if (torch is null) return 1;

        using var backend = new CpuBackend(threads);
        using var trained = entry.Create(backend, batch, !forward);
        trained.InitializeParameters(1);
        var info = trained.Description;
        var input = ModelBench.Random(batch * info.InputSize, 2);
        var dOut = ModelBench.Random(batch * info.EmbeddingSize, 3, 0.01f);
        trained.SetInput(input, batch);
        using var sumSquares = backend.Allocate(info.ParameterLength);
        Action step = forward
            ? () => trained.Forward(batch)
            : () =>
            {
                trained.Forward(batch);
                backend.Upload(dOut, trained.OutputGradient);
                trained.Backward(batch);
                backend.AdaGradStep(trained.Parameters.At(0), trained.ParameterGradients!.At(0), sumSquares.At(0), info.ParameterLength, 1e-6f, 1e-8f);
            };

        string what = forward ? "forward passes" : "training steps (forward, backward, AdaGrad)";
        Console.WriteLine($"{model}, batch {batch}, {threads} threads, {what}: FaceNetGen ({backend.Description}) and {torch.Framework} take turns in slices of {slice:G} s for {seconds:G} s");
        // Warm-up: .NET compiles hot methods again, fully optimised, after some dozens of calls.
        Turns.Slice(step, Math.Max(slice, 2));
        torch.Slice(forward, Math.Max(slice, 2));

        var ours = new List<double>();
        var theirs = new List<double>();
        var clock = Stopwatch.StartNew();
        for (int pair = 0; clock.Elapsed.TotalSeconds < seconds || pair < 3; pair++)
        {
            // Which goes first alternates, so that neither always follows the other.
            if (pair % 2 == 0)
            {
                ours.Add(batch * Turns.Slice(step, slice));
                theirs.Add(batch * torch.Slice(forward, slice));
            }
            else
            {
                theirs.Add(batch * torch.Slice(forward, slice));
                ours.Add(batch * Turns.Slice(step, slice));
            }
        }
        var ratios = ours.Zip(theirs, (a, b) => a / b).ToList();
        Console.WriteLine($"pairs: {ratios.Count}; images/s, median of the slices: FaceNetGen {Turns.Quantile(ours, 0.5):F2}, PyTorch {Turns.Quantile(theirs, 0.5):F2}");
        Console.WriteLine($"FaceNetGen's speed over PyTorch's, median of the pairs: {Turns.Quantile(ratios, 0.5):F3} (quartiles {Turns.Quantile(ratios, 0.25):F3}–{Turns.Quantile(ratios, 0.75):F3}, range {ratios.Min():F3}–{ratios.Max():F3})");
        Console.WriteLine("by thirds of the run: " + Turns.Thirds(ratios, "F3"));
        return 0;
    }
}
