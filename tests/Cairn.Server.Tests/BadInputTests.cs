using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests;

/// <summary>
/// Bad requests against a real server: each gets MLflow's JSON error envelope with a 4xx status
/// (never a 5xx), a rejected write leaves nothing behind, and the server keeps serving.
/// </summary>
public class BadInputTests
{
    private const string Api = "/api/2.0/mlflow/";

    /// <summary>Bodies no JSON parser reads as an object; MLflow treats them as "{}", then a required field is missing.</summary>
    public static readonly string[] MalformedBodies =
    [
        "{",
        "{\"name\": }",
        "{\"name\": \"unterminated",
        "nul",
        "{'name': 'single quotes'}",
        "{\"name\": \"x\"} trailing garbage",
        "\u00ff\u00fe",
        new string('[', 10_000),
        string.Concat(Enumerable.Repeat("{\"a\":", 1_000)),
        "{\"name\": \"\\ud800\"}",
        "{\"name\": \"a\\u0000b\"}",
        "[\"not\", \"an\", \"object\"]",
        "12345",
        "\"\\\"{\\\\\\\"broken\\\"\"",
    ];

    [Fact]
    public async Task Malformed_json_bodies_are_answered_with_mlflow_json_4xx()
    {
        await using var server = await CairnProcess.StartAsync();
        foreach (var route in new[] { "experiments/create", "runs/create", "runs/log-batch", "runs/log-metric", "experiments/search" })
        {
            foreach (var body in MalformedBodies)
            {
                var answer = await SendAsync(server, HttpMethod.Post, Api + route, body);
                AssertClientError($"POST {route} {Shorten(body)}", answer);
            }
        }
    }

    /// <summary>
    /// One wrong JSON type for each kind of field MLflow's protocol has: strings, int64s, metric
    /// values, enums, string lists, object lists, nested objects and nested lists.
    /// </summary>
    public static readonly (string Route, string Body)[] WrongTypes =
    [
        ("experiments/create", """{"name": 123}"""),
        ("experiments/create", """{"name": ["a"]}"""),
        ("experiments/create", """{"name": true}"""),
        ("experiments/create", """{"name": "wt", "artifact_location": 5}"""),
        ("experiments/create", """{"name": "wt", "tags": {"k": "v"}}"""),
        ("experiments/create", """{"name": "wt", "tags": ["k"]}"""),
        ("experiments/create", """{"name": "wt", "tags": [{"key": 1, "value": "v"}]}"""),
        ("experiments/create", """{"name": "wt", "tags": [{"key": "k", "value": {"v": 1}}]}"""),
        ("experiments/search", """{"max_results": "ten"}"""),
        ("experiments/search", """{"max_results": {"n": 1}}"""),
        ("experiments/search", """{"max_results": 1e30}"""),
        ("experiments/search", """{"max_results": 10, "order_by": "name"}"""),
        ("experiments/search", """{"max_results": 10, "order_by": [1]}"""),
        ("experiments/search", """{"max_results": 10, "filter": 5}"""),
        ("experiments/search", """{"max_results": 10, "view_type": [1]}"""),
        ("experiments/search", """{"max_results": 10, "page_token": 5}"""),
        ("experiments/update", """{"experiment_id": 5, "new_name": "z"}"""),
        ("experiments/delete", """{"experiment_id": {"id": 1}}"""),
        ("experiments/set-experiment-tag", """{"experiment_id": "EXP", "key": "k", "value": 5}"""),
        ("runs/create", """{"experiment_id": 5}"""),
        ("runs/create", """{"experiment_id": "EXP", "start_time": "noon"}"""),
        ("runs/create", """{"experiment_id": "EXP", "start_time": {"t": 1}}"""),
        ("runs/create", """{"experiment_id": "EXP", "start_time": "99999999999999999999999"}"""),
        ("runs/create", """{"experiment_id": "EXP", "user_id": 5}"""),
        ("runs/create", """{"experiment_id": "EXP", "tags": {"a": 1}}"""),
        ("runs/update", """{"run_id": "RUN", "status": 5}"""),
        ("runs/update", """{"run_id": "RUN", "end_time": "later"}"""),
        ("runs/update", """{"run_id": "RUN", "run_name": 5}"""),
        ("runs/log-metric", """{"run_id": "RUN", "key": "m", "value": [1], "timestamp": 1}"""),
        ("runs/log-metric", """{"run_id": "RUN", "key": "m", "value": {"x": 1}, "timestamp": 1}"""),
        ("runs/log-metric", """{"run_id": "RUN", "key": "m", "value": "abc", "timestamp": 1}"""),
        ("runs/log-metric", """{"run_id": "RUN", "key": "m", "value": 1, "timestamp": [1]}"""),
        ("runs/log-metric", """{"run_id": "RUN", "key": "m", "value": 1, "timestamp": 1e30}"""),
        ("runs/log-metric", """{"run_id": "RUN", "key": "m", "value": 1, "timestamp": 1, "step": "two"}"""),
        ("runs/log-metric", """{"run_id": "RUN", "key": 5, "value": 1, "timestamp": 1}"""),
        ("runs/log-metric", """{"run_id": 12345, "key": "m", "value": 1, "timestamp": 1}"""),
        ("runs/log-parameter", """{"run_id": "RUN", "key": "p", "value": 5}"""),
        ("runs/log-parameter", """{"run_id": "RUN", "key": "p", "value": ["a"]}"""),
        ("runs/set-tag", """{"run_id": "RUN", "key": "t", "value": {"a": 1}}"""),
        ("runs/delete-tag", """{"run_id": "RUN", "key": 5}"""),
        ("runs/log-batch", """{"run_id": "RUN", "metrics": {"key": "m"}}"""),
        ("runs/log-batch", """{"run_id": "RUN", "metrics": [1]}"""),
        ("runs/log-batch", """{"run_id": "RUN", "metrics": [{"key": "m", "value": "x", "timestamp": 1}]}"""),
        ("runs/log-batch", """{"run_id": "RUN", "metrics": [{"key": "m", "value": 1, "timestamp": "x"}]}"""),
        ("runs/log-batch", """{"run_id": "RUN", "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": [1]}]}"""),
        ("runs/log-batch", """{"run_id": "RUN", "params": "p"}"""),
        ("runs/log-batch", """{"run_id": "RUN", "params": [{"key": "p", "value": 1}]}"""),
        ("runs/log-batch", """{"run_id": "RUN", "tags": [{"key": ["t"], "value": "1"}]}"""),
        ("runs/log-inputs", """{"run_id": "RUN", "datasets": {"a": 1}}"""),
        ("runs/log-inputs", """{"run_id": "RUN", "datasets": [{"dataset": "x"}]}"""),
        ("runs/log-inputs", """{"run_id": "RUN", "datasets": [{"dataset": {"name": 5, "digest": "d"}}]}"""),
        ("runs/log-inputs", """{"run_id": "RUN", "datasets": [{"dataset": {"name": "d", "digest": "d"}, "tags": "t"}]}"""),
        ("runs/log-inputs", """{"run_id": "RUN", "datasets": [{"dataset": {"name": "d", "digest": "d"}, "tags": [5]}]}"""),
        ("runs/log-model", """{"run_id": "RUN", "model_json": {"artifact_path": "m"}}"""),
        ("runs/log-model", """{"run_id": "RUN", "model_json": "[1]"}"""),
        ("runs/search", """{"experiment_ids": [5]}"""),
        ("runs/search", """{"experiment_ids": {"id": "EXP"}}"""),
        ("runs/search", """{"experiment_ids": ["EXP"], "max_results": "ten"}"""),
        ("runs/search", """{"experiment_ids": ["EXP"], "filter": ["x"]}"""),
        ("runs/search", """{"experiment_ids": ["EXP"], "order_by": "start_time"}"""),
        ("runs/search", """{"experiment_ids": ["EXP"], "page_token": 5}"""),
        ("runs/search", """{"experiment_ids": ["EXP"], "run_view_type": {"v": 1}}"""),
    ];

    /// <summary>The same field kinds in GET query strings, where every value arrives as text.</summary>
    public static readonly string[] WrongQueryValues =
    [
        "experiments/get?experiment_id=%00",
        "experiments/search?max_results=ten",
        "experiments/search?max_results=10&view_type=SOMETIMES",
        "runs/get?run_id=%00",
        "runs/search?experiment_ids=EXP&max_results=99999999999999",
        "metrics/get-history?run_id=RUN&metric_key=m&max_results=abc",
        "metrics/get-history?run_id=RUN&metric_key=m&max_results=-5",
        "metrics/get-history?run_id=RUN&metric_key=m&page_token=not-a-token",
        "metrics/get-history-bulk-interval?run_ids=RUN&metric_key=m&max_results=x",
        "metrics/get-history-bulk-interval?run_ids=RUN&metric_key=m&start_step=x&end_step=1",
    ];

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Wrong_json_types_for_each_field_kind_are_rejected_with_invalid_parameter_value(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var exp = (string)(await server.OkAsync("experiments/create", new { name = "wrong-types" }))["experiment_id"]!;
        var run = (string)(await server.OkAsync("runs/create", new { experiment_id = exp }))["run"]!["info"]!["run_id"]!;
        var failures = new List<string>();
        foreach (var (route, template) in WrongTypes)
        {
            var body = template.Replace("EXP", exp, StringComparison.Ordinal).Replace("RUN", run, StringComparison.Ordinal);
            var answer = await SendAsync(server, HttpMethod.Post, Api + route, body);
            if (answer.Status != HttpStatusCode.BadRequest || answer.ErrorCode != "INVALID_PARAMETER_VALUE")
            {
                failures.Add($"POST {route} {body} -> {(int)answer.Status} {Shorten(answer.Text)}");
            }
        }

        foreach (var query in WrongQueryValues)
        {
            var pathAndQuery = query.Replace("EXP", exp, StringComparison.Ordinal).Replace("RUN", run, StringComparison.Ordinal);
            var answer = await SendAsync(server, HttpMethod.Get, Api + pathAndQuery, body: null);
            if (answer.Status != HttpStatusCode.BadRequest || answer.ErrorCode != "INVALID_PARAMETER_VALUE")
            {
                failures.Add($"GET {pathAndQuery} -> {(int)answer.Status} {Shorten(answer.Text)}");
            }
        }

        Assert.True(failures.Count == 0, "Not answered 400 INVALID_PARAMETER_VALUE:\n" + string.Join("\n", failures));

        // None of the rejected writes left anything on the run.
        var data = (await server.OkGetAsync($"runs/get?run_id={run}"))["run"]!["data"]!.AsObject();
        Assert.Equal(["tags"], data.Select(p => p.Key));
        Assert.Equal(["mlflow.runName"], data["tags"]!.AsArray().Select(t => (string)t!["key"]!));
    }

    [Fact]
    public async Task A_json_body_over_the_limit_is_refused_with_a_413_envelope_and_one_under_it_is_read()
    {
        await using var server = await CairnProcess.StartAsync();

        // The padding is an unknown field, which MLflow (and Cairn) ignore, so only the size matters.
        static string BodyOfSize(string name, long size)
        {
            var prefix = $"{{\"name\": \"{name}\", \"padding\": \"";
            return prefix + new string('x', (int)(size - prefix.Length - 2)) + "\"}";
        }

        const long limit = 16 * 1024 * 1024;
        var over = await SendAsync(server, HttpMethod.Post, Api + "experiments/create", BodyOfSize("too-big", limit + 1));
        AssertClientError("body of 16 MiB + 1", over);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.Status);
        Assert.Equal("REQUEST_LIMIT_EXCEEDED", over.ErrorCode);

        // Without a Content-Length the limit is found while reading, with the same answer.
        var chunked = await SendAsync(server, HttpMethod.Post, Api + "experiments/create", BodyOfSize("too-big-chunked", limit + 1), chunked: true);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.Status);
        Assert.Equal("REQUEST_LIMIT_EXCEEDED", chunked.ErrorCode);

        var under = await SendAsync(server, HttpMethod.Post, Api + "experiments/create", BodyOfSize("just-fits", limit));
        Assert.Equal(HttpStatusCode.OK, under.Status);

        var (status, _) = await server.GetAsync("experiments/get-by-name?experiment_name=too-big");
        Assert.Equal(HttpStatusCode.NotFound, status);
        await server.OkGetAsync("experiments/get-by-name?experiment_name=just-fits");
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task A_rejected_log_batch_writes_nothing(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var run = await CreateRunAsync(server);
        var metrics = Enumerable.Range(0, 999).Select(i => (object)new { key = "good", value = i * 0.5, timestamp = 1_700_000_000_000L + i, step = i })
            .Append(new { key = "bad/../key", value = 1.0, timestamp = 1_700_000_000_000L, step = 0 }).ToArray();
        var (status, body) = await server.PostAsync("runs/log-batch", new { run_id = run, metrics, @params = new[] { new { key = "p", value = "1" } }, tags = new[] { new { key = "t", value = "1" } } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string)body!["error_code"]!);

        await AssertRunHoldsOnlyItsNameAsync(server, run);
        Assert.Null((await server.OkGetAsync($"metrics/get-history?run_id={run}&metric_key=good"))["metrics"]);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Plain_and_unusual_log_batch_bodies_are_stored_alike_and_refused_alike(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        // Plain numbers (the server's fast reader) and numbers as strings (the general path) mean the same.
        const long t = 1_700_000_000_000L;
        var plain = await CreateRunAsync(server);
        var unusual = await CreateRunAsync(server);
        await server.OkAsync("runs/log-batch", new
        {
            run_id = plain,
            metrics = new object[] { new { key = "m", value = 0.5, timestamp = t, step = 3 }, new { key = "m", value = -2e-300, timestamp = t + 1 }, new { key = "é/x", value = 7.0, timestamp = t + 2, step = -1 } },
            @params = Array.Empty<object>(),
            tags = Array.Empty<object>(),
        });
        await server.OkAsync("runs/log-batch", new
        {
            run_id = unusual,
            metrics = new object[] { new { key = "m", value = "0.5", timestamp = t.ToString(System.Globalization.CultureInfo.InvariantCulture), step = "3" }, new { key = "m", value = "-2e-300", timestamp = t + 1.0 }, new { key = "é/x", value = 7.0, timestamp = t + 2, step = -1 } },
        });
        foreach (var key in new[] { "m", "%C3%A9%2Fx" })
        {
            var a = (await server.OkGetAsync($"metrics/get-history?run_id={plain}&metric_key={key}"))["metrics"]!.ToJsonString();
            var b = (await server.OkGetAsync($"metrics/get-history?run_id={unusual}&metric_key={key}"))["metrics"]!.ToJsonString();
            Assert.Equal(a, b);
        }

        Assert.Contains("\"step\":0", (await server.OkGetAsync($"metrics/get-history?run_id={plain}&metric_key=m"))["metrics"]!.ToJsonString(), StringComparison.Ordinal);

        // Refusals from a plain body: an invalid key (nothing of the batch is kept), an unknown run, a missing timestamp.
        var fresh = await CreateRunAsync(server);
        var (status, body) = await server.PostAsync("runs/log-batch", new { run_id = fresh, metrics = new object[] { new { key = "ok", value = 1.0, timestamp = t }, new { key = "bad/../key", value = 1.0, timestamp = t } } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string)body!["error_code"]!);
        await AssertRunHoldsOnlyItsNameAsync(server, fresh);
        (status, body) = await server.PostAsync("runs/log-batch", new { run_id = "0123456789abcdef0123456789abcdef", metrics = new object[] { new { key = "ok", value = 1.0, timestamp = t } } });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string)body!["error_code"]!);
        (status, body) = await server.PostAsync("runs/log-batch", new { run_id = fresh, metrics = new object[] { new { key = "ok", value = 1.0 } } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("timestamp", (string)body!["message"]!, StringComparison.Ordinal);
        await AssertRunHoldsOnlyItsNameAsync(server, fresh);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task A_param_change_in_a_log_batch_rolls_back_the_batchs_metrics_and_tags(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var run = await CreateRunAsync(server);
        await server.OkAsync("runs/log-parameter", new { run_id = run, key = "lr", value = "0.1" });

        // The metrics come first in the request and are valid; only the param (checked in the store) fails.
        var metrics = Enumerable.Range(0, 500).Select(i => new { key = "loss", value = 1.0 / (i + 1), timestamp = 1_700_000_000_000L + i, step = i }).ToArray();
        var (status, body) = await server.PostAsync("runs/log-batch", new
        {
            run_id = run,
            metrics,
            @params = new[] { new { key = "batch_size", value = "32" }, new { key = "lr", value = "0.2" } },
            tags = new[] { new { key = "phase", value = "train" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string)body!["error_code"]!);

        var data = (await server.OkGetAsync($"runs/get?run_id={run}"))["run"]!["data"]!;
        Assert.Null(data["metrics"]);
        Assert.Equal([("lr", "0.1")], data["params"]!.AsArray().Select(p => ((string)p!["key"]!, (string)p["value"]!)));
        Assert.DoesNotContain(data["tags"]!.AsArray(), t => (string)t!["key"]! == "phase");
        Assert.Null((await server.OkGetAsync($"metrics/get-history?run_id={run}&metric_key=loss"))["metrics"]);
    }

    /// <summary>Writes are committed in groups; a failing batch must take nothing of its neighbours down with it, nor leave anything itself.</summary>
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Rejected_batches_among_concurrent_writers_leave_the_accepted_ones_whole(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var run = await CreateRunAsync(server);
        await server.OkAsync("runs/log-parameter", new { run_id = run, key = "fixed", value = "1" });
        var requests = Enumerable.Range(0, 40).Select(async i =>
        {
            var metrics = Enumerable.Range(0, 50).Select(s => new { key = $"w{i}", value = (double)s, timestamp = 1_700_000_000_000L + s, step = s }).ToArray();
            var ok = i % 2 == 0;
            var @params = ok ? Array.Empty<object>() : [new { key = "fixed", value = "changed" }];
            var (status, _) = await server.PostAsync("runs/log-batch", new { run_id = run, metrics, @params });
            return (i, ok, status);
        });

        foreach (var (i, ok, status) in await Task.WhenAll(requests))
        {
            Assert.Equal(ok ? HttpStatusCode.OK : HttpStatusCode.BadRequest, status);
            var history = (await server.OkGetAsync($"metrics/get-history?run_id={run}&metric_key=w{i}"))["metrics"]?.AsArray();
            Assert.Equal(ok ? 50 : 0, history?.Count ?? 0);
        }
    }

    /// <summary>A mix of everything a confused or hostile client sends; each must get a JSON 4xx.</summary>
    private static IEnumerable<(HttpMethod Method, string PathAndQuery, string? Body, string? ContentType)> MalformedRequests(string run)
    {
        foreach (var body in MalformedBodies)
        {
            yield return (HttpMethod.Post, Api + "runs/log-batch", body, "application/json");
        }

        foreach (var (route, body) in WrongTypes)
        {
            yield return (HttpMethod.Post, Api + route, body.Replace("RUN", run, StringComparison.Ordinal), "application/json");
        }

        yield return (HttpMethod.Post, Api + "experiments/create", "{\"name\": \"no-content-type\"}", null);
        yield return (HttpMethod.Post, Api + "experiments/create", "name=form", "application/x-www-form-urlencoded");
        yield return (HttpMethod.Post, Api + "runs/log-metric", $"{{\"run_id\": \"{run}\", \"key\": \"m\", \"value\": NaNa, \"timestamp\": 1}}", "application/json");
        yield return (HttpMethod.Post, Api + "runs/log-batch", $"{{\"run_id\": \"{run}\", \"metrics\": [{string.Join(", ", Enumerable.Repeat("{\"key\": \"m\", \"value\": 1, \"timestamp\": 1}", 1001))}]}}", "application/json");
        yield return (HttpMethod.Get, Api + "runs/get?run_id=" + new string('a', 10_000), null, null);
        yield return (HttpMethod.Get, Api + "runs/create", null, null);
        yield return (HttpMethod.Delete, Api + "experiments/get", null, null);
        yield return (HttpMethod.Get, Api + "does-not-exist", null, null);
        yield return (HttpMethod.Get, "/api/2.1/mlflow/experiments/get?experiment_id=0", null, null);
        yield return (HttpMethod.Post, Api + "runs/search", $"{{\"experiment_ids\": [\"0\"], \"filter\": \"metrics.acc >>> 1 OR (\"}}", "application/json");
        yield return (HttpMethod.Post, Api + "runs/search", "{\"experiment_ids\": [\"0\"], \"page_token\": \"////\"}", "application/json");
    }

    [Fact]
    public async Task The_server_stays_healthy_after_1000_malformed_requests()
    {
        await using var server = await CairnProcess.StartAsync();
        var run = await CreateRunAsync(server);
        var corpus = MalformedRequests(run).ToList();
        for (var i = 0; i < 1000; i++)
        {
            var (method, pathAndQuery, body, contentType) = corpus[i % corpus.Count];
            var answer = await SendAsync(server, method, pathAndQuery, body, contentType: contentType);
            AssertClientError($"#{i} {method} {pathAndQuery} {Shorten(body ?? "")}", answer);
        }

        Assert.False(server.HasExited);
        using (var health = await server.Http.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        await server.OkAsync("runs/log-metric", new { run_id = run, key = "after", value = 1.0, timestamp = 1_700_000_000_000L });
        var data = (await server.OkGetAsync($"runs/get?run_id={run}"))["run"]!["data"]!;
        Assert.Equal(["after"], data["metrics"]!.AsArray().Select(m => (string)m!["key"]!));
        Assert.Null(data["params"]);
    }

    // ------------------------------------------------------------ helpers

    private sealed record Answer(HttpStatusCode Status, string? ContentType, string Text, JsonNode? Json)
    {
        public string? ErrorCode => Json is JsonObject o && o["error_code"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string?)v : null;
    }

    private static async Task<Answer> SendAsync(CairnProcess server, HttpMethod method, string pathAndQuery, string? body, bool chunked = false, string? contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        if (body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            request.Content = chunked ? new StreamContent(new MemoryStream(bytes)) : new ByteArrayContent(bytes);
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            if (chunked)
            {
                request.Headers.TransferEncodingChunked = true;
            }
        }

        using var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
            }
        }

        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, text, json);
    }

    /// <summary>A 4xx carrying MLflow's envelope: a JSON object with string error_code and message.</summary>
    private static void AssertClientError(string what, Answer answer)
    {
        Assert.True((int)answer.Status is >= 400 and < 500, $"{what} -> {(int)answer.Status} {Shorten(answer.Text)}");
        Assert.True(answer.ContentType == "application/json", $"{what} -> content type {answer.ContentType}");
        Assert.True(answer.ErrorCode is { Length: > 0 } && answer.Json!["message"]?.GetValueKind() == JsonValueKind.String, $"{what} -> not an MLflow error envelope: {Shorten(answer.Text)}");
    }

    private static async Task<string> CreateRunAsync(CairnProcess server)
    {
        var exp = (string)(await server.OkAsync("experiments/create", new { name = "bad-input-" + Guid.NewGuid().ToString("N")[..8] }))["experiment_id"]!;
        return (string)(await server.OkAsync("runs/create", new { experiment_id = exp, start_time = 1_700_000_000_000L }))["run"]!["info"]!["run_id"]!;
    }

    private static async Task AssertRunHoldsOnlyItsNameAsync(CairnProcess server, string run)
    {
        var data = (await server.OkGetAsync($"runs/get?run_id={run}"))["run"]!["data"]!.AsObject();
        Assert.Equal(["tags"], data.Select(p => p.Key));
        Assert.Equal(["mlflow.runName"], data["tags"]!.AsArray().Select(t => (string)t!["key"]!));
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..120] + "…";
}
