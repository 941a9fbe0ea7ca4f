using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

using System.Text.Json;

namespace FaceNetGen.Models;

/// <summary>One tensor of a safetensors file: float32 (F32) or unsigned 64-bit (U64) data with a shape.</summary>
public sealed class SafeTensor
{
    public SafeTensor(string name, long[] shape, float[] data)
    {
        Name = name;
        Shape = shape;
        Floats = data;
        Check(name, shape, data.Length);
    }

    public SafeTensor(string name, long[] shape, ulong[] data)
    {
        Name = name;
        Shape = shape;
        Words = data;
        Check(name, shape, data.Length);
    }

    public string Name { get; }

    public long[] Shape { get; }

    public float[]? Floats { get; }

    public ulong[]? Words { get; }

    public string DType => Floats is not null ? "F32" : "U64";

    public long ByteLength => Floats is not null ? Floats.LongLength * 4 : Words!.LongLength * 8;

    private static void Check(string name, long[] shape, long count)
    {
        long product = 1;
        foreach (long d in shape) product *= d;
        if (product != count) throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] holds {product} values, not {count}.");
    }
}

/// <summary>
/// The safetensors format (a little-endian u64 header length, a UTF-8 JSON header of tensor names, dtypes, shapes and
/// byte offsets plus a string-to-string "__metadata__", then the raw data), as FaceNetGen reads and writes it. Writes
/// are atomic. Reading checks everything the header claims against the file, and every error names the file.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header accepted (a guard against garbage read as a length).</summary>
    public const long MaxHeaderBytes = 100L << 20;

    public static void Save(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = Header(tensors, metadata);
        try
        {
            using var file = AtomicFile.Begin(path);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            file.Stream.Write(length);
            file.Stream.Write(header);
            foreach (var t in tensors)
            {
                if (t.Floats is not null) WriteLittleEndian(file.Stream, t.Floats);
                else WriteLittleEndian(file.Stream, t.Words!);
            }
            file.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"{path}: cannot write ({e.Message})", e);
        }
    }

    private static byte[] Header(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            foreach (var t in tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType);
                json.WriteStartArray("shape");
                foreach (long d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.ByteLength;
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data starts 8-byte aligned, as the format recommends.
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    /// <summary>Reads every tensor and the metadata; throws a <see cref="FaceNetException"/> naming the file on anything malformed.</summary>
    public static (IReadOnlyList<SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Load(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException(e is FileNotFoundException or DirectoryNotFoundException ? $"{path}: no such file" : $"{path}: cannot read ({e.Message})", e);
        }
        using (stream)
        {
            long fileLength = stream.Length;
            if (fileLength < 8) throw new FaceNetException($"{path}: not a safetensors file (only {fileLength} bytes).");
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength == 0 || headerLength > (ulong)Math.Min(MaxHeaderBytes, fileLength - 8))
                throw new FaceNetException($"{path}: not a safetensors file, or truncated (the header claims {headerLength:N0} bytes; the file has {fileLength:N0}).");
            var header = new byte[headerLength];
            stream.ReadExactly(header);
            long dataLength = fileLength - 8 - (long)headerLength;

            var entries = new List<(string Name, string DType, long[] Shape, long Begin, long End)>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                using var doc = JsonDocument.Parse(header);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new FaceNetException($"{path}: the header is not a JSON object.");
                foreach (var property in doc.RootElement.EnumerateObject())
                {
                    if (property.Name == "__metadata__")
                    {
                        foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                        continue;
                    }
                    var v = property.Value;
                    string dtype = v.GetProperty("dtype").GetString() ?? "";
                    var shape = v.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    var offsets = v.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    if (offsets.Length != 2) throw new FaceNetException($"{path}: tensor '{property.Name}' has {offsets.Length} data offsets, not 2.");
                    entries.Add((property.Name, dtype, shape, offsets[0], offsets[1]));
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
            {
                throw new FaceNetException($"{path}: the safetensors header is malformed ({e.Message})", e);
            }

            // The tensors must tile the data exactly: in order, without gaps or overlaps, to the end of the file.
            long expected = 0;
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                int size = e.DType switch { "F32" => 4, "U64" => 8, _ => throw new FaceNetException($"{path}: tensor '{e.Name}' has dtype {e.DType}; FaceNetGen reads F32 and U64.") };
                if (e.Shape.Any(d => d < 0)) throw new FaceNetException($"{path}: tensor '{e.Name}' has a negative dimension.");
                long count = e.Shape.Aggregate(1L, (a, d) => a * d);
                if (e.Begin != expected || e.End < e.Begin || e.End - e.Begin != count * size)
                    throw new FaceNetException($"{path}: tensor '{e.Name}' claims bytes [{e.Begin:N0}, {e.End:N0}) for shape [{string.Join(", ", e.Shape)}] {e.DType}; expected {count * size:N0} bytes from {expected:N0}.");
                expected = e.End;
            }
            if (expected != dataLength)
                throw new FaceNetException(expected > dataLength
                    ? $"{path}: truncated: the header describes {expected:N0} bytes of tensor data, the file holds {dataLength:N0}."
                    : $"{path}: {dataLength - expected:N0} bytes after the last tensor; the file is not what its header describes.");

            var tensors = new List<SafeTensor>(entries.Count);
            long dataStart = 8 + (long)headerLength;
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                stream.Position = dataStart + e.Begin;
                long count = e.Shape.Aggregate(1L, (a, d) => a * d);
                if (count > Array.MaxLength) throw new FaceNetException($"{path}: tensor '{e.Name}' is too large to load ({count:N0} values).");
                if (e.DType == "F32")
                {
                    var data = new float[count];
                    stream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
                    if (!BitConverter.IsLittleEndian) ReverseEndianness(MemoryMarshal.Cast<float, int>(data.AsSpan()));
                    tensors.Add(new SafeTensor(e.Name, e.Shape, data));
                }
                else
                {
                    var data = new ulong[count];
                    stream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
                    if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(data, data);
                    tensors.Add(new SafeTensor(e.Name, e.Shape, data));
                }
            }
            return (tensors, metadata);
        }
    }

    private static void WriteLittleEndian(Stream stream, float[] data)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Writing checkpoints needs a little-endian machine.");
        stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
    }

    private static void WriteLittleEndian(Stream stream, ulong[] data)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Writing checkpoints needs a little-endian machine.");
        stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
    }

    private static void ReverseEndianness(Span<int> values) => BinaryPrimitives.ReverseEndianness(values, values);


}
