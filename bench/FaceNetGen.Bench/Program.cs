namespace FaceNetGen.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            return Dispatch(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // A mistyped option or setting: its message, without a stack trace.
            Console.Error.WriteLine($"bench: {e.Message}");
            return 2;
        }
    }

    private static int Dispatch(string[] args)
    {
        string what = args.Length > 0 ? args[0] : "all";
        switch (what)
        {
            case "peak":
                Console.WriteLine($"FMA peak, 1 thread: {FmaPeak.Measure(1):F1} GFLOP/s; {Environment.ProcessorCount} threads: {FmaPeak.Measure(Environment.ProcessorCount):F1} GFLOP/s");
                return 0;
            case "models":
                return ModelBench.Run(args.Skip(1).ToArray());
            case "gemm":
                GemmBench.Run(args.Skip(1).ToArray());
                return 0;
            case "pool":
                PoolBench.Run(args.Skip(1).ToArray());
                return 0;
            case "linear":
                LinearBench.Run(args.Skip(1).ToArray());
                return 0;
            case "conv":
                ConvSplitBench.Run(args.Skip(1).ToArray());
                return 0;
            case "siblings":
                SiblingBench.Run(args.Skip(1).ToArray());
                return 0;
            case "ab":
                return AbBench.Run(args.Skip(1).ToArray());
            case "versus":
                return VersusBench.Run(args.Skip(1).ToArray());
            default:
                Console.Error.WriteLine("usage: bench [models [--models NN2,NN4,NNS2] [--batch 16] [--threads N] [--seconds 120] [--slice 2] [--turns 3] [--profile [--top N]] [--no-torch] [--no-onnx] [--quick]|peak|gemm|conv [--shape C,H,W,OC,K,S,P] [--cold]|siblings [--warm]|pool [--cold]|linear [--shape IN,OUT] [--batch N]|ab [--model NN4] [--batch 16] [--seconds 30] [--a SETTINGS] [--b SETTINGS] [--forward]|versus [--model NN4] [--batch 16] [--threads N] [--seconds 120] [--slice 2] [--forward]]");
                return 2;
        }
    }
}
