using System.Diagnostics;
using System.Numerics.Tensors;
using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Bench;

/// <summary>
/// The fully connected layers of NN2, NN4 and NNS2 alone, batch 16: forward, backward-data and backward-filter ms, with
/// GFLOP/s and the rate at which the forward pass reads the weights; beside it, the rate of a plain read of the same bytes.
/// </summary>
public static class LinearBench
{
    public static void Run(string[] args)
    {
        var shapes = new (int In, int Out)[] { (5120, 800), (800, 128), (1024, 128), (9216, 4096) };
        int n = 16;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--shape" && i + 1 < args.Length)
            {
                var p = args[++i].Split(',').Select(int.Parse).ToArray();
                shapes = [(p[0], p[1])];
            }
            else if (args[i] == "--batch" && i + 1 < args.Length) n = int.Parse(args[++i]);
        }
        int threads = Environment.ProcessorCount;
        using var cpu = new CpuBackend(threads);
        Console.WriteLine($"fully connected, batch {n}, {threads} threads");
        Console.WriteLine($"{"in -> out",-14} {"fwd ms",8} {"GFLOP/s",8} {"W GB/s",7} {"read GB/s",10} {"data ms",8} {"filter ms",10}");
        var random = new Random(1);
        foreach (var (inF, outF) in shapes)
        {
            using var x = Filled(cpu, (long)n * inF, random);
            using var w = Filled(cpu, (long)inF * outF, random);
            using var b = Filled(cpu, outF, random);
            using var y = cpu.Allocate((long)n * outF);
            using var dy = Filled(cpu, (long)n * outF, random);
            using var dx = cpu.Allocate((long)n * inF);
            using var dw = cpu.Allocate((long)inF * outF);
            using var db = cpu.Allocate(outF);
            double flops = 2.0 * n * inF * outF, bytes = 4.0 * inF * outF;
            double forward = Timing.Best(() => cpu.LinearForward(n, inF, outF, x.At(0), w.At(0), b.At(0), y.At(0), relu: true));
            double data = Timing.Best(() => cpu.LinearBackwardData(n, inF, outF, dy.At(0), w.At(0), dx.At(0), accumulate: false));
            double filter = Timing.Best(() => cpu.LinearBackwardFilter(n, inF, outF, x.At(0), dy.At(0), dw.At(0), db.At(0), accumulate: false));
            var copy = new float[(long)inF * outF];
            double read = Timing.Best(() => TensorPrimitives.Sum(copy));
            Console.WriteLine($"{$"{inF} -> {outF}",-14} {forward * 1e3,8:F3} {flops / forward / 1e9,8:F1} {bytes / forward / 1e9,7:F1} {bytes / read / 1e9,10:F1} {data * 1e3,8:F3} {filter * 1e3,10:F3}");
        }
    }

    private static DeviceBuffer Filled(CpuBackend cpu, long count, Random random)
    {
        var buffer = cpu.Allocate(count);
        var data = new float[count];
        for (long i = 0; i < count; i++) data[i] = (float)random.NextDouble() - 0.5f;
        cpu.Upload(data, buffer.At(0));
        return buffer;
    }

}
