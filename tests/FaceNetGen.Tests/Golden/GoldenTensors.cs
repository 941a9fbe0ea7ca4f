using FaceNetGen.Models;

namespace FaceNetGen.Tests.Golden;

/// <summary>
/// Deterministic tensors that the PyTorch oracle (tools/torch/golden_tensors.py) and these tests produce bit for bit,
/// so that golden files need not store weights or inputs.
/// </summary>
/// <remarks>
/// <para>Value <c>i</c> of stream <c>seed</c> is SplitMix64's output number <c>i</c> (0-based) from state <c>seed</c>:
/// z = seed + (i + 1)·0x9E3779B97F4A7C15, then SplitMix64's finaliser. Its uniform float is ((z &gt;&gt; 40) − 2²³) / 2²³,
/// a multiple of 2⁻²³ in [−1, 1), exact in float32. A scaled value is (float)(u · scale), the product taken in double.</para>
/// <para>Parameter tensor k (arena order) uses stream <c>SplitMix64(weightsSeed, k)</c>; a weight is scaled by
/// √(6 / fan-in) (He-uniform, fan-in = the product of all dimensions but the first), a bias by 0.1. An input batch
/// (NCHW) uses stream <c>inputSeed</c> scaled by 127.5 / 128, the input format's range; the upstream gradient r of
/// the loss L = Σ embedding · r uses stream <c>gradientSeed</c>, unscaled.</para>
/// </remarks>
public static class GoldenTensors
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>Input values span (v − 127.5) / 128 for v in [0, 255].</summary>
    public const double InputScale = 127.5 / 128.0;

    /// <summary>Biases are uniform in [−0.1, 0.1).</summary>
    public const double BiasScale = 0.1;

    /// <summary>SplitMix64 output number <paramref name="index"/> of the stream started at <paramref name="seed"/>.</summary>
    public static ulong SplitMix64(ulong seed, ulong index)
    {
        ulong z = unchecked(seed + (index + 1) * Golden);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Value <paramref name="index"/> of stream <paramref name="seed"/>, uniform in [−1, 1).</summary>
    public static double Uniform(ulong seed, ulong index) => ((long)(SplitMix64(seed, index) >> 40) - (1L << 23)) / (double)(1 << 23);

    /// <summary>Fills <paramref name="destination"/> with (float)(u · scale) for values 0, 1, … of stream <paramref name="seed"/>.</summary>
    public static void Fill(Span<float> destination, ulong seed, double scale)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)(Uniform(seed, (ulong)i) * scale);
    }

    /// <summary>He-uniform bound √(6 / fan-in) for a weight, 0.1 for a bias (a one-dimensional tensor).</summary>
    public static double ParameterScale(IReadOnlyList<int> shape)
    {
        if (shape.Count == 1) return BiasScale;
        long fanIn = 1;
        for (int d = 1; d < shape.Count; d++) fanIn *= shape[d];
        return Math.Sqrt(6.0 / fanIn);
    }

    /// <summary>The whole parameter arena of a model.</summary>
    public static float[] Parameters(ModelDescription model, ulong weightsSeed)
    {
        var arena = new float[model.ParameterLength];
        for (int k = 0; k < model.Parameters.Count; k++)
        {
            var p = model.Parameters[k];
            Fill(arena.AsSpan((int)p.Offset, (int)p.Length), SplitMix64(weightsSeed, (ulong)k), ParameterScale(p.Shape));
        }
        return arena;
    }

    /// <summary>An input batch of <paramref name="n"/> images, NCHW.</summary>
    public static float[] Input(ModelDescription model, int n, ulong inputSeed)
    {
        var x = new float[(long)n * model.InputSize];
        Fill(x, inputSeed, InputScale);
        return x;
    }

    /// <summary>The upstream gradient r, (n, embedding).</summary>
    public static float[] UpstreamGradient(ModelDescription model, int n, ulong gradientSeed)
    {
        var r = new float[(long)n * model.EmbeddingSize];
        Fill(r, gradientSeed, 1.0);
        return r;
    }
}
