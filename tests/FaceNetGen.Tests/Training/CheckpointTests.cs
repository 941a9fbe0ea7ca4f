using FaceNetGen.Backends.Cpu;
using FaceNetGen.Models;

namespace FaceNetGen.Tests.Training;

public class CheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fng-ckpt-" + Guid.NewGuid().ToString("N")[..8]);

    public CheckpointTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Checkpoint Sample()
    {
        using var backend = new ReferenceBackend();
        using var model = new NNS2(backend, 1);
        model.InitializeParameters(3);
        var p = model.GetParameters();
        return new Checkpoint(NNS2.SpecName, NNS2.SpecHash, p)
        {
            Step = 1234,
            OptimizerState = new Dictionary<string, float[]> { ["sum_squares"] = p.Select(v => v * v + 0.1f).ToArray() },
            RandomState = new DeterministicRandom(9).GetState(),
            Metadata = new Dictionary<string, string> { ["note"] = "ünïcode ✓" },
        };
    }

    [Fact]
    public void A_checkpoint_round_trips_weights_state_step_random_state_and_metadata()
    {
        var original = Sample();
        string path = Path.Combine(_dir, "a.safetensors");
        original.Save(path, NNS2.Info);
        var loaded = Checkpoint.Load(path);
        Assert.Equal(original.Parameters, loaded.Parameters);
        Assert.Equal(original.OptimizerState["sum_squares"], loaded.OptimizerState["sum_squares"]);
        Assert.Equal(original.RandomState, loaded.RandomState);
        Assert.Equal(1234, loaded.Step);
        Assert.Equal("ünïcode ✓", loaded.Metadata["note"]);
        Assert.Equal("NNS2", loaded.Metadata["spec"]);
        Assert.Equal("140x116x3", loaded.Metadata["input"]);
        // The random stream continues exactly where it was.
        var a = DeterministicRandom.FromState(original.RandomState!);
        var b = DeterministicRandom.FromState(loaded.RandomState!);
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Fact]
    public void Weights_are_stored_by_name_so_other_tools_can_read_them()
    {
        string path = Path.Combine(_dir, "b.safetensors");
        Sample().Save(path, NNS2.Info);
        var (tensors, _) = SafeTensors.Load(path);
        var conv1 = tensors.Single(t => t.Name == "conv1.weight");
        Assert.Equal(new long[] { 16, 3, 3, 3 }, conv1.Shape);
        Assert.Contains(tensors, t => t.Name == "optimizer.sum_squares");
        Assert.Contains(tensors, t => t.Name == "trainer.rng" && t.DType == "U64");
    }

    [Fact]
    public void A_truncated_file_is_a_clear_error_naming_it()
    {
        string path = Path.Combine(_dir, "c.safetensors");
        Sample().Save(path, NNS2.Info);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var ex = Assert.Throws<FaceNetException>(() => Checkpoint.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("truncated", ex.Message);

        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        Assert.Contains("not a safetensors file", Assert.Throws<FaceNetException>(() => Checkpoint.Load(path)).Message);
        Assert.Contains("no such file", Assert.Throws<FaceNetException>(() => Checkpoint.Load(Path.Combine(_dir, "missing.safetensors"))).Message);
    }

    [Fact]
    public void Loading_into_another_architecture_is_refused()
    {
        string path = Path.Combine(_dir, "d.safetensors");
        Sample().Save(path, NNS2.Info);
        var checkpoint = Checkpoint.Load(path);
        using var backend = new ReferenceBackend();
        using var nn4 = new NN4(backend, 1);
        var ex = Assert.Throws<FaceNetException>(() => checkpoint.ApplyTo(nn4, path));
        Assert.Contains("made for NNS2", ex.Message);
        Assert.Contains("not for NN4", ex.Message);
    }

    [Fact]
    public void A_checkpoint_of_a_changed_architecture_is_refused_by_its_hash()
    {
        string path = Path.Combine(_dir, "e.safetensors");
        var sample = Sample();
        sample.Save(path, NNS2.Info);
        // Rewrite the header's spec hash as if an edited NNS2.yaml had produced the file.
        var bytes = File.ReadAllBytes(path);
        var text = System.Text.Encoding.Latin1.GetString(bytes);
        File.WriteAllBytes(path, System.Text.Encoding.Latin1.GetBytes(text.Replace(NNS2.SpecHash, "0123456789abcdef")));
        var ex = Assert.Throws<FaceNetException>(() => Checkpoint.Load(path));
        Assert.Contains("different NNS2 architecture", ex.Message);
    }

    [Fact]
    public void A_failed_save_leaves_the_previous_file_intact_and_no_temporary()
    {
        string path = Path.Combine(_dir, "f.safetensors");
        var first = Sample();
        first.Save(path, NNS2.Info);
        byte[] before = File.ReadAllBytes(path);
        // Wrong length for the architecture: refused before anything is written.
        var broken = new Checkpoint(NNS2.SpecName, NNS2.SpecHash, new float[10]);
        Assert.Throws<FaceNetException>(() => broken.Save(path, NNS2.Info));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));
    }
}
