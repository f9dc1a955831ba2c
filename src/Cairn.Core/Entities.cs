namespace Cairn.Core;

/// <summary>Whether an experiment or run is live or in the trash, as MLflow's <c>lifecycle_stage</c>.</summary>
public static class LifecycleStage
{
    public const string Active = "active";
    public const string Deleted = "deleted";
}

/// <summary>Which lifecycle stages a search includes (MLflow's <c>ViewType</c>).</summary>
public enum ViewType
{
    ActiveOnly = 1,
    DeletedOnly = 2,
    All = 3,
}

/// <summary>The state of a run (MLflow's <c>RunStatus</c>).</summary>
public enum RunStatus
{
    Running = 1,
    Scheduled = 2,
    Finished = 3,
    Failed = 4,
    Killed = 5,
}

/// <summary>A key/value tag on an experiment or run.</summary>
public sealed record Tag(string Key, string Value);

/// <summary>A hyperparameter logged once per run.</summary>
public sealed record Param(string Key, string Value);

/// <summary>One metric point. <see cref="Value"/> may be NaN or ±infinity.</summary>
public sealed record Metric(string Key, double Value, long Timestamp, long Step);

/// <summary>
/// A whole metric history as parallel columns in logging order (NaN and ±infinity kept), for callers
/// that reduce it in memory: three arrays instead of two objects per point.
/// </summary>
public sealed record MetricColumns(long[] Steps, double[] Values, long[] Timestamps)
{
    public int Count => Steps.Length;
}

/// <summary>A metric point with the run it belongs to (bulk history queries).</summary>
public sealed record RunMetric(string RunId, string Key, double Value, long Timestamp, long Step);

/// <summary>A named collection of runs with a shared artifact location.</summary>
public sealed record Experiment(
    string ExperimentId,
    string Name,
    string ArtifactLocation,
    string LifecycleStage,
    long CreationTime,
    long LastUpdateTime,
    IReadOnlyList<Tag> Tags);

/// <summary>A run's metadata (MLflow's <c>RunInfo</c>).</summary>
public sealed record RunInfo(
    string RunId,
    string ExperimentId,
    string RunName,
    string UserId,
    RunStatus Status,
    long StartTime,
    long? EndTime,
    string ArtifactUri,
    string LifecycleStage);

/// <summary>A dataset as MLflow records it: name, digest, where it came from, schema and profile.</summary>
public sealed record Dataset(string Name, string Digest, string SourceType, string Source, string? Schema, string? Profile);

/// <summary>A dataset used by a run, with tags such as <c>mlflow.data.context</c>.</summary>
public sealed record DatasetInput(IReadOnlyList<Tag> Tags, Dataset Dataset);

/// <summary>One dataset an experiment's runs used, in one context (MLflow's <c>DatasetSummary</c>, for the web UI).</summary>
public sealed record DatasetSummary(string ExperimentId, string Name, string Digest, string? Context);

/// <summary>A run: its metadata, its latest metrics, params, tags and dataset inputs.</summary>
public sealed record Run(
    RunInfo Info,
    IReadOnlyList<Metric> Metrics,
    IReadOnlyList<Param> Params,
    IReadOnlyList<Tag> Tags,
    IReadOnlyList<DatasetInput> Inputs);

/// <summary>One page of search results and the token for the next page, if any.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken);

/// <summary>Well-known tag keys MLflow clients and UIs rely on.</summary>
public static class MlflowTags
{
    public const string RunName = "mlflow.runName";
    public const string ParentRunId = "mlflow.parentRunId";
    public const string User = "mlflow.user";
    public const string SourceName = "mlflow.source.name";
    public const string SourceType = "mlflow.source.type";
    public const string LoggedModels = "mlflow.log-model.history";
    public const string DatasetContext = "mlflow.data.context";
}

/// <summary>Conversions between entity enums and MLflow's wire names.</summary>
public static class Names
{
    public static string ToWire(this RunStatus status) => status switch
    {
        RunStatus.Running => "RUNNING",
        RunStatus.Scheduled => "SCHEDULED",
        RunStatus.Finished => "FINISHED",
        RunStatus.Failed => "FAILED",
        RunStatus.Killed => "KILLED",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParseRunStatus(string? text, out RunStatus status)
    {
        status = RunStatus.Running;
        switch (text)
        {
            case "RUNNING": status = RunStatus.Running; return true;
            case "SCHEDULED": status = RunStatus.Scheduled; return true;
            case "FINISHED": status = RunStatus.Finished; return true;
            case "FAILED": status = RunStatus.Failed; return true;
            case "KILLED": status = RunStatus.Killed; return true;
            default: return false;
        }
    }

    /// <summary>MLflow accepts the enum name or its number; anything else falls back to the default.</summary>
    public static ViewType ParseViewType(string? text) => text?.ToUpperInvariant() switch
    {
        "DELETED_ONLY" or "2" => ViewType.DeletedOnly,
        "ALL" or "3" => ViewType.All,
        _ => ViewType.ActiveOnly,
    };
}
