using System.Globalization;
using FaceNetGen.Backends;
using FaceNetGen.Models;

namespace FaceNetGen.Training;

public enum OptimizerKind
{
    /// <summary>AdaGrad, the paper's choice (learning rate 0.05).</summary>
    AdaGrad,

    /// <summary>SGD with momentum and weight decay.</summary>
    Sgd,

    Adam,
}

/// <summary>An optimiser's settings. <see cref="Defaults"/> gives each kind's usual values (AdaGrad: the paper's 0.05).</summary>
public sealed record OptimizerOptions(
    OptimizerKind Kind,
    float LearningRate,
    float Epsilon = 1e-8f,
    float InitialAccumulator = 0.1f,
    float Momentum = 0.9f,
    float WeightDecay = 0f,
    float Beta1 = 0.9f,
    float Beta2 = 0.999f)
{
    public static OptimizerOptions Defaults(OptimizerKind kind) => kind switch
    {
        OptimizerKind.AdaGrad => new OptimizerOptions(kind, 0.05f),
        OptimizerKind.Sgd => new OptimizerOptions(kind, 0.01f, WeightDecay: 1e-4f),
        _ => new OptimizerOptions(kind, 1e-3f),
    };

    public override string ToString() => Kind switch
    {
        OptimizerKind.AdaGrad => string.Create(CultureInfo.InvariantCulture, $"AdaGrad(lr {LearningRate}, initial accumulator {InitialAccumulator}, eps {Epsilon})"),
        OptimizerKind.Sgd => string.Create(CultureInfo.InvariantCulture, $"SGD(lr {LearningRate}, momentum {Momentum}, weight decay {WeightDecay})"),
        _ => string.Create(CultureInfo.InvariantCulture, $"Adam(lr {LearningRate}, beta1 {Beta1}, beta2 {Beta2}, eps {Epsilon})"),
    };
}

/// <summary>
/// Updates a model's parameter arena from its gradient arena with one backend kernel per step, keeping its state
/// (AdaGrad's sum of squares, SGD's velocity, Adam's moments) in arenas of the same size on the same backend.
/// AdaGrad's sums start at <see cref="OptimizerOptions.InitialAccumulator"/> (0.1, as TensorFlow's AdaGrad does),
/// so that the first steps are not the full learning rate in every coordinate.
/// </summary>
public sealed class Optimizer : IDisposable
{
    private readonly FaceNetModel _model;
    private readonly DeviceBuffer _state1;
    private readonly DeviceBuffer? _state2;

    public Optimizer(FaceNetModel model, OptimizerOptions options)
    {
        if (model.ParameterGradients is null) throw new ArgumentException("The model was built for inference; build it with training: true.", nameof(model));
        _model = model;
        Options = options;
        long length = model.Description.ParameterLength;
        _state1 = model.Backend.Allocate(length);
        if (options.Kind == OptimizerKind.AdaGrad) model.Backend.Fill(_state1.At(0), length, options.InitialAccumulator);
        if (options.Kind == OptimizerKind.Adam) _state2 = model.Backend.Allocate(length);
    }

    public OptimizerOptions Options { get; }

    /// <summary>Updates taken so far (Adam's bias correction uses it).</summary>
    public long Steps { get; private set; }

    /// <summary>The state arenas by name, for checkpoints.</summary>
    public IEnumerable<(string Name, DeviceBuffer Buffer)> State
    {
        get
        {
            yield return (Options.Kind switch { OptimizerKind.AdaGrad => "sum_squares", OptimizerKind.Sgd => "velocity", _ => "m" }, _state1);
            if (_state2 is not null) yield return ("v", _state2);
        }
    }

    /// <summary>Applies the model's accumulated gradients with learning rate <paramref name="learningRate"/>.</summary>
    public void Step(float learningRate)
    {
        var b = _model.Backend;
        long length = _model.Description.ParameterLength;
        var p = _model.Parameters.At(0);
        var g = _model.ParameterGradients!.At(0);
        Steps++;
        switch (Options.Kind)
        {
            case OptimizerKind.AdaGrad:
                b.AdaGradStep(p, g, _state1.At(0), length, learningRate, Options.Epsilon);
                break;
            case OptimizerKind.Sgd:
                b.SgdStep(p, g, _state1.At(0), length, learningRate, Options.Momentum, Options.WeightDecay);
                break;
            default:
                b.AdamStep(p, g, _state1.At(0), _state2!.At(0), length, learningRate, Options.Beta1, Options.Beta2, Options.Epsilon, (int)Math.Min(Steps, int.MaxValue));
                break;
        }
    }

    /// <summary>Restores the state saved in a checkpoint.</summary>
    public void Restore(long steps, IReadOnlyDictionary<string, float[]> state)
    {
        foreach (var (name, buffer) in State)
        {
            if (!state.TryGetValue(name, out var values))
                throw new FaceNetException($"the checkpoint has no '{name}' state for {Options.Kind}; was it saved by another optimiser?");
            if (values.Length != buffer.Length)
                throw new FaceNetException($"the checkpoint's '{name}' state has {values.Length} values, the model {buffer.Length}.");
            _model.Backend.Upload(values, buffer.At(0));
        }
        Steps = steps;
    }

    public void Dispose()
    {
        _state1.Dispose();
        _state2?.Dispose();
    }
}

public enum ScheduleKind
{
    /// <summary>The base rate throughout.</summary>
    Constant,

    /// <summary>The base rate, multiplied by <see cref="LearningRateSchedule.Gamma"/> at each milestone (fractions of the run).</summary>
    Step,

    /// <summary>Cosine decay from the base rate to base × <see cref="LearningRateSchedule.Gamma"/>.</summary>
    Cosine,
}

/// <summary>
/// The learning rate along a run. The default (the paper: "initial learning rate 0.05, lowered to finalise the
/// model") keeps the base rate for 80% of the run, then a tenth of it. An optional linear warm-up comes first.
/// </summary>
public sealed record LearningRateSchedule(ScheduleKind Kind = ScheduleKind.Step, double Gamma = 0.1, double[]? Milestones = null, double WarmupFraction = 0)
{
    public double[] EffectiveMilestones => Milestones ?? new[] { 0.8 };

    /// <summary>The rate at <paramref name="step"/> of <paramref name="totalSteps"/>.</summary>
    public float At(float baseRate, long step, long totalSteps)
    {
        double t = totalSteps <= 0 ? 0 : Math.Clamp((double)step / totalSteps, 0, 1);
        double rate = Kind switch
        {
            ScheduleKind.Constant => baseRate,
            ScheduleKind.Step => baseRate * Math.Pow(Gamma, EffectiveMilestones.Count(m => t >= m)),
            _ => baseRate * (Gamma + (1 - Gamma) * 0.5 * (1 + Math.Cos(Math.PI * t))),
        };
        if (WarmupFraction > 0 && t < WarmupFraction) rate *= (t + 1.0 / Math.Max(1, totalSteps)) / WarmupFraction;
        return (float)rate;
    }

    public override string ToString() => Kind switch
    {
        ScheduleKind.Constant => "constant",
        ScheduleKind.Step => string.Create(CultureInfo.InvariantCulture, $"step (x{Gamma} at {string.Join(", ", EffectiveMilestones.Select(m => $"{m:P0}"))} of the run)"),
        _ => string.Create(CultureInfo.InvariantCulture, $"cosine (to x{Gamma})"),
    } + (WarmupFraction > 0 ? string.Create(CultureInfo.InvariantCulture, $", warm-up {WarmupFraction:P0}") : "");
}
