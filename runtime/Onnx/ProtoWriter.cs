using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace FaceNetGen.Onnx;

/// <summary>
/// A minimal protocol-buffers encoder: the wire format (varints, fixed32, length-delimited fields, packed repeated
/// scalars) written straight to a stream, and the matching size arithmetic, so that a message's length prefix is known
/// before its body is written and no message is ever buffered whole. Zig-zag (sint32/sint64) is not needed by the ONNX
/// schema and is not implemented; int64 values are plain varints (negative ones take ten bytes, as protobuf specifies).
/// </summary>
internal sealed class ProtoWriter
{
    private const int WireVarint = 0;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _used;

    public ProtoWriter(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
    }

    /// <summary>Bytes written so far (flushed or buffered).</summary>
    public long Position { get; private set; }

    // ---- sizes ---------------------------------------------------------------------------------------------

    public static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    public static int TagSize(int field) => VarintSize((ulong)field << 3);

    public static long Int64FieldSize(int field, long value) => TagSize(field) + VarintSize((ulong)value);

    public static long Fixed32FieldSize(int field) => TagSize(field) + 4;

    /// <summary>A length-delimited field (bytes, string or nested message) whose body is <paramref name="length"/> bytes.</summary>
    public static long LengthDelimitedSize(int field, long length) => TagSize(field) + VarintSize((ulong)length) + length;

    public static long StringFieldSize(int field, string value) => LengthDelimitedSize(field, Utf8.GetByteCount(value));

    /// <summary>A packed repeated int64 field; nothing at all when empty.</summary>
    public static long PackedInt64Size(int field, ReadOnlySpan<long> values) =>
        values.IsEmpty ? 0 : LengthDelimitedSize(field, PackedInt64BodySize(values));

    /// <summary>A packed repeated float field; nothing at all when empty.</summary>
    public static long PackedFloatSize(int field, int count) => count == 0 ? 0 : LengthDelimitedSize(field, 4L * count);

    private static long PackedInt64BodySize(ReadOnlySpan<long> values)
    {
        long n = 0;
        foreach (long v in values) n += VarintSize((ulong)v);
        return n;
    }

    // ---- fields --------------------------------------------------------------------------------------------

    public void WriteInt64(int field, long value)
    {
        WriteTag(field, WireVarint);
        WriteVarint((ulong)value);
    }

    public void WriteFloat(int field, float value)
    {
        WriteTag(field, WireFixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        WriteBytes(bytes);
    }

    public void WriteString(int field, string value)
    {
        byte[] bytes = Utf8.GetBytes(value);
        WriteLengthDelimitedHeader(field, bytes.Length);
        WriteBytes(bytes);
    }

    public void WritePackedInt64(int field, ReadOnlySpan<long> values)
    {
        if (values.IsEmpty) return;
        WriteLengthDelimitedHeader(field, PackedInt64BodySize(values));
        foreach (long v in values) WriteVarint((ulong)v);
    }

    public void WritePackedFloat(int field, ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        WriteLengthDelimitedHeader(field, 4L * values.Length);
        WriteRawFloats(values);
    }

    /// <summary>The tag and length of a length-delimited field; its <paramref name="length"/> body bytes must follow.</summary>
    public void WriteLengthDelimitedHeader(int field, long length)
    {
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)length);
    }

    /// <summary>Floats as fixed-width little-endian IEEE 754 bytes (a packed body or a tensor's raw_data).</summary>
    public void WriteRawFloats(ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            WriteBytes(MemoryMarshal.AsBytes(values));
            return;
        }
        Span<byte> bytes = stackalloc byte[4];
        foreach (float v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes, v);
            WriteBytes(bytes);
        }
    }

    /// <summary>Int64s as fixed-width little-endian bytes (a tensor's raw_data).</summary>
    public void WriteRawInt64s(ReadOnlySpan<long> values)
    {
        Span<byte> bytes = stackalloc byte[8];
        foreach (long v in values)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes, v);
            WriteBytes(bytes);
        }
    }

    public void Flush()
    {
        if (_used > 0)
        {
            _stream.Write(_buffer, 0, _used);
            _used = 0;
        }
        _stream.Flush();
    }

    // ---- wire primitives -----------------------------------------------------------------------------------

    private void WriteTag(int field, int wireType)
    {
        if (field <= 0) throw new ArgumentOutOfRangeException(nameof(field), field, "Protobuf field numbers start at 1.");
        WriteVarint(((ulong)field << 3) | (uint)wireType);
    }

    private void WriteVarint(ulong value)
    {
        Span<byte> bytes = stackalloc byte[10];
        int n = 0;
        while (value >= 0x80)
        {
            bytes[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        bytes[n++] = (byte)value;
        WriteBytes(bytes[..n]);
    }

    private void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        Position += bytes.Length;
        while (!bytes.IsEmpty)
        {
            if (_used == _buffer.Length)
            {
                _stream.Write(_buffer, 0, _used);
                _used = 0;
            }
            int n = Math.Min(bytes.Length, _buffer.Length - _used);
            bytes[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            bytes = bytes[n..];
        }
    }
}
