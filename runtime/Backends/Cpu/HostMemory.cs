using System.Runtime.InteropServices;

namespace FaceNetGen.Backends.Cpu;

/// <summary>
/// Aligned host allocations for the CPU backends. Buffers of 2 MiB and more are aligned to 2 MiB and, on Linux, marked
/// for transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>, which systems set to "madvise" honour only on request):
/// the Winograd transforms walk 36 planes at once and the arenas span tens of megabytes, more than the TLB covers
/// with 4 KiB pages.
/// </summary>
internal static unsafe partial class HostMemory
{
    private const nuint HugePage = 2 << 20;

    private const int MadviseHugePage = 14;

    public static void* Allocate(nuint bytes)
    {
        if (bytes < HugePage) return NativeMemory.AlignedAlloc(bytes, 64);
        void* p = NativeMemory.AlignedAlloc(bytes, HugePage);
        // Advice only: where the kernel has no huge pages, or is not Linux, the memory is the same, in small pages.
        if (OperatingSystem.IsLinux()) _ = Madvise(p, bytes / HugePage * HugePage, MadviseHugePage);
        return p;
    }

    public static void Free(void* p) => NativeMemory.AlignedFree(p);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
