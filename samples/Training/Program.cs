// Trains a FaceNet model on LFW people (../shared/data/lfw_train: 1,104 identities, 2-7 images each) and scores it on
// the lfw_devsubset pairs, whose 158 people are disjoint from the training people, next to an Eigenfaces baseline fitted
// on the same training images.
//
//   dotnet run --project samples/Training -c Release [-- --data DIR --spec NNS2 --epochs 40 --out runs/lfw-training]
using System.Globalization;
using FaceNetGen;
using FaceNetGen.Data;
using FaceNetGen.Evaluation;
using FaceNetGen.Faces;
using FaceNetGen.Training;

string data = Option("--data") ?? FindData();
string spec = Option("--spec") ?? "NNS2";
int epochs = int.Parse(Option("--epochs") ?? "40", CultureInfo.InvariantCulture);
string output = Option("--out") ?? Path.Combine("runs", "lfw-training");

string trainFolder = Path.Combine(data, "lfw_train");
string pairsPath = Path.Combine(data, "lfw_devsubset", "pairs_devsubset.tsv");
foreach (var path in new[] { trainFolder, pairsPath })
{
    if (!Path.Exists(path))
    {
        Console.Error.WriteLine($"training sample: {path} not found. Pass --data pointing at the folder that holds lfw_train and lfw_devsubset.");
        return 1;
    }
}

var train = new CachedFaceDataset(FolderFaceDataset.Open(trainFolder, warn: w => Console.Error.WriteLine("warning: " + w)));
var pairs = PairsFile.Load(pairsPath);
var options = new TrainerOptions { Spec = spec, Epochs = epochs, OutputDirectory = output, HeldOutFraction = 0.1 };
Console.WriteLine($"Training {spec} on {train.Identities.Count:N0} LFW identities ({train.ItemCount:N0} images) for {epochs} epochs; output in {output}");

TrainingResult result;
using (var trainer = new Trainer(train, options, log: Console.Out, liveProgress: !Console.IsOutputRedirected))
{
    result = trainer.Run();
}

using var embedder = Embedder.Load(result.ModelPath!);
var ours = PairEvaluation.Evaluate(embedder, pairs);
ours.SaveJson(Path.Combine(output, "lfw_devsubset_pairs.json"));
Console.WriteLine();
Console.WriteLine(ours.ToText());

Console.WriteLine("Fitting the Eigenfaces baseline (100 whitened axes of 48x48 grey faces) on the same training images...");
var eigenfaces = Eigenfaces.Fit(train, components: 100, size: 48, cropFraction: embedder.CropFraction, whiten: true);
var baseline = eigenfaces.Evaluate(pairs);
baseline.SaveJson(Path.Combine(output, "lfw_devsubset_pairs_eigenfaces.json"));
Console.WriteLine(baseline.ToText());

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"lfw_devsubset pairs ({pairs.Pairs.Count} pairs, {pairs.Folds}-fold): {spec} {ours.MeanAccuracy * 100:F1}% ± {ours.AccuracyStandardError * 100:F1} " +
    $"vs Eigenfaces {baseline.MeanAccuracy * 100:F1}% ± {baseline.AccuracyStandardError * 100:F1}; training took {TimeSpan.FromSeconds(Math.Round(result.Seconds)):g}"));
return 0;

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string FindData()
{
    string? env = Environment.GetEnvironmentVariable("FACENET_DATA");
    if (!string.IsNullOrEmpty(env)) return env;
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "..", "shared", "data");
        if (Directory.Exists(Path.Combine(candidate, "lfw_train"))) return Path.GetFullPath(candidate);
    }
    return Path.Combine("..", "shared", "data");
}
