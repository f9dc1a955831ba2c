using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Cairn.Lab.Pipelines;
using Cairn.Lab.Pipelines.Data;
using Cairn.Server.Tests;

namespace Cairn.Cli.Tests;

/// <summary><c>cairn train</c> as a real process, logging to a real <c>cairn server</c>.</summary>
public class TrainCommandTests
{
    private static string Sample(string name) => Path.Combine(CairnProcess.RepoRoot, "samples", name);

    internal static Task<(int ExitCode, string Output, string Error)> RunAsync(string workDir, params string[] args) => CairnCli.RunAsync(workDir, args);

    private static async Task<List<JsonNode>> SearchRunsAsync(CairnProcess server, string experimentId) =>
        [.. ((await server.OkAsync("runs/search", new { experiment_ids = new[] { experimentId }, max_results = 1000 }))["runs"]?.AsArray() ?? []).Select(r => r!)];

    private static string? Tag(JsonNode run, string key) =>
        run["data"]?["tags"]?.AsArray().FirstOrDefault(t => t!["key"]!.GetValue<string>() == key)?["value"]?.GetValue<string>();

    private static double Metric(JsonNode run, string key) =>
        run["data"]!["metrics"]!.AsArray().First(m => m!["key"]!.GetValue<string>() == key)!["value"]!.GetValue<double>();

    private static string? Param(JsonNode run, string key) =>
        run["data"]?["params"]?.AsArray().FirstOrDefault(t => t!["key"]!.GetValue<string>() == key)?["value"]?.GetValue<string>();

    [Fact]
    public async Task The_iris_sample_tracks_every_configuration_and_trial_and_registers_the_best_model_as_champion()
    {
        await using var server = await CairnProcess.StartAsync();
        var work = Directory.CreateTempSubdirectory("cairn-train-").FullName;
        var (code, output, error) = await RunAsync(work, "train", "-f", Sample("iris.yaml"), "--tracking-uri", server.BaseUrl);
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}\n{server.Output}");
        Assert.Contains("Registered models:/iris-classifier/1", output);
        Assert.Contains("trial", error);

        var experiment = (await server.OkGetAsync("experiments/get-by-name?experiment_name=iris"))["experiment"]!;
        var experimentId = experiment["experiment_id"]!.GetValue<string>();
        var runs = await SearchRunsAsync(server, experimentId);
        var parent = Assert.Single(runs, r => Tag(r, "cairn.pipeline") == "train");
        var parentId = parent["info"]!["run_id"]!.GetValue<string>();
        Assert.Equal("FINISHED", parent["info"]!["status"]!.GetValue<string>());
        Assert.Equal("grid", Param(parent, "tuner"));
        Assert.Equal("iris", parent["inputs"]!["dataset_inputs"]![0]!["dataset"]!["name"]!.GetValue<string>());

        // 3 feature sets × 3 models, each a child of the pipeline run with its trials under it.
        var configurations = runs.Where(r => Tag(r, "mlflow.parentRunId") == parentId).ToList();
        Assert.Equal(9, configurations.Count);
        Assert.Equal(
            ["basic-lightgbm", "basic-logistic_regression", "basic-random_forest", "squared-lightgbm", "squared-logistic_regression", "squared-random_forest", "subset-lightgbm", "subset-logistic_regression", "subset-random_forest"],
            configurations.Select(r => r["info"]!["run_name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        foreach (var configuration in configurations)
        {
            var id = configuration["info"]!["run_id"]!.GetValue<string>();
            var trials = runs.Where(r => Tag(r, "mlflow.parentRunId") == id).ToList();
            var expected = configuration["info"]!["run_name"]!.GetValue<string>().EndsWith("logistic_regression", StringComparison.Ordinal) ? 3 : 4;
            Assert.Equal(expected, trials.Count);
            Assert.All(trials, t => Assert.InRange(Metric(t, "cv_accuracy"), 0.3, 1.0));
            Assert.All(trials, t => Assert.InRange(Metric(t, "cv_accuracy_std"), 0, 0.5));
            foreach (var key in new[] { "train_accuracy", "val_accuracy", "test_accuracy", "test_f1_macro", "test_log_loss" })
            {
                Assert.InRange(Metric(configuration, key), 0, key.EndsWith("log_loss", StringComparison.Ordinal) ? 50 : 1);
            }

            var artifacts = await server.OkGetAsync($"artifacts/list?run_id={id}&path=model");
            Assert.Contains(artifacts["files"]!.AsArray(), f => f!["path"]!.GetValue<string>() == "model/MLmodel");
            var evaluation = await server.OkGetAsync($"artifacts/list?run_id={id}&path=evaluation");
            Assert.Contains(evaluation["files"]!.AsArray(), f => f!["path"]!.GetValue<string>().EndsWith("confusion_matrix.png", StringComparison.Ordinal));
        }

        // The best configuration (by validation accuracy) is registered with both aliases.
        var bestRunId = Tag(parent, "best.run_id");
        var model = (await server.OkGetAsync("registered-models/get?name=iris-classifier"))["registered_model"]!;
        var aliases = model["aliases"]!.AsArray().ToDictionary(a => a!["alias"]!.GetValue<string>(), a => a!["version"]!.GetValue<string>());
        Assert.Equal("1", aliases["challenger"]);
        Assert.Equal("1", aliases["champion"]);
        var version = (await server.OkGetAsync("model-versions/get?name=iris-classifier&version=1"))["model_version"]!;
        Assert.Equal(bestRunId, version["run_id"]!.GetValue<string>());
        var best = configurations.Single(c => c["info"]!["run_id"]!.GetValue<string>() == bestRunId);
        Assert.Equal(configurations.Max(c => Metric(c, "val_accuracy")), Metric(best, "val_accuracy"));

        // A second, weaker pipeline (one trial per configuration, on the two-column subset only) is
        // registered as the challenger; the champion moves only if it is better on the test split.
        var weaker = Path.Combine(work, "iris-subset.yaml");
        await File.WriteAllTextAsync(weaker, (await File.ReadAllTextAsync(Sample("iris.yaml")))
            .Replace("  basic: [none]\n", "", StringComparison.Ordinal)
            .Replace("  squared:\n    - polynomial: {degree: 2}\n    - zscale\n", "", StringComparison.Ordinal));
        var (code2, output2, error2) = await RunAsync(work, "train", "-f", weaker, "--tracking-uri", server.BaseUrl, "--trials", "1");
        Assert.True(code2 == 0, $"exit {code2}\n{output2}\n{error2}");
        model = (await server.OkGetAsync("registered-models/get?name=iris-classifier"))["registered_model"]!;
        aliases = model["aliases"]!.AsArray().ToDictionary(a => a!["alias"]!.GetValue<string>(), a => a!["version"]!.GetValue<string>());
        Assert.Equal("2", aliases["challenger"]);
        var v2Run = (await server.OkGetAsync("model-versions/get?name=iris-classifier&version=2"))["model_version"]!["run_id"]!.GetValue<string>();
        var v2 = (await server.OkGetAsync($"runs/get?run_id={v2Run}"))["run"]!;
        var expectedChampion = Metric(v2, "test_accuracy") > Metric(best, "test_accuracy") ? "2" : "1";
        Assert.Equal(expectedChampion, aliases["champion"]);
    }

    [Fact]
    public async Task The_registered_model_served_by_models_serve_predicts_the_test_rows_with_the_logged_accuracy()
    {
        await using var server = await CairnProcess.StartAsync();
        var work = Directory.CreateTempSubdirectory("cairn-train-serve-").FullName;
        var config = Path.Combine(work, "served.yaml");
        // Computed features (an ONNX graph inside the model) and a LightGBM model: both must load in the serving process.
        await File.WriteAllTextAsync(config, """
            experiment: served
            seed: 3
            dataset: {name: iris}
            feature_sets:
              squared: [{polynomial: {degree: 2}}, zscale]
            models:
              lightgbm:
                search_space: {num_iterations: [30], learning_rate: [0.2], min_data_in_leaf: [5]}
            tuner: {name: grid, folds: 2}
            registry: {model_name: iris-served}
            """);
        var (code, output, error) = await RunAsync(work, "train", "-f", config, "--tracking-uri", server.BaseUrl);
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");

        var version = (await server.OkGetAsync("registered-models/alias?name=iris-served&alias=champion"))["model_version"]!;
        var run = (await server.OkGetAsync($"runs/get?run_id={version["run_id"]!.GetValue<string>()}"))["run"]!;
        var loggedAccuracy = Metric(run, "test_accuracy");

        // The same test rows the pipeline held out: the same data set, split and seed.
        var table = (await DatasetCatalog.LoadAsync(new DatasetOptions("iris"))).Table;
        var (_, _, testRows) = Splits.Stratified(table, 0.2, 0.2, 3);
        var test = table.Select(testRows);
        var port = CairnProcess.FreePort();
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CairnProcess.CairnDll, "models", "serve", "-m", "models:/iris-served@champion", "-p", port.ToString(CultureInfo.InvariantCulture), "--tracking-uri", server.BaseUrl })
        {
            psi.ArgumentList.Add(a);
        }

        using var serve = Process.Start(psi)!;
        var serveError = serve.StandardError.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    if ((await http.GetAsync("/ping")).IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !serve.HasExited)
                {
                }

                Assert.False(serve.HasExited || DateTime.UtcNow > deadline, "cairn models serve did not start");
                await Task.Delay(200);
            }

            var request = new JsonObject
            {
                ["dataframe_split"] = new JsonObject
                {
                    ["columns"] = new JsonArray([.. test.Features.Select(c => (JsonNode?)c.Name)]),
                    ["data"] = new JsonArray([.. Enumerable.Range(0, test.RowCount).Select(r => (JsonNode?)new JsonArray([.. test.Features.Select(c => (JsonNode?)((NumericColumn)c).Values[r])]))]),
                },
            };
            using var response = await http.PostAsync("/invocations", new StringContent(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
            var predicted = body["predictions"]!.AsArray().Select(p => p!["PredictedLabel"]!.GetValue<string>()).ToList();
            Assert.Equal(test.RowCount, predicted.Count);
            var accuracy = predicted.Zip(test.Labels).Count(p => p.First == p.Second) / (double)test.RowCount;
            Assert.Equal(loggedAccuracy, accuracy, 12);
        }
        finally
        {
            serve.Kill(entireProcessTree: true);
            await serve.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("wine.yaml", "wine", "wine-classifier")]
    [InlineData("breast_cancer.yaml", "breast-cancer", "breast-cancer-classifier")]
    public async Task The_other_samples_run_with_a_small_budget(string sample, string experimentName, string modelName)
    {
        await using var server = await CairnProcess.StartAsync();
        var work = Directory.CreateTempSubdirectory("cairn-train-").FullName;
        var (code, output, error) = await RunAsync(work, "train", "-f", Sample(sample), "--tracking-uri", server.BaseUrl, "--trials", "2");
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        var experimentId = (await server.OkGetAsync($"experiments/get-by-name?experiment_name={experimentName}"))["experiment"]!["experiment_id"]!.GetValue<string>();
        var runs = await SearchRunsAsync(server, experimentId);
        var parent = Assert.Single(runs, r => Tag(r, "cairn.pipeline") == "train");
        Assert.Equal("FINISHED", parent["info"]!["status"]!.GetValue<string>());
        Assert.Contains(runs, r => Tag(r, "mlflow.parentRunId") == parent["info"]!["run_id"]!.GetValue<string>());
        var model = (await server.OkGetAsync($"registered-models/get?name={modelName}"))["registered_model"]!;
        Assert.Equal(2, model["aliases"]!.AsArray().Count);
    }

    [Fact]
    public async Task Higgs_reads_the_uci_format_from_the_data_folder_with_a_row_limit()
    {
        await using var server = await CairnProcess.StartAsync();
        var work = Directory.CreateTempSubdirectory("cairn-train-").FullName;
        var data = Directory.CreateDirectory(Path.Combine(work, "data")).FullName;
        File.Copy(Path.Combine(CairnProcess.RepoRoot, "..", "shared", "datasets", "higgs_synthetic_10k.csv.gz"), Path.Combine(data, "HIGGS.csv.gz"));
        var (code, output, error) = await RunAsync(work, "train", "-f", Sample("higgs.yaml"), "-d", "higgs", "-l", data, "-e", "higgs-small",
            "--tracking-uri", server.BaseUrl, "--trials", "2", "--rows", "4000");
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        var experimentId = (await server.OkGetAsync("experiments/get-by-name?experiment_name=higgs-small"))["experiment"]!["experiment_id"]!.GetValue<string>();
        var parent = Assert.Single(await SearchRunsAsync(server, experimentId), r => Tag(r, "cairn.pipeline") == "train");
        var rows = new[] { "rows.train", "rows.validation", "rows.test" }.Sum(k => int.Parse(Param(parent, k)!, CultureInfo.InvariantCulture));
        Assert.Equal(4000, rows);
        Assert.InRange(Metric(parent, "best_test_roc_auc"), 0.5, 1.0);
    }

    public static TheoryData<string, string, string> BadConfigs => new()
    {
        { "dataset:\n  name: irises\nmodels: [logistic_regression]\n", "unknown dataset 'irises'", "iris" },
        { "dataset:\n  name: iris\nmodels: [gradient_magic]\n", "gradient_magic", "lightgbm" },
        { "dataset:\n  name: iris\nfeature_sets:\n  a: [squash]\nmodels: [logistic_regression]\n", "squash", "zscale" },
        { "dataset:\n  name: iris\nmodels: [logistic_regression]\ntuner:\n  name: annealing\n", "unknown fine-tuner 'annealing'", "tpe" },
        { "dataset:\n  name: iris\nmodels:\n  logistic_regression:\n    search_space:\n      l2: {low: 1, high: 0.1}\n", "low (1) is greater than high (0.1)", "l2" },
        { "dataset: [unclosed\n", "not valid YAML", "line" },
        { "dataset:\n  name: iris\nmodels:\n  lightgbm:\n    search_space:\n      learning_rate: {low: 0.1, high: 2.0}\n", "learning_rate", "2" },
        { "dataset:\n  name: csv\n  path: MISSING.csv\n  label: y\nmodels: [logistic_regression]\n", "MISSING.csv", "" },
        { "dataset:\n  name: csv\n  path: data.csv\n  label: kind\nmodels: [logistic_regression]\n", "kind", "species" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public async Task Bad_input_prints_one_clear_message_exits_non_zero_and_registers_nothing(string yaml, string mentions, string alsoMentions)
    {
        await using var server = await CairnProcess.StartAsync();
        var work = Directory.CreateTempSubdirectory("cairn-train-bad-").FullName;
        File.Copy(Path.Combine(CairnProcess.RepoRoot, "..", "shared", "datasets", "iris.csv"), Path.Combine(work, "data.csv"));
        var config = Path.Combine(work, "bad.yaml");
        await File.WriteAllTextAsync(config, "experiment: bad\n" + yaml);
        var (code, output, error) = await RunAsync(work, "train", "-f", config, "--tracking-uri", server.BaseUrl);
        Assert.NotEqual(0, code);
        Assert.StartsWith("error: ", error.Split('\n').First(l => l.StartsWith("error", StringComparison.Ordinal)));
        Assert.Contains(mentions, error, StringComparison.Ordinal);
        Assert.Contains(alsoMentions, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);

        var models = await server.OkGetAsync("registered-models/search?max_results=10");
        Assert.Null(models["registered_models"]);
        var (status, _) = await server.GetAsync("experiments/get-by-name?experiment_name=bad");
        if (status == System.Net.HttpStatusCode.OK)
        {
            var id = (await server.OkGetAsync("experiments/get-by-name?experiment_name=bad"))["experiment"]!["experiment_id"]!.GetValue<string>();
            Assert.Empty(await SearchRunsAsync(server, id));
        }
    }

    [Fact]
    public async Task A_missing_config_file_says_where_it_looked()
    {
        var work = Directory.CreateTempSubdirectory("cairn-train-bad-").FullName;
        var (code, _, error) = await RunAsync(work, "train", "-f", "nope.yaml");
        Assert.Equal(2, code);
        Assert.Contains("nope.yaml", error);
        Assert.Contains(work, error);
    }

    [Fact]
    public async Task List_prints_every_catalog_with_options()
    {
        var (code, output, _) = await RunAsync(Path.GetTempPath(), "train", "--list");
        Assert.Equal(0, code);
        foreach (var name in new[] { "iris", "wine", "breast_cancer", "higgs", "csv", "zscale", "polynomial", "automated", "impute", "logistic_regression", "random_forest", "lightgbm", "fasttree", "mlp", "grid", "random", "tpe", "roc_auc" })
        {
            Assert.Contains(name, output);
        }
    }

    [Fact]
    public async Task Without_a_tracking_uri_it_logs_to_the_embedded_store_in_the_working_folder()
    {
        var work = Directory.CreateTempSubdirectory("cairn-train-embedded-").FullName;
        var config = Path.Combine(work, "tiny.yaml");
        await File.WriteAllTextAsync(config, "experiment: tiny\ndataset: {name: iris}\nmodels:\n  logistic_regression:\n    search_space: {l2: [0.1]}\ntuner: {name: grid, folds: 2}\n");
        var (code, output, error) = await RunAsync(work, "train", "-f", config);
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.True(File.Exists(Path.Combine(work, ".cairn", "cairn.db")));
        Assert.Contains("Registered models:/tiny/1", output);
        Assert.Contains("cairn server", output);
    }
}
