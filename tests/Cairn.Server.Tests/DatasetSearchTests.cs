using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests;

/// <summary>The web UI's experiments/search-datasets route (served under /ajax-api only, as in MLflow).</summary>
public class DatasetSearchTests
{
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Search_datasets_lists_each_dataset_and_context_once_per_experiment(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var exp = (string)(await server.OkAsync("experiments/create", new { name = "with-datasets" }))["experiment_id"]!;
        var empty = (string)(await server.OkAsync("experiments/create", new { name = "without-datasets" }))["experiment_id"]!;
        object Input(string name, string digest, string? context) => new
        {
            tags = context is null ? Array.Empty<object>() : [new { key = "mlflow.data.context", value = context }],
            dataset = new { name, digest, source_type = "local", source = "{}" },
        };

        // Two runs use the same training set: it is listed once.
        for (var i = 0; i < 2; i++)
        {
            var run = (string)(await server.OkAsync("runs/create", new { experiment_id = exp }))["run"]!["info"]!["run_id"]!;
            await server.OkAsync("runs/log-inputs", new { run_id = run, datasets = new[] { Input("train", "d1", "training"), Input("raw", "d3", null) } });
        }

        var other = (string)(await server.OkAsync("runs/create", new { experiment_id = exp }))["run"]!["info"]!["run_id"]!;
        await server.OkAsync("runs/log-inputs", new { run_id = other, datasets = new[] { Input("eval", "d2", "eval") } });

        var summaries = (await SearchDatasetsAsync(server, new JsonObject { ["experiment_ids"] = new JsonArray(exp, empty) }))["dataset_summaries"]!.AsArray()
            .Select(s => ((string)s!["experiment_id"]!, (string)s["name"]!, (string)s["digest"]!, (string?)s["context"]))
            .OrderBy(s => s.Item2)
            .ToList();
        Assert.Equal([(exp, "eval", "d2", "eval"), (exp, "raw", "d3", null), (exp, "train", "d1", "training")], summaries);

        Assert.Equal("{}", (await SearchDatasetsAsync(server, new JsonObject { ["experiment_ids"] = new JsonArray(empty) })).ToJsonString());

        using var onApiPrefix = await server.Http.PostAsync("/api/2.0/mlflow/experiments/search-datasets", Json(new JsonObject { ["experiment_ids"] = new JsonArray(exp) }));
        Assert.Equal(HttpStatusCode.NotFound, onApiPrefix.StatusCode);
    }

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<JsonNode> SearchDatasetsAsync(CairnProcess server, JsonNode body)
    {
        using var response = await server.Http.PostAsync("/ajax-api/2.0/mlflow/experiments/search-datasets", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }
}
