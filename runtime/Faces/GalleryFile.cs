using System.Buffers.Binary;
using System.Text;
using FaceNetGen.Evaluation;

namespace FaceNetGen.Faces;

/// <summary>Reads and writes the gallery file format documented on <see cref="Gallery"/>.</summary>
internal static class GalleryFile
{
    public const int Version = 1;
    public const int MaxEmbeddingSize = 65536;
    private const int MaxStringBytes = 1 << 20;
    private static ReadOnlySpan<byte> Magic => "FNGALLRY"u8;

    public static void Write(string path, Gallery gallery, IReadOnlyList<GalleryEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write((uint)Version);
            w.Write((uint)gallery.EmbeddingSize);
            w.Write((byte)gallery.Storage);
            WriteString(w, gallery.SpecName);
            WriteString(w, gallery.SpecHash);
            w.Write((uint)entries.Count);
            foreach (var e in entries)
            {
                WriteString(w, e.Label);
                w.Write((byte)(e.Source is null ? 0 : 1));
                if (e.Source is not null) WriteString(w, e.Source);
                if (gallery.Storage == GalleryStorage.Int8)
                {
                    foreach (sbyte c in e.Codes!) w.Write(c);
                }
                else
                {
                    foreach (float v in e.Values!) w.Write(v);
                }
            }
        }
        uint crc = Crc32.Compute(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc);
        buffer.Write(tail);
        AtomicFile.WriteAllBytes(path, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    public static Gallery Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceNetException($"cannot read gallery '{path}': {e.Message}", e);
        }
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new FaceNetException($"'{path}' is not a gallery file (it does not start with \"FNGALLRY\").");
        var r = new Reader(bytes, path);
        uint version = r.U32("version");
        if (version != Version)
            throw new FaceNetException($"gallery '{path}' has format version {version}; this build reads version {Version}.");
        if (bytes.Length < Magic.Length + 4 + 4)
            throw new FaceNetException($"gallery '{path}' is truncated: {bytes.Length} bytes is less than a header.");
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4));
        uint actual = Crc32.Compute(bytes.AsSpan(0, bytes.Length - 4));
        if (stored != actual)
            throw new FaceNetException($"gallery '{path}' is corrupt or truncated: its checksum does not match its content ({bytes.Length} bytes).");
        r.End = bytes.Length - 4;

        uint size = r.U32("embedding size");
        if (size < 1 || size > MaxEmbeddingSize)
            throw new FaceNetException($"gallery '{path}' is corrupt: embedding size {size} is outside 1..{MaxEmbeddingSize}.");
        byte storageByte = r.U8("storage");
        if (storageByte > (byte)GalleryStorage.Int8)
            throw new FaceNetException($"gallery '{path}' is corrupt: unknown storage kind {storageByte}.");
        var storage = (GalleryStorage)storageByte;
        string specName = r.String("spec name");
        string specHash = r.String("spec hash");
        uint count = r.U32("entry count");
        int payload = storage == GalleryStorage.Int8 ? (int)size : 4 * (int)size;
        if ((long)count * (4 + 1 + payload) > r.Remaining)
            throw new FaceNetException($"gallery '{path}' is truncated: it announces {count} entries but has room for fewer.");

        var gallery = new Gallery((int)size, specName, specHash, storage);
        for (uint i = 0; i < count; i++)
        {
            string label = r.String($"label of entry {i}");
            if (label.Length == 0) throw new FaceNetException($"gallery '{path}' is corrupt: entry {i} has an empty label.");
            byte flags = r.U8($"flags of entry {i}");
            string? source = (flags & 1) != 0 ? r.String($"source of entry {i}") : null;
            var raw = r.Bytes(payload, $"embedding of entry {i}");
            GalleryEntry entry;
            if (storage == GalleryStorage.Int8)
            {
                var codes = new sbyte[size];
                for (int j = 0; j < codes.Length; j++) codes[j] = unchecked((sbyte)raw[j]);
                entry = new GalleryEntry(label, source, null, codes);
            }
            else
            {
                var values = new float[size];
                for (int j = 0; j < values.Length; j++)
                {
                    values[j] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * j));
                    if (!float.IsFinite(values[j]))
                        throw new FaceNetException($"gallery '{path}' is corrupt: entry {i} ('{label}') has a non-finite component {j}.");
                }
                entry = new GalleryEntry(label, source, values, null);
            }
            gallery.AddEntry(entry);
        }
        if (r.Remaining != 0)
            throw new FaceNetException($"gallery '{path}' is corrupt: {r.Remaining} unexpected bytes after the last entry.");
        return gallery;
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(s);
        if (utf8.Length > MaxStringBytes) throw new ArgumentException($"a gallery string of {utf8.Length} bytes is longer than {MaxStringBytes}.");
        w.Write((uint)utf8.Length);
        w.Write(utf8);
    }

    /// <summary>A bounds-checked cursor over the file's bytes.</summary>
    private sealed class Reader(byte[] bytes, string path)
    {
        private int _pos = 8;
        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public int End { get; set; } = bytes.Length;

        public int Remaining => End - _pos;

        public ReadOnlySpan<byte> Bytes(int count, string what)
        {
            if (count < 0 || count > Remaining)
                throw new FaceNetException($"gallery '{path}' is truncated: it ends inside the {what} (byte {_pos} of {bytes.Length}).");
            var span = bytes.AsSpan(_pos, count);
            _pos += count;
            return span;
        }

        public byte U8(string what) => Bytes(1, what)[0];

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, what));

        public string String(string what)
        {
            uint length = U32(what);
            if (length > MaxStringBytes)
                throw new FaceNetException($"gallery '{path}' is corrupt: the {what} claims {length} bytes.");
            var raw = Bytes((int)length, what);
            try
            {
                return StrictUtf8.GetString(raw);
            }
            catch (DecoderFallbackException e)
            {
                throw new FaceNetException($"gallery '{path}' is corrupt: the {what} is not valid UTF-8.", e);
            }
        }
    }
}
