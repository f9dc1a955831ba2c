using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Core;
using Cairn.Server.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.Endpoints.EndpointMapping;

namespace Cairn.Server.Endpoints;

/// <summary>MLflow's tracking API: experiments, runs, metrics, params, tags, inputs and search.</summary>
public static class TrackingEndpoints
{
    /// <summary>MLflow's proto default and maximum page size for a metric history.</summary>
    public const int MetricHistoryPageSize = 25_000;

    public static void MapTracking(this IEndpointRouteBuilder app)
    {
        app.MapMlflow("/experiments/create", Post, CreateExperiment);
        app.MapMlflow("/experiments/get", Get, GetExperiment);
        app.MapMlflow("/experiments/get-by-name", Get, GetExperimentByName);
        app.MapMlflow("/experiments/search", GetOrPost, SearchExperiments);
        app.MapMlflow("/experiments/update", Post, UpdateExperiment);
        app.MapMlflow("/experiments/delete", Post, DeleteExperiment);
        app.MapMlflow("/experiments/restore", Post, RestoreExperiment);
        app.MapMlflow("/experiments/set-experiment-tag", Post, SetExperimentTag);

        // MLflow's proto route lacks its leading slash, so only the web UI's /ajax-api form exists there.
        app.MapMlflow("/experiments/search-datasets", Post, SearchDatasets, ajaxOnly: true);

        app.MapMlflow("/runs/create", Post, CreateRun);
        app.MapMlflow("/runs/get", Get, GetRun);
        app.MapMlflow("/runs/update", Post, UpdateRun);
        app.MapMlflow("/runs/delete", Post, DeleteRun);
        app.MapMlflow("/runs/restore", Post, RestoreRun);
        app.MapMlflow("/runs/log-metric", Post, LogMetric);
        app.MapMlflow("/runs/log-parameter", Post, LogParam);
        app.MapMlflow("/runs/set-tag", Post, SetTag);
        app.MapMlflow("/runs/delete-tag", Post, DeleteTag);
        app.MapMlflow("/runs/log-batch", LogPlainBatch, LogBatch);
        app.MapMlflow("/runs/log-inputs", Post, LogInputs);
        app.MapMlflow("/runs/log-model", Post, LogModel);
        app.MapMlflow("/runs/search", GetOrPost, SearchRuns);

        app.MapMlflow("/metrics/get-history", Get, GetMetricHistory);
        app.MapMlflow("/metrics/get-history-bulk-interval", Get, GetMetricHistoryBulkInterval);
        app.MapMlflow("/metrics/get-history-bulk", Get, GetMetricHistoryBulk, ajaxOnly: true);
    }

    // ------------------------------------------------------------ experiments

    private static async Task CreateExperiment(HttpContext context, RequestArgs args)
    {
        var name = args.RequiredString("name");
        var id = await context.Store().CreateExperimentAsync(name, args.String("artifact_location"), args.Tags(), context.RequestAborted);
        await Responses.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("experiment_id", id);
            w.WriteEndObject();
        });
    }

    private static async Task GetExperiment(HttpContext context, RequestArgs args)
    {
        var experiment = await context.Store().GetExperimentAsync(args.RequiredString("experiment_id"), context.RequestAborted);
        await WriteExperimentAsync(context, experiment);
    }

    private static async Task GetExperimentByName(HttpContext context, RequestArgs args)
    {
        var experiment = await context.Store().GetExperimentByNameAsync(args.RequiredString("experiment_name"), context.RequestAborted);
        await WriteExperimentAsync(context, experiment);
    }

    private static Task WriteExperimentAsync(HttpContext context, Experiment experiment) => Responses.WriteJsonAsync(context, w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("experiment");
        MlflowJson.WriteExperiment(w, experiment);
        w.WriteEndObject();
    });

    private static async Task SearchExperiments(HttpContext context, RequestArgs args)
    {
        var viewTypeText = args.String("view_type");
        var viewType = Names.ParseViewType(viewTypeText);
        if (viewTypeText is not null && viewType == ViewType.ActiveOnly && viewTypeText is not ("ACTIVE_ONLY" or "1"))
        {
            throw MlflowException.InvalidParameter($"Invalid value \"{viewTypeText}\" for parameter 'view_type' supplied. It must be one of ACTIVE_ONLY, DELETED_ONLY, ALL.");
        }

        var query = new ExperimentSearchQuery(args.String("filter"), viewType, args.Int("max_results") ?? 0, args.StrictStringList("order_by"), args.String("page_token"));
        var page = await context.Store().SearchExperimentsAsync(query, context.RequestAborted);
        await Responses.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            if (page.Items.Count > 0)
            {
                w.WriteStartArray("experiments");
                foreach (var e in page.Items)
                {
                    MlflowJson.WriteExperiment(w, e);
                }

                w.WriteEndArray();
            }

            if (page.NextPageToken is not null)
            {
                w.WriteString("next_page_token", page.NextPageToken);
            }

            w.WriteEndObject();
        });
    }

    private static async Task UpdateExperiment(HttpContext context, RequestArgs args)
    {
        var id = args.RequiredString("experiment_id");
        var newName = args.RequiredString("new_name");
        await context.Store().RenameExperimentAsync(id, newName, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task DeleteExperiment(HttpContext context, RequestArgs args)
    {
        await context.Store().DeleteExperimentAsync(args.RequiredString("experiment_id"), context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task RestoreExperiment(HttpContext context, RequestArgs args)
    {
        await context.Store().RestoreExperimentAsync(args.RequiredString("experiment_id"), context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task SetExperimentTag(HttpContext context, RequestArgs args)
    {
        var id = args.RequiredString("experiment_id");
        var key = args.RequiredString("key");
        var value = args.String("value") ?? "";
        await context.Store().SetExperimentTagAsync(id, new Tag(key, value), context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    /// <summary>MLflow's limits for the web UI's dataset list.</summary>
    private const int MaxSearchDatasetsExperiments = 20;
    private const int MaxDatasetSummaries = 1000;

    private static async Task SearchDatasets(HttpContext context, RequestArgs args)
    {
        var experimentIds = args.StringList("experiment_ids");
        if (experimentIds.Count == 0)
        {
            throw MlflowException.InvalidParameter("SearchDatasets request must specify at least one experiment_id.");
        }

        if (experimentIds.Count > MaxSearchDatasetsExperiments)
        {
            throw MlflowException.InvalidParameter(
                $"SearchDatasets request cannot specify more than {MaxSearchDatasetsExperiments} experiment_ids. Received {experimentIds.Count} experiment_ids.");
        }

        var summaries = await context.Store().SearchDatasetsAsync(experimentIds, MaxDatasetSummaries, context.RequestAborted);
        await Responses.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            if (summaries.Count > 0)
            {
                w.WriteStartArray("dataset_summaries");
                foreach (var s in summaries)
                {
                    w.WriteStartObject();
                    w.WriteString("experiment_id", s.ExperimentId);
                    w.WriteString("name", s.Name);
                    w.WriteString("digest", s.Digest);
                    if (s.Context is not null)
                    {
                        w.WriteString("context", s.Context);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        });
    }

    // ------------------------------------------------------------ runs

    private static async Task CreateRun(HttpContext context, RequestArgs args)
    {
        var run = new NewRun(args.String("experiment_id") ?? "", args.String("user_id"), args.Long("start_time"), args.String("run_name"), args.Tags());
        var created = await context.Store().CreateRunAsync(run, context.RequestAborted);
        await WriteRunAsync(context, created, withInputs: false);
    }

    private static async Task GetRun(HttpContext context, RequestArgs args)
    {
        var run = await context.Store().GetRunAsync(args.RequiredString("run_id", "run_uuid"), context.RequestAborted);
        await WriteRunAsync(context, run, withInputs: true);
    }

    private static Task WriteRunAsync(HttpContext context, Run run, bool withInputs) => Responses.WriteJsonAsync(context, w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("run");
        MlflowJson.WriteRun(w, run, withInputs);
        w.WriteEndObject();
    });

    private static async Task UpdateRun(HttpContext context, RequestArgs args)
    {
        var runId = args.RequiredString("run_id", "run_uuid");

        // An unknown status is ignored rather than rejected, as MLflow's proto parsing does.
        RunStatus? status = Names.TryParseRunStatus(args.String("status"), out var s) ? s : null;
        var info = await context.Store().UpdateRunAsync(runId, status, args.Long("end_time"), args.String("run_name"), context.RequestAborted);
        await Responses.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("run_info");
            MlflowJson.WriteRunInfo(w, info);
            w.WriteEndObject();
        });
    }

    private static async Task DeleteRun(HttpContext context, RequestArgs args)
    {
        await context.Store().DeleteRunAsync(args.RequiredString("run_id"), context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task RestoreRun(HttpContext context, RequestArgs args)
    {
        await context.Store().RestoreRunAsync(args.RequiredString("run_id"), context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task LogMetric(HttpContext context, RequestArgs args)
    {
        var runId = args.RequiredString("run_id", "run_uuid");
        var key = args.RequiredString("key");
        var value = args.RequiredDouble("value");
        var timestamp = args.Long("timestamp") ?? throw RequestArgs.Missing("timestamp");
        var step = args.Long("step") ?? 0;
        Core.Validation.ValidateKey(key, "Metric name", "name");
        await context.Store().LogBatchAsync(runId, [new Metric(key, value, timestamp, step)], [], [], context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task LogParam(HttpContext context, RequestArgs args)
    {
        var runId = args.RequiredString("run_id", "run_uuid");
        var key = args.RequiredString("key");
        var value = args.String("value") ?? "";
        await context.Store().LogBatchAsync(runId, [], [new Param(key, value)], [], context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task SetTag(HttpContext context, RequestArgs args)
    {
        var runId = args.RequiredString("run_id", "run_uuid");
        var key = args.RequiredString("key");
        var value = args.String("value") ?? "";
        await context.Store().LogBatchAsync(runId, [], [], [new Tag(key, value)], context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task DeleteTag(HttpContext context, RequestArgs args)
    {
        var runId = args.RequiredString("run_id");
        var key = args.RequiredString("key");
        await context.Store().DeleteTagAsync(runId, key, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    /// <summary>Ingest's hot path: a batch of plain metrics, read without a JSON document (see <see cref="LogBatchReader"/>).</summary>
    private static async ValueTask<bool> LogPlainBatch(HttpContext context, ReadOnlyMemory<byte> body)
    {
        if (!LogBatchReader.TryRead(body.Span, out var runId, out var metrics))
        {
            return false;
        }

        await context.Store().LogBatchAsync(runId, metrics, [], [], context.RequestAborted);
        await Responses.EmptyAsync(context);
        return true;
    }

    private static async Task LogBatch(HttpContext context, RequestArgs args)
    {
        var runId = args.RequiredString("run_id");
        var metricItems = args.ObjectList("metrics");
        var metrics = new List<Metric>(metricItems.Count);
        for (var i = 0; i < metricItems.Count; i++)
        {
            var e = metricItems[i];
            var path = $"metrics[{i}]";
            var key = RequestArgs.Field(e, "key") is { } k ? RequestArgs.StringOf($"{path}.key", k) : "";
            if (key.Length == 0)
            {
                throw RequestArgs.Missing($"{path}.key");
            }

            var value = RequestArgs.Field(e, "value") is { } v ? RequestArgs.DoubleOf($"{path}.value", v) : throw RequestArgs.Missing($"{path}.value");
            var timestamp = RequestArgs.Field(e, "timestamp") is { } t ? RequestArgs.LongOf($"{path}.timestamp", t) : throw RequestArgs.Missing($"{path}.timestamp");
            var step = RequestArgs.Field(e, "step") is { } st ? RequestArgs.LongOf($"{path}.step", st) : 0;
            metrics.Add(new Metric(key, value, timestamp, step));
        }

        var paramItems = args.ObjectList("params");
        var @params = new List<Param>(paramItems.Count);
        for (var i = 0; i < paramItems.Count; i++)
        {
            var tag = RequestArgs.TagOf(paramItems[i], $"params[{i}]");
            if (tag.Key.Length == 0)
            {
                throw RequestArgs.Missing($"params[{i}].key");
            }

            @params.Add(new Param(tag.Key, tag.Value));
        }

        var tags = args.Tags();
        for (var i = 0; i < tags.Count; i++)
        {
            if (tags[i].Key.Length == 0)
            {
                throw RequestArgs.Missing($"tags[{i}].key");
            }
        }

        await context.Store().LogBatchAsync(runId, metrics, @params, tags, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task LogInputs(HttpContext context, RequestArgs args)
    {
        var runId = args.RequiredString("run_id");
        if (!args.Has("datasets"))
        {
            throw RequestArgs.Missing("datasets");
        }

        var items = args.ObjectList("datasets");
        var inputs = new List<DatasetInput>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"datasets[{i}]";
            var d = RequestArgs.ObjectOf($"{path}.dataset", RequestArgs.Field(items[i], "dataset") ?? throw RequestArgs.Missing($"{path}.dataset"));
            string Str(string name, bool required)
            {
                if (RequestArgs.Field(d, name) is { } v)
                {
                    return RequestArgs.StringOf($"{path}.dataset.{name}", v);
                }

                return required ? throw RequestArgs.Missing($"{path}.dataset.{name}") : "";
            }

            var tags = new List<Tag>();
            if (RequestArgs.Field(items[i], "tags") is { } tagList)
            {
                var tagItems = RequestArgs.ObjectListOf($"{path}.tags", tagList);
                for (var j = 0; j < tagItems.Count; j++)
                {
                    tags.Add(RequestArgs.TagOf(tagItems[j], $"{path}.tags[{j}]"));
                }
            }

            var dataset = new Dataset(Str("name", true), Str("digest", false), Str("source_type", false), Str("source", false),
                RequestArgs.Field(d, "schema") is { } schema ? RequestArgs.StringOf($"{path}.dataset.schema", schema) : null,
                RequestArgs.Field(d, "profile") is { } profile ? RequestArgs.StringOf($"{path}.dataset.profile", profile) : null);
            inputs.Add(new DatasetInput(tags, dataset));
        }

        await context.Store().LogInputsAsync(runId, inputs, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    /// <summary>Appends the model's metadata to the run's <c>mlflow.log-model.history</c> tag, as MLflow does.</summary>
    private static async Task LogModel(HttpContext context, RequestArgs args)
    {
        var runId = args.RequiredString("run_id");
        var modelJson = args.RequiredString("model_json");
        JsonObject model;
        try
        {
            model = JsonNode.Parse(modelJson) as JsonObject ?? throw new JsonException();
        }
        catch (JsonException)
        {
            throw MlflowException.InvalidParameter($"Malformed model info. \n {modelJson} \n is not a valid JSON.");
        }

        string[] mandatory = ["artifact_path", "flavors", "run_id", "utc_time_created"];
        var missing = mandatory.Where(m => !model.ContainsKey(m)).ToList();
        if (missing.Count > 0)
        {
            throw MlflowException.InvalidParameter($"Model json is missing mandatory fields: {{{string.Join(", ", missing.Select(m => $"'{m}'"))}}}");
        }

        var store = context.Store();
        var run = await store.GetRunAsync(runId, context.RequestAborted);
        var history = new JsonArray();
        if (run.Tags.FirstOrDefault(t => t.Key == MlflowTags.LoggedModels) is { } existing && JsonNode.Parse(existing.Value) is JsonArray previous)
        {
            history = previous;
        }

        history.Add(InMlflowOrder(model));
        await store.LogBatchAsync(runId, [], [], [new Tag(MlflowTags.LoggedModels, PythonJson.Serialize(history))], context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    /// <summary>MLflow re-serializes a logged model with these keys first; clients compare the tag as text.</summary>
    private static JsonObject InMlflowOrder(JsonObject model)
    {
        string[] first = ["run_id", "artifact_path", "utc_time_created", "model_uuid"];
        var ordered = new JsonObject();
        foreach (var key in first.Where(model.ContainsKey).Concat(model.Select(p => p.Key).Where(k => !first.Contains(k))).ToList())
        {
            ordered[key] = model[key]?.DeepClone();
        }

        return ordered;
    }

    private static async Task SearchRuns(HttpContext context, RequestArgs args)
    {
        var query = new RunSearchQuery(
            args.StringList("experiment_ids"),
            args.String("filter"),
            Names.ParseViewType(args.String("run_view_type")),
            args.Int("max_results") ?? 1000,
            args.StrictStringList("order_by"),
            args.String("page_token"));
        var page = query.ExperimentIds.Count == 0 ? new Page<Run>([], null) : await context.Store().SearchRunsAsync(query, context.RequestAborted);
        await Responses.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            if (page.Items.Count > 0)
            {
                w.WriteStartArray("runs");
                foreach (var run in page.Items)
                {
                    MlflowJson.WriteRun(w, run);
                }

                w.WriteEndArray();
            }

            if (page.NextPageToken is not null)
            {
                w.WriteString("next_page_token", page.NextPageToken);
            }

            w.WriteEndObject();
        });
    }

    // ------------------------------------------------------------ metrics

    /// <summary>Streams one page of a metric's history; the page token carries the last point's position.</summary>
    private static async Task GetMetricHistory(HttpContext context, RequestArgs args)
    {
        var runId = args.RequiredString("run_id", "run_uuid");
        var key = args.RequiredString("metric_key");
        var maxResults = args.Int("max_results");
        if (maxResults <= 0)
        {
            throw MlflowException.InvalidParameter($"Invalid value {maxResults} for parameter 'max_results' supplied. It must be a positive integer");
        }

        var pageSize = Math.Min(maxResults ?? MetricHistoryPageSize, MetricHistoryPageSize);
        var after = HistoryToken.Decode(args.String("page_token"));

        // Nothing is written until the first row is read, so a failing query still gets a clean
        // error envelope; a failure after that can only cut the response short.
        await using var points = context.Store().GetMetricHistoryAsync(runId, key, after, pageSize + 1, context.RequestAborted).GetAsyncEnumerator(context.RequestAborted);
        var hasPoint = await points.MoveNextAsync();
        try
        {
            await using var writer = Responses.StreamingWriter(context);
            var encodedKey = JsonEncodedText.Encode(key, writer.Options.Encoder);
            writer.WriteStartObject();
            if (hasPoint)
            {
                writer.WriteStartArray("metrics");
            }

            var count = 0;
            string? next = null;
            for (; hasPoint; hasPoint = await points.MoveNextAsync())
            {
                if (count == pageSize)
                {
                    next = HistoryToken.Encode(points.Current.Sequence - 1);
                    break;
                }

                MlflowJson.WriteMetric(writer, encodedKey, points.Current.Metric);
                count++;
                if (writer.BytesPending > 32 * 1024)
                {
                    await writer.FlushAsync(context.RequestAborted);
                    await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
                }
            }

            if (count > 0)
            {
                writer.WriteEndArray();
            }

            if (next is not null)
            {
                writer.WriteString("next_page_token", next);
            }

            writer.WriteEndObject();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            context.Abort();
            return;
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static async Task GetMetricHistoryBulkInterval(HttpContext context, RequestArgs args)
    {
        var runIds = args.StringList("run_ids");
        if (runIds.Count == 0)
        {
            throw RequestArgs.Missing("run_ids");
        }

        var key = args.RequiredString("metric_key");
        if (runIds.Count > 100)
        {
            throw MlflowException.InvalidParameter(
                $"GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received {runIds.Count} run_ids. See the API docs for more information about request parameters.");
        }

        var start = args.Long("start_step");
        var end = args.Long("end_step");
        if ((start is null) != (end is null))
        {
            throw MlflowException.InvalidParameter("If either start step or end step are specified, both must be specified.");
        }

        if (start > end)
        {
            throw MlflowException.InvalidParameter($"end_step must be greater than start_step. Found start_step={start} and end_step={end}.");
        }

        var maxResults = args.Int("max_results") ?? 2500;
        if (maxResults is < 1 or > 2500)
        {
            throw MlflowException.InvalidParameter("max_results must be between 1 and 2500. See the API docs for more information about request parameters.");
        }

        var points = await context.Store().GetMetricHistoryBulkIntervalAsync(runIds, key, start, end, maxResults, context.RequestAborted);
        await WriteRunMetricsAsync(context, points);
    }

    /// <summary>The web UI's bulk history (ajax only): whole histories of several runs.</summary>
    private static async Task GetMetricHistoryBulk(HttpContext context, RequestArgs args)
    {
        var runIds = args.StringList("run_id");
        if (runIds.Count == 0)
        {
            throw MlflowException.InvalidParameter("GetMetricHistoryBulk request must specify at least one run_id.");
        }

        var key = args.RequiredString("metric_key");
        var points = new List<RunMetric>();
        foreach (var runId in runIds.Distinct())
        {
            await foreach (var p in context.Store().GetMetricHistoryAsync(runId, key, long.MinValue, MetricHistoryPageSize, context.RequestAborted))
            {
                points.Add(new RunMetric(runId, p.Metric.Key, p.Metric.Value, p.Metric.Timestamp, p.Metric.Step));
            }
        }

        await WriteRunMetricsAsync(context, points);
    }

    private static Task WriteRunMetricsAsync(HttpContext context, IReadOnlyList<RunMetric> points) => Responses.WriteJsonAsync(context, w =>
    {
        w.WriteStartObject();
        if (points.Count > 0)
        {
            w.WriteStartArray("metrics");
            foreach (var p in points)
            {
                MlflowJson.WriteMetric(w, new Metric(p.Key, p.Value, p.Timestamp, p.Step), p.RunId);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    });
}

/// <summary>Page tokens of a metric history: the position of the last point sent.</summary>
internal static class HistoryToken
{
    public static string Encode(long sequence) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"after\": {sequence}}}"));

    public static long Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return long.MinValue;
        }

        try
        {
            using var doc = JsonDocument.Parse(Convert.FromBase64String(token));
            return doc.RootElement.GetProperty("after").GetInt64();
        }
        catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw MlflowException.InvalidParameter($"Invalid page token '{token}' for a metric history.");
        }
    }
}
