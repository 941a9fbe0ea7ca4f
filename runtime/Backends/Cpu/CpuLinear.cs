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

    public override void LinearBackwardFilter(int n, int inFeatures, int outFeatures, BufferView x, BufferView dy, BufferView dw, BufferView db)
    {
        float* pdy = P(dy, (long)n * outFeatures);
        float* pdb = P(db, outFeatures);
        _linearFilter.Run(n, inFeatures, outFeatures, P(x, (long)n * inFeatures), pdy, P(dw, (long)outFeatures * inFeatures));
        var bias = new Span<float>(pdb, outFeatures);
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

    /// <summary>yᵀ = W·xᵀ (rows of W split across workers), then y = (yᵀ)ᵀ + b (then ReLU).</summary>
    private sealed class LinearForwardWork(CpuBackend owner) : IParallelWork
    {
        private int _n, _in, _out, _items;
        private float* _w, _b, _y, _packed, _yt;
        private bool _relu;

        /// <summary>
        /// Batches up to this size take dot products: the GEMM's column panels are NR wide, so one image would use 1/32
        /// of its multiply-adds (NNS2's 5120→800 layer at batch 1: 7 GFLOP/s).
        /// </summary>
        private const int DotBatch = 8;

        private float* _x;

        public void Run(int n, int inF, int outF, float* x, float* w, float* b, float* y, bool relu)
        {
            _n = n;
            _in = inF;
            _out = outF;
            _w = w;
            _b = b;
            _y = y;
            _x = x;
            _relu = relu;
            if (n <= DotBatch)
            {
                _items = Math.Min(owner.Threads, Math.Max(1, outF / 16));
                owner._pool.Run(this, _items, 2.0 * n * inF * outF * NanosecondsPerFlop);
                return;
            }
            _packed = owner._shared.Ensure(Gemm.PackedSize(inF, n, owner.NR));
            _yt = owner._shared2.Ensure((long)outF * n);
            Gemm.PackBTransposed(inF, n, x, inF, _packed, owner.NR);
            _items = Math.Min(owner.Threads, (outF + owner.MR - 1) / owner.MR);
            owner._pool.Run(this, _items, 2.0 * n * inF * outF * NanosecondsPerFlop);
        }

        public void Execute(int index, int worker)
        {
            var (o0, count) = owner.RowRange(_out, _items, index);
            if (count <= 0) return;
            if (_n <= DotBatch)
            {
                // Each row of W is read once from memory and dotted with every image while it is in L1.
                for (int o = o0; o < o0 + count; o++)
                {
                    var row = new ReadOnlySpan<float>(_w + (long)o * _in, _in);
                    for (int i = 0; i < _n; i++)
                    {
                        float v = TensorPrimitives.Dot(row, new ReadOnlySpan<float>(_x + (long)i * _in, _in)) + _b[o];
                        _y[(long)i * _out + o] = _relu && v < 0 ? 0 : v;
                    }
                }
                return;
            }
            float* gemm = owner.Scratch(worker).Gemm.Ensure(Gemm.ScratchFloats);
            Gemm.Multiply(owner.Simd, count, _n, _in, _w + (long)o0 * _in, _in, _packed, _yt + (long)o0 * _n, _n, false, gemm);
            for (int o = o0; o < o0 + count; o++)
            {
                float bias = _b[o];
                float* src = _yt + (long)o * _n;
                for (int i = 0; i < _n; i++)
                {
                    float v = src[i] + bias;
                    _y[(long)i * _out + o] = _relu && v < 0 ? 0 : v;
                }
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
            owner._pool.Run(this, _items, 2.0 * n * inF * outF * NanosecondsPerFlop);
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

    /// <summary>dw += dyᵀ·x, rows of dw split across workers.</summary>
    private sealed class LinearBackwardFilterWork(CpuBackend owner) : IParallelWork
    {
        private int _n, _in, _out, _items;
        private float* _dyt, _packed, _dw;

        public void Run(int n, int inF, int outF, float* x, float* dy, float* dw)
        {
            _n = n;
            _in = inF;
            _out = outF;
            _dw = dw;
            _dyt = owner._shared2.Ensure((long)outF * n);
            Transpose(dy, n, outF, _dyt);
            _packed = owner._shared.Ensure(Gemm.PackedSize(n, inF, owner.NR));
            Gemm.PackB(n, inF, x, inF, _packed, owner.NR);
            _items = Math.Min(owner.Threads, (outF + owner.MR - 1) / owner.MR);
            owner._pool.Run(this, _items, 2.0 * n * inF * outF * NanosecondsPerFlop);
        }

        public void Execute(int index, int worker)
        {
            var (o0, count) = owner.RowRange(_out, _items, index);
            if (count <= 0) return;
            float* gemm = owner.Scratch(worker).Gemm.Ensure(Gemm.ScratchFloats);
            Gemm.Multiply(owner.Simd, count, _in, _n, _dyt + (long)o0 * _n, _n, _packed, _dw + (long)o0 * _in, _in, true, gemm);
        }
    }
}
