using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using FaceNetGen.Imaging;

namespace FaceNetGen.Data;

/// <summary>
/// Decodes and preprocesses batches of faces on worker threads while the caller computes: the caller
/// <see cref="Submit"/>s batch k + 1, then works on batch k, then <see cref="Take"/>s batch k + 1, already prepared.
/// Batches come back in the order they were submitted.
/// </summary>
/// <remarks>
/// <para>
/// <b>Determinism.</b> The augmentation of the face at position p of a request is drawn from a generator seeded
/// with a hash of (options seed, epoch, step, p), never from a shared generator, so the same seed and requests
/// give bit-identical inputs whatever the number of workers and however the threads are scheduled.
/// </para>
/// <para>
/// <b>Unreadable images.</b> When an item cannot be loaded, the warning callback (and <see cref="Warnings"/>) gets
/// its path and the reason, once per file, and the position is filled with a substitute: the next item of the same
/// identity, in the identity's item order and wrapping around, that can be loaded, with the augmentation the
/// position would have had. The choice depends only on which files are readable, not on timing.
/// <see cref="LoadedBatch.Items"/> shows the substitute. When no image of the identity can be loaded,
/// <see cref="Take"/> throws a <see cref="FaceNetException"/> naming the identity.
/// </para>
/// <para>
/// <b>Memory.</b> The loader owns <see cref="BatchLoaderOptions.Prefetch"/> + 1 buffers of
/// <c>maxBatchSize</c> inputs, reused from batch to batch; a batch holds one until it is disposed. Each worker
/// keeps its own <see cref="Preprocessor"/>. Dispose the loader to stop the workers.
/// </para>
/// </remarks>
public sealed class BatchLoader : IDisposable
{
    private readonly IFaceDataset _dataset;
    private readonly BatchLoaderOptions _options;
    private readonly int _height, _width;
    private readonly double _cropFraction;
    private readonly int _bufferCount;
    private readonly object _gate = new();
    private readonly Queue<Job> _submitted = new();
    private readonly Queue<Job> _dispatch = new();
    private readonly Stack<float[]> _free = new();
    private readonly Thread[] _threads;
    private readonly ConcurrentDictionary<string, string> _unreadable = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];
    private int _held;
    private bool _disposed;

    /// <summary>A loader of <paramref name="dataset"/>'s faces as <paramref name="inputHeight"/> × <paramref name="inputWidth"/> RGB inputs.</summary>
    /// <param name="dataset">Where the faces come from; every requested item must be one of its items.</param>
    /// <param name="inputHeight">The model's input height.</param>
    /// <param name="inputWidth">The model's input width.</param>
    /// <param name="maxBatchSize">The largest batch that will be requested (sizes the buffers).</param>
    /// <param name="options">Workers, prefetch, augmentation, seed and warnings; null for the defaults.</param>
    public BatchLoader(IFaceDataset dataset, int inputHeight, int inputWidth, int maxBatchSize, BatchLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new BatchLoaderOptions();
        if (options.Workers < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Workers, "a loader needs at least 1 worker");
        if (options.Prefetch < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Prefetch, "prefetch must be at least 1");
        if (maxBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(maxBatchSize), maxBatchSize, "the batch size must be at least 1");
        options.Augmentation.Validate();

        _dataset = dataset;
        _options = options;
        _height = inputHeight;
        _width = inputWidth;
        _cropFraction = options.CropFraction ?? dataset.SuggestedCropFraction;
        InputLength = new Preprocessor(inputHeight, inputWidth, _cropFraction).OutputLength;
        MaxBatchSize = maxBatchSize;

        long floats = (long)InputLength * maxBatchSize;
        if (floats > Array.MaxLength)
        {
            throw new FaceNetException($"a batch of {maxBatchSize} inputs of {inputWidth}x{inputHeight}x3 does not fit in one buffer");
        }

        _bufferCount = options.Prefetch + 1;
        for (int i = 0; i < _bufferCount; i++) _free.Push(new float[floats]);

        _threads = new Thread[options.Workers];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"FaceNetGen batch loader {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Floats per face (3 × H × W).</summary>
    public int InputLength { get; }

    /// <summary>The largest batch a request may hold.</summary>
    public int MaxBatchSize { get; }

    /// <summary>The warnings so far (unreadable images), in the order they were raised.</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warnings)
            {
                return _warnings.ToArray();
            }
        }
    }

    /// <summary>Batches submitted and not yet taken.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _submitted.Count;
            }
        }
    }

    /// <summary>Queues a batch for preparation; returns at once.</summary>
    /// <exception cref="ArgumentException">The request is empty, larger than <see cref="MaxBatchSize"/>, or names an identity the data set lacks.</exception>
    public void Submit(BatchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        int n = request.Items.Count;
        if (n == 0 || n > MaxBatchSize) throw new ArgumentException($"a batch holds 1 to {MaxBatchSize} faces, not {n}", nameof(request));
        foreach (var item in request.Items)
        {
            if ((uint)item.Identity >= (uint)_dataset.Identities.Count)
            {
                throw new ArgumentException($"{item.Source}: identity {item.Identity} is not in {_dataset.Name}", nameof(request));
            }
        }

        var job = new Job(request);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _submitted.Enqueue(job);
            _dispatch.Enqueue(job);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits for the oldest submitted batch and returns it; dispose it when done.</summary>
    /// <exception cref="InvalidOperationException">Nothing was submitted, or the caller holds every buffer (dispose a batch first).</exception>
    /// <exception cref="FaceNetException">An identity of the batch has no readable image.</exception>
    public LoadedBatch Take()
    {
        Job job;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_submitted.Count == 0) throw new InvalidOperationException("no batch was submitted: call Submit before Take");
            job = _submitted.Peek();
            while (!job.Done)
            {
                if (job.Buffer is null && _free.Count == 0 && _held == _bufferCount)
                {
                    throw new InvalidOperationException($"all {_bufferCount} batch buffers are held by undisposed batches: dispose a batch before taking another");
                }

                Monitor.Wait(_gate);
                ObjectDisposedException.ThrowIf(_disposed, this);
            }

            _submitted.Dequeue();
            _held++;
        }

        if (job.Error is { } error)
        {
            Return(job.Buffer!);
            ExceptionDispatchInfo.Capture(error).Throw();
        }

        return new LoadedBatch(job.Request, job.Buffer!, InputLength, job.Items, job.Labels, Return);
    }

    /// <summary>Submits <paramref name="request"/> and takes it (no overlap; for evaluation and tests).</summary>
    public LoadedBatch Load(BatchRequest request)
    {
        lock (_gate)
        {
            if (_submitted.Count > 0) throw new InvalidOperationException("Load cannot run while submitted batches wait to be taken");
        }

        Submit(request);
        return Take();
    }

    /// <summary>Stops the workers (waiting for the images in progress) and releases the buffers.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_gate);
        }

        foreach (var thread in _threads)
        {
            if (thread != Thread.CurrentThread) thread.Join();
        }
    }

    /// <summary>The augmentation seed of one face: a hash of (seed, epoch, step, position).</summary>
    public static ulong AugmentationSeed(ulong seed, long epoch, long step, int position) =>
        Mix(Mix(Mix(Mix(0x6A09E667F3BCC909UL, seed), (ulong)epoch), (ulong)step), (ulong)position);

    private static ulong Mix(ulong h, ulong v)
    {
        ulong z = h ^ (v + 0x9E3779B97F4A7C15UL + (h << 6) + (h >> 2));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private void Return(float[] buffer)
    {
        lock (_gate)
        {
            _held--;
            _free.Push(buffer);
            Monitor.PulseAll(_gate);
        }
    }

    private void Work()
    {
        var preprocessor = new Preprocessor(_height, _width, _cropFraction);
        while (true)
        {
            Job job;
            int position;
            lock (_gate)
            {
                while (true)
                {
                    if (_disposed) return;
                    if (_dispatch.Count > 0)
                    {
                        var head = _dispatch.Peek();
                        if (head.Buffer is null && _free.Count > 0) head.Buffer = _free.Pop();
                        if (head.Buffer is not null)
                        {
                            job = head;
                            position = head.NextPosition++;
                            if (head.NextPosition == head.Count) _dispatch.Dequeue();
                            break;
                        }
                    }

                    Monitor.Wait(_gate);
                }
            }

            try
            {
                Prepare(job, position, preprocessor);
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    job.Error ??= e;
                }
            }

            if (Interlocked.Decrement(ref job.Remaining) == 0)
            {
                lock (_gate)
                {
                    job.Done = true;
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    private void Prepare(Job job, int position, Preprocessor preprocessor)
    {
        var item = job.Request.Items[position];
        job.Labels[position] = item.Identity;
        var (image, used) = LoadOrSubstitute(item);
        job.Items[position] = used;
        var destination = job.Buffer.AsSpan(position * InputLength, InputLength);
        var augmentation = _options.Augmentation;
        if (augmentation == Augmentation.None)
        {
            preprocessor.Process(image, destination);
        }
        else
        {
            ulong seed = AugmentationSeed(_options.Seed, job.Request.Epoch, job.Request.Step, position);
            preprocessor.Process(image, augmentation.Draw(seed), destination);
        }
    }

    private (Image Image, FaceItem Used) LoadOrSubstitute(FaceItem item)
    {
        if (TryLoad(item) is { } image) return (image, item);

        var identity = _dataset.Identities[item.Identity];
        var items = identity.Items;
        int start = -1;
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i].Handle == item.Handle && string.Equals(items[i].Source, item.Source, StringComparison.Ordinal))
            {
                start = i;
                break;
            }
        }

        for (int k = 1; k <= items.Count; k++)
        {
            var candidate = items[(Math.Max(start, 0) + k) % items.Count];
            if (candidate.Handle == item.Handle && start >= 0) continue;
            if (TryLoad(candidate) is { } substitute) return (substitute, candidate);
        }

        throw new FaceNetException($"identity '{identity.Name}' of {_dataset.Name} has no readable image (first failure: {_unreadable.GetValueOrDefault(item.Source)})");
    }

    private Image? TryLoad(FaceItem item)
    {
        if (_unreadable.ContainsKey(item.Source)) return null;
        try
        {
            return _dataset.Load(item);
        }
        catch (Exception e) when (e is FaceNetException or IOException or UnauthorizedAccessException)
        {
            if (_unreadable.TryAdd(item.Source, e.Message))
            {
                string message = $"unreadable image: {e.Message}; it is replaced by another image of the same identity wherever it is requested";
                lock (_warnings)
                {
                    _warnings.Add(message);
                }

                _options.Warn?.Invoke(message);
            }

            return null;
        }
    }

    private sealed class Job(BatchRequest request)
    {
        public readonly BatchRequest Request = request;
        public readonly FaceItem[] Items = new FaceItem[request.Items.Count];
        public readonly int[] Labels = new int[request.Items.Count];
        public int Count => Request.Items.Count;
        public int NextPosition;
        public int Remaining = request.Items.Count;
        public float[]? Buffer;
        public bool Done;
        public Exception? Error;
    }
}
