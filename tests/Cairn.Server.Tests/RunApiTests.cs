using System.Net;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests;

public class RunApiTests
{
    private static async Task<string> CreateExperimentAsync(CairnProcess server, string name) =>
        (string)(await server.OkAsync("experiments/create", new { name }))["experiment_id"]!;

    private static async Task<string> CreateRunAsync(CairnProcess server, string experimentId, string name, long startTime, object[]? tags = null) =>
        (string)(await server.OkAsync("runs/create", new { experiment_id = experimentId, run_name = name, start_time = startTime, user_id = "alice", tags = tags ?? [] }))["run"]!["info"]!["run_id"]!;

    private static Dictionary<string, JsonNode> ByKey(JsonNode? list) =>
        list?.AsArray().ToDictionary(e => (string)e!["key"]!, e => e!) ?? [];

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Run_lifecycle_logs_metrics_params_tags_inputs_and_reads_them_back(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var exp = await CreateExperimentAsync(server, "runs");
        var parent = await CreateRunAsync(server, exp, "parent", 1000);
        var child = await CreateRunAsync(server, exp, "child", 2000, [new { key = "mlflow.parentRunId", value = parent }]);

        await server.OkAsync("runs/log-metric", new { run_id = parent, key = "acc", value = 0.5, timestamp = 10, step = 0 });
        await server.OkAsync("runs/log-metric", new { run_id = parent, key = "acc", value = 0.9, timestamp = 30, step = 2 });
        await server.OkAsync("runs/log-metric", new { run_id = parent, key = "acc", value = 0.7, timestamp = 40, step = 1 });
        await server.OkAsync("runs/log-metric", new { run_id = parent, key = "loss", value = "NaN", timestamp = 50 });
        await server.OkAsync("runs/log-parameter", new { run_id = parent, key = "lr", value = "0.01" });
        await server.OkAsync("runs/set-tag", new { run_id = parent, key = "stage", value = "dev" });
        await server.OkAsync("runs/set-tag", new { run_id = parent, key = "temp", value = "x" });
        await server.OkAsync("runs/delete-tag", new { run_id = parent, key = "temp" });
        await server.OkAsync("runs/log-batch", new
        {
            run_id = parent,
            metrics = new[] { new { key = "f1", value = 0.1, timestamp = 60, step = 0 }, new { key = "f1", value = 0.2, timestamp = 61, step = 1 } },
            @params = new[] { new { key = "depth", value = "3" } },
            tags = new[] { new { key = "mlflow.runName", value = "parent-renamed" } },
        });
        await server.OkAsync("runs/log-inputs", new
        {
            run_id = parent,
            datasets = new[]
            {
                new
                {
                    tags = new[] { new { key = "mlflow.data.context", value = "training" } },
                    dataset = new { name = "iris", digest = "abc123", source_type = "local", source = "{\"uri\": \"iris.csv\"}", schema = "{}", profile = "{\"num_rows\": 150}" },
                },
            },
        });

        var run = (await server.OkGetAsync($"runs/get?run_id={parent}"))["run"]!;
        Assert.Equal("parent-renamed", (string)run["info"]!["run_name"]!);
        var metrics = ByKey(run["data"]!["metrics"]);
        Assert.Equal(0.9, (double)metrics["acc"]["value"]!); // highest step wins, not the last logged
        Assert.Equal("NaN", (string)metrics["loss"]["value"]!);
        Assert.Equal(0.2, (double)metrics["f1"]["value"]!);
        var @params = ByKey(run["data"]!["params"]);
        Assert.Equal("0.01", (string)@params["lr"]["value"]!);
        Assert.Equal("3", (string)@params["depth"]["value"]!);
        var tags = ByKey(run["data"]!["tags"]);
        Assert.Equal("dev", (string)tags["stage"]["value"]!);
        Assert.False(tags.ContainsKey("temp"));
        Assert.Equal("parent-renamed", (string)tags["mlflow.runName"]["value"]!);
        var input = run["inputs"]!["dataset_inputs"]![0]!;
        Assert.Equal("iris", (string)input["dataset"]!["name"]!);
        Assert.Equal("training", (string)input["tags"]![0]!["value"]!);

        var history = (await server.OkGetAsync($"metrics/get-history?run_id={parent}&metric_key=acc"))["metrics"]!.AsArray();
        Assert.Equal([0.5, 0.9, 0.7], history.Select(m => (double)m!["value"]!));

        var (changed, error) = await server.PostAsync("runs/log-parameter", new { run_id = parent, key = "lr", value = "0.02" });
        Assert.Equal(HttpStatusCode.BadRequest, changed);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string)error!["error_code"]!);

        var info = (await server.OkAsync("runs/update", new { run_id = parent, status = "FINISHED", end_time = 5000 }))["run_info"]!;
        Assert.Equal("FINISHED", (string)info["status"]!);
        Assert.Equal(5000, (long)info["end_time"]!);

        var children = await server.OkAsync("runs/search", new { experiment_ids = new[] { exp }, filter = $"tags.mlflow.parentRunId = '{parent}'" });
        Assert.Equal(child, (string)children["runs"]![0]!["info"]!["run_id"]!);

        await server.OkAsync("runs/delete", new { run_id = child });
        var (deletedLog, deletedError) = await server.PostAsync("runs/log-metric", new { run_id = child, key = "m", value = 1, timestamp = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, deletedLog);
        Assert.Contains("must be in the 'active' state", (string)deletedError!["message"]!);
        await server.OkAsync("runs/restore", new { run_id = child });
        await server.OkAsync("runs/log-metric", new { run_id = child, key = "m", value = 1, timestamp = 1 });
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Run_search_pages_through_three_pages_filters_orders_and_honours_view_type(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var exp = await CreateExperimentAsync(server, "search");
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var id = await CreateRunAsync(server, exp, $"r{i}", 1000 + i);
            ids.Add(id);
            await server.OkAsync("runs/log-batch", new
            {
                run_id = id,
                metrics = new[] { new { key = "m", value = i / 10.0, timestamp = 1, step = 0 } },
                @params = new[] { new { key = "p", value = i % 2 == 0 ? "even" : "odd" } },
            });
        }

        await server.OkAsync("runs/delete", new { run_id = ids[6] });

        // Six active runs, pages of 2, newest first by default.
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var body = new JsonObject { ["experiment_ids"] = new JsonArray(exp), ["max_results"] = 2 };
            if (token is not null)
            {
                body["page_token"] = token;
            }

            var page = await server.OkAsync("runs/search", body.ToJsonString());
            seen.AddRange(page["runs"]?.AsArray().Select(r => (string)r!["info"]!["run_name"]!) ?? []);
            token = (string?)page["next_page_token"];
            pages++;
        }
        while (token is not null);

        Assert.True(pages >= 3);
        Assert.Equal(["r5", "r4", "r3", "r2", "r1", "r0"], seen);

        var filtered = await server.OkAsync("runs/search", new { experiment_ids = new[] { exp }, filter = "metrics.m > 0.15 and params.p = 'even'", order_by = new[] { "metrics.m DESC" } });
        Assert.Equal(["r4", "r2"], filtered["runs"]!.AsArray().Select(r => (string)r!["info"]!["run_name"]!));

        var deleted = await server.OkAsync("runs/search", new { experiment_ids = new[] { exp }, run_view_type = "DELETED_ONLY" });
        Assert.Equal("r6", (string)deleted["runs"]![0]!["info"]!["run_name"]!);
        var all = await server.OkAsync("runs/search", new { experiment_ids = new[] { exp }, run_view_type = "ALL" });
        Assert.Equal(7, all["runs"]!.AsArray().Count);

        var (badStatus, bad) = await server.PostAsync("runs/search", new { experiment_ids = new[] { exp }, filter = "metrics.m >>> 1" });
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string)bad!["error_code"]!);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Metric_history_is_paged_and_bulk_interval_samples_steps(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var exp = await CreateExperimentAsync(server, "history");
        var run = await CreateRunAsync(server, exp, "long", 1);
        for (var batch = 0; batch < 3; batch++)
        {
            var metrics = Enumerable.Range(batch * 1000, 1000).Select(i => new { key = "curve", value = i * 0.001, timestamp = 1000 + i, step = i }).ToArray();
            await server.OkAsync("runs/log-batch", new { run_id = run, metrics });
        }

        var steps = new List<long>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await server.OkGetAsync($"metrics/get-history?run_id={run}&metric_key=curve&max_results=1000" + (token is null ? "" : "&page_token=" + Uri.EscapeDataString(token)));
            steps.AddRange(page["metrics"]!.AsArray().Select(m => (long)m!["step"]!));
            token = (string?)page["next_page_token"];
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => (long)i), steps);

        var sampled = (await server.OkGetAsync($"metrics/get-history-bulk-interval?run_ids={run}&metric_key=curve&max_results=10"))["metrics"]!.AsArray();
        var sampledSteps = sampled.Select(m => (long)m!["step"]!).ToList();
        Assert.InRange(sampledSteps.Count, 10, 12);
        Assert.Equal(0, sampledSteps[0]);
        Assert.Equal(2999, sampledSteps[^1]);
        Assert.All(sampled, m => Assert.Equal(run, (string)m!["run_id"]!));
    }
}
