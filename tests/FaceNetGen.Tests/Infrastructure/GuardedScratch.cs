using System.Runtime.CompilerServices;
using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Tests.Infrastructure;

/// <summary>
/// Every CPU backend the tests create guards its scratch buffers: the kernel harness, the golden runner and the
/// allocation test then check that no kernel wrote past the scratch it asked for.
/// </summary>
internal static class GuardedScratch
{
    [ModuleInitializer]
    internal static void Enable() => NativeScratch.Guarded = true;
}
