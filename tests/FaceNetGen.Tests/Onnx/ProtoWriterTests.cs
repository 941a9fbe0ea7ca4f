using FaceNetGen.Onnx;

namespace FaceNetGen.Tests.Onnx;

/// <summary>The protobuf encoder against encodings worked out by hand from the wire-format rules.</summary>
public sealed class ProtoWriterTests
{
    private static byte[] Encode(Action<ProtoWriter> write)
    {
        using var stream = new MemoryStream();
        var w = new ProtoWriter(stream);
        write(w);
        w.Flush();
        Assert.Equal(stream.Length, w.Position);
        return stream.ToArray();
    }

    [Fact]
    public void Varint_fields_use_seven_bits_per_byte_low_group_first()
    {
        // tag (1 << 3 | 0) = 0x08; 300 = 0b10_0101100 -> 0xAC 0x02
        Assert.Equal(new byte[] { 0x08, 0xAC, 0x02 }, Encode(w => w.WriteInt64(1, 300)));
        Assert.Equal(new byte[] { 0x08, 0x00 }, Encode(w => w.WriteInt64(1, 0)));
        Assert.Equal(new byte[] { 0x08, 0x7F }, Encode(w => w.WriteInt64(1, 127)));
        Assert.Equal(new byte[] { 0x08, 0x80, 0x01 }, Encode(w => w.WriteInt64(1, 128)));
    }

    [Fact]
    public void Negative_int64_takes_ten_bytes()
    {
        Assert.Equal(
            new byte[] { 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 },
            Encode(w => w.WriteInt64(2, -1)));
    }

    [Fact]
    public void Field_numbers_above_fifteen_take_a_two_byte_tag()
    {
        // AttributeProto.type is field 20: (20 << 3 | 0) = 160 -> 0xA0 0x01; value 7 (INTS)
        Assert.Equal(new byte[] { 0xA0, 0x01, 0x07 }, Encode(w => w.WriteInt64(20, 7)));
        Assert.Equal(2, ProtoWriter.TagSize(20));
        Assert.Equal(1, ProtoWriter.TagSize(15));
    }

    [Fact]
    public void Strings_are_length_delimited_utf8()
    {
        // tag (2 << 3 | 2) = 0x12, length 2, "hi"
        Assert.Equal(new byte[] { 0x12, 0x02, 0x68, 0x69 }, Encode(w => w.WriteString(2, "hi")));
        // "é" is two UTF-8 bytes
        Assert.Equal(new byte[] { 0x0A, 0x02, 0xC3, 0xA9 }, Encode(w => w.WriteString(1, "é")));
    }

    [Fact]
    public void Floats_are_fixed32_little_endian()
    {
        // tag (2 << 3 | 5) = 0x15; 1.0f = 0x3F800000
        Assert.Equal(new byte[] { 0x15, 0x00, 0x00, 0x80, 0x3F }, Encode(w => w.WriteFloat(2, 1f)));
    }

    [Fact]
    public void Packed_int64_is_one_length_delimited_field()
    {
        // tag (4 << 3 | 2) = 0x22, 6 bytes: 3 -> 03, 270 -> 8E 02, 86942 -> 9E A7 05
        Assert.Equal(new byte[] { 0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05 }, Encode(w => w.WritePackedInt64(4, [3, 270, 86942])));
        Assert.Empty(Encode(w => w.WritePackedInt64(4, [])));
        Assert.Equal(0, ProtoWriter.PackedInt64Size(4, []));
    }

    [Fact]
    public void Packed_and_raw_floats_are_four_little_endian_bytes_each()
    {
        Assert.Equal(new byte[] { 0x3A, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0 }, Encode(w => w.WritePackedFloat(7, [1f, -2f])));
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F }, Encode(w => w.WriteRawFloats([1f])));
        Assert.Equal(new byte[] { 0x02, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, Encode(w => w.WriteRawInt64s([2, -1])));
    }

    [Fact]
    public void Sizes_agree_with_what_is_written()
    {
        var rng = new DeterministicRandom(11);
        for (int i = 0; i < 200; i++)
        {
            int field = rng.Next(1, 40);
            long value = i % 3 == 0 ? -(long)rng.NextUInt64() >> rng.Next(64) : (long)(rng.NextUInt64() >> rng.Next(64));
            Assert.Equal(ProtoWriter.Int64FieldSize(field, value), Encode(w => w.WriteInt64(field, value)).Length);
            string s = new('x', rng.Next(300));
            Assert.Equal(ProtoWriter.StringFieldSize(field, s), Encode(w => w.WriteString(field, s)).Length);
            long[] values = Enumerable.Range(0, rng.Next(1, 20)).Select(_ => (long)(rng.NextUInt64() >> rng.Next(64))).ToArray();
            Assert.Equal(ProtoWriter.PackedInt64Size(field, values), Encode(w => w.WritePackedInt64(field, values)).Length);
            Assert.Equal(ProtoWriter.Fixed32FieldSize(field), Encode(w => w.WriteFloat(field, 0.5f)).Length);
        }
    }

    [Fact]
    public void Writes_larger_than_the_buffer_arrive_whole_and_in_order()
    {
        var values = Enumerable.Range(0, 100_000).Select(i => (float)i).ToArray();
        byte[] bytes = Encode(w => w.WriteRawFloats(values));
        Assert.Equal(400_000, bytes.Length);
        Assert.Equal(99_999f, BitConverter.ToSingle(bytes, 399_996));
        Assert.Equal(12_345f, BitConverter.ToSingle(bytes, 4 * 12_345));
    }
}
