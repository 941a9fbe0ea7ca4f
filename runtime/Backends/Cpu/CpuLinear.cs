using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace FaceNetGen.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    private readonly NativeScratch _shared2 = new();
    private readonly LinearForwardWork _linearForward;
    private readonly LinearBackwardDataWork _linearData;
    private readonly LinearBackwardFilterWork _linearFilter;

    public override void LinearForward(int n, int inFeatures, int outFeatures, BufferView x, BufferView w, BufferView b, BufferView y, bool relu) =>
        _linearForward.Run(n, inFeatures, outFeatures, P(x, (long)n * inFeatures), P(w, (long)outFeatures * inFeatures), P(b, outFeatures), P(y, (long)n * outFeatures), relu);

    public override void LinearBackwardData(int n, int inFeatures, int outFeatures, BufferView dy, BufferView w, BufferView dx, bool accumulate) =>
        _linearData.Run(n, inFeatures, outFeatures, P(dy, (long)n * outFeatures), P(w, (long)outFeatures * inFeatures), P(dx, (long)n * inFeatures), accumulate);

    public override void LinearBackwardFilter(int n, int inFeatures, int outFeatures, BufferView x, BufferView dy, BufferView dw, BufferView db, bool accumulate)
    {
        float* pdy = P(dy, (long)n * outFeatures);
        float* pdb = P(db, outFeatures);
        _linearFilter.Run(n, inFeatures, outFeatures, P(x, (long)n * inFeatures), pdy, P(dw, (long)outFeatures * inFeatures), accumulate);
        var bias = new Span<float>(pdb, outFeatures);
        if (!accumulate) bias.Clear();
        for (int i = 0; i < n; i++) TensorPrimitives.Add(bias, new ReadOnlySpan<float>(pdy + (long)i * outFeatures, outFeatures), bias);
    }

    /// <summary>Row blocks of <paramref name="rows"/> split statically over the workers, in whole register tiles.</summary>
    private (int Start, int Count) RowRange(int rows, int items, int index)
    {
        int tiles = (rows + MR - 1) / MR;
        var (t0, tc) = Range(tiles, items, index);
        int start = t0 * MR;
        return (start, Math.Min(rows, (t0 + tc) * MR) - start);
    }

    /// <summary>
    /// y = x·Wᵀ + b (then ReLU). With AVX-512, batches of 9 to 16 keep each image in one lane: xᵀ is transposed once
    /// into rows of 16 and every element of W, read once in row order, is broadcast against it, so a block of rows of W
    /// accumulates its outputs for the whole batch without packing W or reducing across lanes; batches of up to 8 take
    /// blocked dot products (4 rows of W × 4 images), which skip the empty lanes. Larger batches compute yᵀ = W·xᵀ with
    /// the GEMM (rows of W split across workers) and transpose; without AVX-512, small batches take plain dot products.
    /// </summary>
    private sealed class LinearForwardWork(CpuBackend owner) : IParallelWork
    {
        private int _n, _in, _out, _items;
        private float* _x, _w, _b, _y, _packed, _yt;
        private bool _relu, _lanes;

        /// <summary>
        /// Batches up to this size skip the GEMM, whose column panels are NR (32) wide: a batch of 16 would waste half
        /// its multiply-adds, and packing buys nothing when every row of W is used for so few images (NNS2's 5120→800
        /// layer, whose 16 MB of weights make it memory-bound at batch 16).
        /// </summary>
        private const int SmallBatch = 32;

        /// <summary>Images in one lane block: one Vector512 of xᵀ per k.</summary>
        private const int Lanes = 16;

        /// <summary>
        /// Batches up to this size (with AVX-512) take blocked dot products instead of lanes: they read W once all the
        /// same, and do not multiply the 16 − n empty lanes (batch 1, NNS2's 5120→800: 0.46 → 0.14 ms in `bench linear`).
        /// </summary>
        private const int DotImages = 8;

        /// <summary>Rows of W (and images) in one register block of <see cref="DotBlock"/>: 4 × 4 accumulators.</summary>
        private const int Block = 4;

        /// <summary>Rows of W in one register block: 8 rows × 2 interleaved k steps = 16 accumulators.</summary>
        private const int Rows = 8;

        public void Run(int n, int inF, int outF, float* x, float* w, float* b, float* y, bool relu)
        {
            _n = n;
            _in = inF;
            _out = outF;
            _x = x;
            _w = w;
            _b = b;
            _y = y;
            _relu = relu;
            _lanes = n > DotImages && n <= Lanes && owner.Simd == SimdLevel.Vector512;
            if (_lanes)
            {
                // Lanes n..15 of xᵀ hold whatever was there; their sums are never stored.
                _packed = owner._shared.Ensure((long)inF * Lanes);
                Transpose(x, n, inF, inF, _packed, Lanes, add: false);
                _items = Math.Min(owner.Threads, Math.Max(1, outF / (4 * Rows)));
                owner._pool.Run(this, _items, 2.0 * Lanes * inF * outF * owner.FlopNanoseconds);
                return;
            }
            if (n <= SmallBatch)
            {
                _items = Math.Min(owner.Threads, Math.Max(1, outF / 16));
                owner._pool.Run(this, _items, 2.0 * n * inF * outF * owner.FlopNanoseconds);
                return;
            }
            _packed = owner._shared.Ensure(Gemm.PackedSize(inF, n, owner.NR));
            _yt = owner._shared2.Ensure((long)outF * n);
            Gemm.PackBTransposed(inF, n, x, inF, _packed, owner.NR);
            _items = Math.Min(owner.Threads, (outF + owner.MR - 1) / owner.MR);
            owner._pool.Run(this, _items, 2.0 * n * inF * outF * owner.FlopNanoseconds);
        }

        public void Execute(int index, int worker)
        {
            if (_lanes)
            {
                var (b0, bc) = Range((_out + Rows - 1) / Rows, _items, index);
                int end = Math.Min(_out, (b0 + bc) * Rows);
                for (int o = b0 * Rows; o < end; o += Rows) LaneBlock(o, Math.Min(Rows, end - o));
                return;
            }
            if (_n <= DotImages && owner.Simd == SimdLevel.Vector512 && _in >= 16)
            {
                var (b0, bc) = Range((_out + Block - 1) / Block, _items, index);
                int o0 = b0 * Block, o1 = Math.Min(_out, (b0 + bc) * Block);
                if (o0 < o1) DotBlocks(o0, o1);
                return;
            }
            if (_n <= SmallBatch)
            {
                var (o0, oc) = Range(_out, _items, index);
                for (int o = o0; o < o0 + oc; o++)
                {
                    var row = new ReadOnlySpan<float>(_w + (long)o * _in, _in);
                    for (int i = 0; i < _n; i++) Store(i, o, TensorPrimitives.Dot(row, new ReadOnlySpan<float>(_x + (long)i * _in, _in)) + _b[o]);
                }
                return;
            }
            var (r0, count) = owner.RowRange(_out, _items, index);
            if (count <= 0) return;
            float* gemm = owner.Scratch(worker).Gemm.Ensure(Gemm.ScratchFloats);
            Gemm.Multiply(owner.Simd, count, _n, _in, _w + (long)r0 * _in, _in, _packed, _yt + (long)r0 * _n, _n, false, gemm);
            for (int o = r0; o < r0 + count; o++)
            {
                float bias = _b[o];
                float* src = _yt + (long)o * _n;
                for (int i = 0; i < _n; i++) Store(i, o, src[i] + bias);
            }
        }

        private void Store(int i, int o, float v) => _y[(long)i * _out + o] = _relu && v < 0 ? 0 : v;

        /// <summary>Blocks of 4 rows of W × 4 images, 16 vector accumulators; a short block repeats its last row or image.</summary>
        private void DotBlocks(int o0, int o1)
        {
            float* sums = stackalloc float[Block * Block];
            if (_n == 1)
            {
                // One image (an embedding's latency): eight rows of W against it, with no repeated image.
                for (int o = o0; o < o1; o += OneImageRows)
                {
                    int rows = Math.Min(OneImageRows, o1 - o);
                    DotRows(_w + (long)o * _in, rows, _x, _in, sums);
                    for (int r = 0; r < rows; r++) Store(0, o + r, sums[r] + _b[o + r]);
                }
                return;
            }
            for (int o = o0; o < o1; o += Block)
            {
                int rows = Math.Min(Block, o1 - o);
                for (int i = 0; i < _n; i += Block)
                {
                    int images = Math.Min(Block, _n - i);
                    DotBlock(_w + (long)o * _in, rows, _x + (long)i * _in, images, _in, sums);
                    for (int r = 0; r < rows; r++)
                    {
                        for (int c = 0; c < images; c++) Store(i + c, o + r, sums[r * Block + c] + _b[o + r]);
                    }
                }
            }
        }

        /// <summary>sums[r·4 + c] = W row r · x row c over k (k ≥ 16), for r &lt; rows and c &lt; images.</summary>
        private static void DotBlock(float* w, int rows, float* x, int images, int k, float* sums)
        {
            float* w0 = w, w1 = w + (rows > 1 ? k : 0), w2 = w + (rows > 2 ? 2L * k : 0), w3 = w + (rows > 3 ? 3L * k : 0);
            float* x0 = x, x1 = x + (images > 1 ? k : 0), x2 = x + (images > 2 ? 2L * k : 0), x3 = x + (images > 3 ? 3L * k : 0);
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
            // A k that is not a multiple of 16 ends with the vector that ends at k, its overlap with the previous one
            // masked off on the W side (the mask is all ones until then).
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (int step = 0; step < k; step += 16)
            {
                int j = Math.Min(step, k - 16);
                var keep = Vector512.GreaterThanOrEqual(lane, Vector512.Create(step - j)).AsSingle();
                var v0 = Vector512.Load(w0 + j) & keep; var v1 = Vector512.Load(w1 + j) & keep;
                var v2 = Vector512.Load(w2 + j) & keep; var v3 = Vector512.Load(w3 + j) & keep;
                var u0 = Vector512.Load(x0 + j);
                a00 = Vector512.FusedMultiplyAdd(v0, u0, a00); a10 = Vector512.FusedMultiplyAdd(v1, u0, a10);
                a20 = Vector512.FusedMultiplyAdd(v2, u0, a20); a30 = Vector512.FusedMultiplyAdd(v3, u0, a30);
                var u1 = Vector512.Load(x1 + j);
                a01 = Vector512.FusedMultiplyAdd(v0, u1, a01); a11 = Vector512.FusedMultiplyAdd(v1, u1, a11);
                a21 = Vector512.FusedMultiplyAdd(v2, u1, a21); a31 = Vector512.FusedMultiplyAdd(v3, u1, a31);
                var u2 = Vector512.Load(x2 + j);
                a02 = Vector512.FusedMultiplyAdd(v0, u2, a02); a12 = Vector512.FusedMultiplyAdd(v1, u2, a12);
                a22 = Vector512.FusedMultiplyAdd(v2, u2, a22); a32 = Vector512.FusedMultiplyAdd(v3, u2, a32);
                var u3 = Vector512.Load(x3 + j);
                a03 = Vector512.FusedMultiplyAdd(v0, u3, a03); a13 = Vector512.FusedMultiplyAdd(v1, u3, a13);
                a23 = Vector512.FusedMultiplyAdd(v2, u3, a23); a33 = Vector512.FusedMultiplyAdd(v3, u3, a33);
            }
            sums[0] = Vector512.Sum(a00); sums[1] = Vector512.Sum(a01); sums[2] = Vector512.Sum(a02); sums[3] = Vector512.Sum(a03);
            sums[4] = Vector512.Sum(a10); sums[5] = Vector512.Sum(a11); sums[6] = Vector512.Sum(a12); sums[7] = Vector512.Sum(a13);
            sums[8] = Vector512.Sum(a20); sums[9] = Vector512.Sum(a21); sums[10] = Vector512.Sum(a22); sums[11] = Vector512.Sum(a23);
            sums[12] = Vector512.Sum(a30); sums[13] = Vector512.Sum(a31); sums[14] = Vector512.Sum(a32); sums[15] = Vector512.Sum(a33);
        }

        /// <summary>
        /// Rows of W that one image's dot products take at a time. The 4 × 4 blocks repeat a batch of one image four
        /// times, so that their sixteen FMAs a step (one 512-bit FMA a cycle here) bound the read of W; eight rows
        /// against one image do eight (`bench linear --batch 1`, NNS2's 5120→800, 2 threads: 0.17–0.19 → 0.11–0.12 ms).
        /// </summary>
        private const int OneImageRows = 8;

        /// <summary>sums[r] = W row r · x over k (k ≥ 16), for r &lt; rows; a short block repeats its last row.</summary>
        private static void DotRows(float* w, int rows, float* x, int k, float* sums)
        {
            float* w0 = w, w1 = w + (long)Math.Min(1, rows - 1) * k, w2 = w + (long)Math.Min(2, rows - 1) * k, w3 = w + (long)Math.Min(3, rows - 1) * k;
            float* w4 = w + (long)Math.Min(4, rows - 1) * k, w5 = w + (long)Math.Min(5, rows - 1) * k, w6 = w + (long)Math.Min(6, rows - 1) * k, w7 = w + (long)Math.Min(7, rows - 1) * k;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            // As in DotBlock: a k that is not a multiple of 16 ends with the vector that ends at k, its overlap masked off.
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (int step = 0; step < k; step += 16)
            {
                int j = Math.Min(step, k - 16);
                var u = Vector512.Load(x + j) & Vector512.GreaterThanOrEqual(lane, Vector512.Create(step - j)).AsSingle();
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + j), u, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + j), u, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + j), u, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + j), u, a3);
                a4 = Vector512.FusedMultiplyAdd(Vector512.Load(w4 + j), u, a4);
                a5 = Vector512.FusedMultiplyAdd(Vector512.Load(w5 + j), u, a5);
                a6 = Vector512.FusedMultiplyAdd(Vector512.Load(w6 + j), u, a6);
                a7 = Vector512.FusedMultiplyAdd(Vector512.Load(w7 + j), u, a7);
            }
            sums[0] = Vector512.Sum(a0); sums[1] = Vector512.Sum(a1); sums[2] = Vector512.Sum(a2); sums[3] = Vector512.Sum(a3);
            sums[4] = Vector512.Sum(a4); sums[5] = Vector512.Sum(a5); sums[6] = Vector512.Sum(a6); sums[7] = Vector512.Sum(a7);
        }

        /// <summary>Outputs o .. o + rows - 1 for the whole batch; a short block repeats its last row.</summary>
        private void LaneBlock(int o, int rows)
        {
            var sums = stackalloc Vector512<float>[Rows];
            Gemm.Rows8x16(_in, _w + (long)o * _in, _in, rows, _packed, Lanes, sums);
            float* lane = (float*)sums;
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < _n; i++) Store(i, o + r, lane[r * Lanes + i] + _b[o + r]);
            }
        }
    }

    /// <summary>dx (=|+=) dy·W, columns of dx split across workers and packed from W in chunks.</summary>
    private sealed class LinearBackwardDataWork(CpuBackend owner) : IParallelWork
    {
        private const int Chunk = 512;
        private int _n, _in, _out, _items;
        private float* _dy, _w, _dx;
        private bool _accumulate;

        public void Run(int n, int inF, int outF, float* dy, float* w, float* dx, bool accumulate)
        {
            _n = n;
            _in = inF;
            _out = outF;
            _dy = dy;
            _w = w;
            _dx = dx;
            _accumulate = accumulate;
            _items = Math.Min(owner.Threads, (inF + owner.NR - 1) / owner.NR);
            owner._pool.Run(this, _items, 2.0 * n * inF * outF * owner.FlopNanoseconds);
        }

        public void Execute(int index, int worker)
        {
            int panels = (_in + owner.NR - 1) / owner.NR;
            var (p0, pc) = Range(panels, _items, index);
            int c0 = p0 * owner.NR;
            int c1 = Math.Min(_in, (p0 + pc) * owner.NR);
            var s = owner.Scratch(worker);
            float* gemm = s.Gemm.Ensure(Gemm.ScratchFloats);
            for (int c = c0; c < c1; c += Chunk)
            {
                int width = Math.Min(Chunk, c1 - c);
                float* packed = s.Pack.Ensure(Gemm.PackedSize(_out, width, owner.NR));
                Gemm.PackB(_out, width, _w + c, _in, packed, owner.NR);
                Gemm.Multiply(owner.Simd, _n, width, _out, _dy, _out, packed, _dx + c, _in, _accumulate, gemm);
            }
        }
    }

    /// <summary>dw (=|+=) dyᵀ·x, rows of dw split across workers.</summary>
    private sealed class LinearBackwardFilterWork(CpuBackend owner) : IParallelWork
    {
        private int _n, _in, _out, _items;
        private float* _dyt, _packed, _dw;
        private bool _accumulate;

        public void Run(int n, int inF, int outF, float* x, float* dy, float* dw, bool accumulate)
        {
            _n = n;
            _in = inF;
            _out = outF;
            _dw = dw;
            _accumulate = accumulate;
            _dyt = owner._shared2.Ensure((long)outF * n);
            Transpose(dy, n, outF, _dyt);
            _packed = owner._shared.Ensure(Gemm.PackedSize(n, inF, owner.NR));
            Gemm.PackB(n, inF, x, inF, _packed, owner.NR);
            _items = Math.Min(owner.Threads, (outF + owner.MR - 1) / owner.MR);
            owner._pool.Run(this, _items, 2.0 * n * inF * outF * owner.FlopNanoseconds);
        }

        public void Execute(int index, int worker)
        {
            var (o0, count) = owner.RowRange(_out, _items, index);
            if (count <= 0) return;
            float* gemm = owner.Scratch(worker).Gemm.Ensure(Gemm.ScratchFloats);
            Gemm.Multiply(owner.Simd, count, _in, _n, _dyt + (long)o0 * _n, _n, _packed, _dw + (long)o0 * _in, _in, _accumulate, gemm);
        }
    }
}
