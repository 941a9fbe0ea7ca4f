using FaceNetGen.Backends;

namespace FaceNetGen.Models;

/// <summary>
/// Implemented by every generated model class, so that generic code (the trainer, the catalog) can reach its
/// compile-time description and construct it: <c>Trainer.Create&lt;NN2&gt;(…)</c>.
/// </summary>
public interface IGeneratedModel<TSelf>
    where TSelf : FaceNetModel, IGeneratedModel<TSelf>
{
    /// <summary>The model's compile-time description (sizes, parameter table, layer table).</summary>
    static abstract ModelDescription Info { get; }

    /// <summary>Describes the model's ops to an exporter.</summary>
    static abstract void BuildGraph(IGraphBuilder g);

    /// <summary>Builds the model with arenas for <paramref name="maxBatch"/> images.</summary>
    static abstract TSelf Create(IBackend backend, int maxBatch, bool training);
}
