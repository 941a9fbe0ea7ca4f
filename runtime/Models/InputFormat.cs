namespace FaceNetGen.Models;

/// <summary>
/// What every model's input tensor holds: RGB, NCHW, each 8-bit value v mapped to (v − 127.5) / 128, so that
/// pixels lie in [−0.996, 0.996]. Grey images are repeated into all three channels. Exporters record this in
/// the files they write so that other runtimes feed the same numbers.
/// </summary>
public static class InputFormat
{
    public const string ChannelOrder = "RGB";

    public const string Layout = "NCHW";

    public const float Mean = 127.5f;

    public const float Scale = 1f / 128f;

    /// <summary>The input value of an 8-bit pixel value.</summary>
    public static float Normalize(byte value) => (value - Mean) * Scale;

    public static string Describe => $"{ChannelOrder}, {Layout}, (pixel - {Mean}) / 128";
}
