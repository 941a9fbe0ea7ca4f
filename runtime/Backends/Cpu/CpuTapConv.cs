using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// 3×3 and 5×5 convolutions (padded by half the kernel, stride 1 or 2) onto small maps (6×6 and under: NN4's last two
/// stages) as one GEMM per tap, each over only the output positions that the tap reaches inside the map. On a 3×3 map that is 49 of the 81
/// products per channel pair that im2col multiplies, the rest being the padding's zeros; on a 6×6 map 256 of 324
/// (3×3 kernels) and 576 of 900 (5×5).
/// </summary>
/// <remarks>
/// The batch's columns are ordered position-major (column p·n + i is position p of image i), so that the positions a
/// tap reaches are runs of whole rows, or one run of the row's reachable part per row, each a contiguous range of
/// columns in the input and in the output. The threads split the output channels (the filter gradient: its rows);
/// each transposes the input into that order itself (sixteen images at a time in registers where the batch is whole
/// sixteens), and reorders its rows of the weights into one matrix per tap. NN4 at batch 16 (`bench models
/// --profile`, ms a step): the 3×3×192→384 layers (two calls), im2col → taps, forward 2.28 → 1.72, data 3.01 → 1.70,
/// filter 2.53 → 2.20; the four 6×6×32→64 5×5 layers, Winograd and im2col → taps, 5.14 → 3.95 over the three passes.
/// With every tap GEMM off, NN4's training step takes 4.0% longer (`-- ab --model NN4 --b taps=off`; 1.2–1.6% when
/// they took only the 3×3 maps).
/// Where the batch is whole sixteens (stride 1, the wide SIMD level), every run starts at a whole sixteen of columns,
/// so the input is packed for the GEMMs only twice, from column 0 and from column 16, and every tap's B is whole
/// panels of one of the two; before, each tap packed its own (`bench conv`, 2 threads, forward / data GFLOP/s:
/// 6×6×144→288 250 / 210 → 267 / 233, 6×6×32→64 5×5 240 / 210 → 293 / 295; NN4's training step, in-process A/B
/// 0.9947).
/// Stride 2 (the forward pass and the filter gradient; the data pass, a strided transposed convolution, takes the
/// parity classes of CpuTapStridedData.cs where the batch is whole sixteens, otherwise im2col): a run's inputs are every other position, packed sixteen images at a time. NN4's three stride-2 layers
/// went from 1.81–1.88, 0.71–0.74 and 0.40–0.42 ms forward to 1.89, 0.53 and 0.31, and from 2.13–2.22, 0.76–0.78 and
/// 0.49–0.50 ms for the filter gradient to 1.93, 0.59 and 0.39; the training step gained 0.3–0.5% (in-process A/Bs
/// 0.9955 and 0.9967).
/// </remarks>
public sealed unsafe partial class CpuBackend
{
    /// <summary>Whether 3×3 and 5×5 "same" convolutions on maps of at most <see cref="TapMaxSize"/> a side take the tap GEMMs.</summary>
    internal bool Taps { get; init; } = true;

    /// <summary>
    /// Largest map side for the tap GEMMs: on 6×6 maps a 3×3 tap reaches 25 to 36 of the 36 positions (79% of
    /// im2col's products), a 5×5 one 16 to 36 (64%). The Winograd kernels that took these maps before spent a quarter
    /// of a call transforming the filters, which outnumber the activations at this size (NN4's 6×6×144→288 at batch
    /// 16: 373 K weights, 83 K inputs).
    /// </summary>
    internal const int TapMaxSize = 6;

    /// <summary>Output channels of a thread's part are whole multiples of this.</summary>
    private const int TapPartRows = 16;

    private readonly TapConvWork _taps;
    private readonly TapFilterWork _tapFilter;

    /// <summary>
    /// Fewest columns (images × positions) for the tap GEMMs: NN4's forward pass at batch 1 (9 columns) ran 13% slower
    /// with them than with im2col, whose single GEMM is deeper.
    /// </summary>
    internal const int TapMinColumns = 64;

    /// <summary>
    /// Whether <paramref name="g"/> over <paramref name="n"/> images (a forward pass, or the transposed convolution of a
    /// data pass) takes the tap GEMMs.
    /// </summary>
    internal bool TakesTaps(in ConvGeometry g, int n) =>
        Taps && (g.KernelH == 3 || g.KernelH == 5) && g.KernelW == g.KernelH && g.StrideH is 1 or 2 && g.StrideW == g.StrideH &&
        g.PadH == g.KernelH / 2 && g.PadW == g.KernelW / 2 &&
        // A convolution's own output size (so not the transposed convolution of a strided layer's data pass), which
        // the centre tap covers whole: it assigns the output, the other taps add.
        g.OutH == (g.InH + 2 * g.PadH - g.KernelH) / g.StrideH + 1 && g.OutW == (g.InW + 2 * g.PadW - g.KernelW) / g.StrideW + 1 &&
        g.StrideH * (g.OutH - 1) < g.InH && g.StrideW * (g.OutW - 1) < g.InW &&
        g.OutH <= TapMaxSize && g.OutW <= TapMaxSize && g.OutC >= TapPartRows && (long)n * g.OutH * g.OutW >= TapMinColumns;

    /// <summary>Parts of <paramref name="rows"/> output rows, one per thread where each gets a multiple of <see cref="TapPartRows"/>.</summary>
    private int TapParts(int rows) => Math.Max(1, Math.Min(Threads, rows / TapPartRows));

    /// <summary>Rows [start, start + count) of part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    private static (int Start, int Count) TapRows(int rows, int parts, int part)
    {
        var (b0, bc) = Range(rows / TapPartRows, parts, part);
        int start = b0 * TapPartRows;
        return (start, part == parts - 1 ? rows - start : bc * TapPartRows);
    }

    /// <summary>
    /// The runs of tap (ky, kx) of g's kernel: for each, the first output position, the first input position it reads
    /// (the next ones g's stride apart), and the count of positions. One run when the stride is 1 and the tap reaches
    /// whole rows; otherwise one an output row. Returns the run count.
    /// </summary>
    private static int TapRuns(in ConvGeometry g, int ky, int kx, Span<int> runs)
    {
        int s = g.StrideH, dy = ky - g.PadH, dx = kx - g.PadW;
        // Output rows r with 0 ≤ s·r + dy < InH, and columns alike.
        int r0 = Math.Max(0, (-dy + s - 1) / s), r1 = Math.Min(g.OutH, (g.InH - 1 - dy) / s + 1);
        int c0 = Math.Max(0, (-dx + s - 1) / s), c1 = Math.Min(g.OutW, (g.InW - 1 - dx) / s + 1);
        if (g.InH - 1 - dy < 0 || g.InW - 1 - dx < 0 || r1 <= r0 || c1 <= c0) return 0;
        if (s == 1 && c0 == 0 && c1 == g.OutW)
        {
            runs[0] = r0 * g.OutW;
            runs[1] = (r0 + dy) * g.InW;
            runs[2] = (r1 - r0) * g.OutW;
            return 1;
        }
        int count = 0;
        for (int r = r0; r < r1; r++, count++)
        {
            runs[3 * count] = r * g.OutW + c0;
            runs[3 * count + 1] = (s * r + dy) * g.InW + s * c0 + dx;
            runs[3 * count + 2] = c1 - c0;
        }
        return count;
    }

    /// <summary>
    /// Positions p0 … p0 + 15 (fewer at the map's end) of channel c for images i0 … i0 + 15, transposed: r[p] holds
    /// position p0 + p of the sixteen images. Returns the count of positions.
    /// </summary>
    private static int LoadPositionBlock(float* x, long imageStride, int hw, int c, int p0, int i0, Vector512<float>* r)
    {
        int count = Math.Min(LaneImages, hw - p0);
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
        float* src = x + i0 * imageStride + (long)c * hw + p0;
        for (int l = 0; l < LaneImages; l++) r[l] = Avx512F.MaskLoad(src + l * imageStride, mask, Vector512<float>.Zero);
        Transpose16x16(r);
        return count;
    }

    /// <summary>t[c, p·n + i] = x[i, c, p] for the n images of (n, channels, hw) at x, images imageStride floats apart.</summary>
    private static void ToPositionMajor(float* x, int n, int channels, int hw, long imageStride, float* t, bool wide)
    {
        long ld = (long)hw * n;
        if (wide && n % LaneImages == 0)
        {
            // Sixteen images by sixteen positions at a time, transposed in registers.
            var r = stackalloc Vector512<float>[LaneImages];
            for (int c = 0; c < channels; c++)
            {
                for (int p0 = 0; p0 < hw; p0 += LaneImages)
                {
                    for (int i0 = 0; i0 < n; i0 += LaneImages)
                    {
                        int count = LoadPositionBlock(x, imageStride, hw, c, p0, i0, r);
                        float* d = t + c * ld + (long)p0 * n + i0;
                        for (int p = 0; p < count; p++) r[p].Store(d + (long)p * n);
                    }
                }
            }
            return;
        }
        for (int i = 0; i < n; i++)
        {
            float* src = x + i * imageStride;
            for (int c = 0; c < channels; c++)
            {
                float* s = src + (long)c * hw, d = t + c * ld + i;
                for (int p = 0; p < hw; p++) d[(long)p * n] = s[p];
            }
        }
    }

    /// <summary>
    /// The position-major input (column p·n + i is position p of image i, n a multiple of 16) packed as B in panels of
    /// 32 columns twice: <paramref name="even"/> from column 0, <paramref name="odd"/> from column 16, so that the
    /// columns from any whole sixteen on are whole panels of one of them. Sixteen images by sixteen positions at a time,
    /// transposed in registers, each sixteen of columns stored into both; the missing half of a last panel is zeroed.
    /// </summary>
    private static void ToPackedPositions(float* x, int n, int channels, int hw, long imageStride, float* even, float* odd)
    {
        const int half = LaneImages;
        long panel = 2L * half * channels;
        int groups = hw * n / half;
        var r = stackalloc Vector512<float>[LaneImages];
        for (int c = 0; c < channels; c++)
        {
            for (int p0 = 0; p0 < hw; p0 += LaneImages)
            {
                for (int i0 = 0; i0 < n; i0 += LaneImages)
                {
                    int count = LoadPositionBlock(x, imageStride, hw, c, p0, i0, r);
                    for (int p = 0; p < count; p++)
                    {
                        int group = ((p0 + p) * n + i0) / half;
                        r[p].Store(even + group / 2 * panel + c * 2 * half + group % 2 * half);
                        if (group > 0) r[p].Store(odd + (group - 1) / 2 * panel + c * 2 * half + (group - 1) % 2 * half);
                    }
                }
            }
        }
        // A last panel with one sixteen: its other half (read by the edge tile, never stored) zeroed.
        if (groups % 2 == 1)
        {
            for (int c = 0; c < channels; c++) Vector512<float>.Zero.Store(even + groups / 2 * panel + c * 2 * half + half);
        }
        else
        {
            for (int c = 0; c < channels; c++) Vector512<float>.Zero.Store(odd + (groups - 2) / 2 * panel + c * 2 * half + half);
        }
    }

    /// <summary>The panels of <see cref="ToPackedPositions"/>' two packings that start at column sixteen·<paramref name="group"/>.</summary>
    private static float* PackedFrom(float* even, float* odd, int group, long panel) =>
        group % 2 == 0 ? even + group / 2 * panel : odd + (group - 1) / 2 * panel;

    /// <summary>
    /// y[i, o0 + o, p] (=|+=) a[o, p·n + i] + b[o0 + o], then ReLU, for <paramref name="rows"/> rows of a position-major
    /// result (leading dimension hw·n) and images <paramref name="yStride"/> floats apart.
    /// </summary>
    private static void FromPositionMajor(float* a, int rows, int n, int hw, float* b, int o0, float* y, long yStride, bool relu, bool accumulate, bool wide)
    {
        long ld = (long)hw * n;
        if (wide && n % LaneImages == 0)
        {
            var r = stackalloc Vector512<float>[LaneImages];
            for (int o = 0; o < rows; o++)
            {
                var bias = Vector512.Create(b == null ? 0f : b[o0 + o]);
                for (int p0 = 0; p0 < hw; p0 += LaneImages)
                {
                    int count = Math.Min(LaneImages, hw - p0);
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
                    for (int i0 = 0; i0 < n; i0 += LaneImages)
                    {
                        float* src = a + o * ld + (long)p0 * n + i0;
                        for (int p = 0; p < LaneImages; p++) r[p] = p < count ? Vector512.Load(src + (long)p * n) : Vector512<float>.Zero;
                        Transpose16x16(r);
                        float* dst = y + i0 * yStride + (long)(o0 + o) * hw + p0;
                        for (int l = 0; l < LaneImages; l++)
                        {
                            float* d = dst + l * yStride;
                            var v = r[l] + bias;
                            if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
                            if (accumulate) v += Avx512F.MaskLoad(d, mask, Vector512<float>.Zero);
                            Avx512F.MaskStore(d, mask, v);
                        }
                    }
                }
            }
            return;
        }
        for (int o = 0; o < rows; o++)
        {
            float bias = b == null ? 0f : b[o0 + o];
            float* ao = a + o * ld;
            for (int i = 0; i < n; i++)
            {
                float* yo = y + i * yStride + (long)(o0 + o) * hw;
                for (int p = 0; p < hw; p++)
                {
                    float v = ao[p * n + i] + bias;
                    if (relu) v = Math.Max(v, 0f);
                    yo[p] = accumulate ? yo[p] + v : v;
                }
            }
        }
    }

    /// <summary>
    /// wt[tap][o][c] (o &lt; rows, c &lt; cols) = w[o0 + o, c, tap] for filters (rows × cols × taps); or, transposed, the
    /// filter of the transposed convolution: w[c, o0 + o, taps − 1 − tap] for filters (cols × outC × taps). Either way
    /// each o is a cols × taps matrix (its rows taps or outC·taps floats apart) transposed in 8×8 blocks, the
    /// transposed filters' taps written in reverse (a negative row step). One gather per sixteen values, as before,
    /// took 1.0 ms of NN4's training step on the two 3×3×192→384 layers and 0.9 ms on the 6×6 ones.
    /// </summary>
    private static void ReorderTaps(float* w, int o0, int rows, int cols, int outC, int taps, bool transposed, float* wt)
    {
        int plane = rows * cols;
        for (int o = 0; o < rows; o++)
        {
            if (transposed) Transpose(w + (long)(o0 + o) * taps, cols, taps, outC * taps, wt + (long)(taps - 1) * plane + (long)o * cols, -plane, add: false);
            else Transpose(w + (long)(o0 + o) * cols * taps, cols, taps, taps, wt + (long)o * cols, plane, add: false);
        }
    }

    /// <summary>
    /// Packs the GEMM's B for a strided run: <paramref name="positions"/> positions, <paramref name="stride"/> apart in
    /// the position-major input x (rows ld floats apart, n columns a position). Whole sixteens of images go straight
    /// into the panels a vector at a time; otherwise the run is gathered into <paramref name="run"/> and packed from there.
    /// </summary>
    private static void PackStridedRun(float* x, int ld, int rows, int positions, int stride, int n, float* run, float* packed, int nr, bool wide)
    {
        int cols = positions * n;
        if (!wide || n % LaneImages != 0 || nr % LaneImages != 0)
        {
            for (int c = 0; c < rows; c++)
            {
                for (int q = 0; q < positions; q++) Buffer.MemoryCopy(x + (long)c * ld + (long)stride * q * n, run + (long)c * cols + q * n, n * sizeof(float), n * sizeof(float));
            }
            Gemm.PackB(rows, cols, run, cols, packed, nr);
            return;
        }
        for (int j = 0; j < cols; j += LaneImages)
        {
            // Columns j … j + 15: images (j mod n) … of position j / n, in panel j / nr.
            float* src = x + (long)stride * (j / n) * n + j % n;
            float* dst = packed + (long)(j / nr) * nr * rows + j % nr;
            for (int c = 0; c < rows; c++) Vector512.Load(src + (long)c * ld).Store(dst + (long)c * nr);
        }
        for (int j = cols; j % nr != 0; j += LaneImages)
        {
            float* dst = packed + (long)(j / nr) * nr * rows + j % nr;
            for (int c = 0; c < rows; c++) Vector512<float>.Zero.Store(dst + (long)c * nr);
        }
    }

    /// <summary>What the tap works share: the call's geometry and batch, the parts of its output rows, and a part's start.</summary>
    private abstract class TapWorkBase(CpuBackend owner) : IParallelWork
    {
        protected readonly CpuBackend Owner = owner;
        protected ConvGeometry G;
        protected int N;
        private int _parts;

        /// <summary>Runs one item per part of g's output channels.</summary>
        protected void Start(in ConvGeometry g, int n)
        {
            G = g;
            N = n;
            _parts = Owner.TapParts(g.OutC);
            Owner._pool.Run(this, _parts, 2.0 * g.MultiplyAdds * n * Owner.FlopNanoseconds);
        }

        /// <summary>Part <paramref name="index"/>'s rows, the map's positions, the batch's columns, and the worker's scratch.</summary>
        protected (int O0, int Rows, int Hw, int Ld, WorkerScratch Scratch) Part(int index, int worker)
        {
            var (o0, rows) = TapRows(G.OutC, _parts, index);
            int hw = G.OutH * G.OutW;
            return (o0, rows, hw, hw * N, Owner.Scratch(worker));
        }

        /// <summary>The kernel's side (3 or 5) and tap count, the stride (1 or 2), and the input map's positions.</summary>
        protected (int Size, int Taps, int Stride, int InHw) Kernel => (G.KernelH, G.KernelH * G.KernelW, G.StrideH, G.InH * G.InW);

        public abstract void Execute(int index, int worker);
    }

    /// <summary>
    /// y = conv(x, w) + b (then ReLU), or its accumulation, by the tap GEMMs (see the file's summary): a forward pass,
    /// or with <c>transposed</c> the backward data pass whose transposed convolution is g.
    /// </summary>
    private sealed class TapConvWork(CpuBackend owner) : TapWorkBase(owner)
    {
        private float* _x, _w, _b, _y;
        private long _yStride;
        private bool _relu, _transposed, _accumulate;

        public void Run(in ConvGeometry g, int n, float* x, float* w, float* b, float* y, bool relu, bool transposed, bool accumulate, long yStride)
        {
            _x = x;
            _w = w;
            _b = b;
            _y = y;
            _relu = relu;
            _transposed = transposed;
            _accumulate = accumulate;
            _yStride = yStride;
            Start(g, n);
        }

        public override void Execute(int index, int worker)
        {
            var g = G;
            int n = N, inC = g.InC, nr = Owner.NR;
            var (o0, rows, hw, ld, s) = Part(index, worker);
            var (size, taps, stride, inHw) = Kernel;
            int ldIn = inHw * n;
            bool wide = Im2Col.Wide(Owner.Simd);
            float* wt = s.Tmp.Ensure((long)taps * rows * inC + (long)rows * ld);
            float* acc = wt + (long)taps * rows * inC;
            ReorderTaps(_w, o0, rows, inC, g.OutC, taps, _transposed, wt);
            Span<int> runs = stackalloc int[3 * TapMaxSize];
            if (stride == 1 && wide && n % LaneImages == 0 && nr == 2 * LaneImages)
            {
                // Every run starts at a whole sixteen of columns: the input packed once from column 0 and once from
                // column 16 holds every tap's B as whole panels, so no tap packs its own.
                int groups = ldIn / LaneImages;
                long panel = (long)nr * inC;
                float* even = s.Col.Ensure((groups + 1) / 2 * panel), odd = s.Pack.Ensure(Math.Max(1, groups / 2) * panel);
                ToPackedPositions(_x, n, inC, inHw, g.InSize, even, odd);
                float* gemmScratch = s.Gemm.Ensure(Gemm.ScratchFloats);
                for (int k = 0; k < taps; k++)
                {
                    int tap = (taps / 2 + k) % taps;
                    int count = TapRuns(g, tap / size, tap % size, runs);
                    for (int r = 0; r < count; r++)
                    {
                        int outP = runs[3 * r], group = runs[3 * r + 1] * n / LaneImages, cols = runs[3 * r + 2] * n;
                        Gemm.Multiply(Owner.Simd, rows, cols, inC, wt + tap * (long)rows * inC, inC, PackedFrom(even, odd, group, panel), acc + outP * n, ld, k > 0, gemmScratch);
                    }
                }
                FromPositionMajor(acc, rows, n, hw, _b, o0, _y, _yStride, _relu, _accumulate, wide);
                return;
            }
            float* xt = s.Col.Ensure((long)inC * ldIn);
            // A strided run's inputs, gathered position by position into a plain matrix first.
            float* run = stride > 1 ? s.Im2Col.Ensure((long)inC * g.OutW * n) : null;
            float* packed = s.Pack.Ensure(Gemm.PackedSize(inC, ld, nr));
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            ToPositionMajor(_x, n, inC, inHw, g.InSize, xt, wide);
            // The centre tap reaches every position: it assigns, and the others add.
            for (int k = 0; k < taps; k++)
            {
                int tap = (taps / 2 + k) % taps;
                int count = TapRuns(g, tap / size, tap % size, runs);
                for (int r = 0; r < count; r++)
                {
                    int outP = runs[3 * r], inP = runs[3 * r + 1], cols = runs[3 * r + 2] * n;
                    if (stride == 1) Gemm.PackB(inC, cols, xt + inP * n, ldIn, packed, nr);
                    else PackStridedRun(xt + inP * n, ldIn, inC, runs[3 * r + 2], stride, n, run, packed, nr, wide);
                    Gemm.Multiply(Owner.Simd, rows, cols, inC, wt + tap * (long)rows * inC, inC, packed, acc + outP * n, ld, k > 0, gemm);
                }
            }
            FromPositionMajor(acc, rows, n, hw, _b, o0, _y, _yStride, _relu, _accumulate, wide);
        }
    }

    /// <summary>
    /// dW and db by the tap GEMMs: per tap, dW[·, ·, tap] = Σ over the positions it reaches of dy[o, p] x[c, p + offset],
    /// the sum over the batch's columns being the GEMMs' depth; each thread computes its rows of dW whole. With stride
    /// 1, xᵀ is packed once and each run multiplies a range of its rows (a tap's runs adding up); before, each tap packed
    /// its runs' rows and joined its runs' dy (`bench conv`, 2 threads, filter GFLOP/s: 6×6×144→288 249 → 268,
    /// 6×6×32→64 5×5 253 → 319, 3×3×192→384 300 → 311; NN4's training step, in-process A/B 0.9902).
    /// </summary>
    private sealed class TapFilterWork(CpuBackend owner) : TapWorkBase(owner)
    {
        private float* _x, _dy, _dw, _db;
        private bool _accumulate;

        public void Run(in ConvGeometry g, int n, float* x, float* dy, float* dw, float* db, bool accumulate)
        {
            _x = x;
            _dy = dy;
            _dw = dw;
            _db = db;
            _accumulate = accumulate;
            Start(g, n);
        }

        public override void Execute(int index, int worker)
        {
            var g = G;
            int n = N, inC = g.InC, nr = Owner.NR;
            var (o0, rows, hw, ld, s) = Part(index, worker);
            var (size, taps, stride, inHw) = Kernel;
            float* xt = s.Col.Ensure((long)inC * inHw * n);
            float* dyt = s.Tmp.Ensure((long)rows * ld + (long)taps * rows * inC);
            float* dwt = dyt + (long)rows * ld;
            // Strided: a tap's runs side by side, so that each tap is one GEMM as deep as all its runs together.
            float* joined = stride == 1 ? null : s.Im2Col.Ensure((long)rows * ld);
            float* packed = s.Pack.Ensure(Gemm.PackedSize(Math.Max(ld, inHw * n), inC, nr));
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            // x with its columns as rows ([p·n + i][c]), so that a run's rows pack as whole row copies.
            for (int i = 0; i < n; i++) Transpose(_x + i * g.InSize, inC, inHw, inHw, xt + (long)i * inC, n * inC, add: false);
            ToPositionMajor(_dy + (long)o0 * hw, n, rows, hw, g.OutSize, dyt, Im2Col.Wide(Owner.Simd));
            Span<int> runs = stackalloc int[3 * TapMaxSize];
            if (stride == 1)
            {
                // xᵀ packed once: every run's rows are a range of its panels' rows, so each run is one GEMM as deep as
                // the run, the runs of a tap adding up.
                int depthAll = inHw * n;
                Gemm.PackB(depthAll, inC, xt, inC, packed, nr);
                for (int tap = 0; tap < taps; tap++)
                {
                    float* d = dwt + tap * (long)rows * inC;
                    int count = TapRuns(g, tap / size, tap % size, runs);
                    if (count == 0) new Span<float>(d, rows * inC).Clear();
                    for (int r = 0; r < count; r++)
                    {
                        Gemm.Multiply(Owner.Simd, rows, inC, runs[3 * r + 2] * n, dyt + runs[3 * r] * n, ld, packed + (long)runs[3 * r + 1] * n * nr, (long)depthAll * nr,
                            d, inC, r > 0, gemm);
                    }
                }
            }
            for (int tap = 0; tap < (stride == 1 ? 0 : taps); tap++)
            {
                float* d = dwt + tap * (long)rows * inC;
                int count = TapRuns(g, tap / size, tap % size, runs), depth = 0;
                for (int r = 0; r < count; r++) depth += runs[3 * r + 2] * n;
                if (depth == 0)
                {
                    new Span<float>(d, rows * inC).Clear();
                    continue;
                }
                float* at = dyt;
                int lda = ld;
                if (count > 1)
                {
                    for (int o = 0, k0 = 0; o < rows; o++, k0 = 0)
                    {
                        for (int r = 0; r < count; r++)
                        {
                            int length = runs[3 * r + 2] * n;
                            new ReadOnlySpan<float>(dyt + (long)o * ld + runs[3 * r] * n, length).CopyTo(new Span<float>(joined + (long)o * depth + k0, length));
                            k0 += length;
                        }
                    }
                    at = joined;
                    lda = depth;
                }
                else at += runs[0] * n;
                for (int r = 0, k0 = 0; r < count; r++)
                {
                    int length = runs[3 * r + 2] * n;
                    if (stride == 1) Gemm.PackB(length, inC, xt + (long)runs[3 * r + 1] * n * inC, inC, packed, nr, depth, k0);
                    else
                    {
                        // A strided run: its positions' n rows each, stride positions apart in x.
                        for (int q = 0; q < runs[3 * r + 2]; q++)
                        {
                            Gemm.PackB(n, inC, xt + (long)(runs[3 * r + 1] + stride * q) * n * inC, inC, packed, nr, depth, k0 + q * n);
                        }
                    }
                    k0 += length;
                }
                Gemm.Multiply(Owner.Simd, rows, inC, depth, at, lda, packed, d, inC, false, gemm);
            }
            for (int o = 0; o < rows; o++)
            {
                // dw[o0 + o, c, tap] (=|+=) dwt[tap, o, c]: a taps × inC block transposed.
                Transpose(dwt + (long)o * inC, taps, inC, rows * inC, _dw + (long)(o0 + o) * inC * taps, taps, _accumulate);
                float sum = TensorPrimitives.Sum(new ReadOnlySpan<float>(dyt + (long)o * ld, ld));
                if (_db != null) _db[o0 + o] = _accumulate ? _db[o0 + o] + sum : sum;
            }
        }
    }
}
