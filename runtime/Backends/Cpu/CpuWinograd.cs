using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// The forward pass of 3×3, stride-1, "same" convolutions by Winograd's minimal filtering F(2×2, 3×3): every 2×2
/// block of outputs (a tile) comes from a 4×4 input patch d and a 3×3 filter g as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so the
/// 9·4 = 36 multiply-adds of a tile per channel pair become 16, and the 16 element-wise products of all channel pairs
/// are 16 GEMMs, U[ξ] (OutC × InC) · V[ξ] (InC × tiles), one per position ξ of the 4×4 transformed tile.
/// </summary>
/// <remarks>
/// With
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
/// The tiles of a batch are the columns of a <see cref="ColumnPlan"/> (ranges of one image's tiles, or several small
/// images per item); each item transforms its patches straight into the GEMMs' packed panels, runs the 16 GEMMs, and
/// transforms the products back into y with the bias and ReLU. The backward data pass of such a convolution is itself
/// one (from dy, with each filter pair transposed and rotated by 180°), so it takes the same path. The filter gradient
/// takes the adjoint transforms (<c>ConvBackwardFilterWork.WinogradFilter</c>, AVX-512; `bench conv`, filter column,
/// 2 threads: 56×56×64→192 190 → 304, 24×24×64→192 187 → 295, 12×12×96→128 190 → 236 GFLOP/s against im2col).
/// Winograd is used where <see cref="CpuBackend.Winograd"/> is on and <see cref="TakesWinograd"/> holds.
/// </remarks>
public sealed unsafe partial class CpuBackend
{
    private readonly WinogradForwardWork _winograd;

    /// <summary>
    /// Whether a convolution takes the Winograd path (forward, backward data and filter gradient): 3×3, stride 1,
    /// padding 1, with enough channels that the transforms are small beside the GEMMs, and maps of at least 4×4.
    /// Measured with `bench conv` on an earlier machine (2 threads, direct multiply-adds per second, Winograd vs
    /// im2col): 56×56×64→192 500 vs 324, 28×28×96→128 404 vs 293, 14×14×144→288 408 vs 309, 12×12×96→128 291 vs 275.
    /// Maps of few tiles a row (<see cref="GatherMaxTilesW"/>, <see cref="FilterGatherMaxTilesW"/>) take their tiles
    /// sixteen at a time across rows and images (<c>TransformInputGathered</c>), and the filters are transformed sixteen
    /// pairs at a time; on this machine (2 threads, forward / data / filter GFLOP/s, Winograd vs im2col): 6×6×144→288 314 / 286 / 268 vs 206 / 216 / 181,
    /// 6×6×128→256 299 / 284 / 263 vs 204 / 161 / 176, 7×7×192→384 255 / 232 / 176 vs 205 / 171 / 180, 9×8×48→96
    /// 254 / 239 / 193 vs 188 / 140 / 154–170, 4×4×128→256 278 / 272 / 234 vs 197 / 155 / 162; but 3×3×192→384 70–76
    /// vs 171 forward, where four tiles an image compute 16 outputs for 9 and the transformed filters (4.7 MB) no
    /// longer stay in cache. The lane layout of F(4×4, 3×3) on 3×3 maps (one tile an image, 36 products for 9 outputs)
    /// was faster alone (forward 182 → 239, data 142 → 170 GFLOP/s) but not inside NN4, where its 10.6 MB of
    /// transformed filters per call made the training step 0–2% and the forward pass 1–2% slower. From 24 input
    /// channels on (NNS2's 18×15×24→32: 272 vs 241 for the direct kernel, which also fits it, and runs after Winograd); the backward data pass of that layer (24 output channels) is faster
    /// with im2col (210 vs 195), so the output side keeps 32.
    /// </summary>
    internal static bool WinogradFits(in ConvGeometry g) =>
        g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 1 && g.PadW == 1 &&
        g.OutH == g.InH && g.OutW == g.InW && g.InC >= WinogradMinInChannels && g.OutC >= WinogradMinOutChannels &&
        g.OutH >= WinogradMinSize && g.OutW >= WinogradMinSize;

    /// <summary>
    /// Whether ConvForward takes the Winograd path for this call: enabled, a fitting shape, and at least one work item
    /// per thread (otherwise im2col, which can also split output channels across threads, is faster).
    /// </summary>
    internal bool TakesWinograd(in ConvGeometry g, int n) => Winograd && WinogradFits(g) && _winograd.Items(g, n) >= Threads;

    /// <summary>The convolution whose forward pass is <paramref name="g"/>'s backward data pass (stride 1, "same" padding).</summary>
    internal static ConvGeometry Transposed(in ConvGeometry g) =>
        new(g.OutC, g.OutH, g.OutW, g.InC, g.InH, g.InW, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW);

    /// <summary>Fewest input channels for the Winograd path.</summary>
    internal const int WinogradMinInChannels = 24;

    /// <summary>Fewest output channels for the Winograd path.</summary>
    internal const int WinogradMinOutChannels = 32;

    /// <summary>Smallest map height and width for the Winograd path (all three passes).</summary>
    internal const int WinogradMinSize = 4;

    /// <summary>
    /// Floats between the planes U[ξ] of transformed filters: the OutC × InC pairs and one cache line more, so that the
    /// planes do not all start at the same offset within a 4 KiB page. With a plane a multiple of 4 KiB (64×192,
    /// 96×128, 128×256 pairs), the transform's 16 or 36 stores per sixteen pairs all fell into one L1 set: 10 ns a
    /// pair rather than 7 for 64×192 3×3 filters from warm caches.
    /// </summary>
    internal static long FilterPlane(in ConvGeometry g) => (long)g.OutC * g.InC + 16;

    /// <summary>
    /// Most tiles per tile row for the forward and data passes to take <see cref="TransformInputGathered"/>. `bench
    /// conv`, 2 threads, forward and data GFLOP/s, gathered vs runs: 6×6×144→288 314 / 286 vs 290 / 265,
    /// 6×6×128→256 299 / 284 vs 242 / 245, and in NN4's inference profile its four 6×6 layers 181–196 vs 169–185;
    /// 12×12×96→128 (six tiles a row) 296–313 / 249–305 vs 276–292 / 266–273, within noise; 14×14×144→288 (seven)
    /// 298 / 275 vs 320–334 / 283–287, where the runs fill enough lanes and the gathers cost more. NNS2's 9×8×48→96
    /// (four) ran its inference forward pass at 125–231 gathered against 148–188 along runs in the model profile, so
    /// four tiles a row keep the runs here.
    /// </summary>
    internal const int GatherMaxTilesW = 3;

    /// <summary>
    /// Most tiles per tile row for the filter gradient to take the gathered transforms: NNS2's 9×8×48→96 filter
    /// gradient in the model profile ran at 134–156 GFLOP/s gathered against 98–115 along runs (and 148–157 with
    /// im2col before either).
    /// </summary>
    internal const int FilterGatherMaxTilesW = 5;

    /// <summary>
    /// Whether an item's tiles are transformed sixteen at a time in column order (<see cref="TransformInputGathered"/>)
    /// rather than along runs of tile rows (at most <paramref name="maxTilesW"/> tiles a row): rows of few tiles (a 6×6
    /// map has three) would leave most of a run's vector lanes empty. imageFloats is the larger of an input image's
    /// and an output image's floats (or stride): the plan's offsets must fit in 28 bits.
    /// </summary>
    internal static bool Gathered(int tilesW, int maxTilesW, int imgCount, long imageFloats) =>
        tilesW <= maxTilesW && imgCount * imageFloats < 1 << 28;

    /// <summary>Ints of an item's gather plan for <paramref name="cols"/> columns (see <see cref="PlanGather"/>).</summary>
    internal static long GatherPlanInts(int cols, int nr) => 20L * Gemm.RoundUp(cols, nr);

    /// <summary>
    /// Per column j, padded to whole GEMM panels: at plan[j] the offset of its tile's patch corner in x (from image
    /// img0, channel 0; the corner may lie in the padding); at plan[P + j] the offset of its tile's first output in y
    /// (from image img0, channel 0) with bit 30 set when the tile has a right column and bit 29 when it has a lower
    /// row; and at plan[2P + 16 e + j % 16 ...] (e = 0 … 15, one block of sixteen per group of sixteen columns), −1
    /// where element e = 4r + c of the column's 4×4 patch lies inside the map and 0 where it is padding (or the
    /// column is past the item's last). P is the padded column count.
    /// </summary>
    internal static void PlanGather(in ConvGeometry g, int tilesW, long yStride, int imgCount, int tCount, int t0, int cols, int nr, int* plan)
    {
        int padded = Gemm.RoundUp(cols, nr);
        int* corner = plan, output = plan + padded, masks = plan + 2 * padded;
        for (int j = 0; j < padded; j++)
        {
            int* mask = masks + j / 16 * 256 + j % 16;
            if (j >= cols)
            {
                corner[j] = 0;
                output[j] = 0;
                for (int e = 0; e < 16; e++) mask[16 * e] = 0;
                continue;
            }
            int i = j / tCount, t = t0 + j % tCount;
            int ty = t / tilesW, tx = t % tilesW;
            int iy = 2 * ty - 1, ix = 2 * tx - 1;
            corner[j] = (int)(i * g.InSize) + iy * g.InW + ix;
            int oy = 2 * ty, ox = 2 * tx;
            output[j] = (int)(i * yStride) + oy * g.OutW + ox | (ox + 1 < g.OutW ? 1 << 30 : 0) | (oy + 1 < g.OutH ? 1 << 29 : 0);
            for (int r = 0; r < 4; r++)
            {
                for (int c = 0; c < 4; c++)
                {
                    mask[16 * (4 * r + c)] = (uint)(iy + r) < (uint)g.InH && (uint)(ix + c) < (uint)g.InW ? -1 : 0;
                }
            }
        }
    }

    /// <summary>Sixteen floats from plane[index[l]] where mask[l] is set, zero elsewhere (two AVX2 masked gathers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Gather(float* plane, Vector512<int> index, Vector512<int> mask)
    {
        var m = mask.AsSingle();
        return Vector512.Create(
            Avx2.GatherMaskVector256(Vector256<float>.Zero, plane, index.GetLower(), m.GetLower(), 4),
            Avx2.GatherMaskVector256(Vector256<float>.Zero, plane, index.GetUpper(), m.GetUpper(), 4));
    }

    /// <summary>
    /// V[ξ][ic, j] = (Bᵀ d B)[ξ] sixteen columns at a time in column order: each column's patch element loads by a
    /// masked gather (the padding reads as zero), so columns of different tile rows and images share a vector.
    /// Columns from the item's last to <paramref name="padded"/> are zero. Column j of channel ic goes to
    /// v + (j / block)·blockStride + ic·icStride + j % block (whole sixteens within a block), position ξ
    /// ξ·xiStride further: packed GEMM panels (block NR) or plain rows (block past the last column). x points at
    /// channel 0 of the item's first image.
    /// </summary>
    internal static void TransformInputGathered(in ConvGeometry g, float* x, int padded, int* plan, float* v, int block, long blockStride, long icStride, long xiStride)
    {
        int inHw = g.InH * g.InW;
        int w = g.InW;
        for (int ic = 0; ic < g.InC; ic++)
        {
            float* plane = x + (long)ic * inHw;
            for (int j = 0; j < padded; j += 16)
            {
                var corner = Vector512.Load(plan + j);
                int* mask = plan + 2 * padded + j / 16 * 256;
                Vector512<float> D(int r, int c) => Gather(plane, corner + Vector512.Create(r * w + c), Vector512.Load(mask + 16 * (4 * r + c)));
                var d00 = D(0, 0); var d01 = D(0, 1); var d02 = D(0, 2); var d03 = D(0, 3);
                var d10 = D(1, 0); var d11 = D(1, 1); var d12 = D(1, 2); var d13 = D(1, 3);
                var d20 = D(2, 0); var d21 = D(2, 1); var d22 = D(2, 2); var d23 = D(2, 3);
                var d30 = D(3, 0); var d31 = D(3, 1); var d32 = D(3, 2); var d33 = D(3, 3);
                // Bᵀ d (rows), then · B (columns).
                var t00 = d00 - d20; var t01 = d01 - d21; var t02 = d02 - d22; var t03 = d03 - d23;
                var t10 = d10 + d20; var t11 = d11 + d21; var t12 = d12 + d22; var t13 = d13 + d23;
                var t20 = d20 - d10; var t21 = d21 - d11; var t22 = d22 - d12; var t23 = d23 - d13;
                var t30 = d10 - d30; var t31 = d11 - d31; var t32 = d12 - d32; var t33 = d13 - d33;
                float* o = v + (long)(j / block) * blockStride + ic * icStride + j % block;
                (t00 - t02).Store(o); (t01 + t02).Store(o + xiStride); (t02 - t01).Store(o + 2 * xiStride); (t01 - t03).Store(o + 3 * xiStride);
                o += 4 * xiStride;
                (t10 - t12).Store(o); (t11 + t12).Store(o + xiStride); (t12 - t11).Store(o + 2 * xiStride); (t11 - t13).Store(o + 3 * xiStride);
                o += 4 * xiStride;
                (t20 - t22).Store(o); (t21 + t22).Store(o + xiStride); (t22 - t21).Store(o + 2 * xiStride); (t21 - t23).Store(o + 3 * xiStride);
                o += 4 * xiStride;
                (t30 - t32).Store(o); (t31 + t32).Store(o + xiStride); (t32 - t31).Store(o + 2 * xiStride); (t31 - t33).Store(o + 3 * xiStride);
            }
        }
    }

    private sealed partial class WinogradForwardWork(CpuBackend owner) : IParallelWork
    {
        private readonly WinogradFilterWork _filters = new(owner);
        private readonly WinogradLanesWork _lanes = new(owner);

        private ConvGeometry _g;
        private ColumnPlan _plan;
        private float* _x, _u, _b, _y;
        private long _yStride;
        private bool _relu, _accumulate, _f4;
        private int _tilesW, _tiles;

        /// <param name="g">The convolution computed: x (n, InC, H, W) to y (n, OutC, H, W).</param>
        /// <param name="n">Images in the batch.</param>
        /// <param name="x">The input.</param>
        /// <param name="w">The filters, (OutC, InC, 3, 3), or those of the transposed convolution.</param>
        /// <param name="b">The bias, or null for none.</param>
        /// <param name="y">The output.</param>
        /// <param name="relu">Apply ReLU to the output.</param>
        /// <param name="transposed">
        /// Whether w holds the filters of the transposed convolution (OutC of g as its input channels, each filter
        /// rotated by 180°): the backward data pass of a 3×3 stride-1 "same" convolution is one of these.
        /// </param>
        /// <param name="accumulate">Add into y instead of overwriting it.</param>
        /// <param name="yStride">Floats from one image of y to the next (0: compact).</param>
        public void Run(in ConvGeometry g, int n, float* x, float* w, float* b, float* y, bool relu, bool transposed = false, bool accumulate = false, long yStride = 0)
        {
            _accumulate = accumulate;
            _g = g;
            _x = x;
            _b = b;
            _y = y;
            _yStride = yStride == 0 ? g.OutSize : yStride;
            _relu = relu;
            bool lanes = TakesLanes(g, n);
            _plan = lanes ? default : Plan(g, n, out _f4, _yStride);
            if (lanes) _f4 = true;
            int tile = _f4 ? 4 : 2;
            _tilesW = Tiles(g.OutW, tile);
            _tiles = _tilesW * Tiles(g.OutH, tile);
            _u = owner._shared.Ensure((_f4 ? 36L : 16L) * FilterPlane(g));
            _filters.Run(g, w, _u, transposed, _f4);
            if (lanes) _lanes.Run(g, n, x, _u, b, y, relu, accumulate, _yStride);
            else owner._pool.Run(this, _plan.Items, 2.0 * g.MultiplyAdds * n * owner.FlopNanoseconds);
        }

        /// <summary>
        /// Work items for the batch: lane groups × tile chunks (<see cref="WinogradLanesWork"/>), or its tiles as
        /// columns. A small batch of small maps (one image of 28×28 has 196 tiles) can leave fewer items than threads;
        /// ConvForward then keeps im2col, which splits output channels across threads too.
        /// </summary>
        public int Items(in ConvGeometry g, int n) => TakesLanes(g, n) ? _lanes.Items(g, n) : Plan(g, n, out _, g.OutSize).Items;

        /// <summary>Whether F(4×4, 3×3) runs with images as lanes: it fits, the batch fills its lanes, and every worker gets an item.</summary>
        private bool TakesLanes(in ConvGeometry g, int n) => owner.TakesF4(g) && CpuBackend.TakesLanes(n) && _lanes.Items(g, n) >= owner.Threads;

        /// <summary>
        /// The work items of F(4×4, 3×3) where the convolution takes it (<paramref name="f4"/>) and its items' offsets
        /// fit the gather plan (y's images <paramref name="yStride"/> floats apart), else those of F(2×2, 3×3).
        /// </summary>
        private ColumnPlan Plan(in ConvGeometry g, int n, out bool f4, long yStride)
        {
            if (owner.TakesF4(g))
            {
                int tiles = Tiles(g.OutW, 4) * Tiles(g.OutH, 4);
                int group = Math.Clamp(F4TargetColumns / tiles, 1, (n + owner.Threads - 1) / owner.Threads);
                var plan = new ColumnPlan(n, tiles, owner.NR, owner.Threads, splitImages: true, group: group);
                // Maps of few tiles keep whole images to an item; a batch too small to give every worker one takes
                // F(2×2, 3×3), whose items can split an image.
                f4 = plan.Items >= owner.Threads && FitsGather4(plan.Group, Math.Max(g.InSize, yStride));
                if (f4) return plan;
            }
            f4 = false;
            return new(n, Tiles(g.OutW, 2) * Tiles(g.OutH, 2), owner.NR, owner.Threads, splitImages: true);
        }

        /// <summary>U[ξ][oc, ic] = (G g Gᵀ)[ξ] for the filters g = w[oc, ic] of pairs [p0, p1).</summary>
        internal static void TransformFilters(in ConvGeometry g, float* w, float* u, bool transposed, long p0, long p1)
        {
            long plane = FilterPlane(g);
            float* gg = stackalloc float[12];
            float* flipped = stackalloc float[9];
            for (long p = p0; p < p1; p++)
            {
                float* f = w + p * 9;
                if (transposed)
                {
                    // Pair p = (oc, ic) of this convolution is filter (ic, oc) of w, rotated by 180°.
                    long oc = p / g.InC, ic = p % g.InC;
                    float* source = w + (ic * g.OutC + oc) * 9;
                    for (int t = 0; t < 9; t++) flipped[t] = source[8 - t];
                    f = flipped;
                }
                // G g: 4 × 3, by kernel column.
                for (int c = 0; c < 3; c++)
                {
                    float f0 = f[c], f1 = f[3 + c], f2 = f[6 + c];
                    gg[c] = f0;
                    gg[3 + c] = 0.5f * (f0 + f1 + f2);
                    gg[6 + c] = 0.5f * (f0 - f1 + f2);
                    gg[9 + c] = f2;
                }
                // (G g) Gᵀ: 4 × 4.
                for (int r = 0; r < 4; r++)
                {
                    float a = gg[3 * r], bb = gg[3 * r + 1], c = gg[3 * r + 2];
                    u[(4 * r + 0) * plane + p] = a;
                    u[(4 * r + 1) * plane + p] = 0.5f * (a + bb + c);
                    u[(4 * r + 2) * plane + p] = 0.5f * (a - bb + c);
                    u[(4 * r + 3) * plane + p] = c;
                }
            }
        }

        public void Execute(int index, int worker)
        {
            if (_f4)
            {
                ExecuteF4(index, worker);
                return;
            }
            var g = _g;
            var s = owner.Scratch(worker);
            _plan.Item(index, out int img0, out int imgCount, out int t0, out int tCount);
            int cols = imgCount * tCount;
            int nr = owner.NR;
            long panelFloats = Gemm.PackedSize(g.InC, cols, nr);
            float* v = s.Pack.Ensure(16 * panelFloats);
            float* m = s.Tmp.Ensure(16L * g.OutC * cols);
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            bool wide = Im2Col.Wide(owner.Simd);
            bool gathered = wide && Gathered(_tilesW, GatherMaxTilesW, imgCount, Math.Max(g.InSize, _yStride));
            int* plan = null;
            if (gathered)
            {
                plan = (int*)s.Col.Ensure(GatherPlanInts(cols, nr));
                PlanGather(g, _tilesW, _yStride, imgCount, tCount, t0, cols, nr, plan);
                // Column j of ξ's packed panels: panel j / nr, row ic, lane j % nr (sixteen lanes stay in one panel).
                TransformInputGathered(g, _x + (long)img0 * g.InSize, Gemm.RoundUp(cols, nr), plan, v, nr, (long)g.InC * nr, nr, panelFloats);
            }
            else if (wide) TransformInputVector(g, img0, imgCount, tCount, t0, cols, v, panelFloats, nr, s.Im2Col);
            else TransformInput(g, img0, tCount, t0, cols, v, panelFloats, nr);
            for (int xi = 0; xi < 16; xi++)
            {
                Gemm.Multiply(owner.Simd, g.OutC, cols, g.InC, _u + xi * FilterPlane(g), g.InC, v + xi * panelFloats, m + (long)xi * g.OutC * cols, cols, false, gemm);
            }
            if (gathered) TransformOutputGathered(g, img0, cols, m, plan);
            else if (wide) TransformOutputVector(g, img0, imgCount, tCount, t0, cols, m);
            else TransformOutput(g, img0, tCount, t0, cols, m);
        }

        /// <summary>
        /// <see cref="TransformOutput"/> sixteen columns at a time: the products load as vectors, and each column's 2×2
        /// outputs are then written to its place (the right column and lower row only where the map has them).
        /// </summary>
        private void TransformOutputGathered(in ConvGeometry g, int img0, int cols, float* m, int* plan)
        {
            int padded = Gemm.RoundUp(cols, owner.NR);
            int* output = plan + padded;
            int outHw = g.OutH * g.OutW, ow = g.OutW;
            long xiStride = (long)g.OutC * cols;
            float* ys = stackalloc float[64];
            float* y0 = _y + img0 * _yStride;
            for (int oc = 0; oc < g.OutC; oc++)
            {
                var bias = Vector512.Create(_b == null ? 0f : _b[oc]);
                float* row = m + (long)oc * cols;
                float* yc = y0 + (long)oc * outHw;
                for (int j = 0; j < cols; j += 16)
                {
                    int count = Math.Min(16, cols - j);
                    var lanes = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
                    float* src = row + j;
                    OutputTiles(src, xiStride, lanes, bias, _relu, out var y00, out var y01, out var y10, out var y11);
                    y00.Store(ys); y01.Store(ys + 16); y10.Store(ys + 32); y11.Store(ys + 48);
                    int* place = output + j;
                    for (int l = 0; l < count; l++)
                    {
                        int code = place[l];
                        float* o = yc + (code & ((1 << 29) - 1));
                        bool right = (code & (1 << 30)) != 0, below = (code & (1 << 29)) != 0;
                        if (_accumulate)
                        {
                            o[0] += ys[l];
                            if (right) o[1] += ys[16 + l];
                            if (below)
                            {
                                o[ow] += ys[32 + l];
                                if (right) o[ow + 1] += ys[48 + l];
                            }
                        }
                        else
                        {
                            o[0] = ys[l];
                            if (right) o[1] = ys[16 + l];
                            if (below)
                            {
                                o[ow] = ys[32 + l];
                                if (right) o[ow + 1] = ys[48 + l];
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// The item's tiles as runs along tile rows, in column order: (image, tile row, first tile column, count, first
        /// column). Each run is a stride-2 walk along two padded input rows, so its patches load as vector gathers.
        /// </summary>
        private int Runs(int imgCount, int tCount, int t0, int* runs)
        {
            int count = 0, j = 0;
            for (int i = 0; i < imgCount; i++)
            {
                int t = t0, end = t0 + tCount;
                while (t < end)
                {
                    int ty = t / _tilesW, tx = t % _tilesW;
                    int length = Math.Min(_tilesW - tx, end - t);
                    int* r = runs + 5 * count++;
                    r[0] = i;
                    r[1] = ty;
                    r[2] = tx;
                    r[3] = length;
                    r[4] = j;
                    j += length;
                    t += length;
                }
            }
            return count;
        }

        /// <summary>
        /// <see cref="TransformInput"/> sixteen tiles at a time: per channel, the item's input rows are copied between
        /// zero padding, each run of tiles gathers its 4×4 patches as sixteen vectors (even elements of a padded row
        /// from column c), and the sixteen transformed vectors go to one row buffer per ξ, which is then copied into
        /// the panels.
        /// </summary>
        private void TransformInputVector(in ConvGeometry g, int img0, int imgCount, int tCount, int t0, int cols, float* v, long panelFloats, int nr, NativeScratch work)
        {
            int tyFirst = t0 / _tilesW, tyLast = (t0 + tCount - 1) / _tilesW;
            int padRows = 2 * (tyLast - tyFirst) + 4;
            int pitch = 2 * _tilesW + 2 + 48;
            long padPlane = (long)padRows * pitch;
            int linePitch = cols + 32;
            int maxRuns = imgCount * (tyLast - tyFirst + 1);
            float* pad = work.Ensure(imgCount * padPlane + 16L * linePitch + 5L * maxRuns + 64);
            float* lines = pad + imgCount * padPlane;
            int* runs = (int*)(lines + 16L * linePitch);
            int runCount = Runs(imgCount, tCount, t0, runs);
            int inHw = g.InH * g.InW;
            int iy0 = 2 * tyFirst - 1;
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            int copyWidth = Math.Min(g.InW, pitch - 1);
            for (int ic = 0; ic < g.InC; ic++)
            {
                // Padded rows: padded (r, col) is input (iy0 + r, col - 1).
                new Span<float>(pad, (int)(imgCount * padPlane)).Clear();
                for (int i = 0; i < imgCount; i++)
                {
                    float* plane = _x + (long)(img0 + i) * g.InSize + (long)ic * inHw;
                    for (int r = 0; r < padRows; r++)
                    {
                        int iy = iy0 + r;
                        if ((uint)iy < (uint)g.InH) Im2Col.Copy(plane + (long)iy * g.InW, pad + i * padPlane + (long)r * pitch + 1, copyWidth, SimdLevel.Vector512);
                    }
                }
                for (int q = 0; q < runCount; q++)
                {
                    int* run = runs + 5 * q;
                    float* rowBase = pad + run[0] * padPlane + (long)(2 * (run[1] - tyFirst)) * pitch;
                    for (int k = 0; k < run[3]; k += 16)
                    {
                        float* p = rowBase + 2 * (run[2] + k);
                        // d[r][c] for sixteen tiles: even elements of padded row r from column c.
                        var d00 = Gather(p, even); var d01 = Gather(p + 1, even); var d02 = Gather(p + 2, even); var d03 = Gather(p + 3, even);
                        p += pitch;
                        var d10 = Gather(p, even); var d11 = Gather(p + 1, even); var d12 = Gather(p + 2, even); var d13 = Gather(p + 3, even);
                        p += pitch;
                        var d20 = Gather(p, even); var d21 = Gather(p + 1, even); var d22 = Gather(p + 2, even); var d23 = Gather(p + 3, even);
                        p += pitch;
                        var d30 = Gather(p, even); var d31 = Gather(p + 1, even); var d32 = Gather(p + 2, even); var d33 = Gather(p + 3, even);
                        // Bᵀ d (rows), then · B (columns).
                        var t00 = d00 - d20; var t01 = d01 - d21; var t02 = d02 - d22; var t03 = d03 - d23;
                        var t10 = d10 + d20; var t11 = d11 + d21; var t12 = d12 + d22; var t13 = d13 + d23;
                        var t20 = d20 - d10; var t21 = d21 - d11; var t22 = d22 - d12; var t23 = d23 - d13;
                        var t30 = d10 - d30; var t31 = d11 - d31; var t32 = d12 - d32; var t33 = d13 - d33;
                        float* l = lines + run[4] + k;
                        (t00 - t02).Store(l); (t01 + t02).Store(l + linePitch); (t02 - t01).Store(l + 2L * linePitch); (t01 - t03).Store(l + 3L * linePitch);
                        l += 4L * linePitch;
                        (t10 - t12).Store(l); (t11 + t12).Store(l + linePitch); (t12 - t11).Store(l + 2L * linePitch); (t11 - t13).Store(l + 3L * linePitch);
                        l += 4L * linePitch;
                        (t20 - t22).Store(l); (t21 + t22).Store(l + linePitch); (t22 - t21).Store(l + 2L * linePitch); (t21 - t23).Store(l + 3L * linePitch);
                        l += 4L * linePitch;
                        (t30 - t32).Store(l); (t31 + t32).Store(l + linePitch); (t32 - t31).Store(l + 2L * linePitch); (t31 - t33).Store(l + 3L * linePitch);
                    }
                }
                for (int xi = 0; xi < 16; xi++)
                {
                    float* line = lines + xi * (long)linePitch;
                    float* panels = v + xi * panelFloats + (long)ic * nr;
                    for (int p0 = 0; p0 < cols; p0 += nr)
                    {
                        int w = Math.Min(nr, cols - p0);
                        float* dst = panels + (long)p0 * g.InC;
                        Im2Col.Copy(line + p0, dst, w, SimdLevel.Vector512);
                        for (int j = w; j < nr; j++) dst[j] = 0f;
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Gather(float* p, Vector512<int> even) => Avx512F.PermuteVar16x32x2(Vector512.Load(p), even, Vector512.Load(p + 16));

        /// <summary>
        /// <see cref="TransformOutput"/> sixteen tiles at a time: per output channel and run of tiles, the sixteen
        /// products load as vectors, and the two output rows' pairs are interleaved into place with masked stores.
        /// </summary>
        private void TransformOutputVector(in ConvGeometry g, int img0, int imgCount, int tCount, int t0, int cols, float* m)
        {
            int tyFirst = t0 / _tilesW, tyLast = (t0 + tCount - 1) / _tilesW;
            int* runs = stackalloc int[5 * imgCount * (tyLast - tyFirst + 1)];
            int runCount = Runs(imgCount, tCount, t0, runs);
            int outHw = g.OutH * g.OutW;
            long xiStride = (long)g.OutC * cols;
            var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            for (int oc = 0; oc < g.OutC; oc++)
            {
                var bias = Vector512.Create(_b == null ? 0f : _b[oc]);
                float* row = m + (long)oc * cols;
                for (int q = 0; q < runCount; q++)
                {
                    int* run = runs + 5 * q;
                    int oy = 2 * run[1];
                    float* outRow = _y + (img0 + run[0]) * _yStride + (long)oc * outHw + (long)oy * g.OutW;
                    for (int k = 0; k < run[3]; k += 16)
                    {
                        int tiles = Math.Min(16, run[3] - k);
                        var lanes = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(tiles)).AsSingle();
                        float* src = row + run[4] + k;
                        OutputTiles(src, xiStride, lanes, bias, _relu, out var y00, out var y01, out var y10, out var y11);
                        int ox = 2 * (run[2] + k);
                        int width = Math.Min(2 * tiles, g.OutW - ox);
                        StorePairs(outRow + ox, Avx512F.PermuteVar16x32x2(y00, low, y01), Avx512F.PermuteVar16x32x2(y00, high, y01), width, _accumulate);
                        if (oy + 1 < g.OutH) StorePairs(outRow + g.OutW + ox, Avx512F.PermuteVar16x32x2(y10, low, y11), Avx512F.PermuteVar16x32x2(y10, high, y11), width, _accumulate);
                    }
                }
            }
        }

        /// <summary>
        /// y = Aᵀ M A + bias (then ReLU) for sixteen columns (the lanes that <paramref name="lanes"/> selects), whose
        /// products M[ξ] lie xiStride apart from src: y00, y01 the tile's top row, y10, y11 its bottom row.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void OutputTiles(float* src, long xiStride, Vector512<float> lanes, Vector512<float> bias, bool relu,
            out Vector512<float> y00, out Vector512<float> y01, out Vector512<float> y10, out Vector512<float> y11)
        {
            Vector512<float> M(int xi) => Avx512F.MaskLoad(src + xi * xiStride, lanes, Vector512<float>.Zero);
            // Aᵀ M by columns c: s0c = m0c + m1c + m2c, s1c = m1c − m2c − m3c.
            var m00 = M(0); var m01 = M(1); var m02 = M(2); var m03 = M(3);
            var m10 = M(4); var m11 = M(5); var m12 = M(6); var m13 = M(7);
            var m20 = M(8); var m21 = M(9); var m22 = M(10); var m23 = M(11);
            var m30 = M(12); var m31 = M(13); var m32 = M(14); var m33 = M(15);
            var s00 = m00 + m10 + m20; var s01 = m01 + m11 + m21; var s02 = m02 + m12 + m22; var s03 = m03 + m13 + m23;
            var s10 = m10 - m20 - m30; var s11 = m11 - m21 - m31; var s12 = m12 - m22 - m32; var s13 = m13 - m23 - m33;
            y00 = s00 + s01 + s02 + bias; y01 = s01 - s02 - s03 + bias;
            y10 = s10 + s11 + s12 + bias; y11 = s11 - s12 - s13 + bias;
            if (relu)
            {
                y00 = Vector512.Max(y00, Vector512<float>.Zero);
                y01 = Vector512.Max(y01, Vector512<float>.Zero);
                y10 = Vector512.Max(y10, Vector512<float>.Zero);
                y11 = Vector512.Max(y11, Vector512<float>.Zero);
            }
        }

        /// <summary>Stores the first <paramref name="width"/> (≤ 32) of lo ++ hi at o.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StorePairs(float* o, Vector512<float> lo, Vector512<float> hi, int width, bool accumulate)
        {
            if (width >= 32)
            {
                if (accumulate)
                {
                    lo += Vector512.Load(o);
                    hi += Vector512.Load(o + 16);
                }
                lo.Store(o);
                hi.Store(o + 16);
                return;
            }
            var first = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width)).AsSingle();
            var second = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width - 16)).AsSingle();
            if (accumulate)
            {
                lo += Avx512F.MaskLoad(o, first, Vector512<float>.Zero);
                hi += Avx512F.MaskLoad(o + 16, second, Vector512<float>.Zero);
            }
            Avx512F.MaskStore(o, first, lo);
            if (width > 16) Avx512F.MaskStore(o + 16, second, hi);
        }

        /// <summary>V[ξ][ic, j] = (Bᵀ d B)[ξ] for the 4×4 patch d of column j's tile, into NR-wide packed panels.</summary>
        private void TransformInput(in ConvGeometry g, int img0, int tCount, int t0, int cols, float* v, long panelFloats, int nr)
        {
            int inHw = g.InH * g.InW;
            float* d = stackalloc float[16];
            for (int ic = 0; ic < g.InC; ic++)
            {
                for (int j = 0; j < cols; j++)
                {
                    int img = img0 + j / tCount, t = t0 + j % tCount;
                    int iy = 2 * (t / _tilesW) - 1, ix = 2 * (t % _tilesW) - 1;
                    float* plane = _x + (long)img * g.InSize + (long)ic * inHw;
                    if (iy >= 0 && ix >= 0 && iy + 3 < g.InH && ix + 3 < g.InW)
                    {
                        float* p = plane + (long)iy * g.InW + ix;
                        for (int r = 0; r < 4; r++, p += g.InW)
                        {
                            d[4 * r] = p[0];
                            d[4 * r + 1] = p[1];
                            d[4 * r + 2] = p[2];
                            d[4 * r + 3] = p[3];
                        }
                    }
                    else
                    {
                        for (int r = 0; r < 4; r++)
                        {
                            int yy = iy + r;
                            for (int c = 0; c < 4; c++)
                            {
                                int xx = ix + c;
                                d[4 * r + c] = (uint)yy < (uint)g.InH && (uint)xx < (uint)g.InW ? plane[(long)yy * g.InW + xx] : 0f;
                            }
                        }
                    }
                    float* dst = v + (long)(j / nr) * g.InC * nr + (long)ic * nr + j % nr;
                    // Bᵀ d: rows; then (Bᵀ d) B: columns.
                    for (int c = 0; c < 4; c++)
                    {
                        float a0 = d[c], a1 = d[4 + c], a2 = d[8 + c], a3 = d[12 + c];
                        d[c] = a0 - a2;
                        d[4 + c] = a1 + a2;
                        d[8 + c] = a2 - a1;
                        d[12 + c] = a1 - a3;
                    }
                    for (int r = 0; r < 4; r++)
                    {
                        float a0 = d[4 * r], a1 = d[4 * r + 1], a2 = d[4 * r + 2], a3 = d[4 * r + 3];
                        dst[(4 * r + 0) * panelFloats] = a0 - a2;
                        dst[(4 * r + 1) * panelFloats] = a1 + a2;
                        dst[(4 * r + 2) * panelFloats] = a2 - a1;
                        dst[(4 * r + 3) * panelFloats] = a1 - a3;
                    }
                }
            }
            // Zero the last panel's padding columns of every ξ.
            int padded = Gemm.RoundUp(cols, nr);
            if (padded == cols) return;
            for (int xi = 0; xi < 16; xi++)
            {
                float* panel = v + xi * panelFloats + (long)(cols / nr) * g.InC * nr;
                for (int ic = 0; ic < g.InC; ic++)
                {
                    for (int j = cols % nr; j < nr; j++) panel[(long)ic * nr + j] = 0f;
                }
            }
        }

        /// <summary>y tile = Aᵀ M A + bias (then ReLU), M[ξ] = the ξ-th GEMM's product for the tile's column.</summary>
        private void TransformOutput(in ConvGeometry g, int img0, int tCount, int t0, int cols, float* m)
        {
            int outHw = g.OutH * g.OutW;
            long xiStride = (long)g.OutC * cols;
            float* s = stackalloc float[8];
            for (int oc = 0; oc < g.OutC; oc++)
            {
                float bias = _b == null ? 0f : _b[oc];
                float* row = m + (long)oc * cols;
                for (int j = 0; j < cols; j++)
                {
                    float* q = row + j;
                    // Aᵀ M: 2 × 4.
                    for (int c = 0; c < 4; c++)
                    {
                        float m0 = q[c * xiStride], m1 = q[(4 + c) * xiStride], m2 = q[(8 + c) * xiStride], m3 = q[(12 + c) * xiStride];
                        s[c] = m0 + m1 + m2;
                        s[4 + c] = m1 - m2 - m3;
                    }
                    float y00 = s[0] + s[1] + s[2] + bias, y01 = s[1] - s[2] - s[3] + bias;
                    float y10 = s[4] + s[5] + s[6] + bias, y11 = s[5] - s[6] - s[7] + bias;
                    if (_relu)
                    {
                        y00 = MathF.Max(y00, 0f);
                        y01 = MathF.Max(y01, 0f);
                        y10 = MathF.Max(y10, 0f);
                        y11 = MathF.Max(y11, 0f);
                    }
                    int img = img0 + j / tCount, t = t0 + j % tCount;
                    int oy = 2 * (t / _tilesW), ox = 2 * (t % _tilesW);
                    float* o = _y + img * _yStride + (long)oc * outHw + (long)oy * g.OutW + ox;
                    bool right = ox + 1 < g.OutW, below = oy + 1 < g.OutH;
                    if (_accumulate)
                    {
                        y00 += o[0];
                        if (right) y01 += o[1];
                        if (below) y10 += o[g.OutW];
                        if (right && below) y11 += o[g.OutW + 1];
                    }
                    o[0] = y00;
                    if (right) o[1] = y01;
                    if (below)
                    {
                        o[g.OutW] = y10;
                        if (right) o[g.OutW + 1] = y11;
                    }
                }
            }
        }
    }
    /// <summary>
    /// The filter transform of the Winograd convolutions, its filter pairs split across workers: to 4×4 (F(2×2, 3×3)) or
    /// to 6×6 (F(4×4, 3×3) and F(2×2, 5×5)).
    /// </summary>
    private sealed class WinogradFilterWork(CpuBackend owner) : IParallelWork
    {
        private ConvGeometry _g;
        private float* _w, _u;
        private bool _transposed, _sixBySix;
        private int _items;

        public void Run(in ConvGeometry g, float* w, float* u, bool transposed, bool sixBySix)
        {
            _g = g;
            _w = w;
            _u = u;
            _transposed = transposed;
            _sixBySix = sixBySix;
            int pairs = g.OutC * g.InC;
            _items = Math.Min(owner.Threads, Math.Max(1, pairs / 1024));
            // Per pair, its taps read and its 16 or 36 transformed values written, at twice a float's cost: the weights
            // come from memory and the planes are written cold (2048 5×5 pairs took 190 µs a call in NN4 as one worker).
            owner._pool.Run(this, _items, 2.0 * pairs * (g.KernelH * g.KernelW + (sixBySix ? 36 : 16)) * NanosecondsPerFloat);
        }

        public void Execute(int index, int worker)
        {
            var (p0, count) = Range(_g.OutC * _g.InC, _items, index);
            long start = p0, end = p0 + count;
            if (_sixBySix)
            {
                TransformFilters6x6(_g, _w, _u, _transposed, start, end);
                return;
            }
            if (Im2Col.Wide(owner.Simd) && Avx2.IsSupported) start = TransformFiltersVector(_g, _w, _u, _transposed, start, end);
            WinogradForwardWork.TransformFilters(_g, _w, _u, _transposed, start, end);
        }

        /// <summary>
        /// <see cref="WinogradForwardWork.TransformFilters"/> sixteen filter pairs at a time (each of the nine taps a
        /// gather across the pairs' filters), for the whole sixteens of pairs [p0, p1); returns where it stopped.
        /// </summary>
        private static long TransformFiltersVector(in ConvGeometry g, float* w, float* u, bool transposed, long p0, long p1)
        {
            long plane = FilterPlane(g);
            int* offsets = stackalloc int[16];
            var f = stackalloc Vector512<float>[9];
            var half = Vector512.Create(0.5f);
            long p = p0;
            for (; p + 16 <= p1; p += 16)
            {
                // Lane l holds pair p + l's filter.
                GatherFilterTaps3x3(g, w, u, p, p1, 16, plane, transposed, offsets, f);
                var f00 = f[0]; var f01 = f[1]; var f02 = f[2];
                var f10 = f[3]; var f11 = f[4]; var f12 = f[5];
                var f20 = f[6]; var f21 = f[7]; var f22 = f[8];
                // G g: 4 × 3, by kernel column.
                var g10 = half * (f00 + f10 + f20); var g11 = half * (f01 + f11 + f21); var g12 = half * (f02 + f12 + f22);
                var g20 = half * (f00 - f10 + f20); var g21 = half * (f01 - f11 + f21); var g22 = half * (f02 - f12 + f22);
                // (G g) Gᵀ: 4 × 4, row r from (a, b, c) = row r of G g.
                float* o = u + p;
                Row(o, plane, 0, f00, f01, f02, half);
                Row(o, plane, 1, g10, g11, g12, half);
                Row(o, plane, 2, g20, g21, g22, half);
                Row(o, plane, 3, f20, f21, f22, half);
            }
            return p;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row(float* o, long plane, int r, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> half)
        {
            a.Store(o + 4 * r * plane);
            (half * (a + b + c)).Store(o + (4 * r + 1) * plane);
            (half * (a - b + c)).Store(o + (4 * r + 2) * plane);
            c.Store(o + (4 * r + 3) * plane);
        }
    }
}

