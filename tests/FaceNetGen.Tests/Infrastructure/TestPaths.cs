namespace FaceNetGen.Tests.Infrastructure;

/// <summary>Where the repository and the shared face data sets are, seen from a test run.</summary>
public static class TestPaths
{
    /// <summary>The repository root (the folder holding FaceNetGen.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>True when running under CI (CI=true): missing data is then a failure, not a skip.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The shared data folder: $FACENET_DATA, else ../shared/data beside the repository. Null when neither exists.
    /// </summary>
    public static string? DataRoot { get; } = FindDataRoot();

    public static string Data(string relative)
    {
        if (DataRoot is null) throw new InvalidOperationException(DataMissingReason);
        return Path.Combine(DataRoot, relative);
    }

    public static string DataMissingReason =>
        "the shared face data sets are not here: set FACENET_DATA or place them at ../shared/data beside the repository";

    public static string TestFile(string relative) => Path.Combine(AppContext.BaseDirectory, relative);

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FaceNetGen.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("FaceNetGen.sln not found above " + AppContext.BaseDirectory);
    }

    private static string? FindDataRoot()
    {
        string? env = Environment.GetEnvironmentVariable("FACENET_DATA");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? Path.GetFullPath(env) : null;
        string candidate = Path.Combine(RepoRoot, "..", "shared", "data");
        return Directory.Exists(candidate) ? Path.GetFullPath(candidate) : null;
    }
}

/// <summary>
/// A fact that needs the shared face data. Without the data it is skipped, saying why; under CI=true it runs
/// anyway and fails, because CI must have the data.
/// </summary>
public sealed class DataFactAttribute : FactAttribute
{
    public DataFactAttribute()
    {
        if (TestPaths.DataRoot is null && !TestPaths.IsCi) Skip = TestPaths.DataMissingReason;
    }
}

/// <summary>The theory counterpart of <see cref="DataFactAttribute"/>.</summary>
public sealed class DataTheoryAttribute : TheoryAttribute
{
    public DataTheoryAttribute()
    {
        if (TestPaths.DataRoot is null && !TestPaths.IsCi) Skip = TestPaths.DataMissingReason;
    }
}
