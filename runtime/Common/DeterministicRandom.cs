namespace FaceNetGen;

/// <summary>
/// xoshiro256** with SplitMix64 seeding: the same seed gives the same stream on every platform and .NET version,
/// and its whole state is four numbers, which checkpoints store so that a resumed run continues the same stream.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    public DeterministicRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private DeterministicRandom()
    {
    }

    /// <summary>The complete state, for checkpoints.</summary>
    public ulong[] GetState() => new[] { _s0, _s1, _s2, _s3, _spareNormal is { } s ? BitConverter.DoubleToUInt64Bits(s) : 0UL, _spareNormal.HasValue ? 1UL : 0UL };

    public static DeterministicRandom FromState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != 6) throw new ArgumentException($"A random state has 6 words, not {state.Length}.", nameof(state));
        var r = new DeterministicRandom { _s0 = state[0], _s1 = state[1], _s2 = state[2], _s3 = state[3] };
        if (state[5] != 0) r._spareNormal = BitConverter.UInt64BitsToDouble(state[4]);
        return r;
    }

    /// <summary>A new generator whose stream is independent of this one's (for worker threads).</summary>
    public DeterministicRandom Fork() => new(NextUInt64());

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, max).</summary>
    public int Next(int max)
    {
        if (max <= 0) throw new ArgumentOutOfRangeException(nameof(max));
        return (int)((NextUInt64() >> 33) % (ulong)max);
    }

    /// <summary>Uniform in [min, max).</summary>
    public int Next(int min, int max) => min + Next(max - min);

    public float NextFloat(float min, float max) => (float)(min + (max - min) * NextDouble());

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextNormal()
    {
        if (_spareNormal is { } spare)
        {
            _spareNormal = null;
            return spare;
        }
        double u1, u2;
        do
        {
            u1 = NextDouble();
        }
        while (u1 <= double.Epsilon);
        u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle.</summary>
    public void Shuffle<T>(IList<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
