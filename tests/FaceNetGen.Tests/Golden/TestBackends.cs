using FaceNetGen.Backends;
using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Tests.Golden;

/// <summary>
/// Every backend the golden tests run on, in one list. A new backend (the optimised CPU backend, CUDA) is one more
/// entry here; the theories pick it up by name.
/// </summary>
public static class TestBackends
{
    /// <summary>Name → factory. Each test creates (and disposes) its own backend.</summary>
    public static readonly IReadOnlyList<(string Name, Func<IBackend> Create)> Factories = new (string, Func<IBackend>)[]
    {
        ("reference", () => new ReferenceBackend()),
        ("cpu", () => new CpuBackend()),
        ("cpu-1-thread", () => new CpuBackend(threads: 1)),
        ("cpu-vector256", () => new CpuBackend(simd: Gemm.Best >= SimdLevel.Vector256 ? SimdLevel.Vector256 : Gemm.Best)),
    };

    /// <summary>The names, as theory data.</summary>
    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var (name, _) in Factories) data.Add(name);
            return data;
        }
    }

    public static IBackend Create(string name)
    {
        foreach (var (n, create) in Factories)
        {
            if (n == name) return create();
        }
        throw new ArgumentException($"no test backend named '{name}'", nameof(name));
    }
}
