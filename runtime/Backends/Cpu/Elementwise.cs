using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Elementwise kernels as operator structs over one loop driver: the driver walks Vector512, then Vector256, then
/// Vector128 blocks and finishes with a scalar tail, up to the widest level allowed; each operator only says what
/// to do with one vector or one float. (TensorPrimitives covers single-array arithmetic; these ops update several
/// arrays at once, as the optimisers do.)
/// </summary>
internal static unsafe class Elementwise
{
    /// <summary>An in-place operation over up to four aligned arrays (a is read-write, the others as the op needs).</summary>
    public interface IOp
    {
        void Apply(ref Vector512<float> a, ref Vector512<float> b, ref Vector512<float> c, ref Vector512<float> d);

        void Apply(ref Vector256<float> a, ref Vector256<float> b, ref Vector256<float> c, ref Vector256<float> d);

        void Apply(ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> d);

        void Apply(ref float a, ref float b, ref float c, ref float d);

        /// <summary>Which of b, c, d the op writes back (a is always written).</summary>
        bool WritesB { get; }

        bool WritesC { get; }

        bool WritesD { get; }
    }

    /// <summary>Runs <paramref name="op"/> over [0, length) of the arrays (pass a for unused ones; they are then not written).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOp>(TOp op, SimdLevel level, float* a, float* b, float* c, float* d, long length)
        where TOp : struct, IOp
    {
        long i = 0;
        if (level >= SimdLevel.Vector512 && Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
            {
                var va = Vector512.Load(a + i);
                var vb = Vector512.Load(b + i);
                var vc = Vector512.Load(c + i);
                var vd = Vector512.Load(d + i);
                op.Apply(ref va, ref vb, ref vc, ref vd);
                Write(op, a + i, b + i, c + i, d + i, va, vb, vc, vd);
            }
        }
        if (level >= SimdLevel.Vector256 && Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= length; i += 8)
            {
                var va = Vector256.Load(a + i);
                var vb = Vector256.Load(b + i);
                var vc = Vector256.Load(c + i);
                var vd = Vector256.Load(d + i);
                op.Apply(ref va, ref vb, ref vc, ref vd);
                va.Store(a + i);
                if (op.WritesB) vb.Store(b + i);
                if (op.WritesC) vc.Store(c + i);
                if (op.WritesD) vd.Store(d + i);
            }
        }
        if (level >= SimdLevel.Vector128 && Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= length; i += 4)
            {
                var va = Vector128.Load(a + i);
                var vb = Vector128.Load(b + i);
                var vc = Vector128.Load(c + i);
                var vd = Vector128.Load(d + i);
                op.Apply(ref va, ref vb, ref vc, ref vd);
                va.Store(a + i);
                if (op.WritesB) vb.Store(b + i);
                if (op.WritesC) vc.Store(c + i);
                if (op.WritesD) vd.Store(d + i);
            }
        }
        for (; i < length; i++)
        {
            op.Apply(ref a[i], ref b[i], ref c[i], ref d[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write<TOp>(TOp op, float* a, float* b, float* c, float* d, Vector512<float> va, Vector512<float> vb, Vector512<float> vc, Vector512<float> vd)
        where TOp : struct, IOp
    {
        va.Store(a);
        if (op.WritesB) vb.Store(b);
        if (op.WritesC) vc.Store(c);
        if (op.WritesD) vd.Store(d);
    }

    /// <summary>
    /// a = b where c &gt; 0, else 0 (a's old value unused): a ReLU's gradient mask, in place (a = b = dy, c = y) or on a
    /// gradient copied from a concatenation's slice (b).
    /// </summary>
    public readonly struct ReluMask : IOp
    {
        public bool WritesB => false;

        public bool WritesC => false;

        public bool WritesD => false;

        public void Apply(ref Vector512<float> a, ref Vector512<float> b, ref Vector512<float> c, ref Vector512<float> d) =>
            a = Vector512.ConditionalSelect(Vector512.GreaterThan(c, Vector512<float>.Zero), b, Vector512<float>.Zero);

        public void Apply(ref Vector256<float> a, ref Vector256<float> b, ref Vector256<float> c, ref Vector256<float> d) =>
            a = Vector256.ConditionalSelect(Vector256.GreaterThan(c, Vector256<float>.Zero), b, Vector256<float>.Zero);

        public void Apply(ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> d) =>
            a = Vector128.ConditionalSelect(Vector128.GreaterThan(c, Vector128<float>.Zero), b, Vector128<float>.Zero);

        public void Apply(ref float a, ref float b, ref float c, ref float d) => a = c > 0 ? b : 0;
    }

    /// <summary>a = max(a, 0).</summary>
    public readonly struct Relu : IOp
    {
        public bool WritesB => false;

        public bool WritesC => false;

        public bool WritesD => false;

        public void Apply(ref Vector512<float> a, ref Vector512<float> b, ref Vector512<float> c, ref Vector512<float> d) => a = Vector512.Max(a, Vector512<float>.Zero);

        public void Apply(ref Vector256<float> a, ref Vector256<float> b, ref Vector256<float> c, ref Vector256<float> d) => a = Vector256.Max(a, Vector256<float>.Zero);

        public void Apply(ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> d) => a = Vector128.Max(a, Vector128<float>.Zero);

        public void Apply(ref float a, ref float b, ref float c, ref float d) => a = MathF.Max(a, 0);
    }

    /// <summary>a = a + b (accumulate b into a).</summary>
    public readonly struct Add : IOp
    {
        public bool WritesB => false;

        public bool WritesC => false;

        public bool WritesD => false;

        public void Apply(ref Vector512<float> a, ref Vector512<float> b, ref Vector512<float> c, ref Vector512<float> d) => a += b;

        public void Apply(ref Vector256<float> a, ref Vector256<float> b, ref Vector256<float> c, ref Vector256<float> d) => a += b;

        public void Apply(ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> d) => a += b;

        public void Apply(ref float a, ref float b, ref float c, ref float d) => a += b;
    }

    /// <summary>a = b + bias, then max(a, 0) when <paramref name="relu"/> (a convolution's bias and ReLU; a may be b).</summary>
    public readonly struct BiasRelu(float bias, bool relu) : IOp
    {
        public bool WritesB => false;

        public bool WritesC => false;

        public bool WritesD => false;

        public void Apply(ref Vector512<float> a, ref Vector512<float> b, ref Vector512<float> c, ref Vector512<float> d)
        {
            a = b + Vector512.Create(bias);
            if (relu) a = Vector512.Max(a, Vector512<float>.Zero);
        }

        public void Apply(ref Vector256<float> a, ref Vector256<float> b, ref Vector256<float> c, ref Vector256<float> d)
        {
            a = b + Vector256.Create(bias);
            if (relu) a = Vector256.Max(a, Vector256<float>.Zero);
        }

        public void Apply(ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> d)
        {
            a = b + Vector128.Create(bias);
            if (relu) a = Vector128.Max(a, Vector128<float>.Zero);
        }

        public void Apply(ref float a, ref float b, ref float c, ref float d) => a = relu ? MathF.Max(b + bias, 0) : b + bias;
    }

    /// <summary>AdaGrad (a = p, b = g, c = Σg²): c += b²; a −= lr·b / (√c + eps).</summary>
    public readonly struct AdaGrad(float learningRate, float epsilon) : IOp
    {
        public bool WritesB => false;

        public bool WritesC => true;

        public bool WritesD => false;

        public void Apply(ref Vector512<float> a, ref Vector512<float> b, ref Vector512<float> c, ref Vector512<float> d)
        {
            c = Vector512.FusedMultiplyAdd(b, b, c);
            a -= Vector512.Create(learningRate) * b / (Vector512.Sqrt(c) + Vector512.Create(epsilon));
        }

        public void Apply(ref Vector256<float> a, ref Vector256<float> b, ref Vector256<float> c, ref Vector256<float> d)
        {
            c = Vector256.FusedMultiplyAdd(b, b, c);
            a -= Vector256.Create(learningRate) * b / (Vector256.Sqrt(c) + Vector256.Create(epsilon));
        }

        public void Apply(ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> d)
        {
            c = Vector128.FusedMultiplyAdd(b, b, c);
            a -= Vector128.Create(learningRate) * b / (Vector128.Sqrt(c) + Vector128.Create(epsilon));
        }

        public void Apply(ref float a, ref float b, ref float c, ref float d)
        {
            c = MathF.FusedMultiplyAdd(b, b, c);
            a -= learningRate * b / (MathF.Sqrt(c) + epsilon);
        }
    }

    /// <summary>SGD with momentum (a = p, b = g, c = v): c = μ·c + (b + λ·a); a −= lr·c.</summary>
    public readonly struct Sgd(float learningRate, float momentum, float weightDecay) : IOp
    {
        public bool WritesB => false;

        public bool WritesC => true;

        public bool WritesD => false;

        public void Apply(ref Vector512<float> a, ref Vector512<float> b, ref Vector512<float> c, ref Vector512<float> d)
        {
            c = Vector512.Create(momentum) * c + (b + Vector512.Create(weightDecay) * a);
            a -= Vector512.Create(learningRate) * c;
        }

        public void Apply(ref Vector256<float> a, ref Vector256<float> b, ref Vector256<float> c, ref Vector256<float> d)
        {
            c = Vector256.Create(momentum) * c + (b + Vector256.Create(weightDecay) * a);
            a -= Vector256.Create(learningRate) * c;
        }

        public void Apply(ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> d)
        {
            c = Vector128.Create(momentum) * c + (b + Vector128.Create(weightDecay) * a);
            a -= Vector128.Create(learningRate) * c;
        }

        public void Apply(ref float a, ref float b, ref float c, ref float d)
        {
            c = momentum * c + (b + weightDecay * a);
            a -= learningRate * c;
        }
    }

    /// <summary>Adam (a = p, b = g, c = m, d = v) with bias corrections c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ.</summary>
    public readonly struct Adam(float learningRate, float beta1, float beta2, float epsilon, float c1, float c2) : IOp
    {
        public bool WritesB => false;

        public bool WritesC => true;

        public bool WritesD => true;

        public void Apply(ref Vector512<float> a, ref Vector512<float> b, ref Vector512<float> c, ref Vector512<float> d)
        {
            c = Vector512.Create(beta1) * c + Vector512.Create(1 - beta1) * b;
            d = Vector512.Create(beta2) * d + Vector512.Create(1 - beta2) * b * b;
            a -= Vector512.Create(learningRate) * (c / Vector512.Create(c1)) / (Vector512.Sqrt(d / Vector512.Create(c2)) + Vector512.Create(epsilon));
        }

        public void Apply(ref Vector256<float> a, ref Vector256<float> b, ref Vector256<float> c, ref Vector256<float> d)
        {
            c = Vector256.Create(beta1) * c + Vector256.Create(1 - beta1) * b;
            d = Vector256.Create(beta2) * d + Vector256.Create(1 - beta2) * b * b;
            a -= Vector256.Create(learningRate) * (c / Vector256.Create(c1)) / (Vector256.Sqrt(d / Vector256.Create(c2)) + Vector256.Create(epsilon));
        }

        public void Apply(ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> d)
        {
            c = Vector128.Create(beta1) * c + Vector128.Create(1 - beta1) * b;
            d = Vector128.Create(beta2) * d + Vector128.Create(1 - beta2) * b * b;
            a -= Vector128.Create(learningRate) * (c / Vector128.Create(c1)) / (Vector128.Sqrt(d / Vector128.Create(c2)) + Vector128.Create(epsilon));
        }

        public void Apply(ref float a, ref float b, ref float c, ref float d)
        {
            c = beta1 * c + (1 - beta1) * b;
            d = beta2 * d + (1 - beta2) * b * b;
            a -= learningRate * (c / c1) / (MathF.Sqrt(d / c2) + epsilon);
        }
    }
}
