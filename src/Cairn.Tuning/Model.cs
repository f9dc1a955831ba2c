namespace Cairn.Tuning;

/// <summary>Whether the study looks for the lowest or the highest objective value.</summary>
public enum StudyDirection
{
    Minimize,
    Maximize,
}

/// <summary>Where a trial is in its life. Waiting trials were enqueued and not yet claimed by a worker.</summary>
public enum TrialState
{
    Running,
    Complete,
    Pruned,
    Failed,
    Waiting,
}

/// <summary>A study as stored: its id in the storage, name and direction.</summary>
public sealed record StudyInfo(long StudyId, string Name, StudyDirection Direction, DateTimeOffset CreatedAt);

/// <summary>A snapshot of one trial: parameters (internal and user-facing), value, intermediate values and attributes.</summary>
public sealed record FrozenTrial
{
    public required long TrialId { get; init; }
    public required int Number { get; init; }
    public required TrialState State { get; init; }
    public double? Value { get; init; }
    public IReadOnlyDictionary<string, Distribution> Distributions { get; init; } = new Dictionary<string, Distribution>();
    public IReadOnlyDictionary<string, double> InternalParams { get; init; } = new Dictionary<string, double>();
    /// <summary>Reported values by step, in step order.</summary>
    public IReadOnlyDictionary<int, double> IntermediateValues { get; init; } = new SortedDictionary<int, double>();
    public IReadOnlyDictionary<string, string> UserAttrs { get; init; } = new Dictionary<string, string>();
    /// <summary>Attributes the library itself uses (fixed params of enqueued trials, grid ids, retries).</summary>
    public IReadOnlyDictionary<string, string> SystemAttrs { get; init; } = new Dictionary<string, string>();
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Parameters as the objective saw them (double, long, or the categorical choice).</summary>
    public IReadOnlyDictionary<string, object?> Params =>
        InternalParams.ToDictionary(kv => kv.Key, kv => Distributions[kv.Key].ToExternal(kv.Value));

    /// <summary>The last reported step, or null when nothing was reported.</summary>
    public int? LastStep => IntermediateValues.Count == 0 ? null : IntermediateValues.Keys.Max();

    public TimeSpan? Duration => StartedAt is { } s && CompletedAt is { } c ? c - s : null;

    public bool IsFinished => State is TrialState.Complete or TrialState.Pruned or TrialState.Failed;
}

/// <summary>Thrown by an objective (usually after <see cref="Trial.ShouldPrune"/>) to stop the trial early as pruned.</summary>
public sealed class TrialPrunedException : Exception
{
    public TrialPrunedException() : base("Trial was pruned.") { }
    public TrialPrunedException(string message) : base(message) { }
    public TrialPrunedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Hook called around each trial, so tracking (child runs per trial) or stopping rules can be attached
/// without the tuning engine knowing about them. Both members have empty defaults.
/// </summary>
public interface ITrialCallback
{
    ValueTask OnTrialStartedAsync(Study study, FrozenTrial trial, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called after the trial's final state is stored (complete, pruned or failed).</summary>
    ValueTask OnTrialFinishedAsync(Study study, FrozenTrial trial, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
