using System.Text;
using System.Text.Json;
using FaceNetGen.Tests.Evaluation;

namespace FaceNetGen.Tests.Cli;

[Collection(CliModelCollection.Name)]
public class ExportCommandTests(CliModelFixture fixture)
{
    [Fact]
    public void Export_writes_an_onnx_model_proto_and_prints_how_to_feed_it()
    {
        using var temp = new TempFolder();
        string onnx = temp.File("nns2.onnx");
        var (exit, stdout, stderr) = CliRunner.Run("export", "--model", fixture.Model, "--out", onnx);
        Assert.True(exit == 0, stderr);
        Assert.Equal(["nns2.onnx"], temp.Files());

        // A ModelProto starts with field 1 (ir_version, varint) = 8, then field 2 (producer_name, bytes) = "FaceNetGen".
        byte[] bytes = File.ReadAllBytes(onnx);
        Assert.Equal(new byte[] { 0x08, 0x08, 0x12, 10 }, bytes[..4]);
        Assert.Equal("FaceNetGen", Encoding.ASCII.GetString(bytes, 4, 10));
        // The weights are all there: 4,319,548 floats of NNS2 take more than 17 MB.
        Assert.True(bytes.Length > 4_319_548L * 4, $"{bytes.Length} bytes");

        Assert.Contains("input  'input': float32 [N, 3, 140, 116]", stdout);
        Assert.Contains("output 'embedding': float32 [N, 128]", stdout);
        Assert.Contains("(v - 127.5) / 128", stdout);
        Assert.Contains("RGB", stdout);
        Assert.Contains("0.7500 (the checkpoint's calibrated threshold)", stdout);
    }

    [Fact]
    public void Export_json_describes_input_and_output()
    {
        using var temp = new TempFolder();
        string onnx = temp.File("m.onnx");
        var (exit, stdout, stderr) = CliRunner.Run("export", "--model", fixture.ModelWithoutThreshold, "--out", onnx, "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("NNS2", root.GetProperty("spec").GetString());
        Assert.Equal(new FileInfo(onnx).Length, root.GetProperty("bytes").GetInt64());
        Assert.Equal("input", root.GetProperty("input").GetProperty("name").GetString());
        Assert.Equal("[\"N\",3,140,116]", root.GetProperty("input").GetProperty("shape").GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
        Assert.Equal("embedding", root.GetProperty("output").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("threshold").ValueKind);
    }

    [Fact]
    public void Export_needs_model_and_out()
    {
        Assert.Equal(2, CliRunner.Run("export", "--model", fixture.Model).Exit);
        Assert.Equal(2, CliRunner.Run("export", "--out", "m.onnx").Exit);
    }
}
