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
    /// <summary>How long a thread spins for the next signal before it blocks (kernels follow one another closely).</summary>
    private const int SpinIterations = 2000;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private readonly long[] _allocated;
    private IParallelWork? _work;
    private int _count;
    private int _next;
    private int _pending;
    private int _generation;
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
        // Signalling uses a lock and Monitor only: nothing here allocates, not even the first time a thread blocks.
        lock (_gate)
        {
            _generation++;
            Monitor.PulseAll(_gate);
        }
        Drain(0);
        var spin = new SpinWait();
        for (int i = 0; i < SpinIterations && Volatile.Read(ref _pending) > 0; i++) spin.SpinOnce(sleep1Threshold: -1);
        if (Volatile.Read(ref _pending) > 0)
        {
            lock (_gate)
            {
                while (Volatile.Read(ref _pending) > 0) Monitor.Wait(_gate);
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
            var spin = new SpinWait();
            for (int i = 0; i < SpinIterations && Volatile.Read(ref _generation) == seen && !_stopping; i++) spin.SpinOnce(sleep1Threshold: -1);
            lock (_gate)
            {
                while (Volatile.Read(ref _generation) == seen && !_stopping) Monitor.Wait(_gate);
                seen = _generation;
            }
            if (_stopping) return;
            Drain(worker);
            Volatile.Write(ref _allocated[worker], GC.GetAllocatedBytesForCurrentThread());
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                lock (_gate)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }
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
