using FaceNetGen.Models;
using FaceNetGen.Tests.Infrastructure;
using FaceNetGen.Imaging;

namespace FaceNetGen.Tests.Onnx;

/// <summary>Real faces from the shared data, decoded and preprocessed by the runtime's own loader (whole image, no crop).</summary>
internal static class TestFaceImages
{
    /// <summary>Real faces from the shared data: two att_faces people and one lfw photo.</summary>
    public static IReadOnlyList<string> Paths =>
    [
        TestPaths.Data(Path.Combine("att_faces", "s1", "1.pgm")),
        TestPaths.Data(Path.Combine("lfw_devsubset", "images", "Adrien_Brody", "Adrien_Brody_0001.jpg")),
        TestPaths.Data(Path.Combine("att_faces", "s2", "1.pgm")),
    ];

    /// <summary>The first <paramref name="count"/> of <see cref="Paths"/> as one NCHW input batch for <paramref name="model"/>.</summary>
    public static float[] Batch(ModelDescription model, int count)
    {
        var batch = new float[count * model.InputSize];
        var preprocessor = Preprocessor.For(model, cropFraction: 1.0);
        for (int i = 0; i < count; i++) preprocessor.Process(ImageDecoder.Load(Paths[i]), batch.AsSpan(i * model.InputSize, model.InputSize));
        return batch;
    }
}
