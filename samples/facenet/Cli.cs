namespace FaceNetGen.Cli;

/// <summary>The command dispatcher. Exit codes: 0 success, 1 failure (bad input, failed check), 2 usage error.</summary>
public static class Cli
{
    private sealed record Command(string Name, string Summary, Func<string[], TextWriter, TextWriter, int> Run);

    private static readonly Command[] Commands =
    {
        new("spec", "spec <NN2|path.yaml> [--json]   print the paper-style layer table of a spec", SpecCommand.Run),
        new("train", TrainCommand.Summary, TrainCommand.Run),
        new("device-check", DeviceCheckCommand.Summary, DeviceCheckCommand.Run),
        new("embed", EmbedCommand.Summary, EmbedCommand.Run),
        new("verify", VerifyCommand.Summary, VerifyCommand.Run),
        new("gallery", GalleryCommand.Summary, GalleryCommand.Run),
        new("cluster", ClusterCommand.Summary, ClusterCommand.Run),
        new("eval", EvalCommand.Summary, EvalCommand.Run),
        new("export", ExportCommand.Summary, ExportCommand.Run),
    };

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Usage(stdout);
            return args.Length == 0 ? 2 : 0;
        }
        var command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            stderr.WriteLine($"facenet: unknown command '{args[0]}'.");
            Usage(stderr);
            return 2;
        }
        try
        {
            return command.Run(args[1..], stdout, stderr);
        }
        catch (UsageException ex)
        {
            stderr.WriteLine($"facenet {command.Name}: {ex.Message}");
            return 2;
        }
        catch (FaceNetException ex)
        {
            stderr.WriteLine($"facenet {command.Name}: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The file system refused (a full disk, a read-only folder): the message names the path.
            stderr.WriteLine($"facenet {command.Name}: {ex.Message}");
            return 1;
        }
    }

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: facenet <command> [options]");
        w.WriteLine();
        foreach (var c in Commands) w.WriteLine("  " + c.Summary);
    }
}
