using System.Numerics.Tensors;

namespace FaceNetGen.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    private readonly LrnWork _lrn;

    public override void LrnForward(in LrnGeometry g, int n, BufferView x, BufferView y) =>
        _lrn.Run(g, n, P(x, (long)n * g.Length), P(y, (long)n * g.Length), null, null, false, backward: false);

    public override void LrnBackward(in LrnGeometry g, int n, BufferView x, BufferView y, BufferView dy, BufferView dx, bool accumulate) =>
        _lrn.Run(g, n, P(x, (long)n * g.Length), P(y, (long)n * g.Length), P(dy, (long)n * g.Length), P(dx, (long)n * g.Length), accumulate, backward: true);

    /// <summary>
    /// Cross-channel LRN, one image per item, vectorised along pixels: the window sum of squares slides over channels
    /// (add the entering channel, subtract the leaving one), so each channel costs O(1) rows whatever the size.
    /// Backward: dx_c = dy_c·S_c^-β − (2αβ/size)·x_c·Σ_{j∈win(c)} dy_j·y_j/S_j.
    /// </summary>
    private sealed class LrnWork(CpuBackend owner) : IParallelWork
    {
        private LrnGeometry _g;
        private float* _x, _y, _dy, _dx;
        private bool _accumulate, _backward;

        public void Run(in LrnGeometry g, int n, float* x, float* y, float* dy, float* dx, bool accumulate, bool backward)
        {
            _g = g;
            _x = x;
            _y = y;
            _dy = dy;
            _dx = dx;
            _accumulate = accumulate;
            _backward = backward;
            owner._pool.Run(this, n, (backward ? 12.0 : 6.0) * n * g.Length * NanosecondsPerFloat);
        }

        public void Execute(int index, int worker)
        {
            var g = _g;
            int hw = g.H * g.W;
            long offset = (long)index * g.Length;
            var s = owner.Scratch(worker);
            // scale: S_c for every channel; row: one pixel row of temporaries; t: dy·y/S for backward.
            float* scale = s.Col.Ensure(g.Length);
            float* row = s.Tmp.Ensure(3L * hw);
            float* sq = row + hw;
            var extra = new Span<float>(row + 2L * hw, hw);
            float* x = _x + offset;
            Scales(g, x, scale, row, sq);
            if (!_backward)
            {
                float* y = _y + offset;
                for (int c = 0; c < g.C; c++)
                {
                    var sc = new ReadOnlySpan<float>(scale + (long)c * hw, hw);
                    var yc = new Span<float>(y + (long)c * hw, hw);
                    PowNeg(sc, g.Beta, yc, extra);
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>(x + (long)c * hw, hw), yc, yc);
                }
                return;
            }
            float* yb = _y + offset, dyb = _dy + offset, dxb = _dx + offset;
            float* t = s.Pack.Ensure(g.Length);
            for (int c = 0; c < g.C; c++)
            {
                long o = (long)c * hw;
                var tc = new Span<float>(t + o, hw);
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(dyb + o, hw), new ReadOnlySpan<float>(yb + o, hw), tc);
                TensorPrimitives.Divide(tc, new ReadOnlySpan<float>(scale + o, hw), tc);
            }
            float coefficient = -2f * g.Alpha * g.Beta / g.Size;
            int half = (g.Size - 1) / 2;
            var window = new Span<float>(row, hw);
            window.Clear();
            for (int j = 0; j < Math.Min(g.C, half); j++) TensorPrimitives.Add(window, new ReadOnlySpan<float>(t + (long)j * hw, hw), window);
            for (int c = 0; c < g.C; c++)
            {
                int enter = c + half, leave = c - half - 1;
                if (enter < g.C) TensorPrimitives.Add(window, new ReadOnlySpan<float>(t + (long)enter * hw, hw), window);
                if (leave >= 0) TensorPrimitives.Subtract(window, new ReadOnlySpan<float>(t + (long)leave * hw, hw), window);
                long o = (long)c * hw;
                var tmp = new Span<float>(sq, hw);
                // dx_c = dy_c·S_c^-β + coefficient·x_c·window
                PowNeg(new ReadOnlySpan<float>(scale + o, hw), g.Beta, tmp, extra);
                TensorPrimitives.Multiply(tmp, new ReadOnlySpan<float>(dyb + o, hw), tmp);
                var xc = new ReadOnlySpan<float>(x + o, hw);
                var dxc = new Span<float>(dxb + o, hw);
                if (_accumulate) TensorPrimitives.Add(dxc, tmp, dxc);
                else tmp.CopyTo(dxc);
                TensorPrimitives.Multiply(xc, window, tmp);
                TensorPrimitives.MultiplyAdd(tmp, coefficient, dxc, dxc);
            }
        }

        /// <summary>scale[c] = k + α/size · Σ_{j∈win(c)} x_j².</summary>
        private static void Scales(in LrnGeometry g, float* x, float* scale, float* window, float* sq)
        {
            int hw = g.H * g.W;
            int half = (g.Size - 1) / 2;
            var w = new Span<float>(window, hw);
            var q = new Span<float>(sq, hw);
            w.Clear();
            for (int j = 0; j < Math.Min(g.C, half); j++)
            {
                var xj = new ReadOnlySpan<float>(x + (long)j * hw, hw);
                TensorPrimitives.MultiplyAdd(xj, xj, w, w);
            }
            float a = g.Alpha / g.Size;
            for (int c = 0; c < g.C; c++)
            {
                int enter = c + half, leave = c - half - 1;
                if (enter < g.C)
                {
                    var xe = new ReadOnlySpan<float>(x + (long)enter * hw, hw);
                    TensorPrimitives.MultiplyAdd(xe, xe, w, w);
                }
                if (leave >= 0)
                {
                    var xl = new ReadOnlySpan<float>(x + (long)leave * hw, hw);
                    TensorPrimitives.Multiply(xl, xl, q);
                    TensorPrimitives.Subtract(w, q, w);
                }
                // Sliding sums of squares can drift below zero by rounding; the true sum never is.
                TensorPrimitives.Max(w, 0f, w);
                var sc = new Span<float>(scale + (long)c * hw, hw);
                TensorPrimitives.Multiply(w, a, sc);
                TensorPrimitives.Add(sc, g.K, sc);
            }
        }

        /// <summary>dst = src^-β (src ≥ k &gt; 0). β = 0.75, the usual value, is done with square roots.</summary>
        private static void PowNeg(ReadOnlySpan<float> src, float beta, Span<float> dst, Span<float> scratch)
        {
            if (beta == 0.75f)
            {
                // s^-0.75 = 1 / (√s · √√s), all in vector ops.
                TensorPrimitives.Sqrt(src, dst);
                var root = scratch.Slice(0, dst.Length);
                TensorPrimitives.Sqrt(dst, root);
                TensorPrimitives.Multiply(dst, root, dst);
                TensorPrimitives.Divide(1f, dst, dst);
                return;
            }
            TensorPrimitives.Log(src, dst);
            TensorPrimitives.Multiply(dst, -beta, dst);
            TensorPrimitives.Exp(dst, dst);
        }
    }
}
