namespace FaceNetGen.Data;

/// <summary>
/// A prepared batch: <see cref="Count"/> model inputs (RGB, NCHW, normalised as <see cref="Models.InputFormat"/>
/// says) in a buffer the loader owns. Dispose it when done so that the buffer goes back to the loader for the next
/// batch; its data must not be used after that.
/// </summary>
public sealed class LoadedBatch : IDisposable
{
    private readonly Action<float[]> _return;
    private float[]? _buffer;

    internal LoadedBatch(BatchRequest request, float[] buffer, int inputLength, FaceItem[] items, int[] labels, Action<float[]> returnBuffer)
    {
        Request = request;
        _buffer = buffer;
        InputLength = inputLength;
        Items = items;
        Labels = labels;
        _return = returnBuffer;
    }

    /// <summary>The request this batch answers.</summary>
    public BatchRequest Request { get; }

    /// <summary>The number of faces.</summary>
    public int Count => Items.Count;

    /// <summary>Floats per face (3 × H × W).</summary>
    public int InputLength { get; }

    /// <summary>
    /// The faces whose pixels were used, position by position: the requested item, or the substitute that replaced
    /// an unreadable one (see <see cref="BatchLoader"/>).
    /// </summary>
    public IReadOnlyList<FaceItem> Items { get; }

    /// <summary>The identity of each position (as requested; a substitute has the same identity).</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>The inputs, Count × InputLength floats, face after face.</summary>
    public Span<float> Inputs => (_buffer ?? throw new ObjectDisposedException(nameof(LoadedBatch))).AsSpan(0, Count * InputLength);

    /// <summary>The input of the face at <paramref name="position"/>.</summary>
    public Span<float> Input(int position)
    {
        if ((uint)position >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(position));
        return Inputs.Slice(position * InputLength, InputLength);
    }

    /// <summary>Gives the buffer back to the loader.</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) _return(buffer);
    }
}
