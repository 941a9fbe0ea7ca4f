using System.Globalization;

namespace FaceNetGen.Bench;

/// <summary>
/// The options that `ab` and `versus` share (--model, --batch, --threads, --seconds, --forward); each command's own
/// options go to <c>other</c>, which takes the option and a reader of its value, and says whether it knew it.
/// </summary>
internal sealed record TurnOptions(string Model, int Batch, int Threads, double Seconds, bool Forward)
{
    public static TurnOptions Parse(string[] args, double seconds, Func<string, Func<string>, bool> other)
    {
        var o = new TurnOptions("NN4", 16, Environment.ProcessorCount, seconds, false);
        for (int i = 0; i < args.Length; i++)
        {
            string option = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{option} needs a value");
            o = option switch
            {
                "--model" => o with { Model = Next() },
                "--batch" => o with { Batch = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--threads" => o with { Threads = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--seconds" => o with { Seconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--forward" => o with { Forward = true },
                _ => other(option, Next) ? o : throw new ArgumentException($"unknown option {option}"),
            };
        }
        return o;
    }
}
