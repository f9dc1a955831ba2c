using Cairn.Server.Tests;

namespace Cairn.Cli.Tests;

/// <summary>`cairn models` against a real server process.</summary>
public class ModelsCommandTests
{
    private static Task<(int ExitCode, string Output, string Error)> RunAsync(IDictionary<string, string>? environment, params string[] args) =>
        CairnCli.RunAsync(Path.GetTempPath(), environment, args);

    private static async Task SeedAsync(CairnProcess server)
    {
        await server.OkAsync("registered-models/create", new { name = "iris", description = "flowers", tags = new[] { new { key = "team", value = "ml" } } });
        await server.OkAsync("registered-models/create", new { name = "wine" });
        await server.OkAsync("model-versions/create", new { name = "iris", source = "s3://bucket/iris/1", run_id = "run0001" });
        await server.OkAsync("model-versions/create", new { name = "iris", source = "s3://bucket/iris/2", run_id = "run0002" });
        await server.OkAsync("model-versions/create", new { name = "iris", source = "s3://bucket/iris/3" });
    }

    [Fact]
    public async Task List_show_and_versions_print_tables_of_the_registry()
    {
        await using var server = await CairnProcess.StartAsync();
        await SeedAsync(server);

        var (code, list, _) = await RunAsync(null, "models", "list", "--tracking-uri", server.BaseUrl);
        Assert.Equal(0, code);
        Assert.Contains("iris", list);
        Assert.Contains("wine", list);
        Assert.Contains("v3 None", list);

        var (showCode, show, _) = await RunAsync(null, "models", "show", "iris", "--tracking-uri", server.BaseUrl);
        Assert.Equal(0, showCode);
        Assert.Contains("flowers", show);
        Assert.Contains("team=ml", show);
        Assert.Contains("s3://bucket/iris/2", show);

        var (versionsCode, versions, _) = await RunAsync(null, "models", "versions", "iris", "--tracking-uri", server.BaseUrl);
        Assert.Equal(0, versionsCode);
        var lines = versions.Split('\n');
        var v3 = Array.FindIndex(lines, l => l.Contains("s3://bucket/iris/3", StringComparison.Ordinal));
        var v1 = Array.FindIndex(lines, l => l.Contains("s3://bucket/iris/1", StringComparison.Ordinal));
        Assert.True(v3 >= 0 && v1 > v3, "versions are listed newest first:\n" + versions);
    }

    [Fact]
    public async Task Alias_set_moves_and_alias_delete_removes_an_alias()
    {
        await using var server = await CairnProcess.StartAsync();
        await SeedAsync(server);
        var env = new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = server.BaseUrl };

        Assert.Equal(0, (await RunAsync(env, "models", "alias", "set", "iris", "champion", "1")).ExitCode);
        var (code, output, _) = await RunAsync(env, "models", "alias", "set", "iris", "champion", "2");
        Assert.Equal(0, code);
        Assert.Contains("version 2", output);
        var model = (await server.OkGetAsync("registered-models/get?name=iris"))["registered_model"]!;
        Assert.Equal("2", (string)model["aliases"]!.AsArray().Single()!["version"]!);
        var (_, versions, _) = await RunAsync(env, "models", "versions", "iris");
        Assert.Contains(versions.Split('\n'), l => l.Contains("champion", StringComparison.Ordinal) && l.Contains("s3://bucket/iris/2", StringComparison.Ordinal));

        Assert.Equal(0, (await RunAsync(env, "models", "alias", "delete", "iris", "champion")).ExitCode);
        Assert.Null((await server.OkGetAsync("registered-models/get?name=iris"))["registered_model"]!["aliases"]);
    }

    [Fact]
    public async Task Transition_with_archive_existing_archives_the_previous_production_version()
    {
        await using var server = await CairnProcess.StartAsync();
        await SeedAsync(server);
        var env = new Dictionary<string, string> { ["CAIRN_TRACKING_URI"] = server.BaseUrl };

        Assert.Equal(0, (await RunAsync(env, "models", "transition", "iris", "1", "production")).ExitCode);
        var (code, output, _) = await RunAsync(env, "models", "transition", "iris", "2", "Production", "--archive-existing");
        Assert.Equal(0, code);
        Assert.Contains("stage Production", output);
        Assert.Equal("Archived", (string)(await server.OkGetAsync("model-versions/get?name=iris&version=1"))["model_version"]!["current_stage"]!);
    }

    [Fact]
    public async Task Registry_errors_print_mlflow_error_and_exit_non_zero()
    {
        await using var server = await CairnProcess.StartAsync();
        await SeedAsync(server);

        var (missing, _, missingError) = await RunAsync(null, "models", "show", "nope", "--tracking-uri", server.BaseUrl);
        Assert.Equal(1, missing);
        Assert.Contains("RESOURCE_DOES_NOT_EXIST", missingError);
        var (badStage, _, stageError) = await RunAsync(null, "models", "transition", "iris", "1", "Live", "--tracking-uri", server.BaseUrl);
        Assert.Equal(1, badStage);
        Assert.Contains("Invalid Model Version stage", stageError);
        var (noServer, _, noServerError) = await RunAsync(null, "models", "list");
        Assert.Equal(2, noServer);
        Assert.Contains("--tracking-uri", noServerError);
    }
}
