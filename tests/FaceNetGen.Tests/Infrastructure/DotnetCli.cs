using System.Diagnostics;

namespace FaceNetGen.Tests.Infrastructure;

/// <summary>Runs the dotnet CLI as a user would, outside the test host's own MSBuild environment.</summary>
public static class DotnetCli
{
    public static (int Exit, string Output) Run(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The test host runs under MSBuild/VSTest variables that would leak into a nested build.
        foreach (var key in psi.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key is "DOTNET_HOST_PATH" or "MSBUILD_EXE_PATH")
            {
                psi.Environment.Remove(key);
            }
        }
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var process = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish in {timeout}:\n{output}");
        }
        process.WaitForExit();
        return (process.ExitCode, output.ToString());
    }

    /// <summary>Copies a folder, leaving out build outputs.</summary>
    public static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
        foreach (var dir in Directory.EnumerateDirectories(from))
        {
            string name = Path.GetFileName(dir);
            if (name is "bin" or "obj") continue;
            CopyTree(dir, Path.Combine(to, name));
        }
    }
}
