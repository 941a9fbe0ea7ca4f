using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// F(4×4, 3×3) with the batch's images as the vector lanes: for batches of about whole sixteens of images, the input is
/// first transposed into planes of sixteen-image vectors (zero-padded), so that every element of a tile's 6×6 patch for
/// sixteen images is one aligned load, the transformed tiles are whole halves of the GEMMs' 32-column panels, and the
/// products of a tile load as sixteen-image vectors, transposed in registers into one 4×4 block per image. The gathered
/// F(4×4, 3×3) of CpuWinograd4.cs spends most of its transforms in gathers and scalar stores; this layout has neither.
/// </summary>
public sealed unsafe partial class CpuBackend
{
    /// <summary>Images per lane group: the lanes of a Vector512 of floats.</summary>
    internal const int LaneImages = 16;

    /// <summary>Largest ratio of lane slots to images for the lane layout (20 images would fill 32 slots: no).</summary>
    internal const double LaneWaste = 1.25;

    /// <summary>
    /// Columns (tiles × 16 images) an item of the lane layout aims at: four tiles, so that an item's transformed tiles
    /// and products stay near the core. Measured on 2 threads (ms, items of 4 / 6 / 16 tiles): 24×24×64→192 3.95 / 4.09
    /// / 4.26, 24×24×192→64 4.44 / 4.70 / 5.18, 12×12×128→256 2.75 / 3.00 / —.
    /// </summary>
    internal const int LaneTargetColumns = 64;

    /// <summary>Whether an F(4×4, 3×3) convolution of <paramref name="n"/> images takes the lane layout.</summary>
    internal static bool TakesLanes(int n) =>
        n >= LaneImages && (double)Gemm.RoundUp(n, LaneImages) / n <= LaneWaste;

    /// <summary>
    /// Transposes a 16×16 block of floats held as sixteen row vectors, in place: afterwards r[c] holds column c (element
    /// i of r[c] is what element c of r[i] was). Per group of four rows, unpacks of floats and of float pairs; then per
    /// column c of each 128-bit block, two rounds of block shuffles among r[c], r[4 + c], r[8 + c], r[12 + c].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose16x16(Vector512<float>* r)
    {
        // u[4g + c] holds, in 128-bit block b, column 4b + c of rows 4g … 4g + 3.
        for (int g = 0; g < 16; g += 4)
        {
            var t0 = Avx512F.UnpackLow(r[g], r[g + 1]).AsDouble();
            var t1 = Avx512F.UnpackHigh(r[g], r[g + 1]).AsDouble();
            var t2 = Avx512F.UnpackLow(r[g + 2], r[g + 3]).AsDouble();
            var t3 = Avx512F.UnpackHigh(r[g + 2], r[g + 3]).AsDouble();
            r[g] = Avx512F.UnpackLow(t0, t2).AsSingle();
            r[g + 1] = Avx512F.UnpackHigh(t0, t2).AsSingle();
            r[g + 2] = Avx512F.UnpackLow(t1, t3).AsSingle();
            r[g + 3] = Avx512F.UnpackHigh(t1, t3).AsSingle();
        }
        // Column 4b + c gathers block b of u[c], u[4 + c], u[8 + c], u[12 + c].
        for (int c = 0; c < 4; c++)
        {
            var s0 = Avx512F.Shuffle4x128(r[c], r[4 + c], 0x44);
            var s1 = Avx512F.Shuffle4x128(r[c], r[4 + c], 0xEE);
            var s2 = Avx512F.Shuffle4x128(r[8 + c], r[12 + c], 0x44);
            var s3 = Avx512F.Shuffle4x128(r[8 + c], r[12 + c], 0xEE);
            r[c] = Avx512F.Shuffle4x128(s0, s2, 0x88);
            r[4 + c] = Avx512F.Shuffle4x128(s0, s2, 0xDD);
            r[8 + c] = Avx512F.Shuffle4x128(s1, s3, 0x88);
            r[12 + c] = Avx512F.Shuffle4x128(s1, s3, 0xDD);
        }
    }

    /// <summary>
    /// V[ξ][c, 16q + l] = (Bᵀ d B)[ξ] for tile t0 + q (of <paramref name="tilesW"/> a row) of image lane l, from lane
    /// planes padded by the convolution's padding (patch row r of tile row ty is plane row step·ty + r, the step being
    /// the tile's outputs a side: 4 for F(4×4, 3×3), 2 for F(2×2, 5×5)): the patch's 36 elements are whole vectors.
    /// Column j of channel c goes to v + (j / block)·blockStride + c·icStride + j % block (sixteens stay within a block),
    /// position ξ ξ·xiStride further.
    /// </summary>
    [SkipLocalsInit]
    internal static void TransformLaneInput(int channels, float* planes, long planeFloats, int wp, int tilesW, int t0, int tc, float* v, int block, long blockStride, long icStride, long xiStride, int step = 4)
    {
        var rows = stackalloc Vector512<float>[36];
        for (int c = 0; c < channels; c++)
        {
            float* plane = planes + c * planeFloats;
            for (int q = 0; q < tc; q++)
            {
                int t = t0 + q, ty = t / tilesW, tx = t % tilesW;
                float* p = plane + ((long)step * ty * wp + step * tx) * LaneImages;
                for (int r = 0; r < 6; r++, p += wp * LaneImages)
                {
                    InputRow4(Vector512.Load(p), Vector512.Load(p + 16), Vector512.Load(p + 32), Vector512.Load(p + 48), Vector512.Load(p + 64), Vector512.Load(p + 80),
                        out rows[6 * r], out rows[6 * r + 1], out rows[6 * r + 2], out rows[6 * r + 3], out rows[6 * r + 4], out rows[6 * r + 5]);
                }
                int j = q * LaneImages;
                float* o = v + (long)(j / block) * blockStride + c * icStride + j % block;
                InputColumns4(rows, o, xiStride);
            }
        }
    }

    /// <summary>
    /// Asks for floats [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="planes"/> planes
    /// <paramref name="stride"/> floats apart, a line at a time, before they are written.
    /// </summary>
    internal static void PrefetchPlanes(float* first, int planes, long stride, int from, int to)
    {
        for (int l = 0; l < planes; l++, first += stride)
        {
            for (int i = from; i < to; i += 16) Sse.Prefetch0(first + i);
            Sse.Prefetch0(first + to - 1);
        }
    }

    private sealed class WinogradLanesWork(CpuBackend owner) : IParallelWork
    {
        private readonly LanePlanesWork _planes = new(owner);
        private ConvGeometry _g;
        private int _n, _chunks, _ocParts, _tilesW, _tiles, _wp, _step;
        private long _planeFloats;
        private float* _u, _b, _y, _xt;
        private long _yStride;
        private bool _relu, _accumulate;

        /// <summary>
        /// Work items for <paramref name="n"/> images: lane groups × tile chunks × parts of the output channels, a
        /// multiple of the workers.
        /// </summary>
        public int Items(in ConvGeometry g, int n) => Groups(n) * Chunks(g, n) * OcParts(g, n);

        /// <summary>
        /// Parts of the output channels an item computes: one, unless the lane groups' tiles do not divide among the
        /// workers (12×12 maps have 9 tiles; the 5×5 layers of 6×6 maps, 9 blocks), where each chunk's channels split across the workers
        /// instead, at the cost of transforming the chunk's input once per part. `bench conv`, 2 threads, 12×12×96→128
        /// from four chunks of 3, 2, 2, 2 tiles to three of 3 tiles × 2 parts: forward 480 → 561, data 451–472 → 540
        /// GFLOP/s (direct-convolution equivalent).
        /// </summary>
        private int OcParts(in ConvGeometry g, int n) =>
            Groups(n) * Tiles(g.OutW, Step(g)) * Tiles(g.OutH, Step(g)) % owner.Threads == 0 ? 1 : Math.Max(1, Math.Min(owner.Threads, g.OutC / OcPartRows));

        /// <summary>Output channels of a part are whole multiples of this (two GEMM row blocks).</summary>
        private const int OcPartRows = 16;

        private static int Groups(int n) => (n + LaneImages - 1) / LaneImages;

        /// <summary>Outputs a tile a side: F(4×4, 3×3) for 3×3 kernels, F(2×2, 5×5) for 5×5 ones.</summary>
        private static int Step(in ConvGeometry g) => g.KernelH == 5 ? 2 : 4;

        private int Chunks(in ConvGeometry g, int n)
        {
            int tiles = Tiles(g.OutW, Step(g)) * Tiles(g.OutH, Step(g)), groups = Groups(n);
            int chunks = Math.Max(1, (tiles * LaneImages + LaneTargetColumns - 1) / LaneTargetColumns);
            if (OcParts(g, n) > 1) return Math.Min(chunks, tiles);
            while (groups * chunks % owner.Threads != 0 && chunks < tiles) chunks++;
            return Math.Min(chunks, tiles);
        }

        /// <summary>
        /// y = conv(x, w) + b (then ReLU), or its accumulation, from the transformed filters u (of F(4×4, 3×3) for 3×3
        /// kernels, F(2×2, 5×5) for 5×5 ones).
        /// </summary>
        public void Run(in ConvGeometry g, int n, float* x, float* u, float* b, float* y, bool relu, bool accumulate, long yStride)
        {
            _g = g;
            _n = n;
            _u = u;
            _b = b;
            _y = y;
            _relu = relu;
            _accumulate = accumulate;
            _yStride = yStride;
            _step = Step(g);
            int tilesH = Tiles(g.OutH, _step), halo = g.KernelH - 1;
            _tilesW = Tiles(g.OutW, _step);
            _tiles = _tilesW * tilesH;
            _wp = _step * _tilesW + halo;
            _planeFloats = (long)(_step * tilesH + halo) * _wp * LaneImages;
            _chunks = Chunks(g, n);
            _ocParts = OcParts(g, n);
            _xt = owner._lanes.Ensure(Groups(n) * g.InC * _planeFloats);
            _planes.Run(n, g.InC, g.InH, g.InW, g.InSize, x, _xt, _step * tilesH + halo, _wp, g.PadH);
            owner._pool.Run(this, Groups(n) * _chunks * _ocParts, 2.0 * g.MultiplyAdds * n * owner.FlopNanoseconds);
        }

        public void Execute(int index, int worker)
        {
            var g = _g;
            var s = owner.Scratch(worker);
            int part = index % _ocParts, chunk = index / _ocParts, group = chunk / _chunks;
            var (t0, tc) = Range(_tiles, _chunks, chunk % _chunks);
            var (b0, bc) = Range(g.OutC / OcPartRows, _ocParts, part);
            int o0 = b0 * OcPartRows, oc = part == _ocParts - 1 ? g.OutC - o0 : bc * OcPartRows;
            int cols = tc * LaneImages, nr = owner.NR, padded = Gemm.RoundUp(cols, nr);
            // Each ξ's panels and products one cache line past a multiple of their size (see ExecuteF4).
            long panelFloats = (long)g.InC * padded + 16, xiStride = (long)oc * cols + 16;
            float* v = s.Pack.Ensure(36 * panelFloats);
            float* m = s.Tmp.Ensure(36 * xiStride);
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            TransformLaneInput(g.InC, _xt + (long)group * g.InC * _planeFloats, _planeFloats, _wp, _tilesW, t0, tc, v, nr, (long)g.InC * nr, nr, panelFloats, _step);
            for (int ic = 0; ic < g.InC; ic++)
            {
                // The last panel's columns past the item's (an odd number of tiles), zero.
                for (int j = cols; j < padded; j += LaneImages)
                {
                    float* o = v + (long)(j / nr) * g.InC * nr + (long)ic * nr + j % nr;
                    for (int xi = 0; xi < 36; xi++) Vector512<float>.Zero.Store(o + xi * panelFloats);
                }
            }
            for (int xi = 0; xi < 36; xi++)
            {
                Gemm.Multiply(owner.Simd, oc, cols, g.InC, _u + xi * FilterPlane(g) + (long)o0 * g.InC, g.InC, v + xi * panelFloats, m + xi * xiStride, cols, false, gemm);
            }
            if (_step == 2) TransformOutput2(g, group, t0, tc, o0, oc, m, xiStride);
            else TransformOutput(g, group, t0, tc, o0, oc, m, xiStride);
        }

        /// <summary>
        /// y = Aᵀ M A + bias (then ReLU) per output channel and tile for the group's sixteen images: the four output
        /// vectors of a tile are held, then stored image by image (the part inside the map).
        /// </summary>
        [SkipLocalsInit]
        private void TransformOutput2(in ConvGeometry g, int group, int t0, int tc, int o0, int ocCount, float* m, long xiStride)
        {
            int outHw = g.OutH * g.OutW, ow = g.OutW, cols = tc * LaneImages, tilesW = _tilesW;
            int img0 = group * LaneImages, images = Math.Min(LaneImages, _n - img0);
            long yStride = _yStride;
            bool relu = _relu, accumulate = _accumulate;
            var rows = stackalloc Vector512<float>[12];
            var ys = stackalloc Vector512<float>[4];
            float* e = (float*)ys;
            for (int oc = o0; oc < o0 + ocCount; oc++)
            {
                var bias = Vector512.Create(_b == null ? 0f : _b[oc]);
                float* yc = _y + img0 * yStride + (long)oc * outHw;
                for (int q = 0; q < tc; q++)
                {
                    float* src = m + (long)(oc - o0) * cols + q * LaneImages;
                    for (int i = 0; i < 6; i++)
                    {
                        float* at = src + 6 * i * xiStride;
                        OutputRow2(Vector512.Load(at), Vector512.Load(at + xiStride), Vector512.Load(at + 2 * xiStride), Vector512.Load(at + 3 * xiStride),
                            Vector512.Load(at + 4 * xiStride), Vector512.Load(at + 5 * xiStride), out rows[2 * i], out rows[2 * i + 1]);
                    }
                    for (int c = 0; c < 2; c++)
                    {
                        OutputRow2(rows[c], rows[2 + c], rows[4 + c], rows[6 + c], rows[8 + c], rows[10 + c], out var r0, out var r1);
                        r0 += bias; r1 += bias;
                        if (relu)
                        {
                            r0 = Vector512.Max(r0, Vector512<float>.Zero);
                            r1 = Vector512.Max(r1, Vector512<float>.Zero);
                        }
                        ys[c] = r0; ys[2 + c] = r1;
                    }
                    int t = t0 + q, oy = 2 * (t / tilesW), ox = 2 * (t % tilesW);
                    bool right = ox + 1 < g.OutW, below = oy + 1 < g.OutH;
                    for (int l = 0; l < images; l++)
                    {
                        float* o = yc + l * yStride + (long)oy * ow + ox;
                        float y00 = e[l], y01 = e[16 + l], y10 = e[32 + l], y11 = e[48 + l];
                        if (accumulate)
                        {
                            y00 += o[0];
                            if (right) y01 += o[1];
                            if (below) y10 += o[ow];
                            if (right && below) y11 += o[ow + 1];
                        }
                        o[0] = y00;
                        if (right) o[1] = y01;
                        if (below)
                        {
                            o[ow] = y10;
                            if (right) o[ow + 1] = y11;
                        }
                    }
                }
            }
        }

        /// <summary>Tiles whose transposed outputs are held at once before they are stored image by image.</summary>
        private const int OutputTiles = 4;

        /// <summary>
        /// y = Aᵀ M A + bias (then ReLU) per output channel and tile, for the group's sixteen images at once; the sixteen
        /// output vectors (one per position of the 4×4 block) are transposed into one vector per image. Up to
        /// <see cref="OutputTiles"/> tiles' blocks are then stored image by image (the part inside the map), so that the
        /// adjacent tiles of a row fill each output line in one visit rather than in sixteen images' turns.
        /// </summary>
        [SkipLocalsInit]
        private void TransformOutput(in ConvGeometry g, int group, int t0, int tc, int o0, int ocCount, float* m, long xiStride)
        {
            int outHw = g.OutH * g.OutW, ow = g.OutW, cols = tc * LaneImages, tilesW = _tilesW;
            int img0 = group * LaneImages, images = Math.Min(LaneImages, _n - img0);
            long yStride = _yStride;
            bool relu = _relu, accumulate = _accumulate;
            var rows = stackalloc Vector512<float>[24];
            var ys = stackalloc Vector512<float>[16 * OutputTiles];
            // The next channel's output lines are asked for while this one's are computed: sixteen images' 4×4 blocks
            // land an image apart, and lines not in cache held the stores up (`bench conv --cold`, 12×12×96→128, 2
            // threads: forward 222 → 413–437 GFLOP/s, data 206 → 396; NN4 training step A/B 0.9963). The floats of
            // each plane that this item's tiles write: their rows, whole.
            int rowFirst = 4 * (t0 / tilesW), rowEnd = Math.Min(g.OutH, 4 * ((t0 + tc - 1) / tilesW) + 4);
            for (int oc = o0; oc < o0 + ocCount; oc++)
            {
                var bias = Vector512.Create(_b == null ? 0f : _b[oc]);
                float* yc = _y + img0 * yStride + (long)oc * outHw;
                if (oc + 1 < o0 + ocCount) PrefetchPlanes(yc + outHw, images, yStride, rowFirst * ow, rowEnd * ow);
                for (int q0 = 0; q0 < tc; q0 += OutputTiles)
                {
                    int count = Math.Min(OutputTiles, tc - q0);
                    for (int q = 0; q < count; q++)
                    {
                        var block = ys + 16 * q;
                        OutputBlock4(m + (long)(oc - o0) * cols + (q0 + q) * LaneImages, xiStride, Vector512<float>.AllBitsSet, bias, relu, rows, block);
                        Transpose16x16(block);
                    }
                    for (int l = 0; l < images; l++)
                    {
                        float* image = yc + l * yStride;
                        for (int q = 0; q < count; q++)
                        {
                            int t = t0 + q0 + q, oy = 4 * (t / tilesW), ox = 4 * (t % tilesW);
                            int vw = Math.Min(4, g.OutW - ox), vh = Math.Min(4, g.OutH - oy);
                            float* o = image + (long)oy * ow + ox;
                            float* e = (float*)(ys + 16 * q + l);
                            if (vw == 4 && vh == 4)
                            {
                                var a0 = Vector128.Load(e); var a1 = Vector128.Load(e + 4); var a2 = Vector128.Load(e + 8); var a3 = Vector128.Load(e + 12);
                                if (accumulate)
                                {
                                    a0 += Vector128.Load(o); a1 += Vector128.Load(o + ow); a2 += Vector128.Load(o + 2 * ow); a3 += Vector128.Load(o + 3 * ow);
                                }
                                a0.Store(o); a1.Store(o + ow); a2.Store(o + 2 * ow); a3.Store(o + 3 * ow);
                                continue;
                            }
                            var keep = Vector128.LessThan(Vector128<int>.Indices, Vector128.Create(vw)).AsSingle();
                            for (int r = 0; r < vh; r++, o += ow)
                            {
                                var row = Vector128.Load(e + 4 * r);
                                if (accumulate) row += Avx.MaskLoad(o, keep);
                                Avx.MaskStore(o, keep, row);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Lane planes of a batch (n, channels, h, w): per lane group of sixteen images and channel, an (hp × wp) plane of
    /// sixteen-float vectors, element (py, px) lane l = x[16·group + l, c, py − pad, px − pad], zero outside the map
    /// and for lanes past the batch. Rows are transposed sixteen columns at a time.
    /// </summary>
    private sealed class LanePlanesWork(CpuBackend owner) : IParallelWork
    {

        private int _n, _channels, _h, _w, _hp, _wp, _pad;
        private long _imageFloats;
        private float* _x, _xt;

        public void Run(int n, int channels, int h, int w, long imageFloats, float* x, float* xt, int hp, int wp, int pad)
        {
            _n = n;
            _channels = channels;
            _h = h;
            _w = w;
            _imageFloats = imageFloats;
            _x = x;
            _xt = xt;
            _hp = hp;
            _wp = wp;
            _pad = pad;
            int groups = (n + LaneImages - 1) / LaneImages;
            // Four times a float's cost: rows of a few floats, read by masked loads from a batch that is not in cache
            // (as one worker, the small maps' planes took 80 µs a call in NN4, twice their estimate).
            owner._pool.Run(this, groups * channels, 4.0 * groups * LaneImages * channels * hp * wp * NanosecondsPerFloat);
        }

        [SkipLocalsInit]
        public void Execute(int index, int worker)
        {
            int group = index / _channels, c = index % _channels;
            int img0 = group * LaneImages, images = Math.Min(LaneImages, _n - img0);
            int h = _h, w = _w, wp = _wp, pad = _pad;
            float* dst = _xt + (long)index * _hp * wp * LaneImages;
            float* src = _x + img0 * _imageFloats + (long)c * h * w;
            var r = stackalloc Vector512<float>[16];
            for (int py = 0; py < _hp; py++)
            {
                float* line = dst + (long)py * wp * LaneImages;
                int iy = py - pad;
                if ((uint)iy >= (uint)h)
                {
                    new Span<float>(line, wp * LaneImages).Clear();
                    continue;
                }
                for (int px = 0; px < pad; px++) Vector512<float>.Zero.Store(line + px * LaneImages);
                for (int px = w + pad; px < wp; px++) Vector512<float>.Zero.Store(line + px * LaneImages);
                for (int x0 = 0; x0 < w; x0 += 16)
                {
                    int width = Math.Min(16, w - x0);
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width)).AsSingle();
                    for (int l = 0; l < 16; l++)
                    {
                        r[l] = l < images ? Avx512F.MaskLoad(src + l * _imageFloats + (long)iy * w + x0, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
                    }
                    Transpose16x16(r);
                    for (int k = 0; k < width; k++) r[k].Store(line + (pad + x0 + k) * LaneImages);
                }
            }
        }
    }
}
