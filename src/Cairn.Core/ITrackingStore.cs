namespace Cairn.Core;

/// <summary>What a run search asks for; <see cref="Filter"/> and <see cref="OrderBy"/> use MLflow's search language.</summary>
public sealed record RunSearchQuery(
    IReadOnlyList<string> ExperimentIds,
    string? Filter = null,
    ViewType ViewType = ViewType.ActiveOnly,
    int MaxResults = 1000,
    IReadOnlyList<string>? OrderBy = null,
    string? PageToken = null);

/// <summary>What an experiment search asks for.</summary>
public sealed record ExperimentSearchQuery(
    string? Filter = null,
    ViewType ViewType = ViewType.ActiveOnly,
    int MaxResults = 1000,
    IReadOnlyList<string>? OrderBy = null,
    string? PageToken = null);

/// <summary>A metric point with its position in the run's logging order (for paging).</summary>
public readonly record struct SequencedMetric(long Sequence, Metric Metric);

/// <summary>The fields of a new run; absent values get MLflow's defaults.</summary>
public sealed record NewRun(
    string ExperimentId,
    string? UserId,
    long? StartTime,
    string? RunName,
    IReadOnlyList<Tag> Tags);

/// <summary>
/// Experiments, runs and their metrics, params, tags and inputs (MLflow's tracking store).
/// Every write is all-or-nothing: a rejected call leaves no trace. Failures are
/// <see cref="MlflowException"/>s carrying MLflow's error code.
/// </summary>
public interface ITrackingStore : IAsyncDisposable
{
    Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<Tag> tags, CancellationToken ct = default);

    Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken ct = default);

    Task<Experiment> GetExperimentByNameAsync(string name, CancellationToken ct = default);

    Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchQuery query, CancellationToken ct = default);

    Task RenameExperimentAsync(string experimentId, string newName, CancellationToken ct = default);

    Task DeleteExperimentAsync(string experimentId, CancellationToken ct = default);

    Task RestoreExperimentAsync(string experimentId, CancellationToken ct = default);

    Task SetExperimentTagAsync(string experimentId, Tag tag, CancellationToken ct = default);

    Task<Run> CreateRunAsync(NewRun run, CancellationToken ct = default);

    Task<Run> GetRunAsync(string runId, CancellationToken ct = default);

    /// <summary>Changes status, end time and/or name; a null leaves that field as it is.</summary>
    Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken ct = default);

    Task DeleteRunAsync(string runId, CancellationToken ct = default);

    Task RestoreRunAsync(string runId, CancellationToken ct = default);

    /// <summary>Logs metrics, params and tags atomically: either all are stored or none.</summary>
    Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags, CancellationToken ct = default);

    Task DeleteTagAsync(string runId, string key, CancellationToken ct = default);

    Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> inputs, CancellationToken ct = default);

    Task<Page<Run>> SearchRunsAsync(RunSearchQuery query, CancellationToken ct = default);

    /// <summary>The distinct (dataset, context) pairs logged to runs of these experiments, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<DatasetSummary>> SearchDatasetsAsync(IReadOnlyList<string> experimentIds, int limit, CancellationToken ct = default);

    /// <summary>
    /// Points of one metric of one run in logging order, after <paramref name="afterSequence"/>,
    /// at most <paramref name="limit"/>, streamed so memory stays flat whatever the history size.
    /// </summary>
    IAsyncEnumerable<SequencedMetric> GetMetricHistoryAsync(string runId, string key, long afterSequence, int limit, CancellationToken ct = default);

    /// <summary>
    /// The whole history of one metric of one run, in logging order, as columns. Stores that can
    /// read it without a per-point object override this; the default drains <see cref="GetMetricHistoryAsync"/>.
    /// </summary>
    async Task<MetricColumns> GetMetricColumnsAsync(string runId, string key, CancellationToken ct = default)
    {
        var steps = new List<long>();
        var values = new List<double>();
        var timestamps = new List<long>();
        await foreach (var point in GetMetricHistoryAsync(runId, key, long.MinValue, int.MaxValue, ct).ConfigureAwait(false))
        {
            steps.Add(point.Metric.Step);
            values.Add(point.Metric.Value);
            timestamps.Add(point.Metric.Timestamp);
        }

        return new MetricColumns([.. steps], [.. values], [.. timestamps]);
    }

    /// <summary>
    /// Up to about <paramref name="maxResults"/> steps of a metric per run, evenly spread over the
    /// step range, always including each run's first and last step (MLflow's bulk-interval sampling).
    /// </summary>
    Task<IReadOnlyList<RunMetric>> GetMetricHistoryBulkIntervalAsync(
        IReadOnlyList<string> runIds, string key, long? startStep, long? endStep, int maxResults, CancellationToken ct = default);
}
