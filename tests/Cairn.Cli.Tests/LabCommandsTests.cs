using System.Diagnostics;
using System.Text.Json.Nodes;
using Cairn.Server.Tests;

namespace Cairn.Cli.Tests;

/// <summary>A real server with one small iris pipeline in it, for the commands that follow a <c>cairn train</c>.</summary>
public sealed class TrainedIris : IAsyncLifetime
{
    public CairnProcess Server { get; private set; } = null!;

    public string Work { get; } = Directory.CreateTempSubdirectory("cairn-lab-").FullName;

    public JsonNode Version { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await CairnProcess.StartAsync();
        var config = Path.Combine(Work, "iris-lab.yaml");
        await File.WriteAllTextAsync(config, """
            experiment: iris-lab
            seed: 5
            dataset: {name: iris}
            feature_sets:
              basic: [none]
              squared: [{polynomial: {degree: 2}}, zscale]
            models:
              logistic_regression:
                search_space: {l2: [0.01, 1.0]}
              lightgbm:
                search_space: {num_iterations: [20, 40], min_data_in_leaf: [5]}
            tuner: {name: grid, folds: 3}
            registry: {model_name: iris-lab}
            """);
        var (code, output, error) = await TrainCommandTests.RunAsync(Work, "train", "-f", config, "--tracking-uri", Server.BaseUrl);
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Version = (await Server.OkGetAsync("registered-models/alias?name=iris-lab&alias=champion"))["model_version"]!;
    }

    public Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) =>
        TrainCommandTests.RunAsync(Work, [.. args, "--tracking-uri", Server.BaseUrl]);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class LabCommandsTests(TrainedIris iris) : IClassFixture<TrainedIris>
{
    private static async Task<(int Code, string Output)> GitAsync(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["GIT_AUTHOR_NAME"] = psi.Environment["GIT_COMMITTER_NAME"] = "Test";
        psi.Environment["GIT_AUTHOR_EMAIL"] = psi.Environment["GIT_COMMITTER_EMAIL"] = "test@example.com";
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    [Fact]
    public async Task Report_writes_a_ranked_markdown_report_comparison_charts_and_a_csv_of_every_run()
    {
        var output = Path.Combine(iris.Work, "reports-" + Guid.NewGuid().ToString("N")[..6]);
        var (code, stdout, error) = await iris.RunAsync("report", "-e", "iris-lab", "-o", output);
        Assert.True(code == 0, stdout + error);
        var dir = Path.Combine(output, "iris-lab");
        var markdown = await File.ReadAllTextAsync(Path.Combine(dir, "report.md"));
        Assert.Contains("# Experiment report: iris-lab", markdown);
        Assert.Contains("## Best configuration", markdown);
        foreach (var configuration in new[] { "basic-logistic_regression", "basic-lightgbm", "squared-logistic_regression", "squared-lightgbm" })
        {
            Assert.Contains(configuration, markdown);
        }

        Assert.Contains("iris-lab v1 (champion)", markdown);
        foreach (var chart in new[] { "by_model.png", "by_feature_set.png" })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(dir, chart));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            Assert.True(bytes.Length > 5_000, $"{chart}: {bytes.Length} bytes");
            Assert.Contains($"]({chart})", markdown);
        }

        var csv = await File.ReadAllLinesAsync(Path.Combine(dir, "runs.csv"));
        var experimentId = (await iris.Server.OkGetAsync("experiments/get-by-name?experiment_name=iris-lab"))["experiment"]!["experiment_id"]!.GetValue<string>();
        var runs = (await iris.Server.OkAsync("runs/search", new { experiment_ids = new[] { experimentId }, max_results = 1000 }))["runs"]!.AsArray();
        // At least 1 pipeline run, 4 configurations and 2 + 2 + 2 + 2 trials (a rerun test may add more).
        Assert.True(runs.Count >= 13, $"{runs.Count} runs");
        Assert.Equal(1 + runs.Count, csv.Length);
        Assert.Contains("params.l2", csv[0]);
        Assert.Contains("metrics.test_accuracy", csv[0]);
    }

    [Fact]
    public async Task Model_card_describes_data_metrics_params_and_lineage_of_the_champion()
    {
        var output = Path.Combine(iris.Work, "card-" + Guid.NewGuid().ToString("N")[..6]);
        var (code, stdout, error) = await iris.RunAsync("model-card", "-m", "models:/iris-lab@champion", "-o", output);
        Assert.True(code == 0, stdout + error);
        var card = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "model_card.json")))!;
        var runId = iris.Version["run_id"]!.GetValue<string>();
        var run = (await iris.Server.OkGetAsync($"runs/get?run_id={runId}"))["run"]!;
        double Metric(string key) => run["data"]!["metrics"]!.AsArray().First(m => m!["key"]!.GetValue<string>() == key)!["value"]!.GetValue<double>();

        Assert.Equal("iris-lab", card["model"]!["name"]!.GetValue<string>());
        Assert.Equal("1", card["model"]!["version"]!.GetValue<string>());
        Assert.Equal(["challenger", "champion"], card["model"]!["aliases"]!.AsArray().Select(a => a!.GetValue<string>()).Order());
        Assert.Equal("iris", card["data"]!["dataset"]!.GetValue<string>());
        Assert.Equal(["petal_length_cm", "petal_width_cm", "sepal_length_cm", "sepal_width_cm"],
            card["data"]!["inputs"]!.AsArray().Where(i => i!["required"]!.GetValue<bool>()).Select(i => i!["name"]!.GetValue<string>()).Order());
        Assert.Equal(Metric("test_accuracy"), card["metrics"]!["test"]!["accuracy"]!.GetValue<double>());
        Assert.Equal(Metric("train_f1_macro"), card["metrics"]!["train"]!["f1_macro"]!.GetValue<double>());
        Assert.Equal(runId, card["lineage"]!["run_id"]!.GetValue<string>());
        Assert.Equal("grid", card["training"]!["tuner"]!.GetValue<string>());
        Assert.NotEmpty(card["limitations"]!.AsArray());

        var markdown = await File.ReadAllTextAsync(Path.Combine(output, "model_card.md"));
        Assert.Contains("# Model card: iris-lab version 1", markdown);
        Assert.Contains("## Intended use", markdown);
        Assert.Contains("## Limitations", markdown);
        Assert.Contains(runId, markdown);
    }

    [Fact]
    public async Task Release_tags_the_repository_with_the_card_and_pushes_it_when_asked()
    {
        var repo = Directory.CreateTempSubdirectory("cairn-release-").FullName;
        var remote = Directory.CreateTempSubdirectory("cairn-release-remote-").FullName;
        Assert.Equal(0, (await GitAsync(remote, "init", "-q", "--bare")).Code);
        Assert.Equal(0, (await GitAsync(repo, "init", "-q")).Code);
        await File.WriteAllTextAsync(Path.Combine(repo, "README"), "model code");
        Assert.Equal(0, (await GitAsync(repo, "add", "README")).Code);
        Assert.Equal(0, (await GitAsync(repo, "commit", "-q", "-m", "first")).Code);
        Assert.Equal(0, (await GitAsync(repo, "remote", "add", "origin", remote)).Code);

        var env = new[] { "GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL" };
        foreach (var v in env)
        {
            Environment.SetEnvironmentVariable(v, v.Contains("EMAIL", StringComparison.Ordinal) ? "test@example.com" : "Test");
        }

        var (code, stdout, error) = await iris.RunAsync("release", "-m", "models:/iris-lab@champion", "--repo", repo, "--push");
        Assert.True(code == 0, stdout + error);
        Assert.Contains("Tagged model-v1", stdout);
        var (_, message) = await GitAsync(repo, "cat-file", "tag", "model-v1");
        Assert.Contains("# Model card: iris-lab version 1", message);
        Assert.Contains("## Metrics", message);
        Assert.Contains("model-v1", (await GitAsync(remote, "tag")).Output);

        // A second release of the same version is refused, with the reason.
        var (again, _, againError) = await iris.RunAsync("release", "-m", "models:/iris-lab/1", "--repo", repo);
        Assert.Equal(2, again);
        Assert.Contains("Tag 'model-v1' already exists", againError);

        var (notRepo, _, notRepoError) = await iris.RunAsync("release", "-m", "models:/iris-lab/1", "--repo", Path.GetTempPath());
        Assert.Equal(2, notRepo);
        Assert.Contains("not inside a git work tree", notRepoError);
    }

    [Fact]
    public async Task Rerun_reproduces_every_metric_of_a_run_exactly()
    {
        var runId = iris.Version["run_id"]!.GetValue<string>();
        var (code, stdout, error) = await iris.RunAsync("rerun", runId);
        Assert.True(code == 0, stdout + error);
        Assert.Contains($"Reproduced: run ", stdout);
        Assert.Contains("test_accuracy", stdout);
        Assert.DoesNotContain("differs", stdout);

        var experimentId = (await iris.Server.OkGetAsync("experiments/get-by-name?experiment_name=iris-lab"))["experiment"]!["experiment_id"]!.GetValue<string>();
        var reruns = (await iris.Server.OkAsync("runs/search", new { experiment_ids = new[] { experimentId }, filter = $"tags.cairn.rerun_of = '{runId}'" }))["runs"]!.AsArray();
        Assert.Single(reruns);
        // A rerun registers nothing.
        var versions = (await iris.Server.OkGetAsync("model-versions/search?filter=name%3D%27iris-lab%27"))["model_versions"]!.AsArray();
        Assert.Single(versions);
    }

    [Fact]
    public async Task Rerun_of_a_run_not_made_by_train_says_so()
    {
        var experiment = (await iris.Server.OkAsync("experiments/create", new { name = "plain-" + Guid.NewGuid().ToString("N")[..6] }))["experiment_id"]!.GetValue<string>();
        var run = (await iris.Server.OkAsync("runs/create", new { experiment_id = experiment }))["run"]!["info"]!["run_id"]!.GetValue<string>();
        var (code, _, error) = await iris.RunAsync("rerun", run);
        Assert.Equal(2, code);
        Assert.Contains("was not made by cairn train", error);
    }
}
