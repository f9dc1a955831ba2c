using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests;

/// <summary>The model registry API against a real server process, on SQLite and PostgreSQL.</summary>
public class RegistryApiTests
{
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Registered_model_lifecycle_create_get_update_rename_tag_search_delete(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var created = (await server.OkAsync("registered-models/create", new { name = "iris", description = "first", tags = new[] { new { key = "team", value = "ml" } } }))["registered_model"]!;
        Assert.Equal("iris", (string)created["name"]!);
        Assert.Equal("first", (string)created["description"]!);
        await server.OkAsync("registered-models/create", new { name = "wine" });

        var updated = (await server.SendOkAsync(HttpMethod.Patch, "registered-models/update", new { name = "iris", description = "" }))["registered_model"]!;
        Assert.Null(updated["description"]);

        await server.OkAsync("registered-models/set-tag", new { name = "iris", key = "task", value = "classify" });
        await server.OkAsync("registered-models/set-tag", new { name = "iris", key = "temp", value = "x" });
        await server.SendOkAsync(HttpMethod.Delete, "registered-models/delete-tag", new { name = "iris", key = "temp" });
        await server.SendOkAsync(HttpMethod.Delete, "registered-models/delete-tag", new { name = "iris", key = "never-set" });

        var renamed = (await server.OkAsync("registered-models/rename", new { name = "iris", new_name = "iris-v2" }))["registered_model"]!;
        Assert.Equal("iris-v2", (string)renamed["name"]!);
        var got = (await server.OkGetAsync("registered-models/get?name=iris-v2"))["registered_model"]!;
        Assert.Equal(["task", "team"], got["tags"]!.AsArray().Select(t => (string)t!["key"]!).Order().ToArray());
        var (missingStatus, missing) = await server.GetAsync("registered-models/get?name=iris");
        Assert.Equal(HttpStatusCode.NotFound, missingStatus);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string)missing!["error_code"]!);

        var byTag = await server.OkGetAsync("registered-models/search?filter=" + Uri.EscapeDataString("tags.team = 'ml'"));
        Assert.Equal("iris-v2", (string)byTag["registered_models"]![0]!["name"]!);
        var like = await server.OkGetAsync("registered-models/search?filter=" + Uri.EscapeDataString("name ILIKE 'WIN%'"));
        Assert.Single(like["registered_models"]!.AsArray());
        var page1 = await server.OkGetAsync("registered-models/search?max_results=1&order_by=name+DESC");
        Assert.Equal("wine", (string)page1["registered_models"]![0]!["name"]!);
        var page2 = await server.OkGetAsync("registered-models/search?max_results=1&order_by=name+DESC&page_token=" + Uri.EscapeDataString((string)page1["next_page_token"]!));
        Assert.Equal("iris-v2", (string)page2["registered_models"]![0]!["name"]!);
        Assert.Null(page2["next_page_token"]);

        await server.SendOkAsync(HttpMethod.Delete, "registered-models/delete", new { name = "wine" });
        Assert.Single((await server.OkGetAsync("registered-models/search"))["registered_models"]!.AsArray());
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Model_versions_create_get_update_tag_search_download_uri_and_numbers_are_never_reused(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        await server.OkAsync("registered-models/create", new { name = "m" });
        var v1 = (await server.OkAsync("model-versions/create", new { name = "m", source = "s3://bucket/m/1", run_id = "abc", description = "one", tags = new[] { new { key = "ok", value = "no" } } }))["model_version"]!;
        Assert.Equal("1", (string)v1["version"]!);
        Assert.Equal("None", (string)v1["current_stage"]!);
        Assert.Equal("READY", (string)v1["status"]!);
        await server.OkAsync("model-versions/create", new { name = "m", source = "s3://bucket/m/2" });

        var updated = (await server.SendOkAsync(HttpMethod.Patch, "model-versions/update", new { name = "m", version = "1", description = "uno" }))["model_version"]!;
        Assert.Equal("uno", (string)updated["description"]!);
        await server.OkAsync("model-versions/set-tag", new { name = "m", version = "1", key = "ok", value = "yes" });
        await server.SendOkAsync(HttpMethod.Delete, "model-versions/delete-tag", new { name = "m", version = "2", key = "never-set" });

        var got = (await server.OkGetAsync("model-versions/get?name=m&version=1"))["model_version"]!;
        Assert.Equal("yes", (string)got["tags"]![0]!["value"]!);
        Assert.Equal("s3://bucket/m/1", (string)(await server.OkGetAsync("model-versions/get-download-uri?name=m&version=1"))["artifact_uri"]!);

        var byRun = await server.OkGetAsync("model-versions/search?filter=" + Uri.EscapeDataString("run_id = 'abc'"));
        Assert.Single(byRun["model_versions"]!.AsArray());
        var newest = await server.OkGetAsync("model-versions/search?filter=" + Uri.EscapeDataString("name = 'm' AND version_number > 1"));
        Assert.Equal("2", (string)newest["model_versions"]![0]!["version"]!);
        var byTag = await server.OkGetAsync("model-versions/search?filter=" + Uri.EscapeDataString("tags.ok = 'yes'"));
        Assert.Equal("1", (string)byTag["model_versions"]![0]!["version"]!);

        await server.SendOkAsync(HttpMethod.Delete, "model-versions/delete", new { name = "m", version = "2" });
        var (goneStatus, _) = await server.GetAsync("model-versions/get?name=m&version=2");
        Assert.Equal(HttpStatusCode.NotFound, goneStatus);
        var v3 = (await server.OkAsync("model-versions/create", new { name = "m", source = "s3://bucket/m/3" }))["model_version"]!;
        Assert.Equal("3", (string)v3["version"]!);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Moving_an_alias_keeps_one_alias_per_name(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        await server.OkAsync("registered-models/create", new { name = "m" });
        for (var i = 0; i < 3; i++)
        {
            await server.OkAsync("model-versions/create", new { name = "m", source = $"s3://b/{i}" });
        }

        await server.OkAsync("registered-models/alias", new { name = "m", alias = "champion", version = "1" });
        await server.OkAsync("registered-models/alias", new { name = "m", alias = "champion", version = "3" });
        await server.OkAsync("registered-models/alias", new { name = "m", alias = "challenger", version = "3" });

        var model = (await server.OkGetAsync("registered-models/get?name=m"))["registered_model"]!;
        var aliases = model["aliases"]!.AsArray().Select(a => ((string)a!["alias"]!, (string)a["version"]!)).ToArray();
        Assert.Equal([("challenger", "3"), ("champion", "3")], aliases);
        Assert.Null((await server.OkGetAsync("model-versions/get?name=m&version=1"))["model_version"]!["aliases"]);
        var v3 = (await server.OkGetAsync("registered-models/alias?name=m&alias=champion"))["model_version"]!;
        Assert.Equal("3", (string)v3["version"]!);
        Assert.Equal(["challenger", "champion"], v3["aliases"]!.AsArray().Select(a => (string)a!).ToArray());

        await server.SendOkAsync(HttpMethod.Delete, "registered-models/alias", new { name = "m", alias = "champion" });
        await server.SendOkAsync(HttpMethod.Delete, "registered-models/alias", new { name = "m", alias = "champion" });
        var (status, error) = await server.GetAsync("registered-models/alias?name=m&alias=champion");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string)error!["error_code"]!);

        foreach (var reserved in new[] { "latest", "LATEST", "v1", "V12" })
        {
            var (s, e) = await server.PostAsync("registered-models/alias", new { name = "m", alias = reserved, version = "1" });
            Assert.Equal(HttpStatusCode.BadRequest, s);
            Assert.Contains("reserved", (string)e!["message"]!, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Transition_with_archive_existing_versions_archives_only_the_target_stage(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        await server.OkAsync("registered-models/create", new { name = "m" });
        for (var i = 0; i < 4; i++)
        {
            await server.OkAsync("model-versions/create", new { name = "m", source = $"s3://b/{i}" });
        }

        await server.OkAsync("model-versions/transition-stage", new { name = "m", version = "1", stage = "production", archive_existing_versions = false });
        await server.OkAsync("model-versions/transition-stage", new { name = "m", version = "2", stage = "Production", archive_existing_versions = false });
        await server.OkAsync("model-versions/transition-stage", new { name = "m", version = "3", stage = "STAGING", archive_existing_versions = false });
        var moved = (await server.OkAsync("model-versions/transition-stage", new { name = "m", version = "4", stage = "Production", archive_existing_versions = true }))["model_version"]!;
        Assert.Equal("Production", (string)moved["current_stage"]!);

        async Task<string> StageOf(int v) => (string)(await server.OkGetAsync($"model-versions/get?name=m&version={v}"))["model_version"]!["current_stage"]!;
        Assert.Equal("Archived", await StageOf(1));
        Assert.Equal("Archived", await StageOf(2));
        Assert.Equal("Staging", await StageOf(3));

        var latest = await server.OkAsync("registered-models/get-latest-versions", new { name = "m", stages = new[] { "production", "staging" } });
        Assert.Equal(["3", "4"], latest["model_versions"]!.AsArray().Select(v => (string)v!["version"]!).Order().ToArray());
        var archived = await server.OkGetAsync("registered-models/get-latest-versions?name=m&stages=Archived");
        Assert.Equal("2", (string)archived["model_versions"]![0]!["version"]!);

        var (bad, error) = await server.PostAsync("model-versions/transition-stage", new { name = "m", version = "1", stage = "Archived", archive_existing_versions = true });
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string)error!["error_code"]!);
        var (badStage, _) = await server.PostAsync("model-versions/transition-stage", new { name = "m", version = "1", stage = "Prod" });
        Assert.Equal(HttpStatusCode.BadRequest, badStage);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Deletes_cascade_as_mlflow_versions_tags_and_aliases_go_with_their_owner(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        await server.OkAsync("registered-models/create", new { name = "m", tags = new[] { new { key = "k", value = "v" } } });
        await server.OkAsync("model-versions/create", new { name = "m", source = "s3://b/1", tags = new[] { new { key = "t", value = "1" } } });
        await server.OkAsync("model-versions/create", new { name = "m", source = "s3://b/2" });
        await server.OkAsync("registered-models/alias", new { name = "m", alias = "prod", version = "1" });
        await server.OkAsync("registered-models/alias", new { name = "m", alias = "next", version = "2" });

        // Deleting a version takes its aliases with it; the other version's alias stays.
        await server.SendOkAsync(HttpMethod.Delete, "model-versions/delete", new { name = "m", version = "1" });
        var model = (await server.OkGetAsync("registered-models/get?name=m"))["registered_model"]!;
        Assert.Equal("next", (string)model["aliases"]!.AsArray().Single()!["alias"]!);
        var (aliasStatus, _) = await server.GetAsync("registered-models/alias?name=m&alias=prod");
        Assert.Equal(HttpStatusCode.BadRequest, aliasStatus);

        // Deleting the model takes everything; a model created again under the name starts afresh.
        await server.SendOkAsync(HttpMethod.Delete, "registered-models/delete", new { name = "m" });
        Assert.Null((await server.OkGetAsync("model-versions/search?filter=" + Uri.EscapeDataString("name = 'm'")))["model_versions"]);
        await server.OkAsync("registered-models/create", new { name = "m" });
        var again = (await server.OkGetAsync("registered-models/get?name=m"))["registered_model"]!;
        Assert.Null(again["tags"]);
        Assert.Null(again["aliases"]);
        Assert.Null(again["latest_versions"]);
        Assert.Equal("1", (string)(await server.OkAsync("model-versions/create", new { name = "m", source = "s3://b/x" }))["model_version"]!["version"]!);
        Assert.Null((await server.OkGetAsync("model-versions/get?name=m&version=1"))["model_version"]!["tags"]);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Every_registry_route_answers_under_the_ajax_prefix_too(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        using var content = new StringContent("""{"name": "ajax-model"}""", Encoding.UTF8, "application/json");
        using var created = await server.Http.PostAsync("/ajax-api/2.0/mlflow/registered-models/create", content);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        using var got = await server.Http.GetAsync("/ajax-api/2.0/mlflow/registered-models/get?name=ajax-model");
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Get_artifact_serves_files_from_the_version_source(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        var experimentId = (string)(await server.OkAsync("experiments/create", new { name = "e" }))["experiment_id"]!;
        var run = (await server.OkAsync("runs/create", new { experiment_id = experimentId }))["run"]!["info"]!;
        var runId = (string)run["run_id"]!;
        using (var file = new StringContent("flavors: {}\n"))
        using (var put = await server.Http.PutAsync($"/api/2.0/mlflow-artifacts/artifacts/{experimentId}/{runId}/artifacts/model/MLmodel", file))
        {
            Assert.True(put.IsSuccessStatusCode);
        }

        await server.OkAsync("registered-models/create", new { name = "m" });
        await server.OkAsync("model-versions/create", new { name = "m", source = $"mlflow-artifacts:/{experimentId}/{runId}/artifacts/model", run_id = runId });
        await server.OkAsync("model-versions/create", new { name = "m", source = $"runs:/{runId}/model", run_id = runId });
        foreach (var version in new[] { 1, 2 })
        {
            using var response = await server.Http.GetAsync($"/model-versions/get-artifact?name=m&version={version}&path=MLmodel");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("flavors: {}\n", await response.Content.ReadAsStringAsync());
        }

        using var missing = await server.Http.GetAsync("/model-versions/get-artifact?name=m&version=1&path=nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var traversal = await server.Http.GetAsync("/model-versions/get-artifact?name=m&version=1&path=../../x");
        Assert.Equal(HttpStatusCode.BadRequest, traversal.StatusCode);
    }

    /// <summary>Bad registry input of every kind gets MLflow's JSON error envelope with a 4xx, and the server stays up.</summary>
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Bad_registry_input_is_a_4xx_in_the_error_envelope_never_a_5xx(string backend)
    {
        await using var server = await Backends.StartAsync(backend);
        if (server is null)
        {
            return;
        }

        await server.OkAsync("registered-models/create", new { name = "m" });
        await server.OkAsync("model-versions/create", new { name = "m", source = "s3://b/1" });
        var cases = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Post, "registered-models/create", new { name = "" }),
            (HttpMethod.Post, "registered-models/create", new { name = "m" }),
            (HttpMethod.Post, "registered-models/create", new { name = 5 }),
            (HttpMethod.Post, "registered-models/create", new { name = "x", tags = "nope" }),
            (HttpMethod.Post, "registered-models/create", new { name = "x", tags = new[] { new { key = "../k", value = "v" } } }),
            (HttpMethod.Post, "registered-models/set-tag", new { name = "m", key = "k", value = new string('v', 5001) }),
            (HttpMethod.Post, "registered-models/rename", new { name = "m", new_name = "" }),
            (HttpMethod.Get, "registered-models/search?max_results=0", null),
            (HttpMethod.Get, "registered-models/search?max_results=1001", null),
            (HttpMethod.Get, "registered-models/search?max_results=abc", null),
            (HttpMethod.Get, "registered-models/search?filter=" + Uri.EscapeDataString("name = 'x' OR name = 'y'"), null),
            (HttpMethod.Get, "registered-models/search?filter=" + Uri.EscapeDataString("tags.k IN ('a')"), null),
            (HttpMethod.Get, "registered-models/search?filter=" + Uri.EscapeDataString("name > 5"), null),
            (HttpMethod.Get, "registered-models/search?order_by=tags.k", null),
            (HttpMethod.Get, "registered-models/search?order_by=name&order_by=name+DESC", null),
            (HttpMethod.Get, "registered-models/search?page_token=%7B%7D", null),
            (HttpMethod.Get, "model-versions/search?filter=" + Uri.EscapeDataString("version_number = 'x'"), null),
            (HttpMethod.Get, "model-versions/search?filter=" + Uri.EscapeDataString("name IN ('m')"), null),
            (HttpMethod.Get, "model-versions/search?filter=" + Uri.EscapeDataString("source_path < 'x'"), null),
            (HttpMethod.Get, "model-versions/search?order_by=run_id", null),
            (HttpMethod.Get, "model-versions/search?max_results=200001", null),
            (HttpMethod.Get, "model-versions/get?name=m&version=abc", null),
            (HttpMethod.Get, "model-versions/get?name=m&version=99999999999999999999", null),
            (HttpMethod.Get, "model-versions/get?name=m", null),
            (HttpMethod.Post, "model-versions/create", new { name = "m", source = "../relative" }),
            (HttpMethod.Post, "model-versions/create", new { name = "m", source = "s3://b/../../etc" }),
            (HttpMethod.Post, "model-versions/create", new { name = "m", source = "file://remote-host/x" }),
            (HttpMethod.Post, "model-versions/create", new { name = "m", source = "/tmp/x", run_id = "no-such-run" }),
            (HttpMethod.Post, "model-versions/transition-stage", new { name = "m", version = "1", stage = "Prod" }),
            (HttpMethod.Post, "model-versions/transition-stage", new { name = "m", version = "1", stage = "Staging", archive_existing_versions = "yes" }),
            (HttpMethod.Post, "registered-models/alias", new { name = "m", alias = "", version = "1" }),
            (HttpMethod.Post, "registered-models/alias", new { name = "m", alias = new string('a', 256), version = "1" }),
            (HttpMethod.Post, "registered-models/alias", new { name = "m", alias = "ok", version = "x" }),
            (HttpMethod.Post, "registered-models/get-latest-versions", new { name = "m", stages = new[] { "Live" } }),
            (HttpMethod.Delete, "model-versions/delete-tag", new { name = "m", version = "1", key = "" }),
            (HttpMethod.Patch, "model-versions/update", "{not json"),
            (HttpMethod.Delete, "registered-models/delete", "[1, 2]"),
            (HttpMethod.Get, "/model-versions/get-artifact?name=m&version=1", null),
        };

        foreach (var (method, path, body) in cases)
        {
            var (status, json) = await server.SendAsync(method, path, body);
            Assert.True((int)status is >= 400 and < 500, $"{method} {path} -> {(int)status} {json?.ToJsonString()}");
            Assert.True(json is JsonObject o && o["error_code"] is not null && o["message"] is not null, $"{method} {path}: not MLflow's error envelope: {json?.ToJsonString()}");
        }

        Assert.False(server.HasExited);
        Assert.Equal("1", (string)(await server.OkGetAsync("model-versions/get?name=m&version=1"))["model_version"]!["version"]!);
    }
}

/// <summary>Requests with any method (the registry uses PATCH and DELETE with JSON bodies).</summary>
internal static class RegistryRequests
{
    /// <summary>Sends <paramref name="body"/> (an object to serialise, or raw text) to an MLflow API path, or to an absolute path starting with '/'.</summary>
    public static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(this CairnProcess server, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path.StartsWith('/') ? path : "/api/2.0/mlflow/" + path);
        if (body is not null)
        {
            request.Content = new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        using var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType == "application/json" && text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    public static async Task<JsonNode> SendOkAsync(this CairnProcess server, HttpMethod method, string path, object body)
    {
        var (status, json) = await server.SendAsync(method, path, body);
        Assert.True(status == HttpStatusCode.OK, $"{method} {path} -> {(int)status} {json?.ToJsonString()}");
        return json!;
    }
}
