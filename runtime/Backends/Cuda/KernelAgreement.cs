using FaceNetGen.Specs;

namespace FaceNetGen.Backends.Cuda;

/// <summary>One kernel compared between a candidate backend and the reference: the largest error relative to the reference's scale.</summary>
public sealed record AgreementRow(string Kernel, string Shape, double MaxRelativeError, double Tolerance)
{
    /// <summary>Within tolerance (a NaN error fails).</summary>
    public bool Passed => MaxRelativeError <= Tolerance;
}

/// <summary>
/// Every kernel of <see cref="IBackend"/> run on the same random inputs by a candidate backend and by the reference
/// (<see cref="Cpu.ReferenceBackend"/>), on small shapes with odd sizes, strides and padding, with <c>accumulate</c> both
/// ways. The error of a kernel is max |candidate − reference| / max |reference| over all of its outputs (NaN or ∞ in
/// the candidate fail). Outputs start from random values, so a kernel that fails to overwrite, or overwrites where it
/// should accumulate, is caught.
/// </summary>
public static class KernelAgreement
{
    /// <summary>Tolerance of kernels that reduce over many terms in float (convolutions, matrix products).</summary>
    public const double ReductionTolerance = 1e-4;

    /// <summary>Tolerance of every other kernel.</summary>
    public const double ElementwiseTolerance = 1e-5;

    private sealed record Case(string Kernel, string Shape, double Tolerance, float[][] Inputs, int[] Outputs, Action<IBackend, BufferView[]> Run);

    /// <summary>Compares every case whose kernel name passes <paramref name="include"/>; <paramref name="suffix"/> is appended to the names.</summary>
    public static List<AgreementRow> Compare(IBackend candidate, IBackend reference, ulong seed, Func<string, bool>? include = null, string suffix = "", Action<AgreementRow>? progress = null)
    {
        var rows = new List<AgreementRow>();
        foreach (var c in Cases(seed))
        {
            if (include is not null && !include(c.Kernel)) continue;
            var expected = Execute(reference, c);
            var actual = Execute(candidate, c);
            double error = 0;
            for (int i = 0; i < expected.Length; i++) error = Math.Max(error, RelativeError(actual[i], expected[i]));
            var row = new AgreementRow(c.Kernel + suffix, c.Shape, error, c.Tolerance);
            progress?.Invoke(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The kernel names of the cases, in order.</summary>
    public static IReadOnlyList<string> KernelNames() => Cases(1).Select(c => c.Kernel).ToList();

    /// <summary>max |a − r| / max |r| (0 when both are all zero; ∞ when a holds NaN or ∞ or when r is all zero and a is not).</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length) return double.PositiveInfinity;
        double diff = 0, scale = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i])) return double.PositiveInfinity;
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        if (diff == 0) return 0;
        return scale == 0 ? double.PositiveInfinity : diff / scale;
    }

    private static float[][] Execute(IBackend backend, Case c)
    {
        var buffers = new DeviceBuffer[c.Inputs.Length];
        try
        {
            var views = new BufferView[c.Inputs.Length];
            for (int i = 0; i < c.Inputs.Length; i++)
            {
                buffers[i] = backend.Allocate(c.Inputs[i].Length);
                backend.Upload(c.Inputs[i], buffers[i].At(0));
                views[i] = buffers[i].At(0);
            }
            c.Run(backend, views);
            backend.Synchronize();
            var outputs = new float[c.Outputs.Length][];
            for (int k = 0; k < c.Outputs.Length; k++)
            {
                outputs[k] = new float[c.Inputs[c.Outputs[k]].Length];
                backend.Download(views[c.Outputs[k]], outputs[k]);
            }
            return outputs;
        }
        finally
        {
            foreach (var b in buffers) b?.Dispose();
        }
    }

    private static float[] Uniform(DeterministicRandom rng, long length, float scale = 1f)
    {
        var a = new float[length];
        for (long i = 0; i < length; i++) a[i] = rng.NextFloat(-scale, scale);
        return a;
    }

    private static float[] Positive(DeterministicRandom rng, long length)
    {
        var a = new float[length];
        for (long i = 0; i < length; i++) a[i] = rng.NextFloat(0.01f, 1f);
        return a;
    }

    private static IEnumerable<Case> Cases(ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        float[] U(long length, float scale = 1f) => Uniform(rng, length, scale);

        // ---- convolution ----
        var convs = new (string Name, int N, ConvGeometry G, bool Relu)[]
        {
            ("3x3/1 pad 1, ReLU", 3, new ConvGeometry(5, 11, 9, 7, 11, 9, 3, 3, 1, 1, 1, 1), true),
            ("5x5/2 pad 2", 2, new ConvGeometry(4, 13, 10, 6, 7, 5, 5, 5, 2, 2, 2, 2), false),
            ("1x1", 3, new ConvGeometry(9, 7, 5, 11, 7, 5, 1, 1, 1, 1, 0, 0), true),
            ("7x7/2 pad 3", 2, new ConvGeometry(3, 23, 17, 8, 12, 9, 7, 7, 2, 2, 3, 3), true),
        };
        foreach (var (name, n, g, relu) in convs)
        {
            var gg = g;
            yield return new Case("conv forward", $"n={n} {g} {name}", ReductionTolerance,
                new[] { U((long)n * g.InSize), U(g.WeightSize, 0.3f), U(g.OutC), U((long)n * g.OutSize) }, new[] { 3 },
                (b, v) => b.ConvForward(gg, n, v[0], v[1], v[2], v[3], relu));
        }
        {
            // Written into a channel slice of a wider tensor (an inference model's inception branch): the floats between
            // the images must stay as they were.
            var (name, n, g, relu) = convs[0];
            long stride = 2L * g.OutSize + 3;
            yield return new Case("conv forward", $"n={n} {g} {name}, images {stride} floats apart", ReductionTolerance,
                new[] { U((long)n * g.InSize), U(g.WeightSize, 0.3f), U(g.OutC), U(g.OutSize + n * stride) }, new[] { 3 },
                (b, v) => b.ConvForward(g, n, v[0], v[1], v[2], v[3].Slice(g.OutSize), relu, stride));
        }
        foreach (var (name, n, g, _) in convs.Take(2))
        {
            var gg = g;
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("conv backward data", $"n={n} {g} {name}{Acc(acc)}", ReductionTolerance,
                    new[] { U((long)n * g.OutSize), U(g.WeightSize, 0.3f), U((long)n * g.InSize) }, new[] { 2 },
                    (b, v) => b.ConvBackwardData(gg, n, v[0], v[1], v[2], acc));
            }
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("conv backward filter", $"n={n} {g} {name}{(acc ? ", dw/db +=" : "")}", ReductionTolerance,
                    new[] { U((long)n * g.InSize), U((long)n * g.OutSize), U(g.WeightSize), U(g.OutC) }, new[] { 2, 3 },
                    (b, v) => b.ConvBackwardFilter(gg, n, v[0], v[1], v[2], v[3], acc));
            }
        }
        {
            // 1×1 siblings of one input in one call each pass (an inception module's 1×1 branch and reductions); the
            // first member writes into a wider tensor.
            const int n = 3;
            var g = new[] { new ConvGeometry(9, 7, 5, 11, 7, 5, 1, 1, 1, 1, 0, 0), new ConvGeometry(9, 7, 5, 6, 7, 5, 1, 1, 1, 1, 0, 0) };
            long stride = g[0].OutSize + 2L * 35;
            string shape = $"n={n} {g[0].InH}x{g[0].InW}x{g[0].InC} -> {g[0].OutC}+{g[1].OutC}";
            yield return new Case("conv siblings forward", $"{shape}, ReLU, the first's images {stride} floats apart", ReductionTolerance,
                new[] { U((long)n * g[0].InSize), U(g[0].WeightSize, 0.3f), U(g[1].WeightSize, 0.3f), U(g[0].OutC), U(g[1].OutC), U(n * stride), U((long)n * g[1].OutSize) }, new[] { 5, 6 },
                (b, v) => b.ConvForwardSiblings(g, n, v[0], v[1..3], v[3..5], v[5..7], relu: true, new[] { stride, 0L }));
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("conv siblings backward data", $"{shape}{Acc(acc)}", ReductionTolerance,
                    new[] { U((long)n * g[0].OutSize), U((long)n * g[1].OutSize), U(g[0].WeightSize, 0.3f), U(g[1].WeightSize, 0.3f), U((long)n * g[0].InSize) }, new[] { 4 },
                    (b, v) => b.ConvBackwardDataSiblings(g, n, v[0..2], v[2..4], v[4], acc));
                yield return new Case("conv siblings backward filter", $"{shape}{(acc ? ", dw/db +=" : "")}", ReductionTolerance,
                    new[] { U((long)n * g[0].InSize), U((long)n * g[0].OutSize), U((long)n * g[1].OutSize), U(g[0].WeightSize), U(g[1].WeightSize), U(g[0].OutC), U(g[1].OutC) }, new[] { 3, 4, 5, 6 },
                    (b, v) => b.ConvBackwardFilterSiblings(g, n, v[0], v[1..3], v[3..5], v[5..7], acc));
            }
        }
        yield return new Case("relu backward", "1001", ElementwiseTolerance, new[] { U(1001), U(1001) }, new[] { 1 },
            (b, v) => b.ReluBackward(v[0], v[1], 1001));

        // ---- pooling ----
        var pools = new (string Name, int N, PoolGeometry G)[]
        {
            ("max 3x3/2 pad 1", 2, new PoolGeometry(PoolKind.Max, 5, 13, 11, 7, 6, 3, 3, 2, 2, 1, 1)),
            ("max 3x3/1 pad 1", 3, new PoolGeometry(PoolKind.Max, 4, 9, 7, 9, 7, 3, 3, 1, 1, 1, 1)),
            ("max 3x3/2 ceil mode", 2, new PoolGeometry(PoolKind.Max, 3, 8, 9, 4, 4, 3, 3, 2, 2, 0, 0)),
            ("average 3x3/1 pad 1", 3, new PoolGeometry(PoolKind.Average, 4, 9, 7, 9, 7, 3, 3, 1, 1, 1, 1)),
            ("average 7x7 global", 3, new PoolGeometry(PoolKind.Average, 6, 7, 7, 1, 1, 7, 7, 1, 1, 0, 0)),
            ("L2 3x3/1 pad 1", 3, new PoolGeometry(PoolKind.L2, 4, 9, 7, 9, 7, 3, 3, 1, 1, 1, 1)),
            ("L2 3x3/2 pad 1", 2, new PoolGeometry(PoolKind.L2, 5, 13, 11, 7, 6, 3, 3, 2, 2, 1, 1)),
        };
        foreach (var (name, n, g) in pools)
        {
            var gg = g;
            yield return new Case("pool forward", $"n={n} {g} ({name})", ElementwiseTolerance,
                new[] { U((long)n * g.InSize), U((long)n * g.OutSize) }, new[] { 1 },
                (b, v) => b.PoolForward(gg, n, v[0], v[1]));
            long stride = 2L * g.OutSize + 5;
            yield return new Case("pool forward", $"n={n} {g} ({name}), images {stride} floats apart", ElementwiseTolerance,
                new[] { U((long)n * g.InSize), U(g.OutSize + n * stride) }, new[] { 1 },
                (b, v) => b.PoolForward(gg, n, v[0], v[1].Slice(gg.OutSize), stride));
            // The backward pass is given the forward's own output y, computed by the reference on the host.
            var x = U((long)n * g.InSize);
            var y = new float[(long)n * g.OutSize];
            Cpu.ReferenceKernels.PoolForward(g, n, x, y);
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("pool backward", $"n={n} {g} ({name}){Acc(acc)}", ElementwiseTolerance,
                    new[] { x, y, U((long)n * g.OutSize), U((long)n * g.InSize) }, new[] { 3 },
                    (b, v) => b.PoolBackward(gg, n, v[0], v[1], v[2], v[3], acc));
            }
        }

        // ---- LRN (alpha large enough that the normalisation matters) ----
        var lrns = new (int N, LrnGeometry G)[]
        {
            (2, new LrnGeometry(11, 5, 4, 5, 0.5f, 0.75f, 1f)),
            (3, new LrnGeometry(7, 3, 3, 3, 0.9f, 0.6f, 2f)),
            (2, new LrnGeometry(9, 4, 3, 4, 0.5f, 0.75f, 1f)),
        };
        foreach (var (n, g) in lrns)
        {
            var gg = g;
            long len = (long)n * g.Length;
            yield return new Case("lrn forward", $"n={n} {g}", ElementwiseTolerance, new[] { U(len, 2f), U(len) }, new[] { 1 },
                (b, v) => b.LrnForward(gg, n, v[0], v[1]));
            var x = U(len, 2f);
            var y = new float[len];
            Cpu.ReferenceKernels.LrnForward(g, n, x, y);
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("lrn backward", $"n={n} {g}{Acc(acc)}", ElementwiseTolerance, new[] { x, y, U(len), U(len) }, new[] { 3 },
                    (b, v) => b.LrnBackward(gg, n, v[0], v[1], v[2], v[3], acc));
            }
        }

        // ---- concatenation ----
        {
            const int n = 3, spatial = 35, partC = 5, wholeC = 13, offset = 6;
            yield return new Case("concat forward", $"n={n} {partC} of {wholeC} channels at {offset}, {spatial} positions", ElementwiseTolerance,
                new[] { U(n * partC * spatial), U(n * wholeC * spatial) }, new[] { 1 },
                (b, v) => b.ConcatForward(n, spatial, v[0], partC, v[1], wholeC, offset));
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("concat backward", $"n={n} {partC} of {wholeC} channels at {offset}, {spatial} positions{Acc(acc)}", ElementwiseTolerance,
                    new[] { U(n * wholeC * spatial), U(n * partC * spatial) }, new[] { 1 },
                    (b, v) => b.ConcatBackward(n, spatial, v[0], wholeC, offset, v[1], partC, acc));
            }
            yield return new Case("concat+relu backward", $"n={n} {partC} of {wholeC} channels at {offset}, {spatial} positions", ElementwiseTolerance,
                new[] { U(n * wholeC * spatial), U(n * partC * spatial), U(n * partC * spatial) }, new[] { 2 },
                (b, v) => b.ConcatBackwardRelu(n, spatial, v[0], wholeC, offset, v[1], v[2], partC));
        }

        // ---- fully connected, maxout, L2 normalisation ----
        {
            const int n = 5, inF = 37, outF = 13;
            foreach (bool relu in new[] { false, true })
            {
                yield return new Case("linear forward", $"n={n} {inF}->{outF}{(relu ? ", ReLU" : "")}", ReductionTolerance,
                    new[] { U(n * inF), U(outF * inF, 0.3f), U(outF), U(n * outF) }, new[] { 3 },
                    (b, v) => b.LinearForward(n, inF, outF, v[0], v[1], v[2], v[3], relu));
            }
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("linear backward data", $"n={n} {inF}->{outF}{Acc(acc)}", ReductionTolerance,
                    new[] { U(n * outF), U(outF * inF, 0.3f), U(n * inF) }, new[] { 2 },
                    (b, v) => b.LinearBackwardData(n, inF, outF, v[0], v[1], v[2], acc));
            }
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("linear backward filter", $"n={n} {inF}->{outF}{(acc ? ", dw/db +=" : "")}", ReductionTolerance,
                    new[] { U(n * inF), U(n * outF), U(outF * inF), U(outF) }, new[] { 2, 3 },
                    (b, v) => b.LinearBackwardFilter(n, inF, outF, v[0], v[1], v[2], v[3], acc));
            }
        }
        {
            const int n = 3, units = 7, pool = 3;
            yield return new Case("maxout forward", $"n={n} {units} units x {pool}", ElementwiseTolerance,
                new[] { U(n * units * pool), U(n * units) }, new[] { 1 }, (b, v) => b.MaxoutForward(n, units, pool, v[0], v[1]));
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("maxout backward", $"n={n} {units} units x {pool}{Acc(acc)}", ElementwiseTolerance,
                    new[] { U(n * units * pool), U(n * units), U(n * units * pool) }, new[] { 2 },
                    (b, v) => b.MaxoutBackward(n, units, pool, v[0], v[1], v[2], acc));
            }
        }
        foreach (var (n, dim) in new[] { (5, 37), (3, 300) })
        {
            yield return new Case("l2 normalize forward", $"n={n} dim {dim}", ElementwiseTolerance,
                new[] { U(n * dim), U(n * dim) }, new[] { 1 }, (b, v) => b.L2NormalizeForward(n, dim, v[0], v[1]));
            var x = U(n * dim);
            var y = new float[n * dim];
            Cpu.ReferenceKernels.L2NormalizeForward(n, dim, x, y);
            foreach (bool acc in new[] { false, true })
            {
                yield return new Case("l2 normalize backward", $"n={n} dim {dim}{Acc(acc)}", ElementwiseTolerance,
                    new[] { x, y, U(n * dim), U(n * dim) }, new[] { 3 },
                    (b, v) => b.L2NormalizeBackward(n, dim, v[0], v[1], v[2], v[3], acc));
            }
        }

        // ---- optimisers, fill, copy ----
        {
            const int len = 1003;
            yield return new Case("adagrad step", $"{len}, lr 0.05", ElementwiseTolerance,
                new[] { U(len), U(len), Positive(rng, len) }, new[] { 0, 2 },
                (b, v) => b.AdaGradStep(v[0], v[1], v[2], len, 0.05f, 1e-10f));
            yield return new Case("sgd step", $"{len}, lr 0.05, momentum 0.9, decay 1e-4", ElementwiseTolerance,
                new[] { U(len), U(len), U(len) }, new[] { 0, 2 },
                (b, v) => b.SgdStep(v[0], v[1], v[2], len, 0.05f, 0.9f, 1e-4f));
            yield return new Case("adam step", $"{len}, step 3", ElementwiseTolerance,
                new[] { U(len), U(len), U(len, 0.1f), Positive(rng, len) }, new[] { 0, 2, 3 },
                (b, v) => b.AdamStep(v[0], v[1], v[2], v[3], len, 1e-3f, 0.9f, 0.999f, 1e-8f, 3));
            yield return new Case("fill", $"{len} of 0.75 and {len} of 0", ElementwiseTolerance,
                new[] { U(len), U(len) }, new[] { 0, 1 },
                (b, v) =>
                {
                    b.Fill(v[0].Slice(1), len - 2, 0.75f);
                    b.Fill(v[1].Slice(2), len - 3, 0f);
                });
            yield return new Case("copy", $"{len - 5} floats", ElementwiseTolerance,
                new[] { U(len), U(len) }, new[] { 1 }, (b, v) => b.Copy(v[0].Slice(3), v[1].Slice(1), len - 5));
        }
    }

    private static string Acc(bool accumulate) => accumulate ? ", dx +=" : "";
}
