namespace Cairn.Client;

/// <summary>What a new run looks like: where it goes, its name and tags, and what is logged automatically.</summary>
public sealed record RunOptions
{
    /// <summary>Experiment by name, created if missing. Ignored when <see cref="ExperimentId"/> is set.</summary>
    public string? ExperimentName { get; init; }

    public string? ExperimentId { get; init; }

    /// <summary>The run's name; the server picks one when null.</summary>
    public string? RunName { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Free text shown as the run's description (<c>mlflow.note.content</c>).</summary>
    public string? Description { get; init; }

    /// <summary>
    /// Whether the run is a child of the run active in this async flow: null (default) nests when a
    /// run is active, false always starts a top-level run, true requires an active (or
    /// <see cref="ParentRunId"/>) parent.
    /// </summary>
    public bool? Nested { get; init; }

    /// <summary>An explicit parent run id (sets <c>mlflow.parentRunId</c>).</summary>
    public string? ParentRunId { get; init; }

    /// <summary>Overrides <c>mlflow.user</c> (default: the OS user).</summary>
    public string? UserId { get; init; }

    /// <summary>Log the calling source file, git commit/branch/dirty/diff and the entry assembly (default on).</summary>
    public bool LogLineage { get; init; } = true;

    /// <summary>Sample CPU, memory, disk and network as <c>system/...</c> metrics (default off).</summary>
    public bool LogSystemMetrics { get; init; }

    public TimeSpan SystemMetricsInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Buffering and retry of the run's background logger.</summary>
    public BatchLoggerOptions? Logger { get; init; }
}
