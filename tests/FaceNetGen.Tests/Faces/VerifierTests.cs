using FaceNetGen.Faces;
using FaceNetGen.Tests.Evaluation;

namespace FaceNetGen.Tests.Faces;

public class VerifierTests
{
    [Fact]
    public void Verify_compares_the_squared_distance_with_the_threshold()
    {
        var verifier = new Verifier(1.242f, "NN2");
        float[] a = [1, 0], b = [0.6f, 0.8f], c = [0, 1];
        // |a-b|² = 0.16 + 0.64 = 0.8; |a-c|² = 2.
        var close = verifier.Verify(a, b);
        Assert.Equal(0.8f, close.Distance, 1e-6f);
        Assert.True(close.IsSame);
        Assert.Equal(new VerificationResult(2f, false), verifier.Verify(a, c));
        Assert.True(new Verifier(2f, "NN2").Verify(a, c).IsSame); // accepted when D equals the threshold
    }

    [Fact]
    public void Calibrates_for_best_accuracy_and_for_a_far()
    {
        var byAccuracy = Verifier.CalibrateForAccuracy(ToyPairs.Pairs(), "NN2");
        Assert.Equal(0.5f, byAccuracy.Threshold);
        Assert.Contains("best accuracy on 10 pairs", byAccuracy.Calibration);

        var byFar = Verifier.CalibrateAtFar(ToyPairs.Pairs(), 0.2, "NN2");
        Assert.Equal(MathF.BitDecrement(1.1f), byFar.Threshold);
        Assert.Contains("FAR <= 0.2", byFar.Calibration);

        var tooSmall = Verifier.CalibrateAtFar(ToyPairs.Pairs(), 1e-3, "NN2");
        Assert.Equal(MathF.BitDecrement(0.7f), tooSmall.Threshold);
        Assert.Contains("too small", tooSmall.Calibration);
    }

    [Fact]
    public void Save_and_load_keep_the_exact_threshold_and_spec()
    {
        using var folder = new TempFolder();
        string path = folder.File("nn2.verifier.json");
        var original = Verifier.CalibrateAtFar(ToyPairs.Pairs(), 0.2, "NN2");
        original.Save(path);
        Assert.Equal(["nn2.verifier.json"], folder.Files());

        var loaded = Verifier.Load(path, "nn2");
        Assert.Equal(original.Threshold, loaded.Threshold);
        Assert.Equal("NN2", loaded.SpecName);
        Assert.Equal(original.Calibration, loaded.Calibration);
    }

    [Fact]
    public void Load_refuses_another_spec_naming_the_file()
    {
        using var folder = new TempFolder();
        string path = folder.File("v.json");
        new Verifier(1.1f, "NN2").Save(path);
        var e = Assert.Throws<FaceNetException>(() => Verifier.Load(path, "NN4"));
        Assert.Contains(path, e.Message);
        Assert.Contains("NN2", e.Message);
        Assert.Contains("NN4", e.Message);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"format\":\"something-else\",\"version\":1,\"spec\":\"NN2\",\"threshold\":1}")]
    [InlineData("{\"format\":\"facenet-verifier\",\"version\":2,\"spec\":\"NN2\",\"threshold\":1}")]
    [InlineData("{\"format\":\"facenet-verifier\",\"version\":1,\"spec\":\"NN2\"}")]
    [InlineData("{\"format\":\"facenet-verifier\",\"version\":1,\"spec\":\"NN2\",\"threshold\":\"high\"}")]
    public void Load_refuses_malformed_files_naming_them(string text)
    {
        using var folder = new TempFolder();
        string path = folder.File("bad.json");
        File.WriteAllText(path, text);
        var e = Assert.Throws<FaceNetException>(() => Verifier.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Load_of_a_missing_file_names_it()
    {
        string path = Path.Combine(Path.GetTempPath(), "fng-missing-" + Guid.NewGuid().ToString("N") + ".json");
        var e = Assert.Throws<FaceNetException>(() => Verifier.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Non_finite_thresholds_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Verifier(float.NaN, "NN2"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Verifier(float.PositiveInfinity, "NN2"));
    }
}
