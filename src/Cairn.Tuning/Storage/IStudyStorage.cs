namespace Cairn.Tuning.Storage;

/// <summary>
/// Where studies and trials live. Every worker of a study (threads or OS processes) goes through one
/// storage, so trial numbers, enqueued trials and stale-trial detection are decided here, atomically.
/// </summary>
public interface IStudyStorage : IAsyncDisposable
{
    Task<StudyInfo> CreateStudyAsync(string name, StudyDirection direction, bool loadIfExists, CancellationToken cancellationToken = default);

    Task<StudyInfo?> GetStudyAsync(string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<StudyInfo>> ListStudiesAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds a waiting trial with its number already assigned; a later claim takes it exactly once.</summary>
    Task<FrozenTrial> EnqueueTrialAsync(long studyId, IReadOnlyDictionary<string, string> systemAttrs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Atomically takes the oldest waiting trial, or creates a running trial with the next number.
    /// When <paramref name="maxTrials"/> is set and the study already holds that many trials that did not fail,
    /// no new trial is created and null is returned (waiting trials are still handed out).
    /// </summary>
    Task<FrozenTrial?> ClaimTrialAsync(long studyId, int? maxTrials, CancellationToken cancellationToken = default);

    /// <summary>Writes parameters and intermediate values gathered since the last write, and refreshes the heartbeat.</summary>
    Task WriteTrialProgressAsync(long trialId, TrialProgress progress, CancellationToken cancellationToken = default);

    /// <summary>Stores the final state. Returns false (and changes nothing) when the trial is no longer running,
    /// e.g. because another worker failed it as stale.</summary>
    Task<bool> FinishTrialAsync(long trialId, TrialState state, double? value, TrialProgress progress, CancellationToken cancellationToken = default);

    /// <summary>Fails running trials whose heartbeat is older than <paramref name="timeout"/>, except <paramref name="aliveTrialIds"/>
    /// (the caller's own running trials, which it knows are alive); returns the trials it failed.</summary>
    Task<IReadOnlyList<FrozenTrial>> FailStaleTrialsAsync(long studyId, TimeSpan timeout, IReadOnlyCollection<long>? aliveTrialIds = null, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<FrozenTrial>> GetTrialsAsync(long studyId, CancellationToken cancellationToken = default);

    Task<FrozenTrial?> GetTrialAsync(long trialId, CancellationToken cancellationToken = default);
}

/// <summary>Writes a running trial has not stored yet. Parameters never change once set, so writes are idempotent.</summary>
public sealed record TrialProgress(
    IReadOnlyList<(string Name, Distribution Distribution, double InternalValue)> Params,
    IReadOnlyList<(int Step, double Value)> IntermediateValues,
    IReadOnlyList<(string Key, string Value)> UserAttrs,
    IReadOnlyList<(string Key, string Value)> SystemAttrs)
{
    public static TrialProgress Empty { get; } = new([], [], [], []);

    public bool IsEmpty => Params.Count == 0 && IntermediateValues.Count == 0 && UserAttrs.Count == 0 && SystemAttrs.Count == 0;
}
