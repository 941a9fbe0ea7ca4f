namespace FaceNetGen;

/// <summary>
/// Writes a file atomically: the content goes to a temporary file in the same folder, which then replaces the
/// target in one move. A failed write deletes the temporary and leaves no partial file behind (an existing file at the
/// target is kept as it was). Every file this library writes (checkpoints, galleries, exports, logs, plots) goes
/// through here.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with what <paramref name="write"/> puts into the stream.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        using var file = Begin(path);
        write(file.Stream);
        file.Commit();
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            writer.Write(text);
        });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>
    /// Starts an atomic write: write to <see cref="AtomicFileWriter.Stream"/>, then <see cref="AtomicFileWriter.Commit"/>.
    /// Disposing without committing deletes the temporary file. The folder is created if needed.
    /// </summary>
    public static AtomicFileWriter Begin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(folder);
        string tmp = Path.Combine(folder, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        return new AtomicFileWriter(full, tmp, stream);
    }
}

/// <summary>An atomic write in progress (see <see cref="AtomicFile.Begin"/>).</summary>
public sealed class AtomicFileWriter : IDisposable
{
    private readonly string _target;
    private readonly string _temporary;
    private bool _committed;
    private bool _disposed;

    internal AtomicFileWriter(string target, string temporary, FileStream stream)
    {
        _target = target;
        _temporary = temporary;
        Stream = stream;
    }

    /// <summary>Where the content goes (a temporary file until <see cref="Commit"/>).</summary>
    public Stream Stream { get; }

    /// <summary>Flushes the content to disk and moves it into place.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Stream.Flush();
        ((FileStream)Stream).Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temporary, _target, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Stream.Dispose();
        if (_committed) return;
        try
        {
            File.Delete(_temporary);
        }
        catch (IOException)
        {
            // The original error matters more than a leftover temporary.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
