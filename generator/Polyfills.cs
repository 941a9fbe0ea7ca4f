// Language-feature types that netstandard2.0 lacks (records and init-only members need IsExternalInit).
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit
    {
    }
}
