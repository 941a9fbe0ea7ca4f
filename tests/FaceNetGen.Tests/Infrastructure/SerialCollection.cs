namespace FaceNetGen.Tests.Infrastructure;

/// <summary>
/// Tests that measure the whole process (allocated bytes, timings of a step) run alone: xunit runs this collection
/// after the parallel ones, with nothing else executing.
/// </summary>
[CollectionDefinition(nameof(SerialCollection), DisableParallelization = true)]
public sealed class SerialCollection
{
}
