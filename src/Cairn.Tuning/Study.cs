using System.Diagnostics;
using System.Globalization;
using Cairn.Tuning.Pruners;
using Cairn.Tuning.Samplers;
using Cairn.Tuning.Storage;

namespace Cairn.Tuning;

/// <summary>Settings for sharing a study between processes: heartbeats, stale-trial timeout and retries.</summary>
public sealed record StudyOptions
{
    /// <summary>How often a running trial refreshes its heartbeat (and writes buffered values). Null disables heartbeats.</summary>
    public TimeSpan? HeartbeatInterval { get; init; }

    /// <summary>A running trial whose heartbeat is older than this is failed by the next worker that claims a trial.
    /// Defaults to twice the heartbeat interval.</summary>
    public TimeSpan? GracePeriod { get; init; }

    /// <summary>How many times a trial failed for a stale heartbeat is re-enqueued with the same parameters.</summary>
    public int MaxRetries { get; init; }

    internal TimeSpan? EffectiveGrace => GracePeriod ?? HeartbeatInterval * 2;
}

/// <summary>
/// An optimisation task: a direction, a sampler, a pruner and the storage holding its trials.
/// Several Study objects (threads, processes, machines) with the same name and storage work on one study.
/// </summary>
public sealed class Study
{
    internal const string RetriedFromAttr = "retried_from";
    internal const string RetryCountAttr = "retry_count";

    private readonly Lock _samplerLock = new();
    private readonly Lock _prunerLock = new();
    private readonly SemaphoreSlim _claimLock = new(1, 1);
    // Trials this process is running; the value is null between the claim and the trial object's creation.
    private readonly Dictionary<long, Trial?> _live = [];
    private readonly Lock _liveLock = new();
    private volatile bool _stopRequested;

    private Study(StudyInfo info, ISampler sampler, IPruner pruner, IStudyStorage storage, StudyOptions options)
    {
        Info = info;
        Sampler = sampler;
        Pruner = pruner;
        Storage = storage;
        Options = options;
    }

    public StudyInfo Info { get; }
    public string Name => Info.Name;
    public StudyDirection Direction => Info.Direction;
    public ISampler Sampler { get; }
    public IPruner Pruner { get; }
    public IStudyStorage Storage { get; }
    public StudyOptions Options { get; }

    /// <summary>Called when each trial of this process starts and finishes (tracking, custom stopping rules).</summary>
    public IList<ITrialCallback> Callbacks { get; } = new List<ITrialCallback>();

    /// <summary>Creates a study in memory. Needs no I/O, so it is synchronous.</summary>
    public static Study Create(string? name = null, StudyDirection direction = StudyDirection.Minimize,
        ISampler? sampler = null, IPruner? pruner = null, StudyOptions? options = null) =>
        CreateAsync(name, direction, sampler, pruner, new InMemoryStudyStorage(), options: options).GetAwaiter().GetResult();

    /// <summary>Creates a study in <paramref name="storage"/> (or loads it when <paramref name="loadIfExists"/> and it exists).</summary>
    public static async Task<Study> CreateAsync(string? name = null, StudyDirection direction = StudyDirection.Minimize,
        ISampler? sampler = null, IPruner? pruner = null, IStudyStorage? storage = null, bool loadIfExists = false,
        StudyOptions? options = null, CancellationToken cancellationToken = default)
    {
        storage ??= new InMemoryStudyStorage();
        name ??= "study-" + Guid.NewGuid().ToString("N")[..12];
        var info = await storage.CreateStudyAsync(name, direction, loadIfExists, cancellationToken).ConfigureAwait(false);
        if (info.Direction != direction)
            throw new ArgumentException($"Study '{name}' exists with direction {info.Direction}, not {direction}.");
        return new Study(info, sampler ?? new TpeSampler(), pruner ?? new MedianPruner(), storage, options ?? new StudyOptions());
    }

    /// <summary>Loads an existing study; its direction comes from the storage.</summary>
    public static async Task<Study> LoadAsync(string name, IStudyStorage storage, ISampler? sampler = null, IPruner? pruner = null,
        StudyOptions? options = null, CancellationToken cancellationToken = default)
    {
        var info = await storage.GetStudyAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No study named '{name}' in the storage.");
        return new Study(info, sampler ?? new TpeSampler(), pruner ?? new MedianPruner(), storage, options ?? new StudyOptions());
    }

    /// <summary>Asks the running <see cref="OptimizeAsync(Func{Trial, CancellationToken, Task{double}}, int?, TimeSpan?, int, int?, CancellationToken)"/> to start no more trials.</summary>
    public void Stop() => _stopRequested = true;

    /// <summary>Queues a trial whose parameters (all or some) are fixed; parameters not given are sampled.</summary>
    public async Task<int> EnqueueTrialAsync(IReadOnlyDictionary<string, object?> parameters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var attrs = new Dictionary<string, string> { [Trial.FixedParamsAttr] = Trial.FormatFixed(parameters) };
        var t = await Storage.EnqueueTrialAsync(Info.StudyId, attrs, cancellationToken).ConfigureAwait(false);
        return t.Number;
    }

    /// <summary>Synchronous <see cref="EnqueueTrialAsync"/>, convenient with in-memory storage.</summary>
    public int EnqueueTrial(IReadOnlyDictionary<string, object?> parameters) => EnqueueTrialAsync(parameters).GetAwaiter().GetResult();

    public Task<IReadOnlyList<FrozenTrial>> GetTrialsAsync(CancellationToken cancellationToken = default) =>
        Storage.GetTrialsAsync(Info.StudyId, cancellationToken);

    /// <summary>All trials, read synchronously (immediate for in-memory storage).</summary>
    public IReadOnlyList<FrozenTrial> Trials => GetTrialsAsync().GetAwaiter().GetResult();

    /// <summary>The complete trial with the best value, or null when no trial completed.</summary>
    public async Task<FrozenTrial?> GetBestTrialAsync(CancellationToken cancellationToken = default)
    {
        var trials = await GetTrialsAsync(cancellationToken).ConfigureAwait(false);
        FrozenTrial? best = null;
        foreach (var t in trials)
        {
            if (t.State != TrialState.Complete || t.Value is not { } v) continue;
            if (best is null || (Direction == StudyDirection.Minimize ? v < best.Value!.Value : v > best.Value!.Value)) best = t;
        }
        return best;
    }

    public FrozenTrial BestTrial => GetBestTrialAsync().GetAwaiter().GetResult()
        ?? throw new InvalidOperationException($"Study '{Name}' has no complete trial yet.");
    public double BestValue => BestTrial.Value!.Value;
    public IReadOnlyDictionary<string, object?> BestParams => BestTrial.Params;

    /// <summary>Runs the objective on new trials until <paramref name="nTrials"/> trials ran in this call, the timeout passed,
    /// the study was stopped, or the study as a whole (every process) holds <paramref name="maxTotalTrials"/> trials that did not fail.
    /// An exception in the objective fails that trial and the study goes on; <see cref="TrialPrunedException"/> prunes it.</summary>
    public async Task OptimizeAsync(Func<Trial, CancellationToken, Task<double>> objective, int? nTrials = null, TimeSpan? timeout = null,
        int parallelism = 1, int? maxTotalTrials = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        if (nTrials is < 0) throw new ArgumentOutOfRangeException(nameof(nTrials), "nTrials must be >= 0.");
        _stopRequested = false;
        var clock = Stopwatch.StartNew();
        var started = 0;

        bool MayStart()
        {
            if (_stopRequested || cancellationToken.IsCancellationRequested) return false;
            if (timeout is { } to && clock.Elapsed >= to) return false;
            if (nTrials is { } n && Interlocked.Increment(ref started) > n) return false;
            return true;
        }

        async Task Worker()
        {
            while (MayStart())
            {
                var trial = await AskAsync(maxTotalTrials, cancellationToken).ConfigureAwait(false);
                if (trial is null)
                {
                    if (!await WaitForOthersAsync(maxTotalTrials, cancellationToken).ConfigureAwait(false)) return;
                    if (nTrials is not null) Interlocked.Decrement(ref started);
                    continue;
                }
                await RunTrialAsync(trial, objective, cancellationToken).ConfigureAwait(false);
            }
        }

        if (parallelism == 1) await Worker().ConfigureAwait(false);
        else await Task.WhenAll(Enumerable.Range(0, parallelism).Select(_ => Task.Run(Worker, CancellationToken.None))).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Overload for a synchronous objective. With parallelism 1 it runs on the caller's thread; with more,
    /// each worker runs on the thread pool.</summary>
    public Task OptimizeAsync(Func<Trial, double> objective, int? nTrials = null, TimeSpan? timeout = null,
        int parallelism = 1, int? maxTotalTrials = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objective);
        return OptimizeAsync((t, _) => Task.FromResult(objective(t)), nTrials, timeout, parallelism, maxTotalTrials, cancellationToken);
    }

    /// <summary>Starts a trial (ask-and-tell interface). Returns null when <paramref name="maxTotalTrials"/> is reached.</summary>
    public async Task<Trial?> AskAsync(int? maxTotalTrials = null, CancellationToken cancellationToken = default)
    {
        FrozenTrial? claimed;
        // The stale check and the claim run one at a time per process, so this process never takes a trial it is
        // just claiming (not yet registered as alive) for a dead one.
        await _claimLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Options.HeartbeatInterval is not null)
                await FailStaleTrialsCoreAsync(cancellationToken).ConfigureAwait(false);
            claimed = await Storage.ClaimTrialAsync(Info.StudyId, maxTotalTrials, cancellationToken).ConfigureAwait(false);
            if (claimed is null) return null;
            lock (_liveLock) _live[claimed.TrialId] = null;
        }
        finally
        {
            _claimLock.Release();
        }
        Trial trial;
        try
        {
            var history = MergeLive(await Storage.GetTrialsAsync(Info.StudyId, cancellationToken).ConfigureAwait(false));
            var context = new SamplerContext(Info, history, claimed, Stop, ComparableTrials(claimed));
            var relative = WithSampler(s =>
            {
                s.BeforeTrial(context);
                return s.SampleRelative(context);
            });
            trial = new Trial(this, claimed, context, relative);
            lock (_liveLock) _live[trial.TrialId] = trial;
            // Attributes chosen before sampling (a grid point) are written at once so other processes skip that point.
            if (context.NewSystemAttrs.Count > 0)
                await trial.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A claimed trial must not stay running when starting it failed (a sampler error, a lost connection).
            lock (_liveLock) _live.Remove(claimed.TrialId);
            await Storage.FinishTrialAsync(claimed.TrialId, TrialState.Failed, null, TrialProgress.Empty, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        foreach (var cb in Callbacks)
            await cb.OnTrialStartedAsync(this, trial.Snapshot(TrialState.Running, null), cancellationToken).ConfigureAwait(false);
        return trial;
    }

    /// <summary>Finishes a trial started by <see cref="AskAsync"/>. A complete trial needs a finite value; otherwise it is stored as failed.</summary>
    public async Task<FrozenTrial> TellAsync(Trial trial, TrialState state, double? value = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trial);
        if (state is TrialState.Running or TrialState.Waiting)
            throw new ArgumentException($"A trial can only be told Complete, Pruned or Failed, not {state}.");
        if (state == TrialState.Complete && (value is null || double.IsNaN(value.Value)))
            state = TrialState.Failed;
        if (state == TrialState.Pruned)
        {
            // Like Optuna: a pruned trial's value is its last reported value, so it can still be compared.
            var snap = trial.Snapshot(state, null);
            value = snap.LastStep is { } last ? snap.IntermediateValues[last] : null;
        }
        if (state == TrialState.Failed) value = null;
        bool stored;
        try
        {
            stored = await Storage.FinishTrialAsync(trial.TrialId, state, value, trial.TakePending(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Removed only now: until its final state is stored, this process vouches that the trial is alive.
            lock (_liveLock) _live.Remove(trial.TrialId);
        }
        // The stored end time comes from the database clock; callbacks get this process's clock rather than a second read.
        var final = stored ? trial.Snapshot(state, value) with { CompletedAt = DateTimeOffset.UtcNow }
            : (await Storage.GetTrialAsync(trial.TrialId, cancellationToken).ConfigureAwait(false))!;
        // The history is read again only if the sampler looks at it (the grid sampler checks whether it is exhausted).
        var after = new SamplerContext(Info, () => Storage.GetTrialsAsync(Info.StudyId, CancellationToken.None).GetAwaiter().GetResult(), final, Stop);
        WithSampler(s => { s.AfterTrial(after, final.State, final.Value); return 0; });
        foreach (var cb in Callbacks)
            await cb.OnTrialFinishedAsync(this, final, cancellationToken).ConfigureAwait(false);
        return final;
    }

    /// <summary>Fails running trials whose heartbeat stopped and re-enqueues them when retries are allowed.
    /// Trials this process is running are never failed.</summary>
    public async Task<IReadOnlyList<FrozenTrial>> FailStaleTrialsAsync(CancellationToken cancellationToken = default)
    {
        await _claimLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await FailStaleTrialsCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _claimLock.Release();
        }
    }

    private async Task<IReadOnlyList<FrozenTrial>> FailStaleTrialsCoreAsync(CancellationToken cancellationToken)
    {
        if (Options.EffectiveGrace is not { } grace) return [];
        long[] alive;
        lock (_liveLock) alive = _live.Keys.ToArray();
        var failed = await Storage.FailStaleTrialsAsync(Info.StudyId, grace, alive, cancellationToken).ConfigureAwait(false);
        foreach (var t in failed)
        {
            var count = t.SystemAttrs.TryGetValue(RetryCountAttr, out var c) ? int.Parse(c, CultureInfo.InvariantCulture) : 0;
            if (count >= Options.MaxRetries) continue;
            var attrs = new Dictionary<string, string>
            {
                [Trial.FixedParamsAttr] = Trial.FormatFixed(t.Params),
                [RetriedFromAttr] = t.Number.ToString(CultureInfo.InvariantCulture),
                [RetryCountAttr] = (count + 1).ToString(CultureInfo.InvariantCulture),
            };
            await Storage.EnqueueTrialAsync(Info.StudyId, attrs, cancellationToken).ConfigureAwait(false);
        }
        return failed;
    }

    // Pruners keep state (Hyperband's brackets, the estimated minimum resource), so calls are serialised like the sampler's.
    internal bool Prune(PruningContext context)
    {
        lock (_prunerLock) return Pruner.Prune(context);
    }

    private Func<IReadOnlyList<FrozenTrial>, IReadOnlyList<FrozenTrial>> ComparableTrials(FrozenTrial trial) => trials =>
    {
        lock (_prunerLock) return Pruner.TrialsForSampling(Info, trial, trials);
    };

    internal T WithSampler<T>(Func<ISampler, T> action)
    {
        lock (_samplerLock) return action(Sampler);
    }

    private async Task RunTrialAsync(Trial trial, Func<Trial, CancellationToken, Task<double>> objective, CancellationToken cancellationToken)
    {
        using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var heartbeat = Options.HeartbeatInterval is { } interval ? HeartbeatAsync(trial, interval, heartbeatStop.Token) : Task.CompletedTask;
        TrialState state;
        double? value = null;
        try
        {
            value = await objective(trial, cancellationToken).ConfigureAwait(false);
            state = double.IsNaN(value.Value) ? TrialState.Failed : TrialState.Complete;
        }
        catch (TrialPrunedException)
        {
            state = TrialState.Pruned;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            state = TrialState.Failed;
        }
        catch (Exception e)
        {
            state = TrialState.Failed;
            trial.SetUserAttr("fail_reason", e.GetType().Name + ": " + e.Message);
        }
        await heartbeatStop.CancelAsync().ConfigureAwait(false);
        try { await heartbeat.ConfigureAwait(false); } catch (OperationCanceledException) { }
        // The final write must happen even when the caller cancelled, or the trial would stay running.
        await TellAsync(trial, state, value, CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task HeartbeatAsync(Trial trial, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await trial.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A missed heartbeat (database briefly unreachable) must not end the trial; if heartbeats stay
                // missing for the grace period, another worker fails the trial, which is the intended outcome.
            }
        }
    }

    /// <summary>When the study-wide budget is used up, trials of other workers may still be running; if one of them dies,
    /// its slot frees up after the grace period. Waits for that (only with heartbeats) and says whether to try again.</summary>
    private async Task<bool> WaitForOthersAsync(int? maxTotalTrials, CancellationToken cancellationToken)
    {
        if (maxTotalTrials is null || Options.HeartbeatInterval is not { } interval) return false;
        while (!cancellationToken.IsCancellationRequested && !_stopRequested)
        {
            var trials = await GetTrialsAsync(cancellationToken).ConfigureAwait(false);
            if (trials.Any(t => t.State == TrialState.Waiting)) return true;
            if (trials.Count(t => t.State != TrialState.Failed) < maxTotalTrials) return true;
            bool othersRunning;
            lock (_liveLock) othersRunning = trials.Any(t => t.State == TrialState.Running && !_live.ContainsKey(t.TrialId));
            if (!othersRunning) return false;
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            if ((await FailStaleTrialsAsync(cancellationToken).ConfigureAwait(false)).Count > 0) return true;
        }
        return false;
    }

    private IReadOnlyList<FrozenTrial> MergeLive(IReadOnlyList<FrozenTrial> history)
    {
        lock (_liveLock)
        {
            if (_live.Count == 0) return history;
            var merged = new FrozenTrial[history.Count];
            for (var i = 0; i < history.Count; i++)
            {
                var t = history[i];
                merged[i] = t.State == TrialState.Running && _live.TryGetValue(t.TrialId, out var live) && live is not null ? live.Snapshot(TrialState.Running, null) : t;
            }
            return merged;
        }
    }

    /// <summary>Writes all trials as CSV: number, state, value, start, end, duration, then one column per parameter and user attribute.</summary>
    public async Task WriteCsvAsync(TextWriter writer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var trials = await GetTrialsAsync(cancellationToken).ConfigureAwait(false);
        var paramNames = trials.SelectMany(t => t.InternalParams.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        var attrNames = trials.SelectMany(t => t.UserAttrs.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        var header = new List<string> { "number", "state", "value", "datetime_start", "datetime_complete", "duration_seconds" };
        header.AddRange(paramNames.Select(p => "params_" + p));
        header.AddRange(attrNames.Select(a => "user_attrs_" + a));
        await writer.WriteLineAsync(string.Join(',', header.Select(Csv))).ConfigureAwait(false);
        foreach (var t in trials)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var row = new List<string>
            {
                t.Number.ToString(CultureInfo.InvariantCulture), t.State.ToString().ToUpperInvariant(),
                Format(t.Value), t.StartedAt?.ToString("O", CultureInfo.InvariantCulture) ?? "",
                t.CompletedAt?.ToString("O", CultureInfo.InvariantCulture) ?? "",
                t.Duration is { } d ? d.TotalSeconds.ToString("R", CultureInfo.InvariantCulture) : "",
            };
            var ps = t.Params;
            row.AddRange(paramNames.Select(p => ps.TryGetValue(p, out var v) ? Format(v) : ""));
            row.AddRange(attrNames.Select(a => t.UserAttrs.TryGetValue(a, out var v) ? v : ""));
            await writer.WriteLineAsync(string.Join(',', row.Select(Csv))).ConfigureAwait(false);
        }
    }

    public async Task<string> ToCsvAsync(CancellationToken cancellationToken = default)
    {
        using var sw = new StringWriter(CultureInfo.InvariantCulture);
        await WriteCsvAsync(sw, cancellationToken).ConfigureAwait(false);
        return sw.ToString();
    }

    private static string Format(object? v) => v switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string Csv(string s) =>
        s.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
