using FaceNetGen.Backends.Cpu;
using TinyNetSample;

// The class below was generated from tiny-net.yaml at build time.
Console.WriteLine($"{TinyNet.SpecName}: {TinyNet.InputHeight}x{TinyNet.InputWidth}x{TinyNet.InputChannels} -> {TinyNet.EmbeddingSize}-d, " +
                  $"{TinyNet.ParameterCount:N0} parameters, {TinyNet.Flops:N0} FLOPS per image, spec hash {TinyNet.SpecHash}");
Console.Write(TinyNet.LayerTable);

using var backend = new ReferenceBackend();
using var model = new TinyNet(backend, maxBatch: 2, training: true);
model.InitializeParameters(seed: 1);

var images = new float[2 * TinyNet.InputChannels * TinyNet.InputHeight * TinyNet.InputWidth];
var random = new Random(7);
for (int i = 0; i < images.Length; i++) images[i] = (float)(random.NextDouble() * 2 - 1);
model.SetInput(images, 2);
model.Forward(2);

var embeddings = new float[2 * TinyNet.EmbeddingSize];
model.GetOutput(embeddings, 2);
for (int n = 0; n < 2; n++)
{
    var e = embeddings.AsSpan(n * TinyNet.EmbeddingSize, TinyNet.EmbeddingSize);
    double norm = Math.Sqrt(e.ToArray().Sum(v => (double)v * v));
    Console.WriteLine($"image {n}: |embedding| = {norm:F6}, first values {string.Join(", ", e[..4].ToArray().Select(v => v.ToString("F4")))}");
}
