using FaceNetGen.Backends;

namespace FaceNetGen.Models;

/// <summary>One model class known by name: its description and how to build it.</summary>
public sealed record ModelEntry(ModelDescription Info, Func<IBackend, int, bool, FaceNetModel> Create)
{
    public string Name => Info.Name;
}

/// <summary>
/// Model classes by spec name, so that a checkpoint (which names its spec) can be loaded without the caller
/// naming a type. The six paper architectures are registered; a program adds its own generated classes with
/// <see cref="Register{TModel}"/>.
/// </summary>
public static class ModelCatalog
{
    private static readonly Dictionary<string, ModelEntry> Entries = new(StringComparer.OrdinalIgnoreCase);
    private static readonly object Gate = new();

    static ModelCatalog()
    {
        Register<NN1>();
        Register<NN2>();
        Register<NN3>();
        Register<NN4>();
        Register<NNS1>();
        Register<NNS2>();
    }

    public static void Register<TModel>()
        where TModel : FaceNetModel, IGeneratedModel<TModel>
    {
        lock (Gate)
        {
            Entries[TModel.Info.Name] = new ModelEntry(TModel.Info, (backend, batch, training) => TModel.Create(backend, batch, training));
        }
    }

    public static IReadOnlyList<ModelEntry> All
    {
        get
        {
            lock (Gate)
            {
                return Entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            }
        }
    }

    public static bool TryGet(string name, out ModelEntry entry)
    {
        lock (Gate)
        {
            return Entries.TryGetValue(name, out entry!);
        }
    }

    /// <summary>The entry for <paramref name="name"/>, or a <see cref="FaceNetException"/> listing the known ones.</summary>
    public static ModelEntry Get(string name)
    {
        if (TryGet(name, out var entry)) return entry;
        throw new FaceNetException($"unknown spec '{name}': known models are {string.Join(", ", All.Select(e => e.Name))}.");
    }
}
