using FaceNetGen.Backends.Cuda;

namespace FaceNetGen.Tests.Cuda;

public class DeviceCheckCommandTests
{
    [NoCudaFact]
    public void WithoutCuda_ExitsWith3AndPrintsTheReason()
    {
        var probe = CudaProbe.Probe();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = FaceNetGen.Cli.Cli.Run(new[] { "device-check" }, stdout, stderr);
        Assert.Equal(3, code);
        Assert.Contains(probe.Reason, stdout.ToString());
        Assert.Contains("facenet device-check: " + probe.Reason, stderr.ToString());
    }

    [Fact]
    public void UnknownOption_IsAUsageError()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, FaceNetGen.Cli.Cli.Run(new[] { "device-check", "--frobnicate", "1" }, new StringWriter(), stderr));
        Assert.Contains("--frobnicate", stderr.ToString());
    }

    [Fact]
    public void UnknownModel_FailsBeforeAnyDeviceWork()
    {
        var stderr = new StringWriter();
        Assert.Equal(1, FaceNetGen.Cli.Cli.Run(new[] { "device-check", "--model", "NN9" }, new StringWriter(), stderr));
        Assert.Contains("unknown spec 'NN9'", stderr.ToString());
    }
}
