using FaceNetGen.Backends;

namespace FaceNetGen.Models;

/// <summary>
/// Receives a generated model's graph, op by op, in forward order: the same lowering the generated Forward runs,
/// described for exporters (ONNX). Activations are named as in <see cref="ModelDescription.Activations"/> ("input",
/// "conv1", "3a.1x1", …), parameters as in <see cref="ModelDescription.Parameters"/> ("conv1.weight", …). Every tensor
/// is (N, C, H, W) or (N, features) with N the batch.
/// </summary>
public interface IGraphBuilder
{
    /// <summary>Convolution with bias, then ReLU when <paramref name="relu"/>.</summary>
    void Conv(string layer, string input, string output, string weight, string bias, in ConvGeometry g, bool relu);

    /// <summary>Max, average (over unpadded inputs) or L2 pooling.</summary>
    void Pool(string layer, string input, string output, in PoolGeometry g);

    void Lrn(string layer, string input, string output, in LrnGeometry g);

    /// <summary>Concatenation along channels, inputs in order.</summary>
    void Concat(string layer, IReadOnlyList<string> inputs, string output);

    /// <summary>Fully connected over the flattened input (whose per-image shape is C×H×W), then ReLU when <paramref name="relu"/>.</summary>
    void Linear(string layer, string input, string output, string weight, string bias, int inChannels, int inHeight, int inWidth, int outFeatures, bool relu);

    /// <summary>Maximum over consecutive groups of <paramref name="pool"/> features.</summary>
    void Maxout(string layer, string input, string output, int units, int pool);

    /// <summary>Division of each row by its L2 norm.</summary>
    void L2Normalize(string layer, string input, string output, int dim);
}
