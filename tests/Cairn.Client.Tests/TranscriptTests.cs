using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Client.Rest;
using Cairn.Core;
using Cairn.Server.Tests;

namespace Cairn.Client.Tests;

/// <summary>
/// Proves the client sends what MLflow expects: a stub server answers each operation with the
/// golden MLflow 2.17.2 transcript's response for the same operation, and the request the client
/// sent must match the transcript's method, path, query and JSON body field by field.
/// </summary>
public sealed class TranscriptTests(TranscriptStub stub) : IClassFixture<TranscriptStub>
{
    private static readonly Dictionary<string, Func<RestTrackingStore, Func<string, string>, Task>> Operations = new()
    {
        ["create_experiment_a"] = (s, _) => s.CreateExperimentAsync("proto-exp-a", null, [new Tag("team", "vision"), new Tag("owner", "alice")]),
        ["get_experiment_a"] = (s, b) => s.GetExperimentAsync(b("exp_a")),
        ["get_experiment_by_name_a"] = (s, _) => s.GetExperimentByNameAsync("proto-exp-a"),
        ["search_experiments_filter_name_eq"] = (s, _) => s.SearchExperimentsAsync(new ExperimentSearchQuery("name = 'proto-exp-a'", MaxResults: 100)),
        ["search_experiments_deleted_only"] = (s, _) => s.SearchExperimentsAsync(new ExperimentSearchQuery(null, ViewType.DeletedOnly, 100)),
        ["search_experiments_all"] = (s, _) => s.SearchExperimentsAsync(new ExperimentSearchQuery(null, ViewType.All, 100, ["experiment_id ASC"])),
        ["search_experiments_page2"] = (s, b) => s.SearchExperimentsAsync(new ExperimentSearchQuery(null, MaxResults: 2, OrderBy: ["name ASC"], PageToken: b("exp_tok1"))),
        ["update_experiment_rename_c"] = (s, b) => s.RenameExperimentAsync(b("exp_c"), "proto-exp-c-renamed"),
        ["set_experiment_tag_new"] = (s, b) => s.SetExperimentTagAsync(b("exp_a"), new Tag("priority", "high")),
        ["delete_experiment_c"] = (s, b) => s.DeleteExperimentAsync(b("exp_c")),
        ["restore_experiment_c"] = (s, b) => s.RestoreExperimentAsync(b("exp_c")),
        ["create_run_1"] = (s, b) => s.CreateRunAsync(new NewRun(b("exp_a"), "alice", 1700000001000, "run-1",
            [new Tag("team", "a"), new Tag("mlflow.source.name", "train.py"), new Tag("mlflow.source.type", "LOCAL")])),
        ["create_run_child_of_1"] = (s, b) => s.CreateRunAsync(new NewRun(b("exp_a"), "alice", 1700000004000, "run-1-child", [new Tag(MlflowTags.ParentRunId, b("run1"))])),
        ["get_run_1_fresh"] = (s, b) => s.GetRunAsync(b("run1")),
        ["log_metric_acc_step0"] = (s, b) => s.LogMetricAsync(b("run1"), new Metric("acc", 0.5, 1700000000010, 0)),
        ["log_param_lr"] = (s, b) => s.LogParamAsync(b("run1"), new Param("lr", "0.01")),
        ["set_tag_stage"] = (s, b) => s.SetTagAsync(b("run1"), new Tag("stage", "dev")),
        ["delete_tag_temp"] = (s, b) => s.DeleteTagAsync(b("run1"), "temp"),
        ["log_batch_run2"] = (s, b) => s.LogBatchAsync(b("run2"),
            [new("loss", 0.9, 1700000000200, 0), new("loss", 0.5, 1700000000210, 1), new("loss", 0.2, 1700000000220, 2), new("f1", 0.77, 1700000000230, 0)],
            [new("batch_size", "32"), new("optimizer", "sgd")],
            [new("stage", "dev"), new("framework", "torch")]),
        ["log_batch_only_params"] = (s, b) => s.LogBatchAsync(b("run3"), [], [new Param("depth", "4")], []),
        ["log_inputs_dataset"] = (s, b) => s.LogInputsAsync(b("run1"),
            [new DatasetInput([new Tag(MlflowTags.DatasetContext, "training")], new Dataset("ds-train", "d1g3st01", "local", "{\"uri\": \"/data/train.csv\"}", "{\"mlflow_colspec\": [{\"type\": \"double\", \"name\": \"x\"}]}", "{\"num_rows\": 10}"))]),
        ["log_model_run1"] = (s, b) => s.LogModelAsync(b("run1"), "{\"artifact_path\": \"model\", \"flavors\": {\"python_function\": {\"loader_module\": \"x\"}}, \"utc_time_created\": \"2024-01-01 00:00:00.000000\", \"run_id\": \"fixed-run-id-in-json\", \"model_uuid\": \"0123456789abcdef\"}"),
        ["update_run_3_finished"] = (s, b) => s.UpdateRunAsync(b("run3"), RunStatus.Finished, 1700000009000, null),
        ["update_run_rename_only"] = (s, b) => s.UpdateRunAsync(b("run_ajax"), null, null, "ajax-run-renamed"),
        ["delete_run_noname"] = (s, b) => s.DeleteRunAsync(b("run_noname")),
        ["restore_run_noname"] = (s, b) => s.RestoreRunAsync(b("run_noname")),
        ["search_runs_filter_metric_gt"] = (s, b) => s.SearchRunsAsync(new RunSearchQuery([b("exp_a")], "metrics.acc > 0.8")),
        ["search_runs_deleted_only"] = (s, b) => s.SearchRunsAsync(new RunSearchQuery([b("exp_a")], ViewType: ViewType.DeletedOnly)),
        ["search_runs_order_multiple"] = (s, b) => s.SearchRunsAsync(new RunSearchQuery([b("exp_a")], OrderBy: ["params.lr ASC", "attributes.start_time DESC"])),
        ["search_runs_page2"] = (s, b) => s.SearchRunsAsync(new RunSearchQuery([b("exp_a")], MaxResults: 2, OrderBy: ["attributes.start_time ASC"], PageToken: b("runs_tok1"))),
        ["get_history_acc"] = (s, b) => s.GetMetricHistoryAsync(b("run1"), "acc"),
        ["bulk_interval_max_results_10"] = (s, b) => s.GetMetricHistoryBulkIntervalAsync([b("run2")], "curve", null, null, 10),
        ["list_run_artifacts_root"] = (s, b) => s.ListArtifactsAsync(b("run1")),
        ["upload_hello_txt"] = (s, b) => s.ArtifactsFor(RunArtifacts(b)).WriteAsync("hello.txt", new MemoryStream("hello world\n"u8.ToArray())),
        ["mlflow_artifacts_list_run_dir"] = (s, b) => s.ArtifactsFor(RunArtifacts(b)).ListAsync(null),
        ["mlflow_artifacts_download_text"] = async (s, b) =>
        {
            await using var stream = await s.ArtifactsFor(RunArtifacts(b)).OpenReadAsync("hello.txt");
            Assert.Equal("hello world\n", await new StreamReader(stream!).ReadToEndAsync());
        },
        ["delete_artifact_file"] = (s, b) => s.ArtifactsFor(RunArtifacts(b)).DeleteAsync("to_delete.txt"),
    };

    private static string RunArtifacts(Func<string, string> b) => $"mlflow-artifacts:/{b("exp_a")}/{b("run1")}/artifacts";

    public static TheoryData<string> Cases => new(Operations.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Client_request_matches_the_MLflow_transcript(string name)
    {
        var golden = Golden.Case(name);
        var bindings = golden["bindings"] as JsonObject ?? [];
        string Bind(string v) => bindings[v]?.GetValue<string>() ?? throw new InvalidOperationException($"{name} binds no {v}");

        var sent = await stub.ReplayAsync(golden, store => Operations[name](store, Bind));

        var request = Assert.Single(sent);
        Assert.Equal(golden["method"]!.GetValue<string>(), request.Method);
        Assert.Equal(Golden.Substitute(golden["path"]!.GetValue<string>(), bindings), request.Path);
        Assert.Equal(Golden.Query(golden["query"], bindings), request.Query);
        var goldenBody = golden["request"];
        if (goldenBody is null)
        {
            Assert.True(request.Body.Length == 0, $"{name}: unexpected body {Encoding.UTF8.GetString(request.Body)}");
        }
        else if (golden["request_encoding"]?.GetValue<string>() == "raw" || request.Method == "PUT")
        {
            Assert.Equal(goldenBody.GetValue<string>(), Encoding.UTF8.GetString(request.Body));
            if (golden["request_content_type"]?.GetValue<string>() is { } type)
            {
                Assert.Equal(type.Split(';')[0], request.ContentType?.Split(';')[0]);
            }
        }
        else
        {
            Assert.Equal("application/json", request.ContentType?.Split(';')[0]);
            var expected = Golden.Substitute(goldenBody.DeepClone(), bindings);
            var actual = JsonNode.Parse(request.Body)!;
            Golden.AssertSameFields(expected, actual, name);
        }
    }

    [Fact]
    public void Every_golden_case_used_exists_and_succeeded_in_MLflow()
    {
        foreach (var name in Operations.Keys)
        {
            Assert.Equal(200, Golden.Case(name)["status"]!.GetValue<int>());
        }
    }
}

/// <summary>The golden transcripts in ../shared/mlflow-protocol.</summary>
internal static class Golden
{
    private static readonly Lazy<Dictionary<string, JsonObject>> Cases = new(Load);

    public static string Folder
    {
        get
        {
            var dir = new DirectoryInfo(CairnProcess.RepoRoot);
            while (dir is not null)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "mlflow-protocol");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }

                dir = dir.Parent;
            }

            throw new DirectoryNotFoundException("shared/mlflow-protocol not found above " + CairnProcess.RepoRoot);
        }
    }

    private static Dictionary<string, JsonObject> Load()
    {
        var cases = new Dictionary<string, JsonObject>();
        foreach (var file in Directory.EnumerateFiles(Folder, "*.jsonl"))
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.Length > 0 && JsonNode.Parse(line) is JsonObject o)
                {
                    cases[o["name"]!.GetValue<string>()] = o;
                }
            }
        }

        return cases;
    }

    public static JsonObject Case(string name) => Cases.Value.TryGetValue(name, out var c) ? c : throw new KeyNotFoundException("no golden case " + name);

    public static string Substitute(string text, JsonObject bindings)
    {
        foreach (var (key, value) in bindings)
        {
            text = text.Replace("${" + key + "}", value!.GetValue<string>(), StringComparison.Ordinal);
        }

        return text;
    }

    public static JsonNode? Substitute(JsonNode? node, JsonObject bindings)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(p => p.Key).ToList())
                {
                    o[key] = Substitute(o[key], bindings);
                }

                return o;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    a[i] = Substitute(a[i]?.DeepClone(), bindings);
                }

                return a;
            case JsonValue v when v.TryGetValue<string>(out var s):
                return JsonValue.Create(Substitute(s, bindings));
            default:
                return node;
        }
    }

    /// <summary>The golden query as sorted (name, value) pairs, lists expanded.</summary>
    public static List<(string, string)> Query(JsonNode? query, JsonObject bindings)
    {
        var pairs = new List<(string, string)>();
        if (query is JsonObject o)
        {
            foreach (var (key, value) in o)
            {
                if (value is JsonArray list)
                {
                    pairs.AddRange(list.Select(v => (key, Substitute(v!.GetValue<string>(), bindings))));
                }
                else
                {
                    pairs.Add((key, Substitute(value!.GetValue<string>(), bindings)));
                }
            }
        }

        return pairs.Order().ToList();
    }

    /// <summary>
    /// Every field MLflow's transcript shows must be sent with the same value (numbers compared as
    /// numbers, key order ignored); a field the transcript lacks may be sent only with its proto default.
    /// </summary>
    public static void AssertSameFields(JsonNode? expected, JsonNode? actual, string path)
    {
        switch (expected)
        {
            case JsonObject e:
                {
                    var a = Assert.IsType<JsonObject>(actual);
                    foreach (var (key, value) in e)
                    {
                        Assert.True(a.ContainsKey(key), $"{path}.{key} is missing from the client's request {a.ToJsonString()}");
                        AssertSameFields(value, a[key], $"{path}.{key}");
                    }

                    foreach (var (key, value) in a)
                    {
                        if (!e.ContainsKey(key))
                        {
                            Assert.True(IsDefault(value), $"{path}.{key} = {value?.ToJsonString()} is sent but MLflow's request has no such field");
                        }
                    }

                    break;
                }

            case JsonArray e:
                {
                    var list = Assert.IsType<JsonArray>(actual);
                    Assert.True(e.Count == list.Count, $"{path}: {list.Count} items, MLflow sent {e.Count}");
                    for (var i = 0; i < e.Count; i++)
                    {
                        AssertSameFields(e[i], list[i], $"{path}[{i}]");
                    }

                    break;
                }

            case JsonValue e when e.GetValueKind() == JsonValueKind.Number:
                Assert.True(actual is JsonValue n && n.GetValueKind() == JsonValueKind.Number && n.GetValue<double>() == e.GetValue<double>(),
                    $"{path}: {actual?.ToJsonString()} != {e.ToJsonString()}");
                break;
            default:
                Assert.True(JsonNode.DeepEquals(expected, actual), $"{path}: {actual?.ToJsonString()} != {expected?.ToJsonString()}");
                break;
        }
    }

    private static bool IsDefault(JsonNode? value) => value switch
    {
        null => true,
        JsonArray a => a.Count == 0,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>() == 0,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().Length == 0,
        JsonValue v => v.GetValueKind() == JsonValueKind.False,
        _ => false,
    };
}

/// <summary>A request as the stub received it.</summary>
public sealed record RecordedRequest(string Method, string Path, List<(string, string)> Query, string? ContentType, byte[] Body);

/// <summary>An HTTP server on a free loopback port that answers every request with one golden case's response.</summary>
public sealed class TranscriptStub : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly SemaphoreSlim _one = new(1, 1);
    private readonly List<RecordedRequest> _requests = [];
    private JsonObject? _case;

    public TranscriptStub()
    {
        var port = CairnProcess.FreePort();
        Url = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>Runs <paramref name="operation"/> with the stub answering as <paramref name="golden"/> did; returns what the client sent.</summary>
    public async Task<List<RecordedRequest>> ReplayAsync(JsonObject golden, Func<RestTrackingStore, Task> operation)
    {
        await _one.WaitAsync();
        try
        {
            lock (_requests)
            {
                _requests.Clear();
                _case = golden;
            }

            await using var store = new RestTrackingStore(Url, new RestOptions { MaxRetries = 0 });
            await operation(store);
            lock (_requests)
            {
                return [.. _requests];
            }
        }
        finally
        {
            _one.Release();
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var raw = context.Request.RawUrl ?? "/";
            var q = raw.IndexOf('?', StringComparison.Ordinal);
            var query = new List<(string, string)>();
            if (q >= 0)
            {
                foreach (var part in raw[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = part.IndexOf('=', StringComparison.Ordinal);
                    query.Add((Uri.UnescapeDataString(eq < 0 ? part : part[..eq]), eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '))));
                }
            }

            JsonObject golden;
            lock (_requests)
            {
                _requests.Add(new RecordedRequest(context.Request.HttpMethod, q < 0 ? raw : raw[..q], query.Order().ToList(), context.Request.ContentType, body.ToArray()));
                golden = _case!;
            }

            var response = context.Response;
            response.StatusCode = golden["status"]!.GetValue<int>();
            byte[] bytes;
            if (golden["response_is_json"]?.GetValue<bool>() == true)
            {
                response.ContentType = "application/json";
                bytes = Encoding.UTF8.GetBytes(golden["response"]?.ToJsonString() ?? "{}");
            }
            else
            {
                response.ContentType = golden["response_headers"]?["content-type"]?.GetValue<string>() ?? "text/plain";
                bytes = Encoding.UTF8.GetBytes(golden["response"]?.GetValue<string>() ?? "");
            }

            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes);
            response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
