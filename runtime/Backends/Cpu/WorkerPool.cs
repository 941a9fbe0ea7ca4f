using System.Diagnostics;

namespace FaceNetGen.Backends.Cpu;

/// <summary>A piece of parallel work: <see cref="Execute"/> runs once for every index of a <see cref="WorkerPool.Run"/>.</summary>
public interface IParallelWork
{
    /// <summary>Runs item <paramref name="index"/> on worker <paramref name="worker"/> (0 = the calling thread), whose scratch it may use.</summary>
    void Execute(int index, int worker);
}

/// <summary>
/// A fixed set of worker threads that run <see cref="IParallelWork"/> items without allocating: the kernels keep
/// one reusable work object each and the pool hands out indices. The caller's thread works too. Which worker runs
/// which index varies from run to run, so an item's result must depend only on its index (the kernels partition
/// statically and reduce per item, in index order, so results are bit-identical for a given worker count).
/// </summary>
public sealed class WorkerPool : IDisposable
{
    /// <summary>
    /// How long a waiting thread spins on pause instructions, checking every few tens of nanoseconds: kernels follow one
    /// another closely, and a thread that yields to the OS between checks took 12 µs on average to start its share
    /// of a kernel (NN4 training: 295 kernels a step).
    /// </summary>
    private static readonly long HotSpinTicks = Stopwatch.Frequency / 20_000;

    /// <summary>Yields to the OS after the hot spin before a thread blocks (about a millisecond or two).</summary>
    private const int YieldIterations = 2000;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private readonly long[] _allocated;
    private IParallelWork? _work;
    private int _count;
    private int _next;
    private int _pending;
    private int _generation;
    private int _sleepers;
    private int _callerWaiting;
    private volatile bool _stopping;
    private Exception? _failure;

    public WorkerPool(int workers)
    {
        if (workers < 1) throw new ArgumentOutOfRangeException(nameof(workers), workers, "At least one worker (the calling thread) is needed.");
        Workers = workers;
        _threads = new Thread[workers - 1];
        _allocated = new long[workers];
        for (int i = 0; i < _threads.Length; i++)
        {
            int worker = i + 1;
            _threads[i] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"FaceNetGen CPU worker {worker}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that run items, the caller's included.</summary>
    public int Workers { get; }

    /// <summary>
    /// Bytes allocated so far on the worker threads (the caller's thread excluded), as of their last item: with the
    /// caller's own <see cref="GC.GetAllocatedBytesForCurrentThread"/>, all that a kernel call allocated.
    /// </summary>
    public long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (int i = 1; i < _allocated.Length; i++) sum += Volatile.Read(ref _allocated[i]);
            return sum;
        }
    }

    /// <summary>Work estimated below this many nanoseconds of one core is not worth waking the workers for.</summary>
    public const double MinParallelNanoseconds = 40_000;

    /// <summary>
    /// Runs <paramref name="work"/> for indices 0..count-1 and returns when all have finished. With
    /// <paramref name="estimatedNanoseconds"/> below <see cref="MinParallelNanoseconds"/>, the caller runs every item
    /// itself: the items are the same either way, so the results are too.
    /// </summary>
    public void Run(IParallelWork work, int count, double estimatedNanoseconds = double.PositiveInfinity)
    {
        if (count <= 0) return;
        if (Workers == 1 || count == 1 || estimatedNanoseconds < MinParallelNanoseconds)
        {
            for (int i = 0; i < count; i++) work.Execute(i, 0);
            return;
        }
        _work = work;
        _count = count;
        _next = 0;
        _failure = null;
        Volatile.Write(ref _pending, _threads.Length);
        // A worker that still spins sees the new generation by itself; one that blocked (or is about to: it counts
        // itself first, see Loop) is pulsed. Signalling uses a lock and Monitor only: nothing here allocates, not even
        // the first time a thread blocks.
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_gate) Monitor.PulseAll(_gate);
        }
        Drain(0);
        if (!SpinUntilZero(ref _pending))
        {
            lock (_gate)
            {
                Interlocked.Exchange(ref _callerWaiting, 1);
                while (Volatile.Read(ref _pending) > 0) Monitor.Wait(_gate);
                _callerWaiting = 0;
            }
        }
        _work = null;
        if (_failure is { } failure) throw new AggregateException("A CPU kernel failed on a worker thread.", failure);
    }

    private void Drain(int worker)
    {
        var work = _work!;
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < _count)
        {
            try
            {
                work.Execute(i, worker);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref _failure, ex, null);
            }
        }
    }

    private void Loop(int worker)
    {
        int seen = 0;
        while (true)
        {
            if (!SpinUntilChanged(ref _generation, seen))
            {
                lock (_gate)
                {
                    // Counted before the last look at the generation, so that Run either sees a sleeper or this thread
                    // sees Run's new generation (both sides use full fences).
                    Interlocked.Increment(ref _sleepers);
                    while (Volatile.Read(ref _generation) == seen && !_stopping) Monitor.Wait(_gate);
                    Interlocked.Decrement(ref _sleepers);
                }
            }
            seen = Volatile.Read(ref _generation);
            if (_stopping) return;
            Drain(worker);
            Volatile.Write(ref _allocated[worker], GC.GetAllocatedBytesForCurrentThread());
            if (Interlocked.Decrement(ref _pending) == 0 && Volatile.Read(ref _callerWaiting) != 0)
            {
                lock (_gate) Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Spins until <paramref name="value"/> differs from <paramref name="seen"/> or the pool stops; false if it gave up.</summary>
    private bool SpinUntilChanged(ref int value, int seen)
    {
        long start = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref value) == seen && !_stopping)
        {
            if (Stopwatch.GetTimestamp() - start > HotSpinTicks) return YieldUntil(ref value, seen, changed: true);
            Thread.SpinWait(8);
        }
        return true;
    }

    /// <summary>Spins until <paramref name="value"/> is zero; false if it gave up.</summary>
    private bool SpinUntilZero(ref int value)
    {
        long start = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref value) != 0)
        {
            if (Stopwatch.GetTimestamp() - start > HotSpinTicks) return YieldUntil(ref value, 0, changed: false);
            Thread.SpinWait(8);
        }
        return true;
    }

    private bool YieldUntil(ref int value, int reference, bool changed)
    {
        for (int i = 0; i < YieldIterations; i++)
        {
            if ((Volatile.Read(ref value) != reference) == changed || _stopping) return true;
            Thread.Yield();
        }
        return false;
    }

    public void Dispose()
    {
        if (_stopping) return;
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var t in _threads) t.Join();
    }
}
