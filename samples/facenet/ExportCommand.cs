using System.Globalization;
using FaceNetGen.Imaging;
using FaceNetGen.Models;
using FaceNetGen.Onnx;

namespace FaceNetGen.Cli;

/// <summary>
/// <c>facenet export --model CKPT --out model.onnx [--json]</c>: the checkpoint's weights as a self-contained ONNX
/// file (<see cref="OnnxExport"/>), and what a program running it elsewhere needs to know: the input and output names
/// and shapes, the preprocessing and the normalisation.
/// </summary>
internal static class ExportCommand
{
    public const string Summary = "export --model CKPT --out model.onnx [--json]   the model as an ONNX file, with its input format";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var cl = new CommandLine(args, new[] { "json" });
        string modelPath = cl.Required("model");
        string outPath = cl.Required("out");
        bool json = cl.Flag("json");
        cl.Done();
        if (cl.Positionals.Count != 0) throw new UsageException($"unexpected argument '{cl.Positionals[0]}' (options start with --).");

        var checkpoint = Checkpoint.Load(modelPath);
        var model = ModelCatalog.Get(checkpoint.SpecName).Info;
        float? threshold = checkpoint.Threshold;
        double crop = checkpoint.CropFraction ?? Preprocessor.DefaultCropFraction;
        OnnxExport.Export(model, checkpoint.Parameters, outPath);
        long bytes = new FileInfo(outPath).Length;

        string inputShape = $"[{OnnxExport.BatchDimension}, {model.InputChannels}, {model.InputHeight}, {model.InputWidth}]";
        string outputShape = $"[{OnnxExport.BatchDimension}, {model.EmbeddingSize}]";
        string normalisation = $"(v - {InputFormat.Mean.ToString(CultureInfo.InvariantCulture)}) / {(1 / InputFormat.Scale).ToString(CultureInfo.InvariantCulture)}";
        if (json)
        {
            stdout.Write(CliSupport.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("onnx", outPath);
                w.WriteNumber("bytes", bytes);
                w.WriteString("spec", model.Name);
                w.WriteString("specHash", model.SpecHash);
                w.WriteNumber("opset", OnnxExport.OpsetVersion);
                w.WriteNumber("irVersion", OnnxExport.IrVersion);
                w.WriteStartObject("input");
                w.WriteString("name", OnnxExport.InputName);
                w.WriteString("type", "float32");
                w.WriteStartArray("shape");
                w.WriteStringValue(OnnxExport.BatchDimension);
                w.WriteNumberValue(model.InputChannels);
                w.WriteNumberValue(model.InputHeight);
                w.WriteNumberValue(model.InputWidth);
                w.WriteEndArray();
                w.WriteString("layout", InputFormat.Layout);
                w.WriteString("channelOrder", InputFormat.ChannelOrder);
                w.WriteString("normalisation", normalisation);
                w.WriteNumber("cropFraction", crop);
                w.WriteEndObject();
                w.WriteStartObject("output");
                w.WriteString("name", OnnxExport.OutputName);
                w.WriteString("type", "float32");
                w.WriteStartArray("shape");
                w.WriteStringValue(OnnxExport.BatchDimension);
                w.WriteNumberValue(model.EmbeddingSize);
                w.WriteEndArray();
                w.WriteEndObject();
                if (threshold is { } t) w.WriteNumber("threshold", t);
                else w.WriteNull("threshold");
                w.WriteEndObject();
            }));
            return 0;
        }
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exported {model.Name} from {modelPath} to {outPath} ({bytes:N0} bytes, ONNX opset {OnnxExport.OpsetVersion}, IR version {OnnxExport.IrVersion})"));
        stdout.WriteLine($"input  '{OnnxExport.InputName}': float32 {inputShape} ({InputFormat.Layout}, {InputFormat.ChannelOrder}; {OnnxExport.BatchDimension} = batch, any size)");
        stdout.WriteLine($"output '{OnnxExport.OutputName}': float32 {outputShape}, one unit-length embedding per image");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"preprocessing: take the centred box of the input's {model.InputWidth}:{model.InputHeight} (width:height) shape whose side is {crop:0.###} of the largest such box in the image (as facenet embed does), resize it to {model.InputHeight}x{model.InputWidth} (rows x columns), put a grey image into all three channels"));
        stdout.WriteLine($"normalisation: every 8-bit value v becomes {normalisation}");
        stdout.WriteLine(threshold is { } th
            ? $"verification: same person when ||a - b||^2 <= {CliSupport.F(th)} (the checkpoint's calibrated threshold)"
            : "verification: the checkpoint records no threshold; choose one on labelled pairs (facenet eval)");
        return 0;
    }
}
