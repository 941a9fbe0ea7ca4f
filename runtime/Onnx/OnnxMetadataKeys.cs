namespace FaceNetGen.Onnx;

/// <summary>
/// The keys of the metadata (<c>metadata_props</c>) that <see cref="OnnxExport"/> writes into every file, so that a
/// program loading it can check what it feeds the network without knowing the spec. ONNX Runtime returns them in
/// <c>ModelMetadata.CustomMetadataMap</c> (Python: <c>session.get_modelmeta().custom_metadata_map</c>). All values are
/// strings; numbers are written in invariant culture.
/// </summary>
public static class OnnxMetadataKeys
{
    /// <summary>The spec's name ("NN2").</summary>
    public const string Spec = "facenet.spec";

    /// <summary>The architecture's hash (<see cref="Models.ModelDescription.SpecHash"/>), as checkpoints carry it.</summary>
    public const string SpecHash = "facenet.spec_hash";

    /// <summary>The length of an embedding ("128").</summary>
    public const string EmbeddingSize = "facenet.embedding_size";

    /// <summary>The input's height in pixels.</summary>
    public const string InputHeight = "facenet.input_height";

    /// <summary>The input's width in pixels.</summary>
    public const string InputWidth = "facenet.input_width";

    /// <summary>The input's channel count ("3").</summary>
    public const string InputChannels = "facenet.input_channels";

    /// <summary>The order of the input's channels (<see cref="Models.InputFormat.ChannelOrder"/>, "RGB").</summary>
    public const string ChannelOrder = "facenet.channel_order";

    /// <summary>The input's memory layout (<see cref="Models.InputFormat.Layout"/>, "NCHW").</summary>
    public const string Layout = "facenet.layout";

    /// <summary>How 8-bit pixel values become input values, in words ("(pixel - 127.5) / 128").</summary>
    public const string Normalization = "facenet.normalization";

    /// <summary>The value subtracted from each 8-bit pixel value ("127.5").</summary>
    public const string PixelMean = "facenet.pixel_mean";

    /// <summary>The factor applied after subtracting <see cref="PixelMean"/> ("0.0078125", i.e. 1/128).</summary>
    public const string PixelScale = "facenet.pixel_scale";
}
