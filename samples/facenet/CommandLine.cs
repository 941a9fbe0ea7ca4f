using System.Globalization;

namespace FaceNetGen.Cli;

/// <summary>Thrown for a usage mistake; the message is printed as is and the exit code is 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// A small POSIX-style argument reader: positionals, <c>--name value</c>, <c>--name=value</c> and <c>--flag</c>.
/// Every option a command reads is declared by reading it; <see cref="Done"/> rejects the rest.
/// </summary>
public sealed class CommandLine
{
    private readonly List<string> _positionals = new();
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public CommandLine(IEnumerable<string> args, IEnumerable<string> flagNames)
    {
        var flags = new HashSet<string>(flagNames, StringComparer.Ordinal);
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (a == "--")
            {
                _positionals.AddRange(list.Skip(i + 1));
                break;
            }
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                if (flags.Contains(name) && value is null)
                {
                    _flags.Add(name);
                    continue;
                }
                if (value is null)
                {
                    if (i + 1 >= list.Count) throw new UsageException($"--{name} needs a value.");
                    value = list[++i];
                }
                if (!_options.TryGetValue(name, out var values)) _options[name] = values = new List<string>();
                values.Add(value);
                continue;
            }
            _positionals.Add(a);
        }
    }

    public IReadOnlyList<string> Positionals => _positionals;

    public bool Flag(string name)
    {
        _read.Add(name);
        return _flags.Contains(name);
    }

    public string? Option(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var v) ? v[^1] : null;
    }

    public IReadOnlyList<string> Options(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var v) ? v : Array.Empty<string>();
    }

    public string Required(string name) => Option(name) ?? throw new UsageException($"--{name} is required.");

    public int Int(string name, int fallback, int min = int.MinValue)
    {
        string? s = Option(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min)
            throw new UsageException($"--{name} expects a whole number{(min > int.MinValue ? $" of at least {min}" : "")}, not '{s}'.");
        return v;
    }

    public double Double(string name, double fallback)
    {
        string? s = Option(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v))
            throw new UsageException($"--{name} expects a number, not '{s}'.");
        return v;
    }

    /// <summary>Fails on any option or flag that the command never asked about (a typo, usually).</summary>
    public void Done()
    {
        foreach (var name in _options.Keys.Concat(_flags))
        {
            if (!_read.Contains(name)) throw new UsageException($"Unknown option --{name}.");
        }
    }
}
