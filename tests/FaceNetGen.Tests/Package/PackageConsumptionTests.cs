using FaceNetGen.Tests.Infrastructure;

namespace FaceNetGen.Tests.Package;

/// <summary>
/// The package as a user outside this repository gets it: `dotnet pack` into a local folder feed, then the
/// samples/TinyNet project restores FaceNetGen from that feed, compiles its own YAML spec into a class and runs it.
/// </summary>
public class PackageConsumptionTests
{
    [Fact]
    public void TinyNet_builds_from_the_packed_package_runs_and_reports_spec_errors_at_the_yaml_line()
    {
        string root = Path.Combine(Path.GetTempPath(), "fng-package-" + Guid.NewGuid().ToString("N")[..8]);
        string version = "0.1.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        var timeout = TimeSpan.FromMinutes(6);
        try
        {
            // A private copy of the sources, so the nested build never touches this checkout's outputs.
            string src = Path.Combine(root, "src");
            foreach (var dir in new[] { "generator", "runtime", "specs" }) DotnetCli.CopyTree(Path.Combine(TestPaths.RepoRoot, dir), Path.Combine(src, dir));
            foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "README.md" }) File.Copy(Path.Combine(TestPaths.RepoRoot, file), Path.Combine(src, file));
            string feed = Path.Combine(root, "feed");
            var (packExit, packOutput) = DotnetCli.Run(src, timeout, "pack", "runtime/FaceNetGen.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
            Assert.True(packExit == 0, packOutput);
            Assert.True(File.Exists(Path.Combine(feed, $"FaceNetGen.{version}.nupkg")), packOutput);

            string app = Path.Combine(root, "app");
            DotnetCli.CopyTree(Path.Combine(TestPaths.RepoRoot, "samples", "TinyNet"), app);
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);

            var (runExit, runOutput) = DotnetCli.Run(app, timeout, "run", $"-p:FaceNetGenVersion={version}");
            Assert.True(runExit == 0, runOutput);
            Assert.Contains("TinyNet: 48x48x3 -> 32-d, 60,704 parameters", runOutput);
            Assert.Contains("mix    inception", runOutput);
            Assert.Equal(2, runOutput.Split('\n').Count(l => l.Contains("|embedding| = 1.000000", StringComparison.Ordinal)));

            // Edit the spec: conv1 with 12 filters no longer gives the declared 24x24x16.
            string yamlPath = Path.Combine(app, "tiny-net.yaml");
            string yaml = File.ReadAllText(yamlPath);
            File.WriteAllText(yamlPath, yaml.Replace("filters: 16", "filters: 12"));
            int line = Array.FindIndex(yaml.Split('\n'), l => l.Contains("filters: 16", StringComparison.Ordinal)) + 1;
            var (buildExit, buildOutput) = DotnetCli.Run(app, timeout, "build", $"-p:FaceNetGenVersion={version}");
            Assert.NotEqual(0, buildExit);
            Assert.Contains($"tiny-net.yaml({line},", buildOutput);
            Assert.Contains("error FNG0008", buildOutput);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
                string cached = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages", "facenetgen", version);
                if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
