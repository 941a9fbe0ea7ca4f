using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace FaceNetGen.Bench;

/// <summary>bench/torch_bench.py --serve: one model loaded, timed slices on request.</summary>
internal sealed class TorchServer : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private TorchServer(Process process, string framework)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
        Framework = framework;
    }

    public string Framework { get; private set; }

    public static TorchServer? Start(string model, int batch, int threads)
    {
        string script = Path.Combine(ModelBench.RepoRoot(), "bench", "torch_bench.py");
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { script, "--serve", "--models", model, "--batch", batch.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Console.WriteLine($"could not start {python} {script}: {e.Message}");
            return null;
        }
        var server = new TorchServer(process, "PyTorch");
        string? line = server.ReadReply();
        if (line is null)
        {
            Console.WriteLine($"the PyTorch peer did not start (exit {(process.WaitForExit(10_000) ? process.ExitCode : -1)}): {server._stderr.Result.Trim()}");
            server.Dispose();
            return null;
        }
        using var doc = JsonDocument.Parse(line);
        server.Framework = doc.RootElement.TryGetProperty("framework", out var f) ? f.GetString() ?? "PyTorch" : "PyTorch";
        return server;
    }

    /// <summary>Steps per second of one slice of whole steps lasting at least <paramref name="seconds"/>.</summary>
    public double Slice(bool forward, double seconds)
    {
        _process.StandardInput.WriteLine((forward ? "forward " : "train ") + seconds.ToString("R", CultureInfo.InvariantCulture));
        _process.StandardInput.Flush();
        string line = ReadReply() ?? throw new InvalidOperationException($"the PyTorch peer stopped: {_stderr.Result.Trim()}");
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        if (r.TryGetProperty("error", out var error)) throw new InvalidOperationException("the PyTorch peer: " + error.GetString());
        return r.GetProperty("steps").GetInt32() / r.GetProperty("seconds").GetDouble();
    }

    /// <summary>The next JSON line on the peer's stdout (anything else it prints is skipped), or null at its end.</summary>
    private string? ReadReply()
    {
        string? line;
        while ((line = _process.StandardOutput.ReadLine()) is not null)
        {
            if (line.StartsWith('{')) return line;
        }
        return null;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                if (!_process.WaitForExit(10_000)) _process.Kill();
            }
        }
        catch (IOException)
        {
            // The peer already closed its end.
        }
        _process.Dispose();
    }
}
