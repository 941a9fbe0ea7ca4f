using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// How a batch's output columns (image, pixel) are cut into work items of about <see cref="CpuBackend.TargetColumns"/>
/// columns: large maps are cut into chunks within each image; small maps (the 7×7 and 3×3 of the last layers) are
/// grouped several images to an item, so that the GEMM's column tiles stay full.
/// </summary>
internal readonly struct ColumnPlan
{
    private readonly int _hw;
    private readonly int _chunk;
    private readonly int _chunksPerImage;
    private readonly int _group;
    private readonly int _n;

    /// <param name="n">Images in the batch.</param>
    /// <param name="hw">Output pixels per image.</param>
    /// <param name="nr">The GEMM tile width: chunks are whole tiles.</param>
    /// <param name="workers">Threads available: items are made small enough that each gets work.</param>
    /// <param name="splitImages">Whether an item may hold part of an image.</param>
    /// <param name="group">Images per item for small maps, in place of <see cref="BalancedGroup"/>'s choice (0).</param>
    public ColumnPlan(int n, int hw, int nr, int workers, bool splitImages, int group = 0)
    {
        _n = n;
        _hw = hw;
        int target = CpuBackend.TargetColumns;
        if (!Grouped(hw))
        {
            _group = 1;
            if (splitImages)
            {
                int pieces = Math.Max((hw + target - 1) / target, (workers + n - 1) / n);
                _chunk = Math.Min(hw, Gemm.RoundUp((hw + pieces - 1) / pieces, nr));
            }
            else
            {
                _chunk = hw;
            }
            _chunksPerImage = (hw + _chunk - 1) / _chunk;
            Items = n * _chunksPerImage;
        }
        else
        {
            _group = group > 0 ? Math.Min(group, n) : BalancedGroup(n, hw, nr, workers);
            _chunk = hw;
            _chunksPerImage = 1;
            Items = (n + _group - 1) / _group;
        }
    }

    public int Items { get; }

    /// <summary>Images per item (1 for maps that are cut into chunks).</summary>
    public int Group => _group;

    /// <summary>Whether the map is small enough that items group whole images.</summary>
    public static bool Grouped(int hw) => hw < CpuBackend.TargetColumns / 2;

    /// <summary>Columns of the packed panels that <paramref name="cols"/> columns fill, tiles being <paramref name="nr"/> wide.</summary>
    public static long Padded(long cols, int nr) => (cols + nr - 1) / nr * nr;

    /// <summary>
    /// Images per item for small maps: of the group sizes up to <see cref="CpuBackend.TargetColumns"/> columns and up
    /// to a worker's share of the batch, the one whose busiest worker has the fewest padded columns to multiply (each
    /// item counted a little extra for its packing and start-up), the larger on a tie. 16 images of 9×8 on 2 workers:
    /// 4 items of 4 (288 columns each) rather than 7 + 7 + 2, where one worker did 9 images' work and the other 7.
    /// </summary>
    private static int BalancedGroup(int n, int hw, int nr, int workers)
    {
        int most = Math.Max(1, Math.Min(CpuBackend.TargetColumns / hw, (n + workers - 1) / workers));
        int best = most;
        long bestCost = long.MaxValue;
        for (int group = most; group >= 1; group--)
        {
            int items = (n + group - 1) / group;
            long rounds = (items + workers - 1) / workers;
            long cost = rounds * (Gemm.RoundUp(group * hw, nr) + nr / 2);
            if (cost < bestCost)
            {
                bestCost = cost;
                best = group;
            }
        }
        return best;
    }

    /// <summary>Largest column count of one item.</summary>
    public int MaxColumns => _group * _chunk;

    /// <summary>Sub-chunk size to use inside an item that holds a whole large image.</summary>
    public int Chunk => _chunk;

    public void Item(int index, out int img0, out int imgCount, out int hw0, out int hwCount)
    {
        if (_group > 1)
        {
            img0 = index * _group;
            imgCount = Math.Min(_group, _n - img0);
            hw0 = 0;
            hwCount = _hw;
            return;
        }
        img0 = index / _chunksPerImage;
        imgCount = 1;
        hw0 = index % _chunksPerImage * _chunk;
        hwCount = Math.Min(_chunk, _hw - hw0);
    }
}

public sealed unsafe partial class CpuBackend
{
    private readonly ConvForwardWork _convForward;
    private readonly ConvBackwardDataWork _convData;
    private readonly ConvBackwardFilterWork _convFilter;

    public override void ConvForward(in ConvGeometry g, int n, BufferView x, BufferView w, BufferView b, BufferView y, bool relu, long yStride = 0)
    {
        long stride = ImageStride.Resolve(yStride, g.OutSize);
        float* px = P(x, (long)n * g.InSize), pw = P(w, g.WeightSize), pb = P(b, g.OutC), py = P(y, ImageStride.Span(n, stride, g.OutSize));
        // Winograd before direct: the only shapes both take (24 input channels, 3×3) are faster with Winograd.
        if (TakesPointwise(g)) _pointwise.Run(g, n, px, pw, pb, py, relu, stride);
        else if (TakesTaps(g, n)) _taps.Run(g, n, px, pw, pb, py, relu, transposed: false, accumulate: false, stride);
        else if (TakesWinograd(g, n)) _winograd.Run(g, n, px, pw, pb, py, relu, yStride: stride);
        else if (TakesWinograd5(g, n)) _winograd5.Run(g, n, px, pw, pb, py, relu, transposed: false, accumulate: false, stride);
        else if (TakesDirect(g)) _direct.Run(g, n, px, pw, pb, py, relu, stride);
        else _convForward.Run(g, n, px, pw, pb, py, relu, stride);
    }

    public override void ConvBackwardData(in ConvGeometry g, int n, BufferView dy, BufferView w, BufferView dx, bool accumulate)
    {
        var t = Transposed(g);
        if (TakesTapStridedData(g, n)) _tapStridedData.Run(g, n, P(dy, (long)n * g.OutSize), P(w, g.WeightSize), P(dx, (long)n * g.InSize), accumulate);
        else if (TakesTaps(t, n)) _taps.Run(t, n, P(dy, (long)n * g.OutSize), P(w, g.WeightSize), null, P(dx, (long)n * g.InSize), relu: false, transposed: true, accumulate, t.OutSize);
        else if (TakesWinograd(t, n)) _winograd.Run(t, n, P(dy, (long)n * g.OutSize), P(w, g.WeightSize), null, P(dx, (long)n * g.InSize), relu: false, transposed: true, accumulate);
        else if (TakesWinograd5(t, n)) _winograd5.Run(t, n, P(dy, (long)n * g.OutSize), P(w, g.WeightSize), null, P(dx, (long)n * g.InSize), relu: false, transposed: true, accumulate, g.InSize);
        else _convData.Run(g, n, P(dy, (long)n * g.OutSize), P(w, g.WeightSize), P(dx, (long)n * g.InSize), accumulate);
    }

    public override void ConvBackwardFilter(in ConvGeometry g, int n, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate)
    {
        float* px = P(x, (long)n * g.InSize), pdy = P(dy, (long)n * g.OutSize), pdw = P(dw, g.WeightSize), pdb = P(db, g.OutC);
        if (TakesTaps(g, n)) _tapFilter.Run(g, n, px, pdy, pdw, pdb, accumulate);
        else _convFilter.Run(g, n, px, pdy, pdw, pdb, accumulate);
    }

    /// <summary>
    /// One GEMM per work item for all the siblings, each item packing its columns of x once (<see cref="ConvForwardWork"/>),
    /// where every sibling is 1×1 stride 1 on the same input.
    /// </summary>
    public override void ConvForwardSiblings(ReadOnlySpan<ConvGeometry> g, int n, BufferView x, ReadOnlySpan<BufferView> w, ReadOnlySpan<BufferView> b, ReadOnlySpan<BufferView> y, bool relu, ReadOnlySpan<long> yStride)
    {
        if (!FusesSiblings(g))
        {
            base.ConvForwardSiblings(g, n, x, w, b, y, relu, yStride);
            return;
        }
        for (int i = 0; i < g.Length; i++)
        {
            var gi = g[i];
            long stride = ImageStride.Resolve(yStride[i], gi.OutSize);
            _convForward.Set(i, P(w[i], gi.WeightSize), P(b[i], gi.OutC), P(y[i], ImageStride.Span(n, stride, gi.OutSize)), stride, gi.OutC);
        }
        _convForward.RunSiblings(g[0], g.Length, n, P(x, (long)n * g[0].InSize), relu);
    }

    /// <summary>dx written once for all the siblings, where <see cref="ConvForwardSiblings"/> fuses them (<see cref="ConvBackwardDataWork"/>).</summary>
    public override void ConvBackwardDataSiblings(ReadOnlySpan<ConvGeometry> g, int n, ReadOnlySpan<BufferView> dy, ReadOnlySpan<BufferView> w, BufferView dx, bool accumulate)
    {
        if (!FusesSiblings(g))
        {
            base.ConvBackwardDataSiblings(g, n, dy, w, dx, accumulate);
            return;
        }
        for (int i = 0; i < g.Length; i++) _convData.Set(i, P(dy[i], (long)n * g[i].OutSize), P(w[i], g[i].WeightSize), g[i].OutC);
        _convData.RunSiblings(g[0], g.Length, n, P(dx, (long)n * g[0].InSize), accumulate);
    }

    /// <summary>
    /// Each part of the batch packs its columns of x once for all the siblings (<see cref="ConvBackwardFilterWork"/>);
    /// tiny maps, whose filter gradients split dW's rows instead, take one call each.
    /// </summary>
    public override void ConvBackwardFilterSiblings(ReadOnlySpan<ConvGeometry> g, int n, BufferView x, ReadOnlySpan<BufferView> dy, ReadOnlySpan<BufferView> dw, ReadOnlySpan<BufferView> db, bool accumulate)
    {
        bool fused = FusesSiblings(g);
        foreach (var gi in g) fused &= !ConvBackwardFilterWork.SplitsRows(gi, n, Threads);
        if (!fused)
        {
            base.ConvBackwardFilterSiblings(g, n, x, dy, dw, db, accumulate);
            return;
        }
        for (int i = 0; i < g.Length; i++) _convFilter.Set(i, P(dy[i], (long)n * g[i].OutSize), P(dw[i], g[i].WeightSize), P(db[i], g[i].OutC), g[i].OutC);
        _convFilter.RunSiblings(g[0], g.Length, n, P(x, (long)n * g[0].InSize), accumulate);
    }

    /// <summary>Whether sibling convolutions take one fused call: two to <see cref="MaxSiblings"/>, all 1×1 stride 1 on one input shape.</summary>
    internal static bool FusesSiblings(ReadOnlySpan<ConvGeometry> g)
    {
        if (g.Length < 2 || g.Length > MaxSiblings) return false;
        foreach (var gi in g)
        {
            if (!gi.IsPointwise || gi.InC != g[0].InC || gi.InH != g[0].InH || gi.InW != g[0].InW) return false;
        }
        return true;
    }

    /// <summary>The geometry under which a (n, C, H, W) tensor's pixels are the columns of a C-row matrix.</summary>
    private static ConvGeometry Pointwise(int channels, int h, int w) => new(channels, h, w, channels, h, w, 1, 1, 1, 1, 0, 0);

    /// <summary>
    /// One convolution of a call, or one of several 1×1 siblings that read the same input (see
    /// <see cref="ConvForwardSiblings"/>): its weights, bias and output in the forward pass; its weights and dy (and Wᵀ)
    /// in the data pass; its dw, db and dy in the filter pass; and where its rows start in the call's stacked rows.
    /// </summary>
    private struct Member
    {
        public float* W, B, Y;

        /// <summary>Wᵀ (K × Rows), in the data pass.</summary>
        public float* Wt;

        public long YStride;
        public int Rows, First;
    }

    /// <summary>Most siblings one fused call takes; larger groups run in several calls.</summary>
    internal const int MaxSiblings = 8;

    /// <summary>
    /// y = W·im2col(x) + b (then ReLU), one GEMM per work item. Several 1×1 convolutions of one input take one call:
    /// their weights are stacked rows of one W, so each item packs its columns of x once for all of them.
    /// </summary>
    private sealed class ConvForwardWork(CpuBackend owner) : IParallelWork
    {
        private ConvGeometry _g;
        private ColumnPlan _plan;
        private float* _x;
        private readonly Member[] _members = new Member[MaxSiblings];
        private int _count, _rows;
        private bool _relu;

        public void Run(in ConvGeometry g, int n, float* x, float* w, float* b, float* y, bool relu, long yStride)
        {
            _members[0] = new Member { W = w, B = b, Y = y, YStride = yStride, Rows = g.OutC, First = 0 };
            _count = 1;
            Start(g, n, x, relu);
        }

        /// <summary>The members set by <see cref="Set"/>, on <paramref name="g"/>'s input (its OutC is ignored).</summary>
        public void RunSiblings(in ConvGeometry g, int count, int n, float* x, bool relu)
        {
            _count = count;
            Start(g, n, x, relu);
        }

        public void Set(int i, float* w, float* b, float* y, long yStride, int rows)
        {
            int first = i == 0 ? 0 : _members[i - 1].First + _members[i - 1].Rows;
            _members[i] = new Member { W = w, B = b, Y = y, YStride = yStride, Rows = rows, First = first };
        }

        private void Start(in ConvGeometry g, int n, float* x, bool relu)
        {
            _rows = _members[_count - 1].First + _members[_count - 1].Rows;
            _g = g;
            _x = x;
            _relu = relu;
            _plan = new ColumnPlan(n, g.OutH * g.OutW, owner.NR, owner.Threads, splitImages: true);
            int hw = g.OutH * g.OutW;
            if (ColumnPlan.Grouped(hw) && _plan.Group < n && (long)n * hw <= CpuBackend.TargetColumns && g.StrideH == 1 && _rows >= 2 * MinRowsPerBand
                && Fill(n * hw, owner.NR) >= Fill(_plan.Group * hw, owner.NR) + 0.1)
            {
                // Tiny maps whose per-thread groups leave the panels partly empty (8 images of 3×3: 72 columns in 96):
                // the whole batch in one item (144 columns in 160), the threads splitting the output channels. Each band
                // packs the columns again, which costs less than the empty lanes did (`bench conv`, 2 threads:
                // 3×3×896→384 1×1 200 → 230 GFLOP/s, 3×3×192→384 3×3 185 → 205).
                _plan = new ColumnPlan(n, hw, owner.NR, owner.Threads, splitImages: true, group: n);
            }
            // Small batches of small maps (one image of 3×3 or 6×6) leave fewer column items than threads: the output
            // channels are then split too, each item packing its columns and computing a band of whole rows of W.
            _rowBands = 1;
            if (_plan.Items < owner.Threads)
            {
                int bands = Math.Min((owner.Threads + _plan.Items - 1) / _plan.Items, _rows / MinRowsPerBand);
                _rowBands = Math.Max(1, bands);
            }
            _rowsPerBand = Gemm.RoundUp((_rows + _rowBands - 1) / _rowBands, 8);
            owner._pool.Run(this, _plan.Items * _rowBands, 2.0 * g.InC * g.KernelH * g.KernelW * _rows * hw * n * owner.FlopNanoseconds);
        }

        internal const int MinRowsPerBand = 32;

        /// <summary>The share of the packed panels' columns that <paramref name="cols"/> columns fill.</summary>
        internal static double Fill(int cols, int nr) => (double)cols / ColumnPlan.Padded(cols, nr);
        private int _rowBands, _rowsPerBand;

        public void Execute(int index, int worker)
        {
            var g = _g;
            var s = owner.Scratch(worker);
            _plan.Item(index / _rowBands, out int img0, out int imgCount, out int hw0, out int hwCount);
            int m0 = index % _rowBands * _rowsPerBand, m = Math.Min(_rows - m0, _rowsPerBand);
            if (m <= 0) return;
            int cols = imgCount * hwCount;
            int hw = g.OutH * g.OutW;
            int k = g.InC * g.KernelH * g.KernelW;
            int kBlock = Gemm.BlockDepth(k);
            float* packed = s.Pack.Ensure(Gemm.PackedSize(kBlock, cols, owner.NR));
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            // Several images per item: the GEMM writes a row-major m × cols block, copied out image by image below.
            float* tmp = imgCount == 1 ? null : s.Tmp.Ensure((long)m * cols);
            // The column matrix is packed and multiplied one K block at a time, so that the packed block is still in
            // cache when the GEMM reads it (a whole K × 512 matrix is larger than L2 from K = 512 on); every member's
            // rows in this band multiply the same packed block.
            for (int k0 = 0; k0 < k; k0 += kBlock)
            {
                int kc = Math.Min(kBlock, k - k0);
                Im2Col.Pack(g, _x, img0, imgCount, hw0, hwCount, packed, owner.NR, s.Im2Col, owner.Simd, k0, k0 + kc);
                for (int i = 0; i < _count; i++)
                {
                    ref readonly var member = ref _members[i];
                    int r0 = Math.Max(m0, member.First), r1 = Math.Min(m0 + m, member.First + member.Rows);
                    if (r0 >= r1) continue;
                    float* c = imgCount == 1 ? member.Y + img0 * member.YStride + (long)(r0 - member.First) * hw + hw0 : tmp + (long)(r0 - m0) * cols;
                    Gemm.Multiply(owner.Simd, r1 - r0, cols, kc, member.W + (long)(r0 - member.First) * k + k0, k, packed, c, imgCount == 1 ? hw : cols, k0 > 0, gemm);
                }
            }
            for (int i = 0; i < _count; i++)
            {
                ref readonly var member = ref _members[i];
                int r0 = Math.Max(m0, member.First), r1 = Math.Min(m0 + m, member.First + member.Rows);
                for (int r = r0; r < r1; r++)
                {
                    int oc = r - member.First;
                    float bias = member.B[oc];
                    if (imgCount == 1)
                    {
                        float* c = member.Y + img0 * member.YStride + (long)oc * hw + hw0;
                        BiasRelu(c, c, cols, bias);
                        continue;
                    }
                    for (int j = 0; j < imgCount; j++)
                    {
                        BiasRelu(tmp + (long)(r - m0) * cols + j * hw, member.Y + (img0 + j) * member.YStride + (long)oc * hw, hw, bias);
                    }
                }
            }
        }

        /// <summary>
        /// dst = src + bias (then ReLU) through <see cref="Elementwise"/>: the rows of small maps (36 or 9 pixels, one per
        /// image and channel) are too short to pay for a library call each.
        /// </summary>
        private void BiasRelu(float* src, float* dst, int count, float bias) =>
            Elementwise.Run(new Elementwise.BiasRelu(bias, _relu), owner.Simd, dst, src, dst, dst, count);
    }

    /// <summary>Whether the filter gradient of this call splits dW's rows across the workers (see <c>ConvBackwardFilterWork.SplitsRows</c>).</summary>
    internal static bool ConvBackwardFilterWorkSplitsRows(in ConvGeometry g, int n, int threads) => ConvBackwardFilterWork.SplitsRows(g, n, threads);

    /// <summary>
    /// dx (=|+=) col2im(Wᵀ·dy): items hold whole images, so no two items write one image. Several 1×1 convolutions of
    /// one input take one call: dx = Σᵢ Wᵢᵀ·dyᵢ, each item's block of dx written once for all of them.
    /// </summary>
    private sealed class ConvBackwardDataWork(CpuBackend owner) : IParallelWork
    {
        private ConvGeometry _g;
        private ColumnPlan _plan;
        private float* _dx;
        private readonly Member[] _members = new Member[MaxSiblings];
        private int _count;
        private bool _accumulate;

        public void Run(in ConvGeometry g, int n, float* dy, float* w, float* dx, bool accumulate)
        {
            _count = 1;
            Set(0, dy, w, g.OutC);
            Start(g, n, dx, accumulate);
        }

        /// <summary>The members set by <see cref="Set"/>, 1×1 convolutions of <paramref name="g"/>'s input (its OutC is ignored).</summary>
        public void RunSiblings(in ConvGeometry g, int count, int n, float* dx, bool accumulate)
        {
            _count = count;
            Start(g, n, dx, accumulate);
        }

        /// <summary>Member <paramref name="i"/>: its dy and its weights (<paramref name="rows"/> × K).</summary>
        public void Set(int i, float* dy, float* w, int rows)
        {
            int first = i == 0 ? 0 : _members[i - 1].First + _members[i - 1].Rows;
            _members[i] = new Member { W = w, Y = dy, Rows = rows, First = first };
        }

        private void Start(in ConvGeometry g, int n, float* dx, bool accumulate)
        {
            _g = g;
            _dx = dx;
            _accumulate = accumulate;
            int k = g.InC * g.KernelH * g.KernelW;
            int rows = _members[_count - 1].First + _members[_count - 1].Rows;
            // Each member's Wᵀ (K × its rows), shared read-only by the workers.
            float* wt = owner._shared.Ensure((long)k * rows);
            for (int i = 0; i < _count; i++)
            {
                ref var member = ref _members[i];
                float* t = wt + (long)k * member.First;
                owner.TransposeParallel(member.W, member.Rows, k, t);
                member.Wt = t;
            }
            // A 1×1 stride-1 convolution writes each input pixel from one column: chunks may split images.
            _plan = new ColumnPlan(n, g.OutH * g.OutW, owner.NR, owner.Threads, splitImages: g.IsPointwise);
            _rowBands = 1;
            int hw = g.OutH * g.OutW;
            if (g.IsPointwise && ColumnPlan.Grouped(hw) && _plan.Group < n && (long)n * hw <= CpuBackend.TargetColumns && k >= 2 * ConvForwardWork.MinRowsPerBand
                && ConvForwardWork.Fill(n * hw, owner.NR) >= ConvForwardWork.Fill(_plan.Group * hw, owner.NR) + 0.1)
            {
                // As in the forward pass: tiny maps whose per-thread groups leave the panels partly empty take the
                // whole batch in one item, the threads splitting dx's channels (the rows of Wᵀ). NN4's 1×1 data passes on
                // 3×3 maps in the training profile, batch 16: 896→384 127–137 → 157 GFLOP/s, 896→192 116–135 → 149.
                _plan = new ColumnPlan(n, hw, owner.NR, owner.Threads, splitImages: true, group: n);
                _rowBands = owner.Threads;
            }
            _rowsPerBand = Gemm.RoundUp((k + _rowBands - 1) / _rowBands, 8);
            owner._pool.Run(this, _plan.Items * _rowBands, 2.0 * k * rows * hw * n * owner.FlopNanoseconds);
        }

        private int _rowBands, _rowsPerBand;

        /// <summary>
        /// Rows of dx (input channels) that an item of several images computes at a time: its block of products then
        /// stays in L2 with the packed columns and the band of Wᵀ (NN4's 6×6×640 data passes: 640 × 288 floats, 737 KB,
        /// as one block). In-process A/B of NN4's training step, bands of 64 / 128 / 256 rows against one block:
        /// 0.9942 / 0.9905 / 1.0017.
        /// </summary>
        internal const int DataBandRows = 128;

        /// <summary>
        /// Rows of the column matrix (input channel × tap) that the im2col data pass multiplies and folds back at a time,
        /// so that the block is still in cache when it is added into the padded input copy (NN4's 12×12×128→6×6×256
        /// 3×3/2 at 8 images an item: 1152 × 288 floats, 1.3 MB, as one block). In-process A/B of NN4's training step
        /// against one block: bands of 128 rows 0.9975, of 384 rows 0.9957.
        /// </summary>
        internal const int UnpackBandRows = 384;

        public void Execute(int index, int worker)
        {
            var g = _g;
            var s = owner.Scratch(worker);
            _plan.Item(index / _rowBands, out int img0, out int imgCount, out int hw0, out int hwCount);
            int hw = g.OutH * g.OutW;
            int k = g.InC * g.KernelH * g.KernelW;
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            if (g.IsPointwise)
            {
                // Rows [r0, r0 + rows) of dx's channels: all of them, or this item's band.
                int r0 = index % _rowBands * _rowsPerBand, rows = Math.Min(k - r0, _rowsPerBand);
                if (rows <= 0) return;
                int cols = imgCount * hwCount;
                if (imgCount == 1)
                {
                    // One image: the members' products add up straight in dx.
                    float* target = _dx + (long)img0 * g.InSize + (long)r0 * hw + hw0;
                    for (int i = 0; i < _count; i++)
                    {
                        ref readonly var member = ref _members[i];
                        float* packed = s.Pack.Ensure(Gemm.PackedSize(member.Rows, cols, owner.NR));
                        Im2Col.Pack(Pointwise(member.Rows, g.OutH, g.OutW), member.Y, img0, imgCount, hw0, hwCount, packed, owner.NR, s.Im2Col, owner.Simd);
                        Gemm.Multiply(owner.Simd, rows, cols, member.Rows, member.Wt + (long)r0 * member.Rows, member.Rows, packed, target, hw, i > 0 || _accumulate, gemm);
                    }
                    return;
                }
                // Several images: every member's columns packed once, side by side; then dx's channels a band at a
                // time, the members' products adding up in a row-major block copied out image by image.
                long packedFloats = 0;
                for (int i = 0; i < _count; i++) packedFloats += Gemm.PackedSize(_members[i].Rows, cols, owner.NR);
                float* packedAll = s.Pack.Ensure(packedFloats);
                float* p = packedAll;
                for (int i = 0; i < _count; i++)
                {
                    ref readonly var member = ref _members[i];
                    Im2Col.Pack(Pointwise(member.Rows, g.OutH, g.OutW), member.Y, img0, imgCount, hw0, hwCount, p, owner.NR, s.Im2Col, owner.Simd);
                    p += Gemm.PackedSize(member.Rows, cols, owner.NR);
                }
                int bandRows = Math.Min(rows, DataBandRows);
                float* tmp = s.Tmp.Ensure((long)bandRows * cols);
                for (int b0 = r0; b0 < r0 + rows; b0 += bandRows)
                {
                    int bc = Math.Min(bandRows, r0 + rows - b0);
                    p = packedAll;
                    for (int i = 0; i < _count; i++)
                    {
                        ref readonly var member = ref _members[i];
                        Gemm.Multiply(owner.Simd, bc, cols, member.Rows, member.Wt + (long)b0 * member.Rows, member.Rows, p, tmp, cols, i > 0, gemm);
                        p += Gemm.PackedSize(member.Rows, cols, owner.NR);
                    }
                    for (int i = 0; i < imgCount; i++)
                    {
                        for (int c = b0; c < b0 + bc; c++)
                        {
                            float* src = tmp + (long)(c - b0) * cols + i * hw, dst = _dx + (long)(img0 + i) * g.InSize + (long)c * hw;
                            // Rows of 36 or 9 floats: inline rather than a library call each.
                            if (_accumulate) Elementwise.Run(new Elementwise.Add(), owner.Simd, dst, src, dst, dst, hw);
                            else Buffer.MemoryCopy(src, dst, hw * sizeof(float), hw * sizeof(float));
                        }
                    }
                }
                return;
            }

            ref readonly var single = ref _members[0];
            var dyGeometry = Pointwise(g.OutC, g.OutH, g.OutW);
            if (!_accumulate) new Span<float>(_dx + (long)img0 * g.InSize, imgCount * g.InSize).Clear();
            // Whole images per item; a large image is processed in chunks inside the item.
            int chunk = imgCount > 1 ? hw : Math.Min(hw, Gemm.RoundUp(Math.Min(hw, TargetColumns), owner.NR));
            for (int h0 = 0; h0 < hw; h0 += chunk)
            {
                int hc = Math.Min(chunk, hw - h0);
                int cols = imgCount * hc;
                float* packed = s.Pack.Ensure(Gemm.PackedSize(g.OutC, cols, owner.NR));
                int band = Math.Min(k, UnpackBandRows);
                float* tmp = s.Tmp.Ensure((long)band * cols);
                Im2Col.Pack(dyGeometry, single.Y, img0, imgCount, h0, hc, packed, owner.NR, s.Im2Col, owner.Simd);
                // A band of the column matrix's rows at a time, each added into the padded input copy while in cache.
                var fold = Im2Col.BeginUnpack(g, imgCount, h0, hc, s.Im2Col);
                for (int r0 = 0; r0 < k; r0 += band)
                {
                    int rc = Math.Min(band, k - r0);
                    Gemm.Multiply(owner.Simd, rc, cols, g.OutC, single.Wt + (long)r0 * g.OutC, g.OutC, packed, tmp, cols, false, gemm);
                    Im2Col.UnpackRows(g, fold, tmp, r0, r0 + rc, owner.Simd);
                }
                Im2Col.FinishUnpack(g, fold, img0, _dx, owner.Simd);
            }
        }
    }

    /// <summary>
    /// dw (=|+=) Σ dy·im2col(x)ᵀ and db (=|+=) Σ dy. Each of up to <see cref="Threads"/> items owns a static range of images
    /// and a private Wᵀ-shaped accumulator (K × OutC); the accumulators are summed in item order into dw (stored, or added to it).
    /// </summary>
    private sealed partial class ConvBackwardFilterWork(CpuBackend owner) : IParallelWork
    {
        private ConvGeometry _g;
        private int _n, _parts;
        private float* _x, _dy;
        private bool _direct, _winograd;

        /// <summary>
        /// The call's convolutions: one, or several 1×1 siblings of one input (dw in W, db in B, dy in Y), whose
        /// accumulators lie side by side in each part's partial: member i's K × Rows block at K·First, its biases at
        /// K·total + First.
        /// </summary>
        private readonly Member[] _members = new Member[MaxSiblings];
        private int _count, _total;

        public void Run(in ConvGeometry g, int n, float* x, float* dy, float* dw, float* db, bool accumulate)
        {
            _members[0] = new Member { W = dw, B = db, Y = dy, Rows = g.OutC, First = 0 };
            _count = 1;
            _total = g.OutC;
            _g = g;
            _n = n;
            _x = x;
            _dy = dy;
            _parts = Math.Min(owner.Threads, n);
            // The layers whose forward pass takes the direct kernel (few taps: the stems) take its band preparation
            // for the filter gradient too, instead of im2col.
            _direct = owner.TakesDirect(g);
            if (_direct) owner._direct.Plan(g, x, DirectFilterBandRows);
            _winograd = !_direct && owner.Winograd && WinogradFits(g) && Im2Col.Wide(owner.Simd);
            int k = g.InC * g.KernelH * g.KernelW;
            if (!_direct && !_winograd && SplitsRows(g, n, owner.Threads))
            {
                _rows.Run(g, n, x, dy, dw, db, accumulate);
                return;
            }
            // F(4×4, 3×3) with images as lanes splits the tiles, not the images, across the parts (one per worker).
            _lanes = PrepareLanes(g, n);
            if (_lanes) _parts = owner.Threads;
            RunParts(accumulate);
        }

        /// <summary>
        /// The members set by <see cref="Set"/>, 1×1 convolutions of <paramref name="g"/>'s input (its OutC is ignored),
        /// split by images (see <see cref="SplitsRows"/>: siblings whose maps would split dW's rows take one call each).
        /// Each part packs its columns of x once for all the members.
        /// </summary>
        public void RunSiblings(in ConvGeometry g, int count, int n, float* x, bool accumulate)
        {
            _count = count;
            _total = _members[count - 1].First + _members[count - 1].Rows;
            _g = g;
            _n = n;
            _x = x;
            _dy = null;
            _parts = Math.Min(owner.Threads, n);
            _direct = _winograd = _lanes = false;
            RunParts(accumulate);
        }

        /// <summary>Member <paramref name="i"/>: its dy, dw and db, and its output channels.</summary>
        public void Set(int i, float* dy, float* dw, float* db, int rows)
        {
            int first = i == 0 ? 0 : _members[i - 1].First + _members[i - 1].Rows;
            _members[i] = new Member { W = dw, B = db, Y = dy, Rows = rows, First = first };
        }

        private void RunParts(bool accumulate)
        {
            var g = _g;
            int k = g.InC * g.KernelH * g.KernelW;
            for (int p = 0; p < _parts; p++) owner.Partial(p).Ensure((long)k * _total + _total);
            owner._pool.Run(this, _parts, 2.0 * k * _total * g.OutH * g.OutW * _n * owner.FlopNanoseconds);
            // Reduce in item order, a block of rows per worker: acc_0 += Σ_p acc_p (vector adds), then
            // dw[oc, kk] (=|+=) acc_0[kk, oc] (a transposed store or add); db[oc] (=|+=) Σ_p acc_p[K, oc] on this thread.
            float* total = owner.Partial(0).Pointer;
            for (int i = 0; i < _count; i++)
            {
                ref readonly var member = ref _members[i];
                _reduce.Run(_parts, k, member.Rows, member.W, accumulate, (long)k * member.First);
                long at = (long)k * _total + member.First;
                for (int p = 1; p < _parts; p++)
                {
                    var sum = new Span<float>(total + at, member.Rows);
                    TensorPrimitives.Add(sum, new ReadOnlySpan<float>(owner.Partial(p).Pointer + at, member.Rows), sum);
                }
                var bias = new ReadOnlySpan<float>(total + at, member.Rows);
                var db = new Span<float>(member.B, member.Rows);
                if (accumulate) TensorPrimitives.Add(db, bias, db);
                else bias.CopyTo(db);
            }
        }

        private readonly ReduceWork _reduce = new(owner);
        private readonly FilterRowsWork _rows = new(owner);

        /// <summary>
        /// Output rows of the bands that the direct kernel's filter gradient prepares and runs over (its forward pass
        /// uses 8): each band's taps and channels sum into per-lane accumulators (OutC × taps × 16 floats, 602 KB for
        /// the 7×7 stems) once, so fewer, taller bands read and write them less often. `bench conv`, filter gradient of
        /// NN4's 96×96×3→64 stem, bands of 8 / 48 rows: 187–192 / 201 GFLOP/s warm, 133–141 / 159–171 cold. In-process
        /// A/B of the training step: NN4 0.9986, NN2 0.9977.
        /// </summary>
        internal const int DirectFilterBandRows = 48;

        /// <summary>
        /// Most columns for the row split of deep dW rows (see <see cref="SplitsRows"/>): NN2's 7×7 maps at batch 16 (784
        /// columns, k 832–1024) measured level or slower with it (A/B 1.0024, 1.0015).
        /// </summary>
        internal const int DeepSplitMaxColumns = 640;

        /// <summary>
        /// Whether the filter gradient splits dW's rows across the workers rather than the batch's images: tiny maps (the
        /// 3×3 maps of the last modules), whose whole batch is one short GEMM depth and whose weights outnumber a part's
        /// columns, so that per-part accumulators would cost more to reduce than to compute. `bench conv`, filter column,
        /// batch 16, 2 threads, against the image split: 3×3×192→384 147 → 182 GFLOP/s, 3×3×896→384 148 → 181,
        /// 6×6×160→3×3×256 136 → 166, 3×3×896→128 155 → 156. Also, up to <see cref="DeepSplitMaxColumns"/> columns,
        /// where a dW row (k = InC·taps) is at least as long as the batch's columns: the image split's per-part
        /// accumulators (k × OutC each, summed afterwards) then outweigh the row split's copies of dyᵀ (columns × OutC
        /// each). NN4's 1×1 layers on 6×6×640 at batch 16 (576 columns; `bench conv` level warm, about 200 GFLOP/s
        /// either way): in-process A/B of the training step 0.9936 and 0.9969.
        /// </summary>
        internal static bool SplitsRows(in ConvGeometry g, int n, int threads)
        {
            int hw = g.OutH * g.OutW;
            long cols = (long)n * hw;
            long k = (long)g.InC * g.KernelH * g.KernelW;
            return threads > 1 && (cols <= TargetColumns && g.OutC > (cols + threads - 1) / threads || cols <= DeepSplitMaxColumns && k >= cols);
        }

        public void Execute(int index, int worker)
        {
            var g = _g;
            var s = owner.Scratch(worker);
            var (first, count) = Range(_n, _parts, index);
            int hw = g.OutH * g.OutW;
            int k = g.InC * g.KernelH * g.KernelW;
            float* acc = owner.Partial(index).Pointer;
            float* bias = acc + (long)k * _total;
            new Span<float>(bias, _total).Clear();
            // db: every path sums the part's gradients the same way, image by image.
            for (int i = 0; i < _count; i++)
            {
                ref readonly var member = ref _members[i];
                for (int img = first; img < first + count; img++)
                {
                    float* dyImage = member.Y + (long)img * member.Rows * hw;
                    for (int oc = 0; oc < member.Rows; oc++) bias[member.First + oc] += TensorPrimitives.Sum(new ReadOnlySpan<float>(dyImage + (long)oc * hw, hw));
                }
            }
            if (_direct)
            {
                DirectFilter(worker, first, count, acc);
                return;
            }
            if (_lanes)
            {
                WinogradFilterLanes(worker, index, acc);
                return;
            }
            if (_winograd)
            {
                WinogradFilter(worker, first, count, acc);
                return;
            }
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            // Columns per GEMM: chunks of one large image, or several small images side by side, so that the GEMM's
            // inner dimension stays long.
            int group = hw >= TargetColumns / 2 ? 1 : Math.Max(1, TargetColumns / hw);
            int chunk = group > 1 ? hw : Math.Min(hw, TargetColumns);
            bool assign = true;
            for (int img = first; img < first + count; img += group)
            {
                int images = Math.Min(group, first + count - img);
                for (int h0 = 0; h0 < hw; h0 += chunk)
                {
                    int hc = Math.Min(chunk, hw - h0);
                    int cols = images * hc;
                    float* a;
                    int lda;
                    if (g.IsPointwise && images == 1)
                    {
                        a = _x + (long)img * g.InSize + h0;
                        lda = hw;
                    }
                    else
                    {
                        a = s.Col.Ensure((long)k * cols);
                        Im2Col.Pack(g, _x, img, images, h0, hc, a, cols, s.Im2Col, owner.Simd);
                        lda = cols;
                    }
                    // B = dyᵀ over the same columns: row (image i, pixel) holds that pixel's gradients, one member's
                    // at a time; every member's product reads the same packed columns of x.
                    for (int m = 0; m < _count; m++)
                    {
                        ref readonly var member = ref _members[m];
                        float* packed = s.Pack.Ensure(Gemm.PackedSize(cols, member.Rows, owner.NR));
                        for (int i = 0; i < images; i++)
                        {
                            Gemm.PackBTransposed(hc, member.Rows, member.Y + (long)(img + i) * member.Rows * hw + h0, hw, packed, owner.NR, totalRows: cols, rowOffset: i * hc);
                        }
                        Gemm.Multiply(owner.Simd, k, member.Rows, cols, a, lda, packed, acc + (long)k * member.First, member.Rows, !assign, gemm);
                    }
                    assign = false;
                }
            }
            if (assign) new Span<float>(acc, k * _total).Clear();
        }

        /// <summary>
        /// The filter gradient of images [first, first + count) on the direct kernel's prepared bands: for every output
        /// row and sixteen columns, tap t's inputs are one load, so dw[oc, t] accumulates dy(oc) · input(t) sixteen
        /// lanes at a time, four channels by five taps in registers across a band's rows, into per-lane sums in the
        /// worker's scratch that are added across lanes once at the end. acc gets [tap][OutC] as the GEMM path leaves it.
        /// </summary>
        private void DirectFilter(int worker, int first, int count, float* acc)
        {
            var g = _g;
            int hw = g.OutH * g.OutW;
            int taps = g.InC * g.KernelH * g.KernelW;
            var direct = owner._direct;
            float* lanes = owner.Scratch(worker).Tmp.Ensure((long)g.OutC * taps * 16);
            new Span<float>(lanes, g.OutC * taps * 16).Clear();
            int* tapOffset = stackalloc int[taps];
            for (int img = first; img < first + count; img++)
            {
                float* dyImage = _dy + (long)img * g.OutSize;
                for (int band = 0; band < direct.Bands; band++)
                {
                    float* buffer = direct.Load(img, band, worker, tapOffset, out int oy0, out int oy1, out long rowStep);
                    for (int oc0 = 0; oc0 < g.OutC; oc0 += 4)
                    {
                        float* dy = dyImage + (long)oc0 * hw + (long)oy0 * g.OutW;
                        int t0 = 0;
                        for (; t0 + 5 <= taps; t0 += 5) FilterTile4x5(buffer, rowStep, oy1 - oy0, tapOffset + t0, dy, hw, g.OutW, lanes + ((long)oc0 * taps + t0) * 16, taps);
                        for (; t0 < taps; t0++) FilterTile4x1(buffer, rowStep, oy1 - oy0, tapOffset[t0], dy, hw, g.OutW, lanes + ((long)oc0 * taps + t0) * 16, taps);
                    }
                }
            }
            for (int oc = 0; oc < g.OutC; oc++)
            {
                for (int t = 0; t < taps; t++) acc[(long)t * g.OutC + oc] = Vector512.Sum(Vector512.Load(lanes + ((long)oc * taps + t) * 16));
            }
        }

        /// <summary>dy of four channels (plane apart) at sixteen columns from ox, zero past the row's end.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Gradient(float* dy, int ox, int width, Vector512<float> mask) =>
            ox + 16 <= width ? Vector512.Load(dy + ox) : Avx512F.MaskLoad(dy + ox, mask, Vector512<float>.Zero);

        /// <summary>Four channels × five taps of <see cref="DirectFilter"/> over one band: lanes[(o · taps + j) · 16 …] += Σ dy(o) · input(j).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void FilterTile4x5(float* buffer, long rowStep, int rows, int* off, float* dy, long plane, int width, float* lanes, int taps)
        {
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default;
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a24 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default, a34 = default;
            int o0 = off[0], o1 = off[1], o2 = off[2], o3 = off[3], o4 = off[4];
            for (int r = 0; r < rows; r++)
            {
                float* input = buffer + r * rowStep;
                float* d = dy + (long)r * width;
                for (int ox = 0; ox < width; ox += 16)
                {
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width - ox)).AsSingle();
                    var d0 = Gradient(d, ox, width, mask);
                    var d1 = Gradient(d + plane, ox, width, mask);
                    var d2 = Gradient(d + 2 * plane, ox, width, mask);
                    var d3 = Gradient(d + 3 * plane, ox, width, mask);
                    var i0 = Vector512.Load(input + o0 + ox);
                    var i1 = Vector512.Load(input + o1 + ox);
                    var i2 = Vector512.Load(input + o2 + ox);
                    var i3 = Vector512.Load(input + o3 + ox);
                    var i4 = Vector512.Load(input + o4 + ox);
                    a00 = Vector512.FusedMultiplyAdd(d0, i0, a00); a01 = Vector512.FusedMultiplyAdd(d0, i1, a01); a02 = Vector512.FusedMultiplyAdd(d0, i2, a02); a03 = Vector512.FusedMultiplyAdd(d0, i3, a03); a04 = Vector512.FusedMultiplyAdd(d0, i4, a04);
                    a10 = Vector512.FusedMultiplyAdd(d1, i0, a10); a11 = Vector512.FusedMultiplyAdd(d1, i1, a11); a12 = Vector512.FusedMultiplyAdd(d1, i2, a12); a13 = Vector512.FusedMultiplyAdd(d1, i3, a13); a14 = Vector512.FusedMultiplyAdd(d1, i4, a14);
                    a20 = Vector512.FusedMultiplyAdd(d2, i0, a20); a21 = Vector512.FusedMultiplyAdd(d2, i1, a21); a22 = Vector512.FusedMultiplyAdd(d2, i2, a22); a23 = Vector512.FusedMultiplyAdd(d2, i3, a23); a24 = Vector512.FusedMultiplyAdd(d2, i4, a24);
                    a30 = Vector512.FusedMultiplyAdd(d3, i0, a30); a31 = Vector512.FusedMultiplyAdd(d3, i1, a31); a32 = Vector512.FusedMultiplyAdd(d3, i2, a32); a33 = Vector512.FusedMultiplyAdd(d3, i3, a33); a34 = Vector512.FusedMultiplyAdd(d3, i4, a34);
                }
            }
            Add(lanes, a00, a01, a02, a03, a04);
            Add(lanes + (long)taps * 16, a10, a11, a12, a13, a14);
            Add(lanes + 2L * taps * 16, a20, a21, a22, a23, a24);
            Add(lanes + 3L * taps * 16, a30, a31, a32, a33, a34);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Add(float* p, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, Vector512<float> v4)
        {
            (Vector512.Load(p) + v0).Store(p);
            (Vector512.Load(p + 16) + v1).Store(p + 16);
            (Vector512.Load(p + 32) + v2).Store(p + 32);
            (Vector512.Load(p + 48) + v3).Store(p + 48);
            (Vector512.Load(p + 64) + v4).Store(p + 64);
        }

        /// <summary>Four channels × one tap of <see cref="DirectFilter"/> over one band (the taps left after fives).</summary>
        private static void FilterTile4x1(float* buffer, long rowStep, int rows, int off, float* dy, long plane, int width, float* lanes, int taps)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int r = 0; r < rows; r++)
            {
                float* input = buffer + r * rowStep + off;
                float* d = dy + (long)r * width;
                for (int ox = 0; ox < width; ox += 16)
                {
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width - ox)).AsSingle();
                    var i0 = Vector512.Load(input + ox);
                    a0 = Vector512.FusedMultiplyAdd(Gradient(d, ox, width, mask), i0, a0);
                    a1 = Vector512.FusedMultiplyAdd(Gradient(d + plane, ox, width, mask), i0, a1);
                    a2 = Vector512.FusedMultiplyAdd(Gradient(d + 2 * plane, ox, width, mask), i0, a2);
                    a3 = Vector512.FusedMultiplyAdd(Gradient(d + 3 * plane, ox, width, mask), i0, a3);
                }
            }
            long step = (long)taps * 16;
            (Vector512.Load(lanes) + a0).Store(lanes);
            (Vector512.Load(lanes + step) + a1).Store(lanes + step);
            (Vector512.Load(lanes + 2 * step) + a2).Store(lanes + 2 * step);
            (Vector512.Load(lanes + 3 * step) + a3).Store(lanes + 3 * step);
        }
    }

    /// <summary>
    /// dw (=|+=) Σ dy·im2col(x)ᵀ and db (=|+=) Σ dy with dW's columns (the K = InC·kh·kw taps) split across the workers: each item
    /// packs its taps' rows of the whole batch's column matrix and the whole batch's dyᵀ, multiplies them over all the
    /// batch's pixels at once, and stores or adds its block transposed straight into dw, so no two items write the same floats and
    /// nothing is left to reduce; each also sums db for a range of output channels.
    /// </summary>
    private sealed class FilterRowsWork(CpuBackend owner) : IParallelWork
    {
        private ConvGeometry _g;
        private int _n, _items, _rowsPerItem;
        private float* _x, _dy, _dw, _db;
        private bool _accumulate;

        public void Run(in ConvGeometry g, int n, float* x, float* dy, float* dw, float* db, bool accumulate)
        {
            _g = g;
            _n = n;
            _x = x;
            _dy = dy;
            _dw = dw;
            _db = db;
            _accumulate = accumulate;
            int k = g.InC * g.KernelH * g.KernelW;
            _items = Math.Max(1, Math.Min(owner.Threads, k / owner.MR));
            _rowsPerItem = Gemm.RoundUp((k + _items - 1) / _items, owner.MR);
            owner._pool.Run(this, _items, 2.0 * g.MultiplyAdds * n * owner.FlopNanoseconds);
        }

        public void Execute(int index, int worker)
        {
            var g = _g;
            var s = owner.Scratch(worker);
            int hw = g.OutH * g.OutW, k = g.InC * g.KernelH * g.KernelW, cols = _n * hw;
            var (oc0, ocCount) = Range(g.OutC, _items, index);
            for (int oc = oc0; oc < oc0 + ocCount; oc++)
            {
                float sum = 0f;
                for (int img = 0; img < _n; img++) sum += TensorPrimitives.Sum(new ReadOnlySpan<float>(_dy + (long)img * g.OutSize + (long)oc * hw, hw));
                _db[oc] = _accumulate ? _db[oc] + sum : sum;
            }
            int r0 = index * _rowsPerItem, rc = Math.Min(_rowsPerItem, k - r0);
            if (rc <= 0) return;
            float* a = s.Col.Ensure((long)rc * cols);
            Im2Col.Pack(g, _x, 0, _n, 0, hw, a, cols, s.Im2Col, owner.Simd, r0, r0 + rc);
            // B = dyᵀ over the batch's pixels: row (image i, pixel) holds that pixel's OutC gradients.
            float* packed = s.Pack.Ensure(Gemm.PackedSize(cols, g.OutC, owner.NR));
            for (int i = 0; i < _n; i++)
            {
                Gemm.PackBTransposed(hw, g.OutC, _dy + (long)i * g.OutSize, hw, packed, owner.NR, totalRows: cols, rowOffset: i * hw);
            }
            float* c = s.Tmp.Ensure((long)rc * g.OutC);
            Gemm.Multiply(owner.Simd, rc, g.OutC, cols, a, cols, packed, c, g.OutC, false, s.Gemm.Ensure(Gemm.ScratchFloats));
            // c's rows are dw's columns [r0, r0 + rc); dw rows are k long.
            Transpose(c, rc, g.OutC, g.OutC, _dw + r0, k, add: _accumulate);
        }
    }

    /// <summary>The second half of the filter gradient: partial accumulators summed and transposed into dw, by row blocks.</summary>
    private sealed class ReduceWork(CpuBackend owner) : IParallelWork
    {
        private long _offset;
        private int _parts, _rows, _cols, _items;
        private float* _dw;
        private bool _accumulate;

        /// <summary>Sums the parts' K × cols accumulators <paramref name="offset"/> floats into each partial into dw.</summary>
        public void Run(int parts, int rows, int cols, float* dw, bool accumulate, long offset = 0)
        {
            _offset = offset;
            _parts = parts;
            _rows = rows;
            _cols = cols;
            _dw = dw;
            _accumulate = accumulate;
            _items = Math.Min(owner.Threads, Math.Max(1, rows / 8));
            owner._pool.Run(this, _items, (double)parts * rows * cols * NanosecondsPerFloat);
        }

        public void Execute(int index, int worker)
        {
            var (r0, count) = Range(_rows, _items, index);
            if (count == 0) return;
            float* total = owner.Partial(0).Pointer + _offset + (long)r0 * _cols;
            var block = new Span<float>(total, count * _cols);
            for (int p = 1; p < _parts; p++)
            {
                TensorPrimitives.Add(block, new ReadOnlySpan<float>(owner.Partial(p).Pointer + _offset + (long)r0 * _cols, count * _cols), block);
            }
            // acc rows [r0, r0 + count) are dw's columns [r0, r0 + count); dw rows are _rows long.
            Transpose(total, count, _cols, _cols, _dw + r0, _rows, add: _accumulate);
        }
    }

    /// <summary>dst (cols × rows) = srcᵀ, src rows × cols, in cache-sized blocks.</summary>
    internal static void Transpose(float* src, int rows, int cols, float* dst) => Transpose(src, rows, cols, cols, dst, rows, add: false);

    /// <summary>
    /// <see cref="Transpose(float*, int, int, float*)"/> split over the workers by blocks of src's columns, for
    /// matrices large enough to pay for it (the backward data pass's Wᵀ: 384 × 1728 took a third of NN4's 3×3×192→384
    /// data pass on one thread).
    /// </summary>
    private void TransposeParallel(float* src, int rows, int cols, float* dst) => _transpose.Run(src, rows, cols, dst);

    private sealed class TransposeWork(CpuBackend owner) : IParallelWork
    {
        private float* _src, _dst;
        private int _rows, _cols, _items;

        public void Run(float* src, int rows, int cols, float* dst)
        {
            _src = src;
            _rows = rows;
            _cols = cols;
            _dst = dst;
            _items = Math.Min(owner.Threads, Math.Max(1, cols / 32));
            // About one nanosecond per element moved, on one core.
            owner._pool.Run(this, _items, (double)rows * cols);
        }

        public void Execute(int index, int worker)
        {
            // Column blocks in whole eights, so that every block keeps the 8×8 tiles.
            var (b0, bc) = Range((_cols + 7) / 8, _items, index);
            int c0 = b0 * 8, c1 = Math.Min(_cols, (b0 + bc) * 8);
            if (c0 < c1) Transpose(_src + c0, _rows, c1 - c0, _cols, _dst + (long)c0 * _rows, _rows, add: false);
        }
    }

    /// <summary>dst (cols × rows) += srcᵀ, src rows × cols.</summary>
    internal static void TransposeAdd(float* src, int rows, int cols, float* dst) => Transpose(src, rows, cols, cols, dst, rows, add: true);

    /// <summary>dst[c, r] (=|+=) src[r, c] for r &lt; rows, c &lt; cols, with leading dimensions lds and ldd.</summary>
    internal static void Transpose(float* src, int rows, int cols, int lds, float* dst, int ldd, bool add)
    {
        const int B = 32;
        for (int r0 = 0; r0 < rows; r0 += B)
        {
            int r1 = Math.Min(rows, r0 + B);
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int c1 = Math.Min(cols, c0 + B);
                int r = r0;
                if (Avx.IsSupported)
                {
                    // Whole 8×8 tiles with AVX shuffles; the ragged edges below with scalars.
                    for (; r + 8 <= r1; r += 8)
                    {
                        int c = c0;
                        for (; c + 8 <= c1; c += 8) Transpose8x8(src + (long)r * lds + c, lds, dst + (long)c * ldd + r, ldd, add);
                        for (; c < c1; c++)
                        {
                            for (int rr = r; rr < r + 8; rr++) Put(ref dst[(long)c * ldd + rr], src[(long)rr * lds + c], add);
                        }
                    }
                }
                for (; r < r1; r++)
                {
                    float* s = src + (long)r * lds;
                    for (int c = c0; c < c1; c++) Put(ref dst[(long)c * ldd + r], s[c], add);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(ref float d, float v, bool add) => d = add ? d + v : v;

    /// <summary>dst (8 rows, stride ldd) (=|+=) the transpose of the 8×8 block at src (stride lds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int lds, float* dst, int ldd, bool add)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2L * lds);
        var r3 = Avx.LoadVector256(src + 3L * lds);
        var r4 = Avx.LoadVector256(src + 4L * lds);
        var r5 = Avx.LoadVector256(src + 5L * lds);
        var r6 = Avx.LoadVector256(src + 6L * lds);
        var r7 = Avx.LoadVector256(src + 7L * lds);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Store(dst, Avx.Permute2x128(u0, u4, 0x20), add);
        Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20), add);
        Store(dst + 2L * ldd, Avx.Permute2x128(u2, u6, 0x20), add);
        Store(dst + 3L * ldd, Avx.Permute2x128(u3, u7, 0x20), add);
        Store(dst + 4L * ldd, Avx.Permute2x128(u0, u4, 0x31), add);
        Store(dst + 5L * ldd, Avx.Permute2x128(u1, u5, 0x31), add);
        Store(dst + 6L * ldd, Avx.Permute2x128(u2, u6, 0x31), add);
        Store(dst + 7L * ldd, Avx.Permute2x128(u3, u7, 0x31), add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* d, Vector256<float> v, bool add)
    {
        if (add) v = Avx.Add(v, Avx.LoadVector256(d));
        Avx.Store(d, v);
    }
}
