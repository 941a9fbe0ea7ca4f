using FaceNetGen.Backends.Cpu;

namespace FaceNetGen.Tests.Kernels;

public class WorkerPoolTests
{
    /// <summary>Counts how often each index ran, and on which workers.</summary>
    private sealed class Counting(int capacity) : IParallelWork
    {
        public readonly int[] Runs = new int[capacity];
        public readonly int[] Workers = new int[capacity];
        public int Fail = -1;

        public void Execute(int index, int worker)
        {
            if (index == Fail) throw new InvalidOperationException($"item {index} fails");
            Interlocked.Increment(ref Runs[index]);
            Workers[index] = worker;
            // Enough work that the other threads take items too.
            Thread.SpinWait(200);
        }
    }

    /// <summary>Runs <paramref name="body"/> on its own thread and fails instead of hanging if it does not finish.</summary>
    private static void WithinSeconds(double seconds, Action body)
    {
        var task = Task.Factory.StartNew(body, TaskCreationOptions.LongRunning);
        Assert.True(task.Wait(TimeSpan.FromSeconds(seconds)), $"the pool did not finish within {seconds} s (a lost wake-up)");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Every_index_runs_once_whether_the_workers_spin_yield_or_sleep(int workers)
    {
        WithinSeconds(60, () =>
        {
            using var pool = new WorkerPool(workers);
            var work = new Counting(64);
            var seen = new HashSet<int>();
            // Back to back (workers still spinning), after a short pause (yielding) and after a long one (blocked).
            int[] pausesMs = [0, 0, 0, 1, 0, 3, 25, 0, 60, 0, 0, 25];
            for (int round = 0; round < 200; round++)
            {
                int pause = pausesMs[round % pausesMs.Length];
                if (pause > 0) Thread.Sleep(pause);
                int count = 1 + round % 64;
                Array.Clear(work.Runs);
                pool.Run(work, count);
                for (int i = 0; i < 64; i++) Assert.Equal(i < count ? 1 : 0, work.Runs[i]);
                for (int i = 0; i < count; i++) seen.Add(work.Workers[i]);
            }
            // The workers take part (not only the caller): on a loaded machine they may not have been scheduled during
            // those short runs, so longer ones follow until one has, for up to 20 s.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (seen.Count < 2 && clock.Elapsed.TotalSeconds < 20)
            {
                pool.Run(work, 64);
                for (int i = 0; i < 64; i++) seen.Add(work.Workers[i]);
            }
            Assert.True(seen.Count > 1, "only the calling thread ran items");
            Assert.All(seen, w => Assert.InRange(w, 0, workers - 1));
        });
    }

    [Fact]
    public void A_failing_item_surfaces_and_the_pool_keeps_working()
    {
        WithinSeconds(60, () =>
        {
            using var pool = new WorkerPool(2);
            var work = new Counting(32) { Fail = 17 };
            var error = Assert.Throws<AggregateException>(() => pool.Run(work, 32));
            Assert.Contains("item 17 fails", error.InnerException!.Message);
            work.Fail = -1;
            Array.Clear(work.Runs);
            Thread.Sleep(30);
            pool.Run(work, 32);
            Assert.All(work.Runs, r => Assert.Equal(1, r));
        });
    }

    [Fact]
    public void Dispose_returns_whether_the_workers_spin_or_sleep()
    {
        WithinSeconds(30, () =>
        {
            var work = new Counting(8);
            using (var spinning = new WorkerPool(3)) spinning.Run(work, 8);
            var sleeping = new WorkerPool(3);
            sleeping.Run(work, 8);
            Thread.Sleep(100);
            sleeping.Dispose();
            sleeping.Dispose();
        });
    }
}
