using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Artifacts;
using static Cairn.Client.Rest.WireJson;

namespace Cairn.Client.Rest;

/// <summary>
/// <see cref="ITrackingStore"/> over MLflow's REST API (<c>/api/2.0/mlflow/...</c>), so the same code
/// logs to a Cairn server, a stock MLflow server or, through another store, to a database in-process.
/// Errors come back as <see cref="MlflowException"/> with the server's error code.
/// </summary>
public sealed class RestTrackingStore : ITrackingStore
{
    private readonly MlflowHttp _http;

    public RestTrackingStore(Uri trackingUri, RestOptions? options = null)
    {
        if (trackingUri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"The REST store needs an http(s) URI, not '{trackingUri}'.", nameof(trackingUri));
        }

        _http = new MlflowHttp(trackingUri, options ?? new RestOptions());
    }

    public RestTrackingStore(string trackingUri, RestOptions? options = null)
        : this(new Uri(trackingUri), options)
    {
    }

    /// <summary>The server's base address (always ending in '/').</summary>
    public Uri BaseUri => _http.BaseUri;

    internal MlflowHttp Http => _http;

    // ------------------------------------------------------------ experiments

    public async Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<Tag> tags, CancellationToken ct = default)
    {
        using var doc = await _http.PostJsonAsync("experiments/create", w =>
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            if (artifactLocation is not null)
            {
                w.WriteString("artifact_location", artifactLocation);
            }

            WriteTags(w, tags);
            w.WriteEndObject();
        }, ct).ConfigureAwait(false);
        return Str(doc.RootElement, "experiment_id");
    }

    public async Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken ct = default)
    {
        using var doc = await _http.GetJsonAsync("experiments/get?experiment_id=" + Esc(experimentId), ct).ConfigureAwait(false);
        return Experiment(doc.RootElement.GetProperty("experiment"));
    }

    public async Task<Experiment> GetExperimentByNameAsync(string name, CancellationToken ct = default)
    {
        using var doc = await _http.GetJsonAsync("experiments/get-by-name?experiment_name=" + Esc(name), ct).ConfigureAwait(false);
        return Experiment(doc.RootElement.GetProperty("experiment"));
    }

    public async Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchQuery query, CancellationToken ct = default)
    {
        using var doc = await _http.PostJsonAsync("experiments/search", w =>
        {
            w.WriteStartObject();
            w.WriteNumber("max_results", query.MaxResults);
            if (query.Filter is not null)
            {
                w.WriteString("filter", query.Filter);
            }

            WriteStrings(w, "order_by", query.OrderBy);
            if (query.PageToken is not null)
            {
                w.WriteString("page_token", query.PageToken);
            }

            if (query.ViewType != ViewType.ActiveOnly)
            {
                w.WriteString("view_type", ViewTypeName(query.ViewType));
            }

            w.WriteEndObject();
        }, ct).ConfigureAwait(false);
        return new Page<Experiment>(Array(doc.RootElement, "experiments").Select(Experiment).ToList(), OptStr(doc.RootElement, "next_page_token"));
    }

    public Task RenameExperimentAsync(string experimentId, string newName, CancellationToken ct = default) =>
        PostAsync("experiments/update", w =>
        {
            w.WriteString("experiment_id", experimentId);
            w.WriteString("new_name", newName);
        }, ct);

    public Task DeleteExperimentAsync(string experimentId, CancellationToken ct = default) =>
        PostAsync("experiments/delete", w => w.WriteString("experiment_id", experimentId), ct);

    public Task RestoreExperimentAsync(string experimentId, CancellationToken ct = default) =>
        PostAsync("experiments/restore", w => w.WriteString("experiment_id", experimentId), ct);

    public Task SetExperimentTagAsync(string experimentId, Tag tag, CancellationToken ct = default) =>
        PostAsync("experiments/set-experiment-tag", w =>
        {
            w.WriteString("experiment_id", experimentId);
            w.WriteString("key", tag.Key);
            w.WriteString("value", tag.Value);
        }, ct);

    // ------------------------------------------------------------ runs

    public async Task<Run> CreateRunAsync(NewRun run, CancellationToken ct = default)
    {
        using var doc = await _http.PostJsonAsync("runs/create", w =>
        {
            w.WriteStartObject();
            w.WriteString("experiment_id", run.ExperimentId);
            if (run.UserId is not null)
            {
                w.WriteString("user_id", run.UserId);
            }

            if (run.StartTime is { } start)
            {
                w.WriteNumber("start_time", start);
            }

            if (run.RunName is not null)
            {
                w.WriteString("run_name", run.RunName);
            }

            WriteTags(w, run.Tags);
            w.WriteEndObject();
        }, ct).ConfigureAwait(false);
        return Run(doc.RootElement.GetProperty("run"));
    }

    public async Task<Run> GetRunAsync(string runId, CancellationToken ct = default)
    {
        using var doc = await _http.GetJsonAsync("runs/get?run_id=" + Esc(runId), ct).ConfigureAwait(false);
        return Run(doc.RootElement.GetProperty("run"));
    }

    public async Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken ct = default)
    {
        using var doc = await _http.PostJsonAsync("runs/update", w =>
        {
            w.WriteStartObject();
            w.WriteString("run_id", runId);
            if (status is { } s)
            {
                w.WriteString("status", s.ToWire());
            }

            if (endTime is { } end)
            {
                w.WriteNumber("end_time", end);
            }

            if (runName is not null)
            {
                w.WriteString("run_name", runName);
            }

            w.WriteEndObject();
        }, ct).ConfigureAwait(false);
        return RunInfo(doc.RootElement.GetProperty("run_info"));
    }

    public Task DeleteRunAsync(string runId, CancellationToken ct = default) =>
        PostAsync("runs/delete", w => w.WriteString("run_id", runId), ct);

    public Task RestoreRunAsync(string runId, CancellationToken ct = default) =>
        PostAsync("runs/restore", w => w.WriteString("run_id", runId), ct);

    public Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags, CancellationToken ct = default) =>
        SendLogBatchAsync(PrepareLogBatch(runId, metrics, @params, tags), ct);

    /// <summary>Serializes a log-batch request, so a caller can build the next one while another is in flight.</summary>
    internal static PreparedLogBatch PrepareLogBatch(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags) =>
        new(MlflowHttp.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("run_id", runId);
            if (metrics.Count > 0)
            {
                w.WriteStartArray("metrics");
                for (var i = 0; i < metrics.Count; i++)
                {
                    WriteMetric(w, metrics[i]);
                }

                w.WriteEndArray();
            }

            WriteKeyValues(w, "params", @params, p => p.Key, p => p.Value);
            WriteTags(w, tags);
            w.WriteEndObject();
        }), AppendOnly: metrics.Count > 0);

    internal async Task SendLogBatchAsync(PreparedLogBatch batch, CancellationToken ct = default)
    {
        using var _ = await _http.PostBodyAsync("runs/log-batch", batch.Body, ct, batch.AppendOnly).ConfigureAwait(false);
    }

    /// <summary>Logs one metric point with <c>runs/log-metric</c> (MLflow's single-point call).</summary>
    public Task LogMetricAsync(string runId, Metric metric, CancellationToken ct = default) =>
        PostAsync("runs/log-metric", w =>
        {
            w.WriteString("run_id", runId);
            w.WriteString("key", metric.Key);
            WriteValue(w, "value", metric.Value);
            w.WriteNumber("timestamp", metric.Timestamp);
            w.WriteNumber("step", metric.Step);
        }, ct, appendOnly: true);

    /// <summary>Logs one param with <c>runs/log-parameter</c>.</summary>
    public Task LogParamAsync(string runId, Param param, CancellationToken ct = default) =>
        PostAsync("runs/log-parameter", w =>
        {
            w.WriteString("run_id", runId);
            w.WriteString("key", param.Key);
            w.WriteString("value", param.Value);
        }, ct);

    /// <summary>Sets one run tag with <c>runs/set-tag</c>.</summary>
    public Task SetTagAsync(string runId, Tag tag, CancellationToken ct = default) =>
        PostAsync("runs/set-tag", w =>
        {
            w.WriteString("run_id", runId);
            w.WriteString("key", tag.Key);
            w.WriteString("value", tag.Value);
        }, ct);

    public Task DeleteTagAsync(string runId, string key, CancellationToken ct = default) =>
        PostAsync("runs/delete-tag", w =>
        {
            w.WriteString("run_id", runId);
            w.WriteString("key", key);
        }, ct);

    public Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> inputs, CancellationToken ct = default) =>
        PostAsync("runs/log-inputs", w =>
        {
            w.WriteString("run_id", runId);
            w.WriteStartArray("datasets");
            foreach (var input in inputs)
            {
                w.WriteStartObject();
                WriteTags(w, input.Tags);
                w.WriteStartObject("dataset");
                var d = input.Dataset;
                w.WriteString("name", d.Name);
                w.WriteString("digest", d.Digest);
                w.WriteString("source_type", d.SourceType);
                w.WriteString("source", d.Source);
                if (d.Schema is not null)
                {
                    w.WriteString("schema", d.Schema);
                }

                if (d.Profile is not null)
                {
                    w.WriteString("profile", d.Profile);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }, ct);

    /// <summary>Records a logged model's metadata (<c>runs/log-model</c>, appended to <c>mlflow.log-model.history</c>).</summary>
    public Task LogModelAsync(string runId, string modelJson, CancellationToken ct = default) =>
        PostAsync("runs/log-model", w =>
        {
            w.WriteString("run_id", runId);
            w.WriteString("model_json", modelJson);
        }, ct);

    public async Task<Page<Run>> SearchRunsAsync(RunSearchQuery query, CancellationToken ct = default)
    {
        using var doc = await _http.PostJsonAsync("runs/search", w =>
        {
            w.WriteStartObject();
            WriteStrings(w, "experiment_ids", query.ExperimentIds);
            if (query.Filter is not null)
            {
                w.WriteString("filter", query.Filter);
            }

            if (query.ViewType != ViewType.ActiveOnly)
            {
                w.WriteString("run_view_type", ViewTypeName(query.ViewType));
            }

            if (query.MaxResults != 1000)
            {
                // 1000 is the proto default; MLflow's clients leave it out.
                w.WriteNumber("max_results", query.MaxResults);
            }

            WriteStrings(w, "order_by", query.OrderBy);
            if (query.PageToken is not null)
            {
                w.WriteString("page_token", query.PageToken);
            }

            w.WriteEndObject();
        }, ct).ConfigureAwait(false);
        return new Page<Run>(Array(doc.RootElement, "runs").Select(Run).ToList(), OptStr(doc.RootElement, "next_page_token"));
    }

    public async Task<IReadOnlyList<DatasetSummary>> SearchDatasetsAsync(IReadOnlyList<string> experimentIds, int limit, CancellationToken ct = default)
    {
        // MLflow registers this route only under /ajax-api (its proto route lacks the leading slash).
        using var doc = await _http.PostJsonAbsoluteAsync("ajax-api/2.0/mlflow/experiments/search-datasets", w =>
        {
            w.WriteStartObject();
            WriteStrings(w, "experiment_ids", experimentIds);
            w.WriteEndObject();
        }, ct).ConfigureAwait(false);
        return Array(doc.RootElement, "dataset_summaries")
            .Select(s => new DatasetSummary(Str(s, "experiment_id"), Str(s, "name"), Str(s, "digest"), OptStr(s, "context")))
            .Take(limit)
            .ToList();
    }

    /// <summary>
    /// Reads a metric's history page by page. REST gives no server sequence numbers, so a point's
    /// <see cref="SequencedMetric.Sequence"/> is its position in the history (0-based).
    /// </summary>
    public async IAsyncEnumerable<SequencedMetric> GetMetricHistoryAsync(string runId, string key, long afterSequence, int limit, [EnumeratorCancellation] CancellationToken ct = default)
    {
        long position = 0;
        var returned = 0;
        string? token = null;
        do
        {
            var query = "metrics/get-history?run_id=" + Esc(runId) + "&metric_key=" + Esc(key) + (token is null ? "" : "&page_token=" + Esc(token));
            List<Metric> page;
            using (var doc = await _http.GetJsonAsync(query, ct).ConfigureAwait(false))
            {
                page = Array(doc.RootElement, "metrics").Select(Metric).ToList();
                token = OptStr(doc.RootElement, "next_page_token");
            }

            foreach (var m in page)
            {
                if (position > afterSequence)
                {
                    if (returned == limit)
                    {
                        yield break;
                    }

                    yield return new SequencedMetric(position, m);
                    returned++;
                }

                position++;
            }
        }
        while (!string.IsNullOrEmpty(token));
    }

    /// <summary>A metric's whole history, in logging order.</summary>
    public async Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string key, CancellationToken ct = default)
    {
        var points = new List<Metric>();
        await foreach (var p in GetMetricHistoryAsync(runId, key, long.MinValue, int.MaxValue, ct).ConfigureAwait(false))
        {
            points.Add(p.Metric);
        }

        return points;
    }

    public async Task<IReadOnlyList<RunMetric>> GetMetricHistoryBulkIntervalAsync(
        IReadOnlyList<string> runIds, string key, long? startStep, long? endStep, int maxResults, CancellationToken ct = default)
    {
        var query = new StringBuilder("metrics/get-history-bulk-interval?");
        foreach (var id in runIds)
        {
            query.Append("run_ids=").Append(Esc(id)).Append('&');
        }

        query.Append("metric_key=").Append(Esc(key));
        if (startStep is { } s)
        {
            query.Append("&start_step=").Append(s.ToString(CultureInfo.InvariantCulture));
        }

        if (endStep is { } e)
        {
            query.Append("&end_step=").Append(e.ToString(CultureInfo.InvariantCulture));
        }

        query.Append("&max_results=").Append(maxResults.ToString(CultureInfo.InvariantCulture));
        using var doc = await _http.GetJsonAsync(query.ToString(), ct).ConfigureAwait(false);
        return Array(doc.RootElement, "metrics")
            .Select(m => new RunMetric(Str(m, "run_id"), Str(m, "key"), Double(m, "value"), Long(m, "timestamp"), Long(m, "step")))
            .ToList();
    }

    // ------------------------------------------------------------ artifacts

    /// <summary>Lists a run's artifacts under <paramref name="path"/> (<c>artifacts/list</c>); paths are relative to the run's root.</summary>
    public async Task<IReadOnlyList<ArtifactFile>> ListArtifactsAsync(string runId, string? path = null, CancellationToken ct = default)
    {
        var query = "artifacts/list?run_id=" + Esc(runId) + (string.IsNullOrEmpty(path) ? "" : "&path=" + Esc(path));
        using var doc = await _http.GetJsonAsync(query, ct).ConfigureAwait(false);
        return Array(doc.RootElement, "files")
            .Select(f => new ArtifactFile(Str(f, "path"), f.TryGetProperty("is_dir", out var d) && d.ValueKind == JsonValueKind.True, f.TryGetProperty("file_size", out _) ? Long(f, "file_size") : null))
            .Select(f => f.IsDir || f.FileSize is not null ? f : f with { FileSize = 0 })
            .ToList();
    }

    /// <summary>The artifact repository behind a run's <c>artifact_uri</c>: the server's proxy for <c>mlflow-artifacts:</c>, the folder for <c>file:</c>.</summary>
    public IArtifactRepository ArtifactsFor(string artifactUri) => Artifacts.ArtifactLocations.Open(artifactUri, _http);

    // ------------------------------------------------------------ plumbing

    private async Task PostAsync(string path, Action<Utf8JsonWriter> fields, CancellationToken ct, bool appendOnly = false)
    {
        using var _ = await _http.PostJsonAsync(path, w =>
        {
            w.WriteStartObject();
            fields(w);
            w.WriteEndObject();
        }, ct, appendOnly).ConfigureAwait(false);
    }

    internal static string Esc(string value) => Uri.EscapeDataString(value);

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return default;
    }
}

/// <summary>A serialized log-batch request body; metrics make it append-only (retried only when certainly not applied).</summary>
internal sealed record PreparedLogBatch(ReadOnlyMemory<byte> Body, bool AppendOnly);
