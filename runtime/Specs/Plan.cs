namespace FaceNetGen.Specs;

// The lowered model: a flat list of kernel calls over two statically planned arenas.
//
// Activations: every tensor an op writes gets its own slot, laid out per image; for a batch of at most
// MaxBatch images the slot of tensor t starts at t.Offset × MaxBatch and holds MaxBatch × t.Shape.Size floats
// in NCHW order. Nothing is reused, because backward needs every forward activation. The gradient arena is laid
// out the same way, but a gradient's slot is reused once Backward no longer reads it (GradientArena).
// A model built for inference only has a smaller activation arena: there tensor t starts at
// t.InferenceOffset × MaxBatch, and a slot is reused once the last op that reads its tensor has run (first fit,
// in forward order). The input and the output keep their slots for the model's life, so that Forward can run
// again on the same input and the embeddings stay readable. No op's output shares memory with its inputs. An
// inception branch there writes straight into its channels of the concatenation (an output image stride), so the
// concatenation copies nothing.
// Parameters: one flat arena, each tensor at a fixed offset; weights are OIHW (convolution) or [out, in]
// (fully connected), as in PyTorch and ONNX, and each bias follows its weight.
//
// Gradients: parameter gradients accumulate (+=); activation gradients assign, except where a tensor fans out
// to several consumers (the input of an inception module): the first consumer met in backward order assigns,
// the later ones accumulate. Each op records that choice per input in InputGrads.

public enum OpKind
{
    Conv,
    Pool,
    Lrn,
    Concat,
    Linear,
    Maxout,
    L2Norm,
}

/// <summary>How backward writes the gradient of one op input.</summary>
public enum GradMode
{
    /// <summary>No gradient is needed (the model input).</summary>
    None,
    Assign,
    Accumulate,
}

/// <summary>
/// An activation tensor (per image): its offset in the training arena and in the smaller inference arena, where it
/// may instead be a view (InferenceView ≥ 0) into a concatenation's slot, InferenceViewOffset floats into each image.
/// </summary>
public sealed record TensorSlot(int Id, string Name, string Identifier, Shape Shape, long Offset, long InferenceOffset, int InferenceView, long InferenceViewOffset)
{
    /// <summary>Per-image offset of the tensor's gradient in the gradient arena (see <see cref="GradientArena"/>).</summary>
    public long GradientOffset { get; init; }

    public bool IsInferenceView => InferenceView >= 0;
}

/// <summary>How a parameter tensor is initialised: He normal before a ReLU, Glorot normal before a linear output, biases zero.</summary>
public enum ParamInit
{
    Zero,
    He,
    Glorot,
}

/// <summary>A parameter tensor in the parameter arena.</summary>
public sealed record ParamSlot(string Name, string Identifier, EquatableArray<int> Dims, long Offset, long Length, bool IsBias, int FanIn, int FanOut, ParamInit Init, string Layer)
{
    public string DimsText => string.Join("x", Dims);
}

/// <summary>One kernel call. Inputs and Output index <see cref="Plan.Tensors"/>; Weight and Bias index <see cref="Plan.Parameters"/>.</summary>
public abstract record PlanOp(OpKind Kind, string Layer, EquatableArray<int> Inputs, int Output)
{
    public EquatableArray<GradMode> InputGrads { get; init; } = EquatableArray<GradMode>.Empty;
}

public sealed record ConvOp(string Layer, int Input, int Output, int Weight, int Bias, Shape In, Shape Out,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW, bool Relu)
    : PlanOp(OpKind.Conv, Layer, new EquatableArray<int>(new[] { Input }), Output);

public sealed record PoolOp(string Layer, int Input, int Output, PoolKind Pool, Shape In, Shape Out,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
    : PlanOp(OpKind.Pool, Layer, new EquatableArray<int>(new[] { Input }), Output);

public sealed record LrnOp(string Layer, int Input, int Output, Shape Shape, int Size, double Alpha, double Beta, double K)
    : PlanOp(OpKind.Lrn, Layer, new EquatableArray<int>(new[] { Input }), Output);

/// <summary>Channel concatenation; ChannelOffsets[i] is where input i starts in the output.</summary>
public sealed record ConcatOp(string Layer, EquatableArray<int> Parts, int Output, EquatableArray<int> ChannelOffsets, Shape Out)
    : PlanOp(OpKind.Concat, Layer, Parts, Output);

public sealed record LinearOp(string Layer, int Input, int Output, int Weight, int Bias, int InFeatures, int OutFeatures, bool Relu)
    : PlanOp(OpKind.Linear, Layer, new EquatableArray<int>(new[] { Input }), Output);

/// <summary>Maximum over consecutive groups of PoolSize: y[j] = max_i x[j·p + i].</summary>
public sealed record MaxoutOp(string Layer, int Input, int Output, int Units, int PoolSize)
    : PlanOp(OpKind.Maxout, Layer, new EquatableArray<int>(new[] { Input }), Output);

public sealed record L2NormOp(string Layer, int Input, int Output, int Dim)
    : PlanOp(OpKind.L2Norm, Layer, new EquatableArray<int>(new[] { Input }), Output);

/// <summary>The whole lowered model.</summary>
public sealed record Plan(
    EquatableArray<TensorSlot> Tensors,
    EquatableArray<ParamSlot> Parameters,
    EquatableArray<PlanOp> Ops,
    int InputTensor,
    int OutputTensor,
    long ActivationsPerImage,
    long ParameterLength,
    long InferenceActivationsPerImage)
{
    /// <summary>Floats per image of the gradient arena, where gradients whose lifetimes in Backward do not overlap share memory.</summary>
    public long GradientsPerImage { get; init; }

    /// <summary>The ops in the order Forward runs them (see <see cref="InferenceArena.ForwardOrder"/>).</summary>
    public EquatableArray<int> ForwardOrder { get; init; } = EquatableArray<int>.Empty;

    /// <summary>The ops' backward steps in the order Backward runs them (see <see cref="GradientArena.BackwardOrder"/>).</summary>
    public EquatableArray<int> BackwardOrder { get; init; } = EquatableArray<int>.Empty;
}

/// <summary>
/// Sibling convolutions: 1×1 stride-1 convolutions that read the same tensor (an inception module's 1×1 branch and its
/// reductions) and follow one another in an order of the ops. Forward runs such a group as one kernel call
/// (<c>ConvForwardSiblings</c>) at its first member, and Backward takes the group's filter and data gradients in one
/// call each (<c>ConvBackwardFilterSiblings</c>, <c>ConvBackwardDataSiblings</c>) at its last member, so that a backend
/// may read the input, and write its gradient, once for all of them.
/// </summary>
public static class Siblings
{
    /// <summary>
    /// The groups of <paramref name="order"/> (indices into <paramref name="ops"/>): maximal runs of two or more
    /// consecutive ops that are 1×1 stride-1 unpadded convolutions of one input, all with or all without ReLU, none
    /// writing <paramref name="output"/>. Each group lists its positions in <paramref name="order"/>, first to last.
    /// </summary>
    public static List<int[]> Groups(IReadOnlyList<PlanOp> ops, IReadOnlyList<int> order, int output)
    {
        var groups = new List<int[]>();
        int k = 0;
        while (k < order.Count)
        {
            int end = k + 1;
            if (Member(ops[order[k]], output) is { } first)
            {
                while (end < order.Count && Member(ops[order[end]], output) is { } next && next.Input == first.Input && next.Relu == first.Relu) end++;
            }
            if (end - k >= 2) groups.Add(Enumerable.Range(k, end - k).ToArray());
            k = end;
        }
        return groups;
    }

    private static ConvOp? Member(PlanOp op, int output) =>
        op is ConvOp c && c.KernelH == 1 && c.KernelW == 1 && c.StrideH == 1 && c.StrideW == 1 && c.PadH == 0 && c.PadW == 0 && c.Output != output ? c : null;
}

/// <summary>
/// The inference arena: per-image offsets where tensors whose lifetimes (from the op that writes them to the last op
/// that reads them) do not overlap share memory, and concatenations whose branches write straight into them.
/// </summary>
public static class InferenceArena
{
    /// <summary>
    /// The order Forward runs the ops in (indices into <paramref name="ops"/>): the spec's, except that the readers of
    /// a tensor that several ops read (an inception module's input) run as soon as it is written, one after another,
    /// so that it stays in cache across them, before the deeper layers of their branches.
    /// </summary>
    public static int[] ForwardOrder(IReadOnlyList<PlanOp> ops)
    {
        var readers = Readers(ops);
        int tensors = readers.Length;
        var written = new bool[tensors];
        var produced = new bool[tensors];
        foreach (var op in ops) produced[op.Output] = true;
        for (int t = 0; t < tensors; t++) written[t] = !produced[t];
        return Schedule(ops.Count, latestFirst: false,
            ready: i => ops[i].Inputs.All(t => written[t]),
            preferred: i => ops[i].Inputs.Any(t => readers[t] > 1),
            taken: i => written[ops[i].Output] = true);
    }

    /// <summary>
    /// A list schedule of <paramref name="count"/> ops: at each step, of the ops not yet taken that are
    /// <paramref name="ready"/>, the first <paramref name="preferred"/> one in index order (from the last index with
    /// <paramref name="latestFirst"/>), else the first of them; <paramref name="taken"/> then updates what is ready.
    /// </summary>
    internal static int[] Schedule(int count, bool latestFirst, Func<int, bool> ready, Func<int, bool> preferred, Action<int> taken)
    {
        var done = new bool[count];
        var order = new int[count];
        for (int k = 0; k < count; k++)
        {
            int pick = -1, fallback = -1;
            for (int j = 0; j < count; j++)
            {
                int i = latestFirst ? count - 1 - j : j;
                if (done[i] || !ready(i)) continue;
                if (fallback < 0) fallback = i;
                if (preferred(i))
                {
                    pick = i;
                    break;
                }
            }
            if (pick < 0) pick = fallback;
            if (pick < 0) throw new InvalidOperationException("the ops' graph has a cycle");
            done[pick] = true;
            order[k] = pick;
            taken(pick);
        }
        return order;
    }

    /// <summary>Where each tensor lives in the inference arena (arrays indexed by tensor id).</summary>
    /// <param name="Offsets">Per-image offset of the tensor's own slot; -1 for a view.</param>
    /// <param name="ViewOf">The concatenation a tensor is a view into, or -1.</param>
    /// <param name="ViewOffsets">Where a view starts within each image of its concatenation (floats).</param>
    /// <param name="Length">Floats per image of the arena.</param>
    public sealed record Layout(long[] Offsets, int[] ViewOf, long[] ViewOffsets, long Length);

    /// <summary>
    /// Places every tensor of <paramref name="tensors"/> (indexed by id), given the ops in forward order; the
    /// <paramref name="input"/> and <paramref name="output"/> tensors stay live throughout. A concatenation's part
    /// that only the concatenation reads, written by a convolution or a pooling (whose forward kernels take an output
    /// image stride), becomes a view: its op writes each image into the part's channels of the concatenation, whose
    /// copy then has nothing to do. The concatenation's slot lives from its first part's op on.
    /// </summary>
    public static Layout Place(IReadOnlyList<Shape> tensors, IReadOnlyList<PlanOp> ops, int input, int output)
    {
        int count = tensors.Count;
        var born = new int[count];
        var last = new int[count];
        var readers = new int[count];
        var producer = new PlanOp?[count];
        for (int t = 0; t < count; t++) born[t] = -1;
        for (int i = 0; i < ops.Count; i++)
        {
            born[ops[i].Output] = i;
            producer[ops[i].Output] = ops[i];
            foreach (int t in ops[i].Inputs)
            {
                last[t] = Math.Max(last[t], i);
                readers[t]++;
            }
        }
        for (int t = 0; t < count; t++)
        {
            // A tensor nothing reads still needs its slot while its op writes it.
            last[t] = Math.Max(last[t], born[t]);
        }
        born[input] = -1;
        last[input] = int.MaxValue;
        last[output] = int.MaxValue;
        // A group of sibling convolutions writes every member's output in one call, at its first member.
        foreach (var group in Siblings.Groups(ops, Enumerable.Range(0, ops.Count).ToArray(), output))
        {
            foreach (int i in group) born[ops[i].Output] = group[0];
        }

        var viewOf = new int[count];
        var viewOffsets = new long[count];
        for (int t = 0; t < count; t++) viewOf[t] = -1;
        foreach (var op in ops)
        {
            if (op is not ConcatOp cc) continue;
            long plane = (long)cc.Out.H * cc.Out.W;
            for (int i = 0; i < cc.Parts.Count; i++)
            {
                int part = cc.Parts[i];
                if (part == input || part == output || readers[part] != 1 || producer[part] is not (ConvOp or PoolOp)) continue;
                viewOf[part] = cc.Output;
                viewOffsets[part] = cc.ChannelOffsets[i] * plane;
                born[cc.Output] = Math.Min(born[cc.Output], born[part]);
            }
        }

        var (offsets, length) = FirstFit(tensors, Enumerable.Range(0, count).Where(t => viewOf[t] < 0), born, last);
        return new Layout(offsets, viewOf, viewOffsets, length);
    }

    /// <summary>How many ops read each tensor, for every tensor id the ops name.</summary>
    internal static int[] Readers(IReadOnlyList<PlanOp> ops)
    {
        int tensors = 0;
        foreach (var op in ops)
        {
            tensors = Math.Max(tensors, op.Output + 1);
            foreach (int t in op.Inputs) tensors = Math.Max(tensors, t + 1);
        }
        var readers = new int[tensors];
        foreach (var op in ops)
            foreach (int t in op.Inputs) readers[t]++;
        return readers;
    }

    /// <summary>
    /// Per-image offsets (-1 for tensors not placed) and the arena's length: the tensors of <paramref name="placed"/>,
    /// in order of birth, each in the lowest gap between the slots still alive that holds it. A slot is free from the
    /// step after its tensor's last use (<paramref name="last"/> &lt; the newcomer's <paramref name="born"/>), so a
    /// step's outputs never share memory with its inputs.
    /// </summary>
    internal static (long[] Offsets, long Length) FirstFit(IReadOnlyList<Shape> tensors, IEnumerable<int> placed, int[] born, int[] last)
    {
        var offsets = new long[tensors.Count];
        for (int t = 0; t < offsets.Length; t++) offsets[t] = -1;
        var live = new List<int>();
        long length = 0;
        foreach (int t in placed.OrderBy(t => born[t]).ThenBy(t => t))
        {
            live.RemoveAll(u => last[u] < born[t]);
            live.Sort((a, b) => offsets[a].CompareTo(offsets[b]));
            long at = 0, size = tensors[t].Size;
            foreach (int u in live)
            {
                if (offsets[u] - at >= size) break;
                at = Math.Max(at, offsets[u] + tensors[u].Size);
            }
            offsets[t] = at;
            live.Add(t);
            length = Math.Max(length, at + size);
        }
        return (offsets, length);
    }
}

/// <summary>
/// The gradient arena and the order of Backward. Backward runs the ops' backward steps in <see cref="BackwardOrder"/>,
/// and a ReLU-fused convolution's output that only a concatenation reads (once) takes its share of the
/// concatenation's gradient, with the ReLU backward in the same pass, right before the convolution's own backward
/// (<see cref="ReluFoldedIntoConcat"/>). A tensor's gradient lives from the first backward step that writes it to the
/// last that reads it: the backward of the op that produced it, or for a concatenation, the last of its folded
/// branches. Gradients whose lifetimes do not overlap share memory (first fit, in backward order), so the arena is a
/// small part of the activation arena and what Backward writes is still in cache when it is read.
/// </summary>
public static class GradientArena
{
    /// <summary>
    /// The order of the ops' backward steps (indices into <paramref name="ops"/>). A step can run once every reader of
    /// its op's output has run its own. Among the steps that can, the one latest in Forward runs first, except that
    /// the readers of a tensor that several ops read (an inception module's input) wait until nothing else can run:
    /// then they run one after another, so that the input and its gradient, which they all read and add to, stay in
    /// cache across them, rather than each branch's deeper layers running in between.
    /// </summary>
    public static int[] BackwardOrder(IReadOnlyList<PlanOp> ops)
    {
        var readers = InferenceArena.Readers(ops);
        var pending = (int[])readers.Clone();
        return InferenceArena.Schedule(ops.Count, latestFirst: true,
            ready: i => pending[ops[i].Output] == 0,
            preferred: i => ops[i].Inputs.All(t => readers[t] <= 1),
            taken: i =>
            {
                foreach (int t in ops[i].Inputs) pending[t]--;
            });
    }

    /// <summary>
    /// Whether tensor <paramref name="t"/> is the output of a ReLU-fused convolution that only a concatenation reads
    /// (once, so its gradient is assigned, not accumulated): its ReLU backward then runs inside the concatenation's
    /// backward, which runs for it right before the convolution's backward.
    /// </summary>
    public static bool ReluFoldedIntoConcat(IReadOnlyList<PlanOp> ops, int output, int t)
    {
        if (t == output || !ops.Any(o => o is ConvOp c && c.Output == t && c.Relu)) return false;
        var readers = ops.Where(o => o.Inputs.Contains(t)).ToList();
        if (readers.Count != 1 || readers[0] is not ConcatOp cc || cc.Parts.Count(p => p == t) != 1) return false;
        int i = Enumerable.Range(0, cc.Parts.Count).First(k => cc.Parts[k] == t);
        return cc.InputGrads.Count == cc.Parts.Count && cc.InputGrads[i] == GradMode.Assign;
    }

    /// <summary>
    /// Per-image gradient offsets of <paramref name="tensors"/> (indexed by id; -1 for the model input, whose gradient
    /// nobody computes) and the arena's length, given the ops in forward order with their gradient modes. The output's
    /// gradient, which the loss writes before Backward, keeps its slot throughout.
    /// </summary>
    public static (long[] Offsets, long Length) Place(IReadOnlyList<Shape> tensors, IReadOnlyList<PlanOp> ops, IReadOnlyList<int> backwardOrder, int input, int output)
    {
        int count = tensors.Count;
        var born = new int[count];
        var last = new int[count];
        for (int t = 0; t < count; t++)
        {
            born[t] = int.MaxValue;
            last[t] = -1;
        }
        void Write(int t, int step)
        {
            born[t] = Math.Min(born[t], step);
            last[t] = Math.Max(last[t], step);
        }
        void Read(int t, int step) => last[t] = Math.Max(last[t], step);
        var concatOf = new int[count];
        for (int t = 0; t < count; t++) concatOf[t] = -1;
        foreach (var op in ops)
        {
            if (op is ConcatOp cc)
                foreach (int part in cc.Parts) concatOf[part] = cc.Output;
        }
        for (int step = 0; step < backwardOrder.Count; step++)
        {
            var op = ops[backwardOrder[step]];
            if (op is not ConcatOp && ReluFoldedIntoConcat(ops, output, op.Output)) Read(concatOf[op.Output], step);
            Write(op.Output, step);
            for (int j = 0; j < op.Inputs.Count; j++)
            {
                if (op.InputGrads.Count > j && op.InputGrads[j] == GradMode.None) continue;
                if (op is ConcatOp && ReluFoldedIntoConcat(ops, output, op.Inputs[j])) continue;
                Write(op.Inputs[j], step);
            }
        }
        // A group of sibling convolutions takes its filter and data gradients in one call each, at its last member:
        // every member's output gradient is read there.
        foreach (var group in Siblings.Groups(ops, backwardOrder, output))
        {
            foreach (int step in group) Read(ops[backwardOrder[step]].Output, group[group.Length - 1]);
        }
        born[output] = -1;
        last[output] = int.MaxValue;

        return InferenceArena.FirstFit(tensors, Enumerable.Range(0, count).Where(t => t != input && born[t] != int.MaxValue), born, last);
    }
}
