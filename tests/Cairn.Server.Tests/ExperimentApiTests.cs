using System.Net;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests;

public class ExperimentApiTests
{
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Experiment_lifecycle_create_get_rename_tag_delete_restore(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var id = (string)(await server.OkAsync("experiments/create", new { name = "exp-a", tags = new[] { new { key = "team", value = "vision" } } }))["experiment_id"]!;
        var exp = (await server.OkGetAsync($"experiments/get?experiment_id={id}"))["experiment"]!;
        Assert.Equal("exp-a", (string)exp["name"]!);
        Assert.Equal($"mlflow-artifacts:/{id}", (string)exp["artifact_location"]!);
        Assert.Equal("vision", (string)exp["tags"]![0]!["value"]!);

        await server.OkAsync("experiments/update", new { experiment_id = id, new_name = "exp-renamed" });
        await server.OkAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "owner", value = "bob" });
        var byName = (await server.OkGetAsync("experiments/get-by-name?experiment_name=exp-renamed"))["experiment"]!;
        Assert.Equal(id, (string)byName["experiment_id"]!);
        Assert.Equal(2, byName["tags"]!.AsArray().Count);

        var (dupStatus, dup) = await server.PostAsync("experiments/create", new { name = "exp-renamed" });
        Assert.Equal(HttpStatusCode.BadRequest, dupStatus);
        Assert.Equal("RESOURCE_ALREADY_EXISTS", (string)dup!["error_code"]!);

        await server.OkAsync("experiments/delete", new { experiment_id = id });
        var deleted = (await server.OkGetAsync($"experiments/get?experiment_id={id}"))["experiment"]!;
        Assert.Equal("deleted", (string)deleted["lifecycle_stage"]!);
        var (twiceStatus, _) = await server.PostAsync("experiments/delete", new { experiment_id = id });
        Assert.Equal(HttpStatusCode.NotFound, twiceStatus);

        await server.OkAsync("experiments/restore", new { experiment_id = id });
        Assert.Equal("active", (string)(await server.OkGetAsync($"experiments/get?experiment_id={id}"))["experiment"]!["lifecycle_stage"]!);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Experiment_search_pages_through_three_pages_and_honours_view_type(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((string)(await server.OkAsync("experiments/create", new { name = $"page-{i}" }))["experiment_id"]!);
        }

        await server.OkAsync("experiments/delete", new { experiment_id = ids[4] });

        // 4 active + Default = 5 active experiments: pages of 2, 2 and 1.
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var body = new JsonObject { ["max_results"] = 2, ["order_by"] = new JsonArray("name ASC") };
            if (token is not null)
            {
                body["page_token"] = token;
            }

            var page = await server.OkAsync("experiments/search", body.ToJsonString());
            seen.AddRange(page["experiments"]!.AsArray().Select(e => (string)e!["name"]!));
            token = (string?)page["next_page_token"];
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(["Default", "page-0", "page-1", "page-2", "page-3"], seen);

        var deletedOnly = await server.OkAsync("experiments/search", new { max_results = 10, view_type = "DELETED_ONLY" });
        Assert.Equal("page-4", (string)deletedOnly["experiments"]![0]!["name"]!);
        var all = await server.OkAsync("experiments/search", new { max_results = 10, view_type = "ALL" });
        Assert.Equal(6, all["experiments"]!.AsArray().Count);
        var filtered = await server.OkAsync("experiments/search", new { max_results = 10, filter = "name LIKE 'page-%' AND name != 'page-0'" });
        Assert.Equal(3, filtered["experiments"]!.AsArray().Count);
    }

    [Fact]
    public async Task Unknown_experiment_gives_resource_does_not_exist()
    {
        await using var server = await CairnProcess.StartAsync();
        var (status, body) = await server.GetAsync("experiments/get?experiment_id=999999");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string)body!["error_code"]!);
        Assert.Equal("No Experiment with id=999999 exists", (string)body["message"]!);
    }
}
