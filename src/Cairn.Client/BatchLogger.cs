using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Cairn.Client.Rest;
using Cairn.Core;

namespace Cairn.Client;

/// <summary>How a run's background logger batches, buffers and retries.</summary>
public sealed record BatchLoggerOptions
{
    /// <summary>Calls buffered before a caller waits (back-pressure; nothing is ever dropped to make room).</summary>
    public int Capacity { get; init; } = 200_000;

    /// <summary>How long a batch keeps being retried while the server is unreachable or failing with 5xx/429.</summary>
    public TimeSpan TransientRetryLimit { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>First pause between retries of a batch; doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Metrics, params and tags that failed to reach the server: a rejection (4xx) or transient failures
/// that outlasted <see cref="BatchLoggerOptions.TransientRetryLimit"/>. The first cause is the inner exception.
/// </summary>
public sealed class BatchLoggingException(string message, IReadOnlyList<Exception> errors, long lostItems)
    : Exception(message, errors.Count > 0 ? errors[0] : null)
{
    public IReadOnlyList<Exception> Errors { get; } = errors;

    /// <summary>Metrics, params and tags that were not stored.</summary>
    public long LostItems { get; } = lostItems;
}

/// <summary>
/// Queues a run's metrics, params and tags and sends them in the background with log-batch (at
/// most 1000 metrics, 100 params, 100 tags per request), one request at a time so every key keeps
/// its logging order, while the next request is being built. Logging calls return at once; when the buffer is full they wait
/// (back-pressure) instead of dropping. Transient failures are retried until the server is back,
/// without duplicating a batch the server may already have applied; rejections (4xx) are kept and
/// thrown from the next <see cref="FlushAsync"/>.
/// </summary>
public sealed class BatchLogger : IAsyncDisposable
{
    private enum Kind : byte
    {
        Metric,
        Param,
        Tag,
        Flush,
    }

    private readonly record struct Item(Kind Kind, string Key, object? Payload, double Value, long Timestamp, long Step);

    /// <summary>One log-batch request (serialized ahead when the store is REST), or a flush marker.</summary>
    private sealed record Batch(List<Metric> Metrics, List<Param> Params, List<Tag> Tags, PreparedLogBatch? Prepared, TaskCompletionSource? Flushed);

    private readonly ITrackingStore _store;

    /// <summary>The store when it is REST: batches are then serialized ahead, while the previous one is in flight.</summary>
    private readonly RestTrackingStore? _rest;
    private readonly string _runId;
    private readonly BatchLoggerOptions _options;
    private readonly Channel<Item> _channel;
    private readonly Channel<Batch> _batches = Channel.CreateBounded<Batch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
    private readonly Task _pump;
    private readonly ConcurrentQueue<Exception> _failures = new();
    private readonly ConcurrentDictionary<string, byte> _validKeys = new(StringComparer.Ordinal);
    private long _lost;
    private long _sentItems;
    private long _requests;
    private long _retries;
    private long _verified;
    private int _disposed;

    internal BatchLogger(ITrackingStore store, string runId, BatchLoggerOptions? options = null)
    {
        _store = store;
        _rest = store as RestTrackingStore;
        _runId = runId;
        _options = options ?? new BatchLoggerOptions();
        _channel = Channel.CreateBounded<Item>(new BoundedChannelOptions(Math.Max(_options.Capacity, 16))
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });

        // The pump must not inherit the run's async-local state (the active run, failure tracking).
        using (ExecutionContext.SuppressFlow())
        {
            _pump = Task.WhenAll(Task.Run(PumpAsync), Task.Run(SendLoopAsync));
        }
    }

    /// <summary>Items the server has stored so far.</summary>
    public long SentItems => Interlocked.Read(ref _sentItems);

    /// <summary>log-batch requests that succeeded.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Times a batch was retried after a transient failure.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Batches found already stored after their answer was lost (so not sent again).</summary>
    public long RecoveredWithoutResend => Interlocked.Read(ref _verified);

    public void LogMetric(string key, double value, long timestamp, long step)
    {
        CheckKey(key, "Metric name");
        Write(new Item(Kind.Metric, key, null, value, timestamp, step));
    }

    /// <summary>As <see cref="LogMetric"/>, but waits asynchronously when the buffer is full.</summary>
    public ValueTask LogMetricAsync(string key, double value, long timestamp, long step, CancellationToken ct = default)
    {
        CheckKey(key, "Metric name");
        var item = new Item(Kind.Metric, key, null, value, timestamp, step);
        return _channel.Writer.TryWrite(item) ? default : WriteSlowAsync(item, ct);
    }

    public void LogParam(string key, string value)
    {
        CheckKey(key, "Param key");
        Validation.ValidateParamValue(new Param(key, value));
        Write(new Item(Kind.Param, key, value, 0, 0, 0));
    }

    public void SetTag(string key, string value)
    {
        CheckKey(key, "Tag key");
        Write(new Item(Kind.Tag, key, value, 0, 0, 0));
    }

    /// <summary>
    /// Waits until everything logged before this call is stored, then throws a
    /// <see cref="BatchLoggingException"/> if anything was lost since the last flush.
    /// </summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Volatile.Read(ref _disposed) == 0)
        {
            try
            {
                await _channel.Writer.WriteAsync(new Item(Kind.Flush, "", done, 0, 0, 0), ct).ConfigureAwait(false);
                await done.Task.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                await _pump.WaitAsync(ct).ConfigureAwait(false);
            }
        }
        else
        {
            await _pump.WaitAsync(ct).ConfigureAwait(false);
        }

        ThrowFailures();
    }

    public void Flush() => FlushAsync().GetAwaiter().GetResult();

    private void ThrowFailures()
    {
        if (_failures.IsEmpty)
        {
            return;
        }

        var errors = new List<Exception>();
        while (_failures.TryDequeue(out var e))
        {
            errors.Add(e);
        }

        var lost = Interlocked.Exchange(ref _lost, 0);
        throw new BatchLoggingException(
            $"{lost} logged item(s) of run {_runId} were not stored: {errors[0].Message}", errors, lost);
    }

    private void CheckKey(string key, string what)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_validKeys.ContainsKey(key))
        {
            return;
        }

        Validation.ValidateKey(key, what, "key");
        if (_validKeys.Count < 10_000)
        {
            _validKeys.TryAdd(key, 0);
        }
    }

    private void Write(in Item item)
    {
        if (!_channel.Writer.TryWrite(item))
        {
            WriteSlowAsync(item, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
    }

    private async ValueTask WriteSlowAsync(Item item, CancellationToken ct)
    {
        try
        {
            await _channel.Writer.WriteAsync(item, ct).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"Run {_runId} has ended; nothing more can be logged to it through this logger.");
        }
    }

    // ------------------------------------------------------------ the pump

    // Two stages: the pump turns queued calls into batches (serializing each when the store is
    // REST) while the sender has the previous batch in flight. The sender sends one batch at a
    // time, in order, so every key keeps its logging order; client and server work side by side.

    private async Task PumpAsync()
    {
        try
        {
            await PumpCoreAsync().ConfigureAwait(false);
            _batches.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            // A bug here must not hang flushes: report it and release every waiting flush.
            _failures.Enqueue(ex);
            _batches.Writer.TryComplete(ex);
            _channel.Writer.TryComplete(ex);
            while (_channel.Reader.TryRead(out var item))
            {
                if (item.Payload is TaskCompletionSource done)
                {
                    done.TrySetResult();
                }
                else
                {
                    Interlocked.Increment(ref _lost);
                }
            }
        }
    }

    private async Task PumpCoreAsync()
    {
        var reader = _channel.Reader;
        var metrics = new List<Metric>(Validation.MaxBatchMetrics);
        var @params = new List<Param>();
        var tags = new List<Tag>();
        var paramKeys = new HashSet<string>(StringComparer.Ordinal);
        var tagIndex = new Dictionary<string, int>(StringComparer.Ordinal);

        async Task SendAsync()
        {
            if (metrics.Count + @params.Count + tags.Count == 0)
            {
                return;
            }

            var prepared = _rest is null ? null : RestTrackingStore.PrepareLogBatch(_runId, metrics, @params, tags);
            await _batches.Writer.WriteAsync(new Batch(metrics, @params, tags, prepared, null)).ConfigureAwait(false);
            metrics = new List<Metric>(Validation.MaxBatchMetrics);
            @params = [];
            tags = [];
            paramKeys.Clear();
            tagIndex.Clear();
        }

        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                switch (item.Kind)
                {
                    case Kind.Metric:
                        metrics.Add(new Metric(item.Key, item.Value, item.Timestamp, item.Step));
                        break;
                    case Kind.Param:
                        if (!paramKeys.Add(item.Key))
                        {
                            // MLflow rejects a batch that names a param twice; the second one goes in the next batch.
                            await SendAsync().ConfigureAwait(false);
                            paramKeys.Add(item.Key);
                        }

                        @params.Add(new Param(item.Key, (string)item.Payload!));
                        break;
                    case Kind.Tag:
                        if (tagIndex.TryGetValue(item.Key, out var at))
                        {
                            tags[at] = new Tag(item.Key, (string)item.Payload!);
                        }
                        else
                        {
                            tagIndex[item.Key] = tags.Count;
                            tags.Add(new Tag(item.Key, (string)item.Payload!));
                        }

                        break;
                    case Kind.Flush:
                        await SendAsync().ConfigureAwait(false);
                        await _batches.Writer.WriteAsync(new Batch([], [], [], null, (TaskCompletionSource)item.Payload!)).ConfigureAwait(false);
                        continue;
                }

                if (metrics.Count == Validation.MaxBatchMetrics || @params.Count == Validation.MaxBatchParams || tags.Count == Validation.MaxBatchTags
                    || metrics.Count + @params.Count + tags.Count == Validation.MaxBatchEntities)
                {
                    await SendAsync().ConfigureAwait(false);
                }
            }

            await SendAsync().ConfigureAwait(false);
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var batch in _batches.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (batch.Flushed is { } flushed)
                {
                    flushed.TrySetResult();
                }
                else
                {
                    await SendWithRecoveryAsync(batch).ConfigureAwait(false);
                }
            }
        }
        catch (Exception) when (_batches.Reader.Completion.IsFaulted)
        {
            // The pump failed: it has reported why and released the flushes it held.
        }
    }

    private async Task SendWithRecoveryAsync(Batch batch)
    {
        var (metrics, @params, tags) = (batch.Metrics, batch.Params, batch.Tags);
        var count = metrics.Count + @params.Count + tags.Count;
        var delay = _options.RetryDelay;
        var clock = Stopwatch.StartNew();
        var maybeApplied = false;
        while (true)
        {
            try
            {
                if (maybeApplied && metrics.Count > 0 && await IsAppliedAsync(metrics).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref _verified);
                    break;
                }

                await (batch.Prepared is { } prepared
                    ? _rest!.SendLogBatchAsync(prepared)
                    : _store.LogBatchAsync(_runId, metrics, @params, tags)).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (MlflowErrors.IsTransient(ex) && clock.Elapsed < _options.TransientRetryLimit)
            {
                maybeApplied |= ex is TrackingUnavailableException { OutcomeUnknown: true };
                Interlocked.Increment(ref _retries);
                await Task.Delay(delay).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
            catch (Exception ex)
            {
                _failures.Enqueue(ex);
                Interlocked.Add(ref _lost, count);
                return;
            }
        }

        Interlocked.Add(ref _sentItems, count);
        Interlocked.Increment(ref _requests);
    }

    /// <summary>
    /// After a request whose answer was lost: whether the server stored the batch anyway. Batches are
    /// atomic and sent one at a time, so it did exactly when the history of the batch's last key ends
    /// with the batch's points of that key.
    /// </summary>
    private async Task<bool> IsAppliedAsync(List<Metric> metrics)
    {
        var key = metrics[^1].Key;
        var mine = metrics.Where(m => m.Key == key).ToList();
        var tail = new Queue<Metric>(mine.Count + 1);
        await foreach (var p in _store.GetMetricHistoryAsync(_runId, key, long.MinValue, int.MaxValue).ConfigureAwait(false))
        {
            tail.Enqueue(p.Metric);
            if (tail.Count > mine.Count)
            {
                tail.Dequeue();
            }
        }

        return tail.Count == mine.Count && tail.Zip(mine).All(pair => SamePoint(pair.First, pair.Second));
    }

    private static bool SamePoint(Metric stored, Metric sent) =>
        stored.Key == sent.Key && stored.Step == sent.Step && stored.Timestamp == sent.Timestamp
        && (stored.Value.Equals(sent.Value) || (double.IsInfinity(sent.Value) && Math.Abs(stored.Value) == double.MaxValue && Math.Sign(stored.Value) == Math.Sign(sent.Value)));

    /// <summary>Sends what is queued, stops the pump and throws if anything was lost.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _channel.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
        ThrowFailures();
    }
}
